/*
 * mqtt_async_bench.c - one MQTTAsync publisher and one MQTTAsync subscriber
 * in one process, through a broker. Publishes COUNT messages at QOS, pipelined
 * (the next sendMessage does not wait for the previous acknowledgement; at
 * most 10,000 are outstanding in this program), optionally with the connect
 * option maxInflight set, waits until every publish succeeded and the
 * subscriber has every message, and prints one line like mqtt_bench.c:
 * qos, messages received, wall seconds, messages/s and CPU time (user+system,
 * getrusage of this process: both clients) per message in microseconds.
 *
 *   usage: mqtt_async_bench URI QOS COUNT [PAYLOAD_BYTES] [MAX_INFLIGHT (0 = default)]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "MQTTAsync.h"

#define OUTSTANDING 10000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long received, acked, failed;
static int sub_ready, pub_ready, errors;

static void bump(int *flag)
{
    pthread_mutex_lock(&lock);
    (*flag)++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* Wait until pred() holds or 60 s pass; 0 on timeout. */
static int wait_until(int (*pred)(void))
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    int ok = 1;
    pthread_mutex_lock(&lock);
    while (!pred() && errors == 0)
        if (pthread_cond_timedwait(&cond, &lock, &deadline) != 0) {
            ok = 0;
            break;
        }
    if (errors)
        ok = 0;
    pthread_mutex_unlock(&lock);
    return ok;
}

static long count, sent;
static int pred_sub_ready(void) { return sub_ready > 0; }
static int pred_pub_ready(void) { return pub_ready > 0; }
static int pred_room(void) { return sent - (acked + failed) < OUTSTANDING; }
static int pred_all(void) { return acked + failed >= count && received >= count; }

static int on_message(void *ctx, char *topic, int len, MQTTAsync_message *msg)
{
    (void)ctx;
    (void)len;
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    pthread_mutex_lock(&lock);
    received++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    return 1;
}

static void on_fail(void *ctx, MQTTAsync_failureData *d)
{
    fprintf(stderr, "%s failed: %d\n", (const char *)ctx, d ? d->code : -1);
    bump(&errors);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    bump(&sub_ready);
}

static int qos;
static MQTTAsync sub_client;

static void on_sub_connected(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_subscribed;
    ro.onFailure = on_fail;
    ro.context = "subscribe";
    if (MQTTAsync_subscribe(sub_client, "bench/async", qos, &ro) != MQTTASYNC_SUCCESS)
        bump(&errors);
}

static void on_pub_connected(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    bump(&pub_ready);
}

static void on_sent(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    acked++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_send_failed(void *ctx, MQTTAsync_failureData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&lock);
    failed++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int start(MQTTAsync *c, const char *uri, const char *id, int max_inflight,
                 MQTTAsync_onSuccess *ok)
{
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    if (max_inflight > 0)
        opts.maxInflight = max_inflight;
    opts.onSuccess = ok;
    opts.onFailure = on_fail;
    opts.context = (void *)id;
    if (MQTTAsync_create(c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTASYNC_SUCCESS)
        return 0;
    if (MQTTAsync_setCallbacks(*c, NULL, NULL, on_message, NULL) != MQTTASYNC_SUCCESS)
        return 0;
    return MQTTAsync_connect(*c, &opts) == MQTTASYNC_SUCCESS;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s URI QOS COUNT [PAYLOAD_BYTES] [MAX_INFLIGHT]\n", argv[0]);
        return 2;
    }
    const char *uri = argv[1];
    qos = atoi(argv[2]);
    count = atol(argv[3]);
    int size = argc > 4 ? atoi(argv[4]) : 64;
    int max_inflight = argc > 5 ? atoi(argv[5]) : 0;
    if (qos < 0 || qos > 2 || count <= 0 || size < 0 || max_inflight < 0)
        return 2;

    MQTTAsync pub;
    if (!start(&sub_client, uri, "bench-async-sub", 0, on_sub_connected) ||
        !wait_until(pred_sub_ready) ||
        !start(&pub, uri, "bench-async-pub", max_inflight, on_pub_connected) ||
        !wait_until(pred_pub_ready)) {
        fprintf(stderr, "cannot connect and subscribe through %s\n", uri);
        return 2;
    }
    char *payload = calloc(1, (size_t)size + 1);
    if (payload == NULL)
        return 2;
    memset(payload, 'x', (size_t)size);

    double t0 = now_secs(), c0 = cpu_secs();
    for (sent = 0; sent < count;) {
        if (!wait_until(pred_room)) {
            fprintf(stderr, "publishes not acknowledged\n");
            return 1;
        }
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = payload;
        msg.payloadlen = size;
        msg.qos = qos;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onSuccess = on_sent;
        ro.onFailure = on_send_failed;
        int rc = MQTTAsync_sendMessage(pub, "bench/async", &msg, &ro);
        if (rc != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "sendMessage %ld failed: %d\n", sent, rc);
            return 1;
        }
        pthread_mutex_lock(&lock);
        sent++;
        pthread_mutex_unlock(&lock);
    }
    int complete = wait_until(pred_all);
    double wall = now_secs() - t0, cpu = cpu_secs() - c0;
    pthread_mutex_lock(&lock);
    long got = received, bad = failed;
    pthread_mutex_unlock(&lock);
    printf("qos=%d received=%ld wall_s=%.3f msgs_per_s=%.0f cpu_us_per_msg=%.2f\n", qos, got, wall,
           (double)got / wall, got ? cpu * 1e6 / (double)got : 0.0);
    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(pub, &dopts);
    MQTTAsync_disconnect(sub_client, &dopts);
    MQTTAsync_destroy(&pub);
    MQTTAsync_destroy(&sub_client);
    free(payload);
    return complete && got == count && bad == 0 ? 0 : 1;
}
