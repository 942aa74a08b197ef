/* Error codes for bad input to the MQTTClient API. Checks that Paho C itself
 * fails (it crashes or accepts nonsense) are compiled only for FerroMQ
 * (-DFERROMQ); everything else must give the same code on both libraries. */
#include "testutil.h"

/* Paho has no dedicated code for a malformed topic; it reports a NULL or
 * non-UTF-8 topic as BAD_UTF8_STRING, so an invalid topic gets the same. */
#define EXPECT_BAD_TOPIC MQTTCLIENT_BAD_UTF8_STRING

static MQTTClient make_client(const char *uri, const char *id)
{
    MQTTClient c = NULL;
    REQUIRE_RC(MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    return c;
}

static void create_errors(const char *uri)
{
    MQTTClient c = NULL;
    CHECK_RC(MQTTClient_create(&c, NULL, "e", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_NULL_PARAMETER);
    CHECK_RC(MQTTClient_create(&c, uri, NULL, MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_NULL_PARAMETER);
    CHECK_RC(MQTTClient_create(&c, "foo://127.0.0.1:1883", "e", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_BAD_PROTOCOL);
    CHECK_RC(MQTTClient_create(&c, uri, "bad\xff\xfe", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_BAD_UTF8_STRING);

    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.struct_id[0] = 'X';
    CHECK_RC(MQTTClient_createWithOptions(&c, uri, "e", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
             MQTTCLIENT_BAD_STRUCTURE);
    MQTTClient_createOptions cv = MQTTClient_createOptions_initializer;
    cv.struct_version = 7;
    CHECK_RC(MQTTClient_createWithOptions(&c, uri, "e", MQTTCLIENT_PERSISTENCE_NONE, NULL, &cv),
             MQTTCLIENT_BAD_STRUCTURE);

    /* A file store whose directory cannot be made; a user store without
     * its table. */
    MQTTClient np = NULL;
    CHECK_RC(MQTTClient_create(&np, uri, "e", MQTTCLIENT_PERSISTENCE_DEFAULT,
                               "/proc/no-such-dir"),
             MQTTCLIENT_PERSISTENCE_ERROR);
    CHECK_RC(MQTTClient_create(&np, uri, "e", MQTTCLIENT_PERSISTENCE_USER, NULL),
             MQTTCLIENT_PERSISTENCE_ERROR);

#ifdef FERROMQ
    /* Paho dereferences the NULL handle pointer. */
    CHECK_RC(MQTTClient_create(NULL, uri, "e", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_NULL_PARAMETER);
    /* An unknown persistence type. */
    MQTTClient p = NULL;
    CHECK_RC(MQTTClient_create(&p, uri, "e", 7, NULL), MQTTCLIENT_PERSISTENCE_ERROR);
    CHECK(p == NULL);

    /* Handles that are not live: every call checks its handle against the
     * set of live ones (Paho reads freed or random memory here). */
    MQTTClient gone = NULL;
    REQUIRE_RC(MQTTClient_create(&gone, uri, "gone", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient stale = gone;
    MQTTClient_destroy(&gone);
    CHECK(gone == NULL);
    MQTTClient_connectOptions co2 = MQTTClient_connectOptions_initializer;
    CHECK_RC(MQTTClient_connect(stale, &co2), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_publish(stale, "t", 1, "x", 0, 0, NULL), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_isConnected(stale), 0);
    MQTTClient_destroy(&stale); /* destroyed twice: ignored */
    CHECK(stale == NULL);
    /* A handle that was never created (garbage in the variable). */
    MQTTClient never = (MQTTClient)&co2;
    CHECK_RC(MQTTClient_subscribe(never, "t", 0), MQTTCLIENT_FAILURE);
    MQTTClient_destroy(&never);
#endif
}

static void connect_errors(const char *uri)
{
    MQTTClient c = make_client(uri, "err-connect");
    MQTTClient_connectOptions ok = MQTTClient_connectOptions_initializer;

    /* Paho gives FAILURE or NULL_PARAMETER here depending on its state. */
    int rc = MQTTClient_connect(NULL, &ok);
#ifdef FERROMQ
    CHECK_RC(rc, MQTTCLIENT_FAILURE);
#else
    CHECK(rc == MQTTCLIENT_FAILURE || rc == MQTTCLIENT_NULL_PARAMETER);
#endif
    CHECK_RC(MQTTClient_connect(c, NULL), MQTTCLIENT_NULL_PARAMETER);

    MQTTClient_connectOptions bad_id = MQTTClient_connectOptions_initializer;
    bad_id.struct_id[3] = 'X';
    CHECK_RC(MQTTClient_connect(c, &bad_id), MQTTCLIENT_BAD_STRUCTURE);

    MQTTClient_connectOptions bad_ver = MQTTClient_connectOptions_initializer;
    bad_ver.struct_version = 99;
    CHECK_RC(MQTTClient_connect(c, &bad_ver), MQTTCLIENT_BAD_STRUCTURE);
    bad_ver.struct_version = -1;
    CHECK_RC(MQTTClient_connect(c, &bad_ver), MQTTCLIENT_BAD_STRUCTURE);

    MQTTClient_connectOptions with_will = MQTTClient_connectOptions_initializer;
    MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
    will.topicName = "err/will";
    will.message = "w";
    will.struct_id[0] = 'X';
    with_will.will = &will;
    CHECK_RC(MQTTClient_connect(c, &with_will), MQTTCLIENT_BAD_STRUCTURE);

    /* Nothing connected yet. */
    CHECK_RC(MQTTClient_isConnected(c), 0);
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", 0, 0, NULL), MQTTCLIENT_DISCONNECTED);
    CHECK_RC(MQTTClient_subscribe(c, "err/t", 0), MQTTCLIENT_DISCONNECTED);
    char *topic = NULL;
    int len = 0;
    MQTTClient_message *msg = NULL;
    CHECK_RC(MQTTClient_receive(c, &topic, &len, &msg, 10), MQTTCLIENT_DISCONNECTED);
    MQTTClient_destroy(&c);
    CHECK(c == NULL);
}

static void handle_errors(void)
{
    CHECK_RC(MQTTClient_disconnect(NULL, 0), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_setCallbacks(NULL, NULL, NULL, NULL, NULL), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_isConnected(NULL), 0);
#ifdef FERROMQ
    /* Paho dereferences a NULL handle in these. */
    CHECK_RC(MQTTClient_publish(NULL, "err/t", 1, "x", 0, 0, NULL), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_subscribe(NULL, "err/t", 0), MQTTCLIENT_FAILURE);
#endif
}

static void connected_errors(const char *uri)
{
    MQTTClient c = make_client(uri, "err-pub");
    /* A client with no messageArrived callback cannot have callbacks. */
    CHECK_RC(MQTTClient_setCallbacks(c, NULL, NULL, NULL, NULL), MQTTCLIENT_FAILURE);

    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_isConnected(c), 1);

    CHECK_RC(MQTTClient_publish(c, NULL, 1, "x", 0, 0, NULL), MQTTCLIENT_BAD_UTF8_STRING);
    CHECK_RC(MQTTClient_publish(c, "err/\xff\xfe", 1, "x", 0, 0, NULL), MQTTCLIENT_BAD_UTF8_STRING);
    /* An empty payload is valid. */
    CHECK_RC(MQTTClient_publish(c, "err/t", 0, NULL, 0, 0, NULL), MQTTCLIENT_SUCCESS);

    MQTTClient_message m = MQTTClient_message_initializer;
    m.payload = "x";
    m.payloadlen = 1;
    m.struct_id[0] = 'X';
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", &m, NULL), MQTTCLIENT_BAD_STRUCTURE);
    MQTTClient_message mv = MQTTClient_message_initializer;
    mv.payload = "x";
    mv.payloadlen = 1;
    mv.struct_version = 9;
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", &mv, NULL), MQTTCLIENT_BAD_STRUCTURE);

    CHECK_RC(MQTTClient_subscribe(c, "err/t", 3), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_subscribe(c, "err/t", -1), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_subscribe(c, "err/t", 5), MQTTCLIENT_BAD_QOS);
    char *topics[2] = {"err/a", "err/b"};
    int qoss[2] = {1, 3};
    CHECK_RC(MQTTClient_subscribeMany(c, 2, topics, qoss), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_subscribe(c, NULL, 0), MQTTCLIENT_BAD_UTF8_STRING);
    CHECK_RC(MQTTClient_subscribe(c, "err/\xff", 0), MQTTCLIENT_BAD_UTF8_STRING);
    CHECK_RC(MQTTClient_unsubscribe(c, NULL), MQTTCLIENT_BAD_UTF8_STRING);
    CHECK_RC(MQTTClient_unsubscribe(c, "err/\xff"), MQTTCLIENT_BAD_UTF8_STRING);

#ifdef FERROMQ
    /* Paho crashes on these... */
    CHECK_RC(MQTTClient_publish(c, "err/t", 5, NULL, 0, 0, NULL), MQTTCLIENT_NULL_PARAMETER);
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", NULL, NULL), MQTTCLIENT_NULL_PARAMETER);
    MQTTClient_message np = MQTTClient_message_initializer;
    np.payloadlen = 3;
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", &np, NULL), MQTTCLIENT_NULL_PARAMETER);
    /* ...and sends these to the broker, which then drops the connection. */
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", 3, 0, NULL), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", -1, 0, NULL), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", 5, 0, NULL), MQTTCLIENT_BAD_QOS);
    MQTTClient_message mq = MQTTClient_message_initializer;
    mq.payload = "x";
    mq.payloadlen = 1;
    mq.qos = 3;
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", &mq, NULL), MQTTCLIENT_BAD_QOS);
    CHECK_RC(MQTTClient_publish(c, "err/+", 1, "x", 0, 0, NULL), EXPECT_BAD_TOPIC);
    CHECK_RC(MQTTClient_publish(c, "err/#", 1, "x", 0, 0, NULL), EXPECT_BAD_TOPIC);
    CHECK_RC(MQTTClient_publish(c, "+", 1, "x", 0, 0, NULL), EXPECT_BAD_TOPIC);
    CHECK_RC(MQTTClient_publish(c, "", 1, "x", 0, 0, NULL), EXPECT_BAD_TOPIC);
    CHECK_RC(MQTTClient_subscribe(c, "", 0), EXPECT_BAD_TOPIC);
#endif

    /* None of the above may have hurt the connection. */
    CHECK_RC(MQTTClient_isConnected(c), 1);
    MQTTClient_deliveryToken dt = 0;
    CHECK_RC(MQTTClient_publish(c, "err/t", 2, "ok", 1, 0, &dt), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(c, dt, 5000), MQTTCLIENT_SUCCESS);

    CHECK_RC(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_isConnected(c), 0);
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", 0, 0, NULL), MQTTCLIENT_DISCONNECTED);
    CHECK_RC(MQTTClient_publish(c, "err/t", 1, "x", 1, 0, &dt), MQTTCLIENT_DISCONNECTED);
    MQTTClient_message after = MQTTClient_message_initializer;
    after.payload = "x";
    after.payloadlen = 1;
    CHECK_RC(MQTTClient_publishMessage(c, "err/t", &after, &dt), MQTTCLIENT_DISCONNECTED);
    CHECK_RC(MQTTClient_subscribe(c, "err/t", 0), MQTTCLIENT_DISCONNECTED);
    MQTTClient_destroy(&c);
}

/* An empty topic filter: Paho sends it and the broker drops the connection
 * (so this runs on its own client); FerroMQ refuses it up front. */
static void empty_filter(const char *uri)
{
    MQTTClient c = make_client(uri, "err-empty");
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    int rc = MQTTClient_subscribe(c, "", 0);
    CHECK(rc != MQTTCLIENT_SUCCESS);
    MQTTClient_disconnect(c, 0);
    MQTTClient_destroy(&c);
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);
    create_errors(uri);
    connect_errors(uri);
    handle_errors();
    connected_errors(uri);
    empty_filter(uri);
    return test_finish("errors");
}
