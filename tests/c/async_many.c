/* Many MQTTAsync clients in one process, as a gateway or device simulator
 * runs them: N clients with automaticReconnect each connect, subscribe to a
 * topic of their own and receive one QoS 1 message there. The program then
 * prints the process's thread count and resident memory, so that the test
 * can compare libraries run on the same machine in the same run.
 *
 *   async_many HOST PORT N
 * prints: "connected N", "subscribed N", "received N", "threads T",
 * "rss_kb R" and "rss_start_kb S" (before the first client); exit status 0
 * when every client received its message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_util.h"

static int connected, subscribed, received;

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)topic_len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    SIGNAL(received++);
    return 1;
}

static void on_subscribed(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    SIGNAL(subscribed++);
}

static void on_connected(void *ctx, MQTTAsync_successData *d)
{
    (void)ctx;
    (void)d;
    SIGNAL(connected++);
}

/* The value of a "Name:   N kB" line of /proc/self/status. */
static long status_value(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, name, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT N\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[3]);
    long rss_start = status_value("VmRSS");
    char uri[256], topic[128], prefix[64];
    snprintf(uri, sizeof uri, "tcp://%s:%s", argv[1], argv[2]);
    test_topic(prefix, sizeof prefix, "many");
    MQTTAsync *clients = calloc((size_t)n, sizeof *clients);
    REQUIRE(clients != NULL);

    for (int i = 0; i < n; i++) {
        char id[64];
        snprintf(id, sizeof id, "many-%ld-%d", (long)getpid(), i);
        CHECK_RC(MQTTAsync_create(&clients[i], uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
                 MQTTASYNC_SUCCESS);
        CHECK_RC(MQTTAsync_setCallbacks(clients[i], NULL, NULL, on_message, NULL),
                 MQTTASYNC_SUCCESS);
        MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
        o.keepAliveInterval = 60;
        o.cleansession = 1;
        o.automaticReconnect = 1;
        o.onSuccess = on_connected;
        CHECK_RC(MQTTAsync_connect(clients[i], &o), MQTTASYNC_SUCCESS);
    }
    REQUIRE_WAIT(connected == n, 120000);
    printf("connected %d\n", connected);

    for (int i = 0; i < n; i++) {
        MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
        r.onSuccess = on_subscribed;
        snprintf(topic, sizeof topic, "%s/%d", prefix, i);
        CHECK_RC(MQTTAsync_subscribe(clients[i], topic, 1, &r), MQTTASYNC_SUCCESS);
    }
    REQUIRE_WAIT(subscribed == n, 120000);
    printf("subscribed %d\n", subscribed);

    /* Each client publishes to the next one's topic. */
    for (int i = 0; i < n; i++) {
        snprintf(topic, sizeof topic, "%s/%d", prefix, (i + 1) % n);
        int rc = MQTTAsync_send(clients[i], topic, 5, "hello", 1, 0, NULL);
        CHECK_RC(rc, MQTTASYNC_SUCCESS);
    }
    CHECK_WAIT(received == n, 120000);
    printf("received %d\n", received);
    printf("threads %ld\n", status_value("Threads"));
    printf("rss_kb %ld\n", status_value("VmRSS"));
    printf("rss_start_kb %ld\n", rss_start);
    fflush(stdout);

    for (int i = 0; i < n; i++) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 1000;
        MQTTAsync_disconnect(clients[i], &d);
    }
    for (int i = 0; i < n; i++)
        MQTTAsync_destroy(&clients[i]);
    free(clients);
    return test_failures == 0 && received == n ? 0 : 1;
}
