/* The MQTTAsync side of tests/c/persist_queue.c: a slow subscriber with
 * MQTTCLIENT_PERSISTENCE_DEFAULT that the test kills mid-stream. Written
 * only against Paho's API; tests/client_persist_queue.rs runs it on
 * Debian's Paho or on FerroMQ and resumes the store with
 * tests/c/persist_receive.c.
 *
 *   persist_queue_async URI CLIENTID STOREDIR TOPIC
 *     create on STOREDIR, connect (MQTT 3.1.1, cleansession 0), subscribe
 *     to TOPIC at QoS 2 and print "subscribed". messageArrived takes 2 ms
 *     over each message, prints "arrived <topic> <payload>" and returns it
 *     taken. The test kills the process with SIGKILL (at most 60 s). */
#include <stdio.h>
#include <stdlib.h>

#include "async_util.h"

static int subscribed, failed;
static const char *topic_arg;

static int arrived(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    usleep(2000); /* a slow consumer: messages pile up meanwhile */
    printf("arrived %s %.*s\n", topic, m->payloadlen, (char *)m->payload);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
    (void)ctx;
    (void)r;
    SIGNAL(subscribed = 1);
}

static void on_failure(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    fprintf(stderr, "request failed: %d\n", r ? r->code : -1);
    SIGNAL(failed = 1);
}

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    MQTTAsync c = ctx;
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess = on_subscribed;
    o.onFailure = on_failure;
    o.context = c;
    int rc = MQTTAsync_subscribe(c, topic_arg, 2, &o);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "subscribe failed: %d\n", rc);
        SIGNAL(failed = 1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR TOPIC\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    topic_arg = argv[4];
    MQTTAsync c;
    int rc = MQTTAsync_create(&c, argv[1], argv[2], MQTTCLIENT_PERSISTENCE_DEFAULT, argv[3]);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "create failed: %d\n", rc);
        return 2;
    }
    MQTTAsync_setCallbacks(c, NULL, NULL, arrived, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.cleansession = 0;
    o.keepAliveInterval = 60;
    o.onSuccess = on_connected;
    o.onFailure = on_failure;
    o.context = c;
    rc = MQTTAsync_connect(c, &o);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "connect failed: %d\n", rc);
        return 2;
    }
    REQUIRE_WAIT(subscribed || failed, 20000);
    if (failed)
        return 2;
    printf("subscribed\n");
    WAIT_FOR(failed, 60000);
    fprintf(stderr, "waiting to be killed: not killed\n");
    return 2;
}
