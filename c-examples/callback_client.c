/*
 * callback_client.c - an event-driven client.
 *
 * With MQTTClient_setCallbacks the library calls the application when a
 * message arrives, when a publish completes and when the connection is lost;
 * the callbacks run on a thread of the library. This client subscribes to a
 * topic, publishes one message to it and waits for the message to come back.
 *
 *   usage: callback_client [URI] [TOPIC]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "MQTTClient.h"

struct app {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int got_message;
    int connection_lost;
};

static void on_connection_lost(void *context, char *cause)
{
    struct app *app = context;
    fprintf(stderr, "connection lost: %s\n", cause ? cause : "(no reason given)");
    pthread_mutex_lock(&app->lock);
    app->connection_lost = 1;
    pthread_cond_signal(&app->changed);
    pthread_mutex_unlock(&app->lock);
}

/* Return 1 to say the message was handled; the application frees it. */
static int on_message(void *context, char *topic, int topic_len, MQTTClient_message *msg)
{
    struct app *app = context;
    (void)topic_len;
    printf("message on %s: %.*s\n", topic, msg->payloadlen, (const char *)msg->payload);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    pthread_mutex_lock(&app->lock);
    app->got_message = 1;
    pthread_cond_signal(&app->changed);
    pthread_mutex_unlock(&app->lock);
    return 1;
}

static void on_delivered(void *context, MQTTClient_deliveryToken token)
{
    (void)context;
    printf("publish with token %d is complete\n", token);
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    const char *topic = argc > 2 ? argv[2] : "ferromq/callback";
    struct app app = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

    MQTTClient client;
    int rc = MQTTClient_create(&client, uri, "callback-example", MQTTCLIENT_PERSISTENCE_NONE,
                               NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTClient_strerror(rc));
        return EXIT_FAILURE;
    }
    /* Callbacks are set before connecting. */
    MQTTClient_setCallbacks(client, &app, on_connection_lost, on_message, on_delivered);

    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    if ((rc = MQTTClient_connect(client, &opts)) != MQTTCLIENT_SUCCESS ||
        (rc = MQTTClient_subscribe(client, topic, 1)) != MQTTCLIENT_SUCCESS ||
        (rc = MQTTClient_publish(client, topic, 5, "ping!", 1, 0, NULL)) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "connect/subscribe/publish failed: %d\n", rc);
        MQTTClient_destroy(&client);
        return EXIT_FAILURE;
    }

    /* Wait (at most 10 s) for on_message or on_connection_lost. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&app.lock);
    while (!app.got_message && !app.connection_lost) {
        if (pthread_cond_timedwait(&app.changed, &app.lock, &deadline) != 0)
            break;
    }
    int ok = app.got_message;
    pthread_mutex_unlock(&app.lock);

    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
