/* Connect many MQTTAsync clients at once, as a gateway or a device
 * simulator does: N clients with automaticReconnect connect to one broker.
 * Built against Paho's headers; run on Paho's library and on ours.
 *
 *   mqtt_many_bench URI N
 * prints one line: clients=N connect_s=S threads=T rss_kb=R */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "MQTTAsync.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected, failed;

static void on_connect(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&mu);
    connected++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_failure(void *ctx, MQTTAsync_failureData *d)
{
    (void)ctx;
    (void)d;
    pthread_mutex_lock(&mu);
    failed++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtol(line + strlen(key), NULL, 10);
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s URI N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]);
    MQTTAsync *c = calloc((size_t)n, sizeof *c);
    if (!c)
        return 2;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "many-bench-%ld-%d", (long)getpid(), i);
        if (MQTTAsync_create(&c[i], argv[1], id, MQTTCLIENT_PERSISTENCE_NONE, NULL) != 0)
            return 3;
        MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
        o.keepAliveInterval = 60;
        o.cleansession = 1;
        o.automaticReconnect = 1;
        o.onSuccess = on_connect;
        o.onFailure = on_failure;
        if (MQTTAsync_connect(c[i], &o) != 0)
            return 4;
    }
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 170;
    pthread_mutex_lock(&mu);
    while (connected + failed < n)
        if (pthread_cond_timedwait(&cv, &mu, &dl) != 0)
            break;
    int ok = connected, bad = failed;
    pthread_mutex_unlock(&mu);
    double secs = now_s() - t0;
    printf("clients=%d connect_s=%.3f threads=%ld rss_kb=%ld failed=%d\n", ok, secs,
           status_kb("Threads:"), status_kb("VmRSS:"), bad);
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 100;
        MQTTAsync_disconnect(c[i], &d);
    }
    for (int i = 0; i < n; i++)
        MQTTAsync_destroy(&c[i]);
    free(c);
    return ok == n ? 0 : 1;
}
