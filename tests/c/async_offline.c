/* MQTTAsync offline buffering from createWithOptions: sending before the
 * first connect (allowDisconnectedSendAtAnyTime), sending once connect was
 * called though no connection succeeded yet, the buffer limit
 * (MQTTASYNC_MAX_BUFFERED_MESSAGES), deleteOldestMessages, pending tokens of
 * buffered messages, and in-order delivery once connected. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "async_util.h"

static MQTTAsync sub, buf, drop, plain, late;
static char uri[256], topic[128], topic2[160];

static struct {
    int sub_connected, sub_ready, completed, failed;
    int arrived, arrived2;
    char text[8][8], text2[8][8];
} st;

static int on_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    pthread_mutex_lock(&ev_mutex);
    int n = m->payloadlen < 7 ? m->payloadlen : 7;
    if (strcmp(t, topic) == 0 && st.arrived < 8) {
        memcpy(st.text[st.arrived], m->payload, n);
        st.text[st.arrived++][n] = 0;
    } else if (strcmp(t, topic2) == 0 && st.arrived2 < 8) {
        memcpy(st.text2[st.arrived2], m->payload, n);
        st.text2[st.arrived2++][n] = 0;
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_mutex);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
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
    char *topics[2] = {topic, topic2};
    int qos[2] = {1, 1};
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = on_subscribed;
    CHECK_RC(MQTTAsync_subscribeMany(sub, 2, topics, qos, &o), MQTTASYNC_SUCCESS);
}

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.completed++);
}

static void on_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(st.failed++);
}

static int update_called;
static int on_update(void *ctx, MQTTAsync_connectData *data)
{
    (void)ctx;
    (void)data;
    update_called++;
    return 0;
}

static int send_text(MQTTAsync c, const char *t, const char *text, MQTTAsync_token *token)
{
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = on_sent;
    o.onFailure = on_failed;
    int rc = MQTTAsync_send(c, t, (int)strlen(text), text, 1, 0, &o);
    if (token)
        *token = o.token;
    return rc;
}

static int connects;

static void on_connected_ok(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(connects++);
}

/* A loopback port nothing listens on: bound to learn a free one, closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        fprintf(stderr, "cannot find a free port\n");
        exit(2);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static void connect_and_wait(MQTTAsync c)
{
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    co.onSuccess = on_connected_ok;
    int before = connects;
    REQUIRE_RC(MQTTAsync_connect(c, &co), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(connects == before + 1, 10000);
    CHECK_RC(MQTTAsync_isConnected(c), 1);
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic, sizeof topic, "async_offline");
    snprintf(topic2, sizeof topic2, "%s/drop", topic);

    /* The subscriber. */
    REQUIRE_RC(MQTTAsync_create(&sub, uri, "ferromq-offline-sub", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setMessageArrivedCallback(sub, NULL, on_arrived), MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions sc = MQTTAsync_connectOptions_initializer;
    sc.onSuccess = on_sub_connect;
    REQUIRE_RC(MQTTAsync_connect(sub, &sc), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.sub_ready == 1, 10000);

    /* No offline sending: disconnected is an error. */
    REQUIRE_RC(MQTTAsync_create(&plain, uri, "ferromq-offline-plain", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(plain, topic, "x", NULL), MQTTASYNC_DISCONNECTED);

    /* Offline sending, but only after a first connect. */
    MQTTAsync_createOptions lo = MQTTAsync_createOptions_initializer;
    lo.sendWhileDisconnected = 1;
    REQUIRE_RC(MQTTAsync_createWithOptions(&late, uri, "ferromq-offline-late", MQTTCLIENT_PERSISTENCE_NONE,
                                           NULL, &lo),
               MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(late, topic, "x", NULL), MQTTASYNC_DISCONNECTED);

    /* Once connect has been called, offline sending buffers though no
     * connection succeeded (nothing listens there); disconnect ends it. */
    MQTTAsync early;
    char dead[64];
    snprintf(dead, sizeof dead, "tcp://127.0.0.1:%d", closed_port());
    REQUIRE_RC(MQTTAsync_createWithOptions(&early, dead, "ferromq-offline-early",
                                           MQTTCLIENT_PERSISTENCE_NONE, NULL, &lo),
               MQTTASYNC_SUCCESS);
    MQTTAsync_connectOptions ec = MQTTAsync_connectOptions_initializer;
    ec.connectTimeout = 2;
    CHECK_RC(MQTTAsync_connect(early, &ec), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(early, topic, "e", NULL), MQTTASYNC_SUCCESS);
    MQTTAsync_disconnectOptions ed = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(early, &ed); /* not connected: its code varies */
    CHECK_RC(send_text(early, topic, "f", NULL), MQTTASYNC_DISCONNECTED);
    MQTTAsync_destroy(&early);

    /* Buffer of 3 from the start; the fourth is refused. */
    MQTTAsync_createOptions bo = MQTTAsync_createOptions_initializer;
    bo.sendWhileDisconnected = 1;
    bo.allowDisconnectedSendAtAnyTime = 1;
    bo.maxBufferedMessages = 3;
    REQUIRE_RC(MQTTAsync_createWithOptions(&buf, uri, "ferromq-offline-buf", MQTTCLIENT_PERSISTENCE_NONE,
                                           NULL, &bo),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setUpdateConnectOptions(buf, NULL, on_update), MQTTASYNC_SUCCESS);
    MQTTAsync_token t[3];
    CHECK_RC(send_text(buf, topic, "m1", &t[0]), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(buf, topic, "m2", &t[1]), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(buf, topic, "m3", &t[2]), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(buf, topic, "m4", NULL), MQTTASYNC_MAX_BUFFERED_MESSAGES);
    CHECK_RC(MQTTAsync_isComplete(buf, t[0]), 0);
    MQTTAsync_token *pending = NULL;
    CHECK_RC(MQTTAsync_getPendingTokens(buf, &pending), MQTTASYNC_SUCCESS);
    REQUIRE(pending != NULL);
    int n = 0;
    while (pending[n] != -1 && n < 10)
        n++;
    CHECK(n == 3);
    for (int i = 0; i < 3; i++) {
        int found = 0;
        for (int j = 0; j < n; j++)
            found |= pending[j] == t[i];
        CHECK(found);
    }
    MQTTAsync_free(pending);

    /* Buffer of 2 dropping the oldest: a, b, c leaves b, c. */
    MQTTAsync_createOptions dopt = MQTTAsync_createOptions_initializer;
    dopt.sendWhileDisconnected = 1;
    dopt.allowDisconnectedSendAtAnyTime = 1;
    dopt.maxBufferedMessages = 2;
    dopt.deleteOldestMessages = 1;
    REQUIRE_RC(MQTTAsync_createWithOptions(&drop, uri, "ferromq-offline-drop", MQTTCLIENT_PERSISTENCE_NONE,
                                           NULL, &dopt),
               MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(drop, topic2, "a", NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(drop, topic2, "b", NULL), MQTTASYNC_SUCCESS);
    CHECK_RC(send_text(drop, topic2, "c", NULL), MQTTASYNC_SUCCESS);

    /* Connect: the buffered messages go out in order and complete. */
    connect_and_wait(buf);
    CHECK_RC(MQTTAsync_waitForCompletion(buf, t[2], 10000), MQTTASYNC_SUCCESS);
    CHECK_WAIT(st.completed >= 3, 10000);
    REQUIRE_WAIT(st.arrived == 3, 10000);
    CHECK(strcmp(st.text[0], "m1") == 0);
    CHECK(strcmp(st.text[1], "m2") == 0);
    CHECK(strcmp(st.text[2], "m3") == 0);
    for (int i = 0; i < 3; i++)
        CHECK_RC(MQTTAsync_isComplete(buf, t[i]), MQTTASYNC_TRUE);
    pending = (MQTTAsync_token *)1;
    CHECK_RC(MQTTAsync_getPendingTokens(buf, &pending), MQTTASYNC_SUCCESS);
    CHECK(pending == NULL);

    connect_and_wait(drop);
    REQUIRE_WAIT(st.arrived2 == 2, 10000);
    CHECK(strcmp(st.text2[0], "b") == 0);
    CHECK(strcmp(st.text2[1], "c") == 0);
    /* A message sent after b and c arrived comes after them: nothing else
     * was left in the buffer. */
    CHECK_RC(send_text(drop, topic2, "d", NULL), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.arrived2 == 3, 10000);
    CHECK(strcmp(st.text2[2], "d") == 0);
    CHECK(update_called == 0); /* only before automatic reconnects */

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(buf, &d);
    MQTTAsync_disconnect(drop, &d);
    MQTTAsync_disconnect(sub, &d);
    MQTTAsync_destroy(&buf);
    MQTTAsync_destroy(&drop);
    MQTTAsync_destroy(&plain);
    MQTTAsync_destroy(&late);
    MQTTAsync_destroy(&sub);
    return test_finish("async_offline");
}
