/*
 * async_subscribe.c - receive messages with the asynchronous MQTTAsync API.
 *
 * Paho's documented style: subscribe from the connect callback, so the
 * subscription is made again whenever this client connects; messages arrive
 * in messageArrived on the client's thread. Stops after COUNT messages.
 *
 *   usage: async_subscribe [URI] [TOPIC FILTER] [COUNT]
 *   e.g.   async_subscribe tcp://127.0.0.1:1883 'greetings/#' 10
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTAsync.h"

static const char *filter;
static int wanted;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int received, failed;

static int message_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
    (void)context;
    (void)topic_len;
    printf("%s (QoS %d): %.*s\n", topic, message->qos, message->payloadlen, (char *)message->payload);
    /* The message and topic belong to the application now. */
    MQTTAsync_freeMessage(&message);
    MQTTAsync_free(topic);
    pthread_mutex_lock(&lock);
    received++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
    return 1;
}

static void connection_lost(void *context, char *cause)
{
    (void)context;
    fprintf(stderr, "connection lost: %s\n", cause ? cause : "unknown");
    pthread_mutex_lock(&lock);
    failed = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_subscribe(void *context, MQTTAsync_successData *response)
{
    (void)context;
    printf("subscribed to %s, granted QoS %d; waiting for %d message(s)\n", filter,
           response->alt.qos, wanted);
    fflush(stdout);
}

static void on_failure(void *context, MQTTAsync_failureData *response)
{
    (void)context;
    fprintf(stderr, "request failed: %d %s\n", response->code, response->message ? response->message : "");
    pthread_mutex_lock(&lock);
    failed = 1;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_connect(void *context, MQTTAsync_successData *response)
{
    MQTTAsync client = (MQTTAsync)context;
    (void)response;
    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess = on_subscribe;
    opts.onFailure = on_failure;
    opts.context = client;
    int rc = MQTTAsync_subscribe(client, filter, 1, &opts);
    if (rc != MQTTASYNC_SUCCESS)
        fprintf(stderr, "subscribe failed: %s\n", MQTTAsync_strerror(rc));
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    filter = argc > 2 ? argv[2] : "ferromq/example";
    wanted = argc > 3 ? atoi(argv[3]) : 10;

    MQTTAsync client;
    int rc = MQTTAsync_create(&client, uri, "async-subscribe-example", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTAsync_strerror(rc));
        return EXIT_FAILURE;
    }
    MQTTAsync_setCallbacks(client, client, connection_lost, message_arrived, NULL);

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    opts.onSuccess = on_connect;
    opts.onFailure = on_failure;
    opts.context = client;
    if ((rc = MQTTAsync_connect(client, &opts)) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "connect failed: %s\n", MQTTAsync_strerror(rc));
        MQTTAsync_destroy(&client);
        return EXIT_FAILURE;
    }

    pthread_mutex_lock(&lock);
    while (received < wanted && !failed)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
    dopts.timeout = 1000;
    MQTTAsync_disconnect(client, &dopts);
    /* destroy returns once no thread of the client runs any more. */
    MQTTAsync_destroy(&client);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
