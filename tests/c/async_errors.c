/* MQTTAsync bad input: NULL handles, options and arguments, wrong struct
 * ids and versions, QoS out of range, bad topics; each gets MQTTAsync's
 * error code and nothing crashes. Also strerror, getVersionInfo, malloc/free,
 * trace settings and global_init. Cases where Paho itself crashes or
 * misbehaves are checked with -DFERROMQ only. */
#include "async_util.h"

static char uri[256], topic[128];
static int connected, connect_failed, disconnected, trace_lines;

static void on_disconnect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(disconnected++);
}

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(connected++);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(connect_failed++);
}

static int on_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void on_trace(enum MQTTASYNC_TRACE_LEVELS level, char *message)
{
    (void)level;
    (void)message;
    SIGNAL(trace_lines++);
}

static void no_server_checks(void)
{
    MQTTAsync c = NULL;
    /* create */
    CHECK_RC(MQTTAsync_create(&c, "foo://127.0.0.1:1883", "id", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTASYNC_BAD_PROTOCOL);
    CHECK_RC(MQTTAsync_create(&c, NULL, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_create(&c, uri, NULL, MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_create(&c, uri, "id\xff", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTASYNC_BAD_UTF8_STRING);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.struct_id[0] = 'X';
    CHECK_RC(MQTTAsync_createWithOptions(&c, uri, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
             MQTTASYNC_BAD_STRUCTURE);
    co = (MQTTAsync_createOptions)MQTTAsync_createOptions_initializer;
    co.struct_version = 9;
    CHECK_RC(MQTTAsync_createWithOptions(&c, uri, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
             MQTTASYNC_BAD_STRUCTURE);
#if defined(FERROMQ)
    /* Paho creates a client for an MQTT version that does not exist. */
    co = (MQTTAsync_createOptions)MQTTAsync_createOptions_initializer;
    co.MQTTVersion = 9;
    CHECK_RC(MQTTAsync_createWithOptions(&c, uri, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
             MQTTASYNC_BAD_MQTT_OPTION);
#endif
    CHECK(c == NULL);

    /* NULL handle everywhere */
    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer;
    (void)conn;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_token *tokens = NULL;
    char *topics[1] = {topic};
    int qos[1] = {1};
#if defined(FERROMQ)
    /* A destroyed handle and one never created fail with a code: every call
     * checks its handle against the set of live ones. */
    {
        MQTTAsync gone = NULL;
        REQUIRE_RC(MQTTAsync_create(&gone, uri, "gone", MQTTCLIENT_PERSISTENCE_NONE, NULL),
                   MQTTASYNC_SUCCESS);
        MQTTAsync stale = gone;
        MQTTAsync_destroy(&gone);
        CHECK(gone == NULL);
        CHECK_RC(MQTTAsync_connect(stale, &conn), MQTTASYNC_FAILURE);
        CHECK_RC(MQTTAsync_send(stale, topic, 1, "x", 1, 0, &ro), MQTTASYNC_FAILURE);
        CHECK_RC(MQTTAsync_isConnected(stale), 0);
        MQTTAsync_destroy(&stale);
        MQTTAsync never = (MQTTAsync)&conn;
        CHECK_RC(MQTTAsync_subscribe(never, topic, 1, &ro), MQTTASYNC_FAILURE);
        MQTTAsync_destroy(&never);
    }
    /* Paho crashes on these three. */
    CHECK_RC(MQTTAsync_connect(NULL, &conn), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_reconnect(NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_create(NULL, uri, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTASYNC_NULL_PARAMETER);
#endif
    CHECK_RC(MQTTAsync_disconnect(NULL, &dopts), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_send(NULL, topic, 1, "x", 1, 0, &ro), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_subscribe(NULL, topic, 1, &ro), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_subscribeMany(NULL, 1, topics, qos, &ro), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_unsubscribe(NULL, topic, &ro), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_unsubscribeMany(NULL, 1, topics, &ro), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_isConnected(NULL), 0);
    CHECK_RC(MQTTAsync_setCallbacks(NULL, NULL, NULL, on_arrived, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setConnected(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setDisconnected(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setConnectionLostCallback(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setMessageArrivedCallback(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setDeliveryCompleteCallback(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setUpdateConnectOptions(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setBeforePersistenceWrite(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setAfterPersistenceRead(NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_getPendingTokens(NULL, &tokens), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_isComplete(NULL, 1), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_waitForCompletion(NULL, 1, 10), MQTTASYNC_FAILURE);
#if defined(FERROMQ)
    MQTTAsync_destroy(NULL); /* Paho crashes */
#endif
    MQTTAsync_destroy(&c);

    /* Utilities */
    CHECK(MQTTAsync_strerror(MQTTASYNC_MAX_BUFFERED_MESSAGES) != NULL);
    CHECK(MQTTAsync_strerror(MQTTASYNC_BAD_QOS) != NULL);
    CHECK(MQTTAsync_strerror(-12345) != NULL);
    MQTTAsync_nameValue *info = MQTTAsync_getVersionInfo();
    REQUIRE(info != NULL);
    int n = 0;
    while (info[n].name != NULL && n < 50)
        n++;
    CHECK(n > 0 && n < 50);
    void *p = MQTTAsync_malloc(64);
    CHECK(p != NULL);
    memset(p, 1, 64);
    MQTTAsync_free(p);
    MQTTAsync_free(NULL);
#if defined(FERROMQ)
    MQTTAsync_message *none = NULL;
    MQTTAsync_freeMessage(&none); /* Paho crashes */
    MQTTAsync_freeMessage(NULL);
#endif
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    MQTTAsync_global_init(&init);
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic, sizeof topic, "async_errors");
    MQTTAsync_setTraceCallback(on_trace);
    MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
    no_server_checks();

    MQTTAsync c = NULL;
    REQUIRE_RC(MQTTAsync_create(&c, uri, "ferromq-async-errors", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setCallbacks(c, NULL, NULL, NULL, NULL), MQTTASYNC_FAILURE);
    CHECK_RC(MQTTAsync_setCallbacks(c, NULL, NULL, on_arrived, NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setBeforePersistenceWrite(c, NULL, NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setAfterPersistenceRead(c, NULL, NULL), MQTTASYNC_SUCCESS);

    /* Requests while disconnected. */
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    CHECK_RC(MQTTAsync_send(c, topic, 1, "x", 1, 0, &ro), MQTTASYNC_DISCONNECTED);
    CHECK_RC(MQTTAsync_subscribe(c, topic, 1, &ro), MQTTASYNC_DISCONNECTED);
    CHECK_RC(MQTTAsync_unsubscribe(c, topic, &ro), MQTTASYNC_DISCONNECTED);
#if defined(FERROMQ)
    /* Paho says 0 though there is nothing to reconnect to. */
    CHECK_RC(MQTTAsync_reconnect(c), MQTTASYNC_FAILURE);
#endif
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    CHECK_RC(MQTTAsync_disconnect(c, &dopts), MQTTASYNC_DISCONNECTED);
    MQTTAsync_token *tokens = (MQTTAsync_token *)1;
    CHECK_RC(MQTTAsync_getPendingTokens(c, &tokens), MQTTASYNC_SUCCESS);
    CHECK(tokens == NULL);
    CHECK_RC(MQTTAsync_isComplete(c, 4242), MQTTASYNC_TRUE);

    /* Bad connect options. */
    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer;
    conn.struct_id[3] = 'X';
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_STRUCTURE);
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.struct_version = 9;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_STRUCTURE);
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    will.struct_id[0] = 'X';
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.will = &will;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_STRUCTURE);
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    ssl.struct_version = 9;
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.ssl = &ssl;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_STRUCTURE);
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.MQTTVersion = 9;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_WRONG_MQTT_VERSION);
    conn.MQTTVersion = MQTTVERSION_5;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_WRONG_MQTT_VERSION);
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.cleanstart = 1;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_MQTT_OPTION);
    MQTTAsync_willOptions will2 = MQTTAsync_willOptions_initializer;
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.will = &will2;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_NULL_PARAMETER);
    will2.topicName = "";
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_0_LEN_WILL_TOPIC);
    will2.topicName = "t";
    will2.qos = 3;
    CHECK_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_BAD_QOS);
    CHECK_RC(MQTTAsync_connect(c, NULL), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_send(c, NULL, 1, "x", 1, 0, &ro), MQTTASYNC_DISCONNECTED);
    MQTTAsync_createOptions neg = MQTTAsync_createOptions_initializer;
    MQTTAsync c2 = NULL;
    neg.maxBufferedMessages = -1;
    CHECK_RC(MQTTAsync_createWithOptions(&c2, uri, "id", MQTTCLIENT_PERSISTENCE_NONE, NULL, &neg),
             MQTTASYNC_MAX_BUFFERED);
    CHECK_RC(MQTTAsync_create(&c2, uri, "id", 7, NULL), MQTTASYNC_PERSISTENCE_ERROR);
    CHECK_RC(MQTTAsync_isConnected(c), 0);

    /* Connect for real. */
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer;
    conn.onSuccess = on_connect;
    conn.onFailure = on_connect_failed;
    REQUIRE_RC(MQTTAsync_connect(c, &conn), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(connected || connect_failed, 10000);
    REQUIRE(connected == 1);

    /* Bad requests on a connected client. */
    CHECK_RC(MQTTAsync_send(c, topic, 1, "x", 3, 0, &ro), MQTTASYNC_BAD_QOS);
    CHECK_RC(MQTTAsync_send(c, topic, 1, "x", -1, 0, &ro), MQTTASYNC_BAD_QOS);
    CHECK_RC(MQTTAsync_send(c, "bad\xff", 1, "x", 1, 0, &ro), MQTTASYNC_BAD_UTF8_STRING);
    CHECK_RC(MQTTAsync_subscribe(c, topic, 3, &ro), MQTTASYNC_BAD_QOS);
    CHECK_RC(MQTTAsync_subscribe(c, "bad\xff", 1, &ro), MQTTASYNC_BAD_UTF8_STRING);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.struct_id[0] = 'X';
    CHECK_RC(MQTTAsync_sendMessage(c, topic, &msg, &ro), MQTTASYNC_BAD_STRUCTURE);
    msg = (MQTTAsync_message)MQTTAsync_message_initializer;
    msg.qos = 5;
    CHECK_RC(MQTTAsync_sendMessage(c, topic, &msg, &ro), MQTTASYNC_BAD_QOS);
    char *topics[2] = {topic, "bad\xff"};
    int qoss[2] = {1, 1};
    CHECK_RC(MQTTAsync_subscribeMany(c, 2, topics, qoss, &ro), MQTTASYNC_BAD_UTF8_STRING);
    qoss[1] = 7;
    topics[1] = topic;
    CHECK_RC(MQTTAsync_subscribeMany(c, 2, topics, qoss, &ro), MQTTASYNC_BAD_QOS);
#if defined(FERROMQ)
    /* Paho crashes or accepts these; we refuse them. */
    CHECK_RC(MQTTAsync_sendMessage(c, topic, NULL, &ro), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_send(c, NULL, 1, "x", 1, 0, &ro), MQTTASYNC_BAD_UTF8_STRING);
    CHECK_RC(MQTTAsync_send(c, "a/+/b", 1, "x", 1, 0, &ro), MQTTASYNC_BAD_UTF8_STRING);
    CHECK_RC(MQTTAsync_send(c, topic, 5, NULL, 1, 0, &ro), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_subscribe(c, NULL, 1, &ro), MQTTASYNC_BAD_UTF8_STRING);
    CHECK_RC(MQTTAsync_subscribe(c, "a/#/b", 1, &ro), MQTTASYNC_BAD_UTF8_STRING);
    CHECK_RC(MQTTAsync_subscribeMany(c, 1, NULL, qoss, &ro), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_subscribeMany(c, 1, topics, NULL, &ro), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_unsubscribeMany(c, 1, NULL, &ro), MQTTASYNC_NULL_PARAMETER);
    CHECK_RC(MQTTAsync_getPendingTokens(c, NULL), MQTTASYNC_NULL_PARAMETER);
    /* Paho does not look at the response options' eyecatcher. */
    MQTTAsync_responseOptions bad = MQTTAsync_responseOptions_initializer;
    bad.struct_id[0] = 'X';
    CHECK_RC(MQTTAsync_send(c, topic, 1, "x", 1, 0, &bad), MQTTASYNC_BAD_STRUCTURE);
    CHECK_RC(MQTTAsync_subscribe(c, topic, 1, &bad), MQTTASYNC_BAD_STRUCTURE);
    bad = (MQTTAsync_responseOptions)MQTTAsync_responseOptions_initializer;
    bad.struct_version = 7;
    CHECK_RC(MQTTAsync_unsubscribe(c, topic, &bad), MQTTASYNC_BAD_STRUCTURE);
#endif
    /* The connection survived all of that. */
    CHECK_RC(MQTTAsync_isConnected(c), 1);
    CHECK_RC(MQTTAsync_send(c, topic, 1, "x", 1, 0, &ro), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_waitForCompletion(c, ro.token, 10000), MQTTASYNC_SUCCESS);

    dopts = (MQTTAsync_disconnectOptions)MQTTAsync_disconnectOptions_initializer;
    dopts.struct_id[0] = 'X';
    CHECK_RC(MQTTAsync_disconnect(c, &dopts), MQTTASYNC_BAD_STRUCTURE);
    dopts = (MQTTAsync_disconnectOptions)MQTTAsync_disconnectOptions_initializer;
    dopts.onSuccess = on_disconnect;
    CHECK_RC(MQTTAsync_disconnect(c, &dopts), MQTTASYNC_SUCCESS);
    CHECK_WAIT(disconnected == 1, 5000);
    CHECK_RC(MQTTAsync_isConnected(c), 0);
    MQTTAsync_destroy(&c);
    CHECK(c == NULL);
    MQTTAsync_setTraceCallback(NULL);
    return test_finish("async_errors");
}
