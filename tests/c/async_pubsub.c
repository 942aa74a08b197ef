/* MQTTAsync in Paho's documented style: connect, subscribe from onConnect,
 * publish at QoS 0/1/2 with send and sendMessage, receive in messageArrived,
 * deliveryComplete, the success data of every request, isComplete,
 * waitForCompletion, getPendingTokens, unsubscribe(Many), disconnect and
 * destroy. */
#include "async_util.h"

static MQTTAsync client;
static char uri[256], topic[128], topic_a[160], topic_b[160], sentinel[160];

static struct {
    int connected, connect_failed, connected_cb, lost;
    char server_uri[256], cause[128];
    int mqtt_version, session_present;
    int subscribed, sub_qos, sub_token, sub_rc;
    int many_done, many_qos[2];
    int published, pub_failed, pub_qos[4], pub_len[4];
    char pub_dest[4][160], pub_text[4][16];
    int arrived, arrived_qos[8], sentinel_seen, stray;
    char arrived_text[8][16];
    int delivered, delivered_tokens[8];
    int unsubscribed, unsub_many_done;
    int disconnected;
} st;

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    SIGNAL(st.lost++);
}

static int on_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    CHECK(ctx == &st);
    CHECK(len == 0 || len == (int)strlen(t));
    pthread_mutex_lock(&ev_mutex);
    if (strcmp(t, sentinel) == 0)
        st.sentinel_seen++;
    else if (strcmp(t, topic) != 0)
        st.stray++;
    else if (st.arrived < 8) {
        int n = m->payloadlen < 15 ? m->payloadlen : 15;
        memcpy(st.arrived_text[st.arrived], m->payload, n);
        st.arrived_text[st.arrived][n] = 0;
        st.arrived_qos[st.arrived] = m->qos;
        st.arrived++;
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_mutex);
    MQTTAsync_freeMessage(&m);
    CHECK(m == NULL);
    MQTTAsync_free(t);
    return 1;
}

static void on_delivered(void *ctx, MQTTAsync_token token)
{
    CHECK(ctx == &st);
    SIGNAL(if (st.delivered < 8) st.delivered_tokens[st.delivered++] = token);
}

static void on_connected(void *ctx, char *cause)
{
    CHECK(ctx == &st);
    SIGNAL(st.connected_cb++; snprintf(st.cause, sizeof st.cause, "%s", cause ? cause : "(null)"));
}

static void on_subscribe(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    SIGNAL(st.subscribed++; st.sub_qos = r->alt.qos; st.sub_token = r->token);
}

static void on_subscribe_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "subscribe failed: %d\n", r->code);
    SIGNAL(st.sub_rc = r->code ? r->code : -1);
}

/* Paho's documented style: subscribe from the connect callback. */
static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    pthread_mutex_lock(&ev_mutex);
    snprintf(st.server_uri, sizeof st.server_uri, "%s",
             r->alt.connect.serverURI ? r->alt.connect.serverURI : "(null)");
    st.mqtt_version = r->alt.connect.MQTTVersion;
    st.session_present = r->alt.connect.sessionPresent;
    pthread_mutex_unlock(&ev_mutex);

    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess = on_subscribe;
    opts.onFailure = on_subscribe_failed;
    opts.context = &st;
    CHECK_RC(MQTTAsync_subscribe(client, topic, 2, &opts), MQTTASYNC_SUCCESS);
    CHECK(opts.token != 0);
    SIGNAL(st.connected++);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "connect failed: %d\n", r ? r->code : 0);
    SIGNAL(st.connect_failed++);
}

static void on_many(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    SIGNAL(st.many_qos[0] = r->alt.qosList[0]; st.many_qos[1] = r->alt.qosList[1];
           st.many_done++);
}

static void on_published(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    pthread_mutex_lock(&ev_mutex);
    int i = st.published;
    if (i < 4) {
        st.pub_qos[i] = r->alt.pub.message.qos;
        st.pub_len[i] = r->alt.pub.message.payloadlen;
        snprintf(st.pub_dest[i], sizeof st.pub_dest[i], "%s",
                 r->alt.pub.destinationName ? r->alt.pub.destinationName : "(null)");
        int n = st.pub_len[i] < 15 ? st.pub_len[i] : 15;
        if (n > 0 && r->alt.pub.message.payload)
            memcpy(st.pub_text[i], r->alt.pub.message.payload, n);
        st.pub_text[i][n > 0 ? n : 0] = 0;
    }
    st.published++;
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_mutex);
}

static void on_pub_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "publish failed: %d\n", r->code);
    SIGNAL(st.pub_failed++);
}

static void on_unsub(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    (void)r;
    SIGNAL(st.unsubscribed++);
}

static void on_unsub_many(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    (void)r;
    SIGNAL(st.unsub_many_done++);
}

static void on_disconnect(void *ctx, MQTTAsync_successData *r)
{
    CHECK(ctx == &st);
    (void)r;
    SIGNAL(st.disconnected++);
}

/* Was a publication of text at qos with len bytes reported by onSuccess? */
static int find_pub(const char *text, int qos, int len)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(st.pub_text[i], text) == 0)
            return st.pub_qos[i] == qos && st.pub_len[i] == len;
    return 0;
}

/* Did text arrive at qos? */
static int find_arrived(const char *text, int qos)
{
    for (int i = 0; i < st.arrived; i++)
        if (strcmp(st.arrived_text[i], text) == 0)
            return st.arrived_qos[i] == qos;
    return 0;
}

static int send_text(const char *t, const char *text, int qos)
{
    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess = on_published;
    opts.onFailure = on_pub_failed;
    opts.context = &st;
    CHECK_RC(MQTTAsync_send(client, t, (int)strlen(text), text, qos, 0, &opts),
             MQTTASYNC_SUCCESS);
    return opts.token;
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic, sizeof topic, "async_pubsub");
    snprintf(topic_a, sizeof topic_a, "%s/a", topic);
    snprintf(topic_b, sizeof topic_b, "%s/b", topic);
    snprintf(sentinel, sizeof sentinel, "%s/sentinel", topic);

    REQUIRE_RC(MQTTAsync_create(&client, uri, "ferromq-async-pubsub", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    REQUIRE(client != NULL);
    CHECK_RC(MQTTAsync_setCallbacks(client, &st, on_lost, on_arrived, on_delivered), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnected(client, &st, on_connected), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_isConnected(client), 0);

    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer;
    conn.keepAliveInterval = 20;
    conn.cleansession = 1;
    conn.onSuccess = on_connect;
    conn.onFailure = on_connect_failed;
    conn.context = &st;
    REQUIRE_RC(MQTTAsync_connect(client, &conn), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.connected || st.connect_failed, 10000);
    REQUIRE(st.connected == 1);
    CHECK_RC(MQTTAsync_isConnected(client), 1);
    /* Paho reports the address it connected to without the scheme. */
    CHECK(strcmp(st.server_uri, uri + strlen("tcp://")) == 0);
    CHECK(st.mqtt_version == MQTTVERSION_3_1_1);
    CHECK(st.session_present == 0);
    CHECK_WAIT(st.connected_cb == 1, 5000);
    CHECK(strcmp(st.cause, "connect onSuccess called") == 0);

    REQUIRE_WAIT(st.subscribed || st.sub_rc, 10000);
    REQUIRE(st.subscribed == 1);
    CHECK(st.sub_qos == 2);
    CHECK(st.sub_token != 0);

    /* subscribeMany: the granted QoS list. */
    char *many[2] = {topic_a, sentinel};
    int qoss[2] = {0, 1};
    MQTTAsync_responseOptions mopts = MQTTAsync_responseOptions_initializer;
    mopts.onSuccess = on_many;
    mopts.context = &st;
    CHECK_RC(MQTTAsync_subscribeMany(client, 2, many, qoss, &mopts), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.many_done == 1, 10000);
    CHECK(st.many_qos[0] == 0);
    CHECK(st.many_qos[1] == 1);

    /* Publish at QoS 0, 1, 2 with send, then QoS 1 with sendMessage. */
    int t0 = send_text(topic, "zero", 0);
    int t1 = send_text(topic, "one", 1);
    int t2 = send_text(topic, "two", 2);
    (void)t0;
    CHECK(t1 != 0 && t2 != 0 && t1 != t2);
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)"three";
    msg.payloadlen = 5;
    msg.qos = 1;
    MQTTAsync_responseOptions sopts = MQTTAsync_responseOptions_initializer;
    sopts.onSuccess = on_published;
    sopts.onFailure = on_pub_failed;
    sopts.context = &st;
    CHECK_RC(MQTTAsync_sendMessage(client, topic, &msg, &sopts), MQTTASYNC_SUCCESS);
    int t3 = sopts.token;
    CHECK(t3 != 0);
    CHECK_RC(MQTTAsync_waitForCompletion(client, t3, 10000), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_isComplete(client, t3), MQTTASYNC_TRUE);
    CHECK_RC(MQTTAsync_waitForCompletion(client, t2, 10000), MQTTASYNC_SUCCESS);

    REQUIRE_WAIT(st.published == 4 || st.pub_failed, 10000);
    CHECK(st.pub_failed == 0);
    /* onSuccess of a publish carries the message and its destination. */
    /* (QoS 2 completes after the QoS 1 sent after it: look up by text.) */
    pthread_mutex_lock(&ev_mutex);
    for (int i = 0; i < 4; i++)
        CHECK(strcmp(st.pub_dest[i], topic) == 0);
    CHECK(find_pub("zero", 0, 4) && find_pub("one", 1, 3) && find_pub("two", 2, 3) &&
          find_pub("three", 1, 5));
    pthread_mutex_unlock(&ev_mutex);

    MQTTAsync_token *pending = (MQTTAsync_token *)1;
    CHECK_RC(MQTTAsync_getPendingTokens(client, &pending), MQTTASYNC_SUCCESS);
    CHECK(pending == NULL);
    if (pending != NULL && pending != (MQTTAsync_token *)1)
        MQTTAsync_free(pending);

    REQUIRE_WAIT(st.arrived == 4, 10000);
    CHECK(find_arrived("zero", 0) && find_arrived("one", 1) && find_arrived("two", 2) &&
          find_arrived("three", 1));

    /* deliveryComplete for the QoS 1 and 2 publications. */
    CHECK_WAIT(st.delivered >= 3, 5000);
    pthread_mutex_lock(&ev_mutex);
    int seen1 = 0, seen2 = 0, seen3 = 0;
    for (int i = 0; i < st.delivered; i++) {
        seen1 |= st.delivered_tokens[i] == t1;
        seen2 |= st.delivered_tokens[i] == t2;
        seen3 |= st.delivered_tokens[i] == t3;
    }
    pthread_mutex_unlock(&ev_mutex);
    CHECK(seen1 && seen2 && seen3);

    /* Unsubscribe: later messages on the topic no longer arrive (the
     * sentinel, sent after them, still does). */
    MQTTAsync_responseOptions uopts = MQTTAsync_responseOptions_initializer;
    uopts.onSuccess = on_unsub;
    uopts.context = &st;
    CHECK_RC(MQTTAsync_unsubscribe(client, topic, &uopts), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.unsubscribed == 1, 10000);
    send_text(topic, "late", 1);
    send_text(sentinel, "end", 1);
    REQUIRE_WAIT(st.sentinel_seen == 1, 10000);
    CHECK(st.arrived == 4);
    CHECK(st.stray == 0);

    char *unsub_many[2] = {topic_a, sentinel};
    MQTTAsync_responseOptions umopts = MQTTAsync_responseOptions_initializer;
    umopts.onSuccess = on_unsub_many;
    umopts.context = &st;
    CHECK_RC(MQTTAsync_unsubscribeMany(client, 2, unsub_many, &umopts), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.unsub_many_done == 1, 10000);

    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    dopts.timeout = 2000;
    dopts.onSuccess = on_disconnect;
    dopts.context = &st;
    CHECK_RC(MQTTAsync_disconnect(client, &dopts), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.disconnected == 1, 10000);
    CHECK_RC(MQTTAsync_isConnected(client), 0);
    CHECK(st.lost == 0);
    MQTTAsync_destroy(&client);
    CHECK(client == NULL);
    return test_finish("async_pubsub");
}
