/*
 * async_reconnect.c - a publisher that survives the broker going away.
 *
 * With automaticReconnect the client reconnects by itself (retrying between
 * minRetryInterval and maxRetryInterval seconds), and the connected callback
 * says when. With sendWhileDisconnected the messages sent meanwhile wait in
 * an offline buffer and go out, in order, after the reconnect; each send's
 * onSuccess still runs once. Restart the broker while this runs to see it.
 *
 *   usage: async_reconnect [URI] [TOPIC] [COUNT]
 *   e.g.   async_reconnect tcp://127.0.0.1:1883 ferromq/ticks 30
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "MQTTAsync.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int delivered, failed, connected_once;

static void connected(void *context, char *cause)
{
    (void)context;
    printf("connected (%s)\n", cause ? cause : "");
    fflush(stdout);
    pthread_mutex_lock(&lock);
    connected_once = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void connection_lost(void *context, char *cause)
{
    (void)context;
    printf("connection lost (%s); reconnecting automatically\n", cause ? cause : "unknown");
    fflush(stdout);
}

static int message_arrived(void *context, char *t, int len, MQTTAsync_message *m)
{
    (void)context;
    (void)len;
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void on_send(void *context, MQTTAsync_successData *r)
{
    (void)context;
    printf("delivered: %.*s\n", r->alt.pub.message.payloadlen, (char *)r->alt.pub.message.payload);
    fflush(stdout);
    pthread_mutex_lock(&lock);
    delivered++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static void on_send_failure(void *context, MQTTAsync_failureData *r)
{
    (void)context;
    fprintf(stderr, "message %d failed: %s\n", r->token, MQTTAsync_strerror(r->code));
    pthread_mutex_lock(&lock);
    failed++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

/* Wait up to ms milliseconds for a change of state. */
static void wait_ms(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    pthread_cond_timedwait(&cond, &lock, &ts);
    pthread_mutex_unlock(&lock);
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    const char *topic = argc > 2 ? argv[2] : "ferromq/ticks";
    int count = argc > 3 ? atoi(argv[3]) : 30;

    MQTTAsync client;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.sendWhileDisconnected = 1;
    create.maxBufferedMessages = 1000;
    int rc = MQTTAsync_createWithOptions(&client, uri, "async-reconnect-example",
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTAsync_strerror(rc));
        return EXIT_FAILURE;
    }
    MQTTAsync_setCallbacks(client, NULL, connection_lost, message_arrived, NULL);
    MQTTAsync_setConnected(client, NULL, connected);

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    opts.keepAliveInterval = 10;
    opts.cleansession = 0; /* keep unacknowledged messages across reconnects */
    opts.automaticReconnect = 1;
    opts.minRetryInterval = 1;
    opts.maxRetryInterval = 8;
    if ((rc = MQTTAsync_connect(client, &opts)) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "connect failed: %s\n", MQTTAsync_strerror(rc));
        MQTTAsync_destroy(&client);
        return EXIT_FAILURE;
    }
    pthread_mutex_lock(&lock);
    while (!connected_once)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    /* One message every half second, connected or not. */
    for (int i = 1; i <= count; i++) {
        char text[64];
        snprintf(text, sizeof text, "tick %d", i);
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.onSuccess = on_send;
        ro.onFailure = on_send_failure;
        rc = MQTTAsync_send(client, topic, (int)strlen(text), text, 1, 0, &ro);
        if (rc != MQTTASYNC_SUCCESS)
            fprintf(stderr, "send of %s refused: %s\n", text, MQTTAsync_strerror(rc));
        else if (!MQTTAsync_isConnected(client))
            printf("buffered: %s\n", text);
        fflush(stdout);
        struct timespec pace = {0, 500000000L};
        nanosleep(&pace, NULL);
    }

    /* Let the buffer drain (the broker may still be away for a while). */
    for (int waited = 0; waited < 120; waited++) {
        pthread_mutex_lock(&lock);
        int finished = delivered + failed >= count;
        pthread_mutex_unlock(&lock);
        if (finished)
            break;
        wait_ms(1000);
    }
    pthread_mutex_lock(&lock);
    int ok = delivered == count;
    printf("%d delivered, %d failed\n", delivered, failed);
    pthread_mutex_unlock(&lock);

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 2000;
    MQTTAsync_disconnect(client, &d);
    MQTTAsync_destroy(&client);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
