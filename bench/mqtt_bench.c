/*
 * mqtt_bench.c - one publisher and one subscriber (MQTTClient API) in one
 * process, through a broker. Publishes COUNT messages at QOS with at most
 * WINDOW unacknowledged, waits until the subscriber has them all, and prints
 * one line: qos, messages received, wall seconds, messages/s and the CPU time
 * (user+system) of this process per message in microseconds. Both clients use
 * callbacks (Paho's fast, multi-threaded mode); the window is kept by counting
 * deliveryComplete calls. WINDOW 0 instead publishes each message and waits
 * for it with MQTTClient_waitForCompletion before the next (the publisher then
 * has no callbacks: Paho's single-threaded mode, as simple programs use it).
 * CPU is getrusage(RUSAGE_SELF): both clients are in this one process.
 *
 *   usage: mqtt_bench URI QOS COUNT [PAYLOAD_BYTES] [WINDOW]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "MQTTClient.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_cond_t acked_cond = PTHREAD_COND_INITIALIZER;
static long received, expected, acked;

static int on_message(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)ctx;
    (void)topic_len;
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    pthread_mutex_lock(&lock);
    if (++received >= expected)
        pthread_cond_signal(&done);
    pthread_mutex_unlock(&lock);
    return 1;
}

static int on_message_ignored(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)ctx;
    (void)topic_len;
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 1;
}

static void on_delivered(void *ctx, MQTTClient_deliveryToken dt)
{
    (void)ctx;
    (void)dt;
    pthread_mutex_lock(&lock);
    acked++;
    pthread_cond_signal(&acked_cond);
    pthread_mutex_unlock(&lock);
}

/* Wait until at most `limit` publishes are unacknowledged; 0 on timeout. */
static int wait_acked(long published, long limit)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    int ok = 1;
    pthread_mutex_lock(&lock);
    while (published - acked > limit)
        if (pthread_cond_timedwait(&acked_cond, &lock, &deadline) != 0) {
            ok = 0;
            break;
        }
    pthread_mutex_unlock(&lock);
    return ok;
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    fprintf(stderr, "connection lost: %s\n", cause ? cause : "?");
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

static MQTTClient connect_client(const char *uri, const char *id, MQTTClient_messageArrived *ma,
                                 MQTTClient_deliveryComplete *dc)
{
    MQTTClient c;
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60;
    /* ssl:// URIs: BENCH_CA names the CA file that signed the broker's
     * certificate (built against libpaho-mqtt3cs for these). */
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    ssl.trustStore = getenv("BENCH_CA");
    if (ssl.trustStore != NULL)
        opts.ssl = &ssl;
    if (MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS ||
        (ma != NULL && MQTTClient_setCallbacks(c, NULL, on_lost, ma, dc) != MQTTCLIENT_SUCCESS) ||
        MQTTClient_connect(c, &opts) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "cannot connect %s to %s\n", id, uri);
        exit(2);
    }
    return c;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s URI QOS COUNT [PAYLOAD_BYTES] [WINDOW]\n", argv[0]);
        return 2;
    }
    const char *uri = argv[1];
    int qos = atoi(argv[2]);
    long count = atol(argv[3]);
    int size = argc > 4 ? atoi(argv[4]) : 64;
    int window = argc > 5 ? atoi(argv[5]) : 100;
    if (qos < 0 || qos > 2 || count <= 0 || size < 0 || window < 0)
        return 2;
    expected = count;

    MQTTClient sub = connect_client(uri, "bench-sub", on_message, NULL);
    MQTTClient pub = window == 0 ? connect_client(uri, "bench-pub", NULL, NULL)
                                 : connect_client(uri, "bench-pub", on_message_ignored, on_delivered);
    if (MQTTClient_subscribe(sub, "bench/data", qos) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "subscribe failed\n");
        return 2;
    }
    char *payload = calloc(1, (size_t)size + 1);
    if (payload == NULL)
        return 2;
    memset(payload, 'x', (size_t)size);

    double t0 = now_secs(), c0 = cpu_secs();
    for (long i = 0; i < count; i++) {
        if (window == 0) {
            MQTTClient_deliveryToken token = 0;
            int rc = MQTTClient_publish(pub, "bench/data", size, payload, qos, 0, &token);
            if (rc == MQTTCLIENT_SUCCESS)
                rc = MQTTClient_waitForCompletion(pub, token, 10000);
            if (rc != MQTTCLIENT_SUCCESS) {
                fprintf(stderr, "publish %ld failed: %d\n", i, rc);
                return 1;
            }
            continue;
        }
        /* Keep at most `window` QoS 1/2 publishes unacknowledged. */
        if (qos > 0 && !wait_acked(i, window - 1)) {
            fprintf(stderr, "publishes not acknowledged\n");
            return 1;
        }
        int rc = MQTTClient_publish(pub, "bench/data", size, payload, qos, 0, NULL);
        if (rc != MQTTCLIENT_SUCCESS) {
            fprintf(stderr, "publish %ld failed: %d\n", i, rc);
            return 1;
        }
    }
    if (qos > 0 && window > 0 && !wait_acked(count, 0))
        fprintf(stderr, "not every publish was acknowledged\n");

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&lock);
    while (received < expected)
        if (pthread_cond_timedwait(&done, &lock, &deadline) != 0)
            break;
    long got = received;
    pthread_mutex_unlock(&lock);
    double wall = now_secs() - t0, cpu = cpu_secs() - c0;

    printf("qos=%d received=%ld wall_s=%.3f msgs_per_s=%.0f cpu_us_per_msg=%.2f\n", qos, got,
           wall, (double)got / wall, got ? cpu * 1e6 / (double)got : 0.0);
    MQTTClient_disconnect(pub, 1000);
    MQTTClient_disconnect(sub, 1000);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&sub);
    free(payload);
    return got == count ? 0 : 1;
}
