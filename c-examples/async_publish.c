/*
 * async_publish.c - publish messages with the asynchronous MQTTAsync API.
 *
 * Paho's documented style: every call returns at once and reports its
 * outcome later to an onSuccess/onFailure callback, which runs on the
 * client's own thread. Here onConnect starts the publishes, each onSend
 * counts one acknowledgement, and the last one starts the disconnect.
 *
 *   usage: async_publish [URI] [TOPIC] [COUNT]
 *   e.g.   async_publish tcp://127.0.0.1:1883 greetings 10
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTAsync.h"

static const char *topic;
static int count;

/* main waits on this until the client is done, one way or the other. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int acknowledged, done, failed;

static void finish(int failure)
{
    pthread_mutex_lock(&lock);
    done = 1;
    failed |= failure;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&lock);
}

static void on_disconnect(void *context, MQTTAsync_successData *response)
{
    (void)context;
    (void)response;
    printf("disconnected\n");
    finish(0);
}

static void on_send(void *context, MQTTAsync_successData *response)
{
    MQTTAsync client = (MQTTAsync)context;
    printf("message %d delivered to %s\n", response->token, response->alt.pub.destinationName);
    pthread_mutex_lock(&lock);
    int all = ++acknowledged == count;
    pthread_mutex_unlock(&lock);
    if (all) {
        /* Calling the API from a callback is fine. */
        MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;
        opts.onSuccess = on_disconnect;
        opts.timeout = 1000;
        if (MQTTAsync_disconnect(client, &opts) != MQTTASYNC_SUCCESS)
            finish(1);
    }
}

static void on_send_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    fprintf(stderr, "message %d failed: %s\n", response->token, MQTTAsync_strerror(response->code));
    finish(1);
}

static void on_connect(void *context, MQTTAsync_successData *response)
{
    MQTTAsync client = (MQTTAsync)context;
    printf("connected to %s (MQTT version %d)\n", response->alt.connect.serverURI,
           response->alt.connect.MQTTVersion);
    for (int i = 1; i <= count; i++) {
        char text[64];
        snprintf(text, sizeof text, "message %d of %d", i, count);
        MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
        opts.onSuccess = on_send;
        opts.onFailure = on_send_failure;
        opts.context = client;
        int rc = MQTTAsync_send(client, topic, (int)strlen(text), text, 1, 0, &opts);
        if (rc != MQTTASYNC_SUCCESS) {
            fprintf(stderr, "send failed: %s\n", MQTTAsync_strerror(rc));
            finish(1);
            return;
        }
    }
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    fprintf(stderr, "connect failed: %d %s\n", response->code,
            response->message ? response->message : "");
    finish(1);
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    topic = argc > 2 ? argv[2] : "ferromq/example";
    count = argc > 3 ? atoi(argv[3]) : 10;
    if (count < 1)
        count = 1;

    MQTTAsync client;
    int rc = MQTTAsync_create(&client, uri, "async-publish-example", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTAsync_strerror(rc));
        return EXIT_FAILURE;
    }

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    opts.onSuccess = on_connect;
    opts.onFailure = on_connect_failure;
    opts.context = client;
    if ((rc = MQTTAsync_connect(client, &opts)) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "connect failed: %s\n", MQTTAsync_strerror(rc));
        MQTTAsync_destroy(&client);
        return EXIT_FAILURE;
    }

    pthread_mutex_lock(&lock);
    while (!done)
        pthread_cond_wait(&done_cond, &lock);
    pthread_mutex_unlock(&lock);

    MQTTAsync_destroy(&client);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
