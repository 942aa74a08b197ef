/* MQTTAsync callbacks set one by one, each with its own context; API calls
 * from inside callbacks (send from messageArrived, calls from
 * connectionLost); and an MQTT 5 server DISCONNECT (session taken over by
 * another client with the same identifier) reported to setDisconnected. */
#include "async_util.h"

static MQTTAsync echo, peer, thief;
static char uri[256], topic_in[160], topic_out[160], echo_id[64];
static int ctx_arrived, ctx_lost, ctx_delivered, ctx_disconnected, ctx_connected;

static struct {
    int echo_ready, peer_ready, thief_connected;
    int echoed, echo_send_rc, delivered, delivered_token;
    int peer_got, lost, lost_connected, lost_send_rc;
    int disconnected, disc_reason;
    int connected_cb;
} st;

static int echo_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)len;
    CHECK(ctx == &ctx_arrived);
    /* Publishing from inside messageArrived. */
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    int rc = MQTTAsync_send(echo, topic_out, m->payloadlen, m->payload, 1, 0, &o);
    SIGNAL(st.echo_send_rc = rc; st.echoed++);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void echo_delivered(void *ctx, MQTTAsync_token token)
{
    CHECK(ctx == &ctx_delivered);
    SIGNAL(st.delivered++; st.delivered_token = token);
}

static void echo_lost(void *ctx, char *cause)
{
    (void)cause;
    CHECK(ctx == &ctx_lost);
    /* API calls from inside connectionLost. */
    int connected = MQTTAsync_isConnected(echo);
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    int rc = MQTTAsync_send(echo, topic_out, 4, "late", 1, 0, &o);
    SIGNAL(st.lost_connected = connected; st.lost_send_rc = rc; st.lost++);
}

static void echo_disconnected(void *ctx, MQTTProperties *props, enum MQTTReasonCodes reason)
{
    (void)props;
    CHECK(ctx == &ctx_disconnected);
    SIGNAL(st.disc_reason = reason; st.disconnected++);
}

static void echo_connected(void *ctx, char *cause)
{
    (void)cause;
    CHECK(ctx == &ctx_connected);
    SIGNAL(st.connected_cb++);
}

static void echo_subscribed(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.echo_ready++);
}

static void echo_on_connect(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess5 = echo_subscribed;
    CHECK_RC(MQTTAsync_subscribe(echo, topic_in, 1, &o), MQTTASYNC_SUCCESS);
}

static int peer_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    if (strcmp(t, topic_out) == 0 && m->payloadlen == 4 && memcmp(m->payload, "ping", 4) == 0)
        SIGNAL(st.peer_got++);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void peer_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.peer_ready++);
}

static void peer_on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = peer_subscribed;
    CHECK_RC(MQTTAsync_subscribe(peer, topic_out, 1, &o), MQTTASYNC_SUCCESS);
}

static void thief_on_connect(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.thief_connected++);
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic_in, sizeof topic_in, "async_callbacks_in");
    test_topic(topic_out, sizeof topic_out, "async_callbacks_out");
    snprintf(echo_id, sizeof echo_id, "ferromq-echo-%ld", (long)getpid());

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    REQUIRE_RC(MQTTAsync_createWithOptions(&echo, uri, echo_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setMessageArrivedCallback(echo, &ctx_arrived, echo_arrived), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnectionLostCallback(echo, &ctx_lost, echo_lost), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setDeliveryCompleteCallback(echo, &ctx_delivered, echo_delivered), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setDisconnected(echo, &ctx_disconnected, echo_disconnected), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnected(echo, &ctx_connected, echo_connected), MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions ec = MQTTAsync_connectOptions_initializer5;
    ec.onSuccess5 = echo_on_connect;
    REQUIRE_RC(MQTTAsync_connect(echo, &ec), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.echo_ready == 1, 10000);
    CHECK_WAIT(st.connected_cb == 1, 5000);

    REQUIRE_RC(MQTTAsync_create(&peer, uri, "ferromq-echo-peer", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setCallbacks(peer, NULL, NULL, peer_arrived, NULL), MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions pc = MQTTAsync_connectOptions_initializer;
    pc.onSuccess = peer_on_connect;
    REQUIRE_RC(MQTTAsync_connect(peer, &pc), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.peer_ready == 1, 10000);

    /* peer -> topic_in -> echo's messageArrived sends to topic_out -> peer */
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    CHECK_RC(MQTTAsync_send(peer, topic_in, 4, "ping", 1, 0, &o), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.peer_got == 1, 10000);
    /* The echo can reach the peer before echo_arrived, back from
       MQTTAsync_send, has counted it: wait for the count. */
    CHECK_WAIT(st.echoed == 1, 10000);
    CHECK(st.echoed == 1 && st.echo_send_rc == MQTTASYNC_SUCCESS);
    CHECK_WAIT(st.delivered == 1, 10000);
    CHECK(st.delivered_token != 0);

    /* Another client takes the echo client's session over: the server
     * sends it an MQTT 5 DISCONNECT (Session taken over). */
    MQTTAsync_createOptions to = MQTTAsync_createOptions_initializer5;
    REQUIRE_RC(MQTTAsync_createWithOptions(&thief, uri, echo_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &to),
               MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions tc = MQTTAsync_connectOptions_initializer5;
    tc.onSuccess5 = thief_on_connect;
    REQUIRE_RC(MQTTAsync_connect(thief, &tc), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.thief_connected == 1, 10000);
    CHECK_WAIT(st.disconnected == 1, 10000);
    CHECK(st.disc_reason == MQTTREASONCODE_SESSION_TAKEN_OVER);
    /* A server's DISCONNECT goes to setDisconnected only, not also to
     * connectionLost (callbacks run in order on one thread, so a
     * connectionLost for it would have been queued right behind). */
    CHECK(st.lost == 0);

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(thief, &d);
    MQTTAsync_disconnect(peer, &d);
    MQTTAsync_destroy(&thief);
    MQTTAsync_destroy(&peer);
    MQTTAsync_destroy(&echo);
    return test_finish("async_callbacks");
}
