/* One MQTTAsync client floods a topic it subscribes to: N messages each at
 * QoS 0, 1 and 2 (one topic per QoS), sent as fast as the API takes them,
 * then waits (bounded) until all 3 * N have come back and checks that each
 * QoS's messages arrived complete and in order. Usage: flood_self HOST PORT [N]
 * (default 1000). Built against Debian's libpaho-mqtt3a: Paho's own client
 * is the reference; the broker under test must lose nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_util.h"

static MQTTAsync client;
static char uri[256];
static char topics[3][128];
static int n_messages = 1000;

static int connected, connect_failed, subscribed, sub_failed, lost_connection;
/* Per QoS: messages received, the next sequence number expected, and how
 * many came out of order (or twice). */
static int received[3], next_seq[3], disorder[3];
static int send_failures;

static void on_connect(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(connected = 1);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(connect_failed = 1);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(subscribed = 1);
}

static void on_sub_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(sub_failed = 1);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    SIGNAL(lost_connection = 1);
}

static int on_arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    int q = m->qos;
    char body[32] = {0};
    int n = m->payloadlen < 31 ? m->payloadlen : 31;
    memcpy(body, m->payload, (size_t)n);
    int seq = atoi(body);
    int known = q >= 0 && q <= 2 && strcmp(topic, topics[q]) == 0;
    SIGNAL({
        if (!known) {
            disorder[0]++;
        } else {
            if (seq != next_seq[q])
                disorder[q]++;
            next_seq[q] = seq + 1;
            received[q]++;
        }
    });
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static int total_received(void)
{
    return received[0] + received[1] + received[2];
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    if (argc > 3)
        n_messages = atoi(argv[3]);
    REQUIRE(n_messages > 0);
    char base[96];
    test_topic(base, sizeof base, "flood_self");
    for (int q = 0; q < 3; q++)
        snprintf(topics[q], sizeof topics[q], "%s/qos%d", base, q);

    REQUIRE_RC(MQTTAsync_create(&client, uri, "ferromq-flood-self", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setCallbacks(client, NULL, on_lost, on_arrived, NULL), MQTTASYNC_SUCCESS);

    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer;
    conn.keepAliveInterval = 60;
    conn.cleansession = 1;
    conn.onSuccess = on_connect;
    conn.onFailure = on_connect_failed;
    REQUIRE_RC(MQTTAsync_connect(client, &conn), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(connected || connect_failed, 10000);
    REQUIRE(connected);

    char filter[128];
    snprintf(filter, sizeof filter, "%s/#", base);
    MQTTAsync_responseOptions sub = MQTTAsync_responseOptions_initializer;
    sub.onSuccess = on_subscribed;
    sub.onFailure = on_sub_failed;
    REQUIRE_RC(MQTTAsync_subscribe(client, filter, 2, &sub), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(subscribed || sub_failed, 10000);
    REQUIRE(subscribed);

    for (int q = 0; q < 3; q++) {
        for (int i = 0; i < n_messages; i++) {
            char body[16];
            int len = snprintf(body, sizeof body, "%d", i);
            MQTTAsync_message m = MQTTAsync_message_initializer;
            m.payload = body;
            m.payloadlen = len;
            m.qos = q;
            if (MQTTAsync_sendMessage(client, topics[q], &m, NULL) != MQTTASYNC_SUCCESS)
                send_failures++;
        }
    }
    CHECK(send_failures == 0);

    /* Bounded: a broker that drops leaves this short and the check fails. */
    WAIT_FOR(total_received() >= 3 * n_messages || lost_connection, 60000);
    pthread_mutex_lock(&ev_mutex);
    printf("received qos0=%d qos1=%d qos2=%d of %d each; out of order %d/%d/%d\n",
           received[0], received[1], received[2], n_messages, disorder[0], disorder[1],
           disorder[2]);
    for (int q = 0; q < 3; q++) {
        CHECK(received[q] == n_messages);
        CHECK(disorder[q] == 0);
    }
    CHECK(lost_connection == 0);
    pthread_mutex_unlock(&ev_mutex);

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 1000;
    MQTTAsync_disconnect(client, &d);
    MQTTAsync_destroy(&client);
    return test_finish("flood_self");
}
