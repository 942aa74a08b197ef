/* The broker is stopped in the middle of a QoS 1 stream and started again on
 * the same port (the test harness does that when this program prints
 * STOP_BROKER and START_BROKER). Both clients reconnect automatically; the
 * publisher buffers what it sends while disconnected. Every message must
 * arrive, in order (QoS 1 may repeat one, never skip one), and every send's
 * onSuccess must run. The publisher's updateConnectOptions callback changes
 * its user name before reconnecting (the harness looks for it in the
 * broker's log). */
#include "async_util.h"

#define COUNT 200

static MQTTAsync pub, sub;
static char uri[256], topic[128];

static struct {
    int sub_ready, sub_lost, pub_lost, sub_connected_cb, pub_connected_cb;
    int next, dups, gaps, completed, failed;
    char cause[64];
} st;

static int update_calls;

static int on_update(void *ctx, MQTTAsync_connectData *data)
{
    (void)ctx;
    CHECK(memcmp(data->struct_id, "MQCD", 4) == 0);
    data->username = "after-restart";
    SIGNAL(update_calls++);
    return 1;
}

static void on_sub_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    SIGNAL(st.sub_lost++);
}

static void on_pub_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    SIGNAL(st.pub_lost++);
}

static int on_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    char buf[16] = {0};
    int n = m->payloadlen < 15 ? m->payloadlen : 15;
    memcpy(buf, m->payload, n);
    int k = atoi(buf);
    pthread_mutex_lock(&ev_mutex);
    if (k == st.next)
        st.next++;
    else if (k < st.next)
        st.dups++;
    else {
        fprintf(stderr, "expected message %d, got %d\n", st.next, k);
        st.gaps++;
        st.next = k + 1;
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_mutex);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void on_sub_connected(void *ctx, char *cause)
{
    (void)ctx;
    SIGNAL(st.sub_connected_cb++; snprintf(st.cause, sizeof st.cause, "%s", cause ? cause : ""));
}

static void on_pub_connected(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    SIGNAL(st.pub_connected_cb++);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.sub_ready++);
}

static void on_sub_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = on_subscribed;
    CHECK_RC(MQTTAsync_subscribe(sub, topic, 1, &o), MQTTASYNC_SUCCESS);
}

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.completed++);
}

static void on_send_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "send failed: %d\n", r->code);
    SIGNAL(st.failed++);
}

static void send_number(int i)
{
    char text[16];
    snprintf(text, sizeof text, "%d", i);
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = on_sent;
    o.onFailure = on_send_failed;
    CHECK_RC(MQTTAsync_send(pub, topic, (int)strlen(text), text, 1, 0, &o), MQTTASYNC_SUCCESS);
}

static MQTTAsync_connectOptions reconnecting(void)
{
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
    c.cleansession = 0;
    c.keepAliveInterval = 10;
    c.automaticReconnect = 1;
    c.minRetryInterval = 1;
    c.maxRetryInterval = 2;
    return c;
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic, sizeof topic, "async_restart");
    char sub_id[64], pub_id[64];
    snprintf(sub_id, sizeof sub_id, "ferromq-restart-sub-%ld", (long)getpid());
    snprintf(pub_id, sizeof pub_id, "ferromq-restart-pub-%ld", (long)getpid());

    REQUIRE_RC(MQTTAsync_create(&sub, uri, sub_id, MQTTCLIENT_PERSISTENCE_NONE, NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setCallbacks(sub, NULL, on_sub_lost, on_arrived, NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnected(sub, NULL, on_sub_connected), MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions sc = reconnecting();
    sc.onSuccess = on_sub_connect;
    REQUIRE_RC(MQTTAsync_connect(sub, &sc), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.sub_ready == 1, 15000);

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.sendWhileDisconnected = 1;
    co.maxBufferedMessages = 1000;
    REQUIRE_RC(MQTTAsync_createWithOptions(&pub, uri, pub_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnectionLostCallback(pub, NULL, on_pub_lost), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setConnected(pub, NULL, on_pub_connected), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setUpdateConnectOptions(pub, NULL, on_update), MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions pc = reconnecting();
    REQUIRE_RC(MQTTAsync_connect(pub, &pc), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.pub_connected_cb == 1, 15000);

    /* First half while connected; stop the broker mid-stream. */
    for (int i = 0; i < COUNT / 2; i++)
        send_number(i);
    REQUIRE_WAIT(st.next >= COUNT / 8, 15000);
    printf("STOP_BROKER\n");
    fflush(stdout);
    REQUIRE_WAIT(st.sub_lost >= 1 && st.pub_lost >= 1, 30000);

    /* Second half while the broker is down: buffered. */
    CHECK_RC(MQTTAsync_isConnected(pub), 0);
    for (int i = COUNT / 2; i < COUNT; i++)
        send_number(i);
    MQTTAsync_token *pending = NULL;
    CHECK_RC(MQTTAsync_getPendingTokens(pub, &pending), MQTTASYNC_SUCCESS);
    CHECK(pending != NULL);
    if (pending != NULL) {
        int n = 0;
        while (pending[n] != -1)
            n++;
        CHECK(n >= COUNT / 2);
        MQTTAsync_free(pending);
    }
    printf("START_BROKER\n");
    fflush(stdout);

    REQUIRE_WAIT(st.next >= COUNT || st.gaps > 0, 60000);
    CHECK_WAIT(st.completed + st.failed >= COUNT, 30000);
    CHECK(st.gaps == 0);
    CHECK(st.failed == 0);
    CHECK(st.completed == COUNT);
    CHECK(st.sub_connected_cb >= 2 && st.pub_connected_cb >= 2);
    CHECK(strcmp(st.cause, "automatic reconnect") == 0);
    CHECK(update_calls >= 1);
    printf("received %d messages, %d repeated\n", st.next, st.dups);

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    MQTTAsync_disconnect(pub, &d);
    MQTTAsync_disconnect(sub, &d);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub);
    return test_finish("async_restart");
}
