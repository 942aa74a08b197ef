/*
 * async_mqtt5.c - an MQTT 5 client with the asynchronous MQTTAsync API.
 *
 * Creates the client for MQTT 5, connects with a session expiry interval,
 * subscribes with noLocal off and prints the SUBACK reason code, publishes
 * one message with a user property and a message expiry interval, prints
 * the PUBACK reason code and the properties of the message when it comes
 * back, then disconnects with a reason code.
 *
 *   usage: async_mqtt5 [URI] [TOPIC]
 *   e.g.   async_mqtt5 tcp://127.0.0.1:1883 ferromq/v5
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTAsync.h"

static const char *topic;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int step, failed; /* 1 subscribed, 2 message back, 3 disconnected */

static void advance(int to, int failure)
{
    pthread_mutex_lock(&lock);
    if (to > step)
        step = to;
    failed |= failure;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
}

static void print_properties(const char *what, MQTTProperties *props)
{
    for (int i = 0; i < props->count; i++) {
        MQTTProperty *p = &props->array[i];
        int type = MQTTProperty_getType(p->identifier);
        printf("  %s property %s", what, MQTTPropertyName(p->identifier));
        if (type == MQTTPROPERTY_TYPE_UTF_8_STRING_PAIR)
            printf(": %.*s=%.*s", p->value.data.len, p->value.data.data, p->value.value.len,
                   p->value.value.data);
        else if (type == MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER)
            printf(": %u", p->value.integer4);
        printf("\n");
    }
}

static int message_arrived(void *context, char *t, int len, MQTTAsync_message *m)
{
    (void)context;
    (void)len;
    printf("message on %s: %.*s\n", t, m->payloadlen, (char *)m->payload);
    print_properties("message", &m->properties);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    advance(2, 0);
    return 1;
}

static void on_failure5(void *context, MQTTAsync_failureData5 *r)
{
    (void)context;
    fprintf(stderr, "request %d failed: %s, reason %s\n", r->token, MQTTAsync_strerror(r->code),
            MQTTReasonCode_toString(r->reasonCode));
    advance(3, 1);
}

static void on_publish5(void *context, MQTTAsync_successData5 *r)
{
    (void)context;
    printf("PUBACK for %d: %s\n", r->token, MQTTReasonCode_toString(r->reasonCode));
}

static void on_subscribe5(void *context, MQTTAsync_successData5 *r)
{
    MQTTAsync client = (MQTTAsync)context;
    printf("SUBACK: %s\n", MQTTReasonCode_toString(r->reasonCode));

    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTProperty p;
    p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    p.value.data.data = "origin";
    p.value.data.len = 6;
    p.value.value.data = "async_mqtt5";
    p.value.value.len = 11;
    MQTTProperties_add(&msg.properties, &p);
    p.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
    p.value.integer4 = 60;
    MQTTProperties_add(&msg.properties, &p);
    msg.payload = "hello, MQTT 5";
    msg.payloadlen = (int)strlen(msg.payload);
    msg.qos = 1;

    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess5 = on_publish5;
    opts.onFailure5 = on_failure5;
    opts.context = client;
    int rc = MQTTAsync_sendMessage(client, topic, &msg, &opts);
    MQTTProperties_free(&msg.properties);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "send failed: %s\n", MQTTAsync_strerror(rc));
        advance(3, 1);
    }
}

static void on_connect5(void *context, MQTTAsync_successData5 *r)
{
    MQTTAsync client = (MQTTAsync)context;
    printf("connected with MQTT %d: %s\n", r->alt.connect.MQTTVersion,
           MQTTReasonCode_toString(r->reasonCode));
    print_properties("CONNACK", &r->properties);

    MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
    opts.onSuccess5 = on_subscribe5;
    opts.onFailure5 = on_failure5;
    opts.context = client;
    opts.subscribeOptions.noLocal = 0; /* we want our own message back */
    int rc = MQTTAsync_subscribe(client, topic, 1, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "subscribe failed: %s\n", MQTTAsync_strerror(rc));
        advance(3, 1);
    }
}

static void on_disconnect5(void *context, MQTTAsync_successData5 *r)
{
    (void)context;
    (void)r;
    printf("disconnected\n");
    advance(3, 0);
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    topic = argc > 2 ? argv[2] : "ferromq/v5";

    MQTTAsync client;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer5;
    int rc = MQTTAsync_createWithOptions(&client, uri, "async-mqtt5-example", MQTTCLIENT_PERSISTENCE_NONE,
                                         NULL, &create);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTAsync_strerror(rc));
        return EXIT_FAILURE;
    }
    MQTTAsync_setCallbacks(client, client, NULL, message_arrived, NULL);

    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty p;
    p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    p.value.integer4 = 30;
    MQTTProperties_add(&props, &p);

    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer5;
    opts.keepAliveInterval = 20;
    opts.cleanstart = 1;
    opts.connectProperties = &props;
    opts.onSuccess5 = on_connect5;
    opts.onFailure5 = on_failure5;
    opts.context = client;
    rc = MQTTAsync_connect(client, &opts);
    MQTTProperties_free(&props);
    if (rc != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "connect failed: %s\n", MQTTAsync_strerror(rc));
        MQTTAsync_destroy(&client);
        return EXIT_FAILURE;
    }

    pthread_mutex_lock(&lock);
    while (step < 2)
        pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);

    if (!failed) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
        d.reasonCode = MQTTREASONCODE_NORMAL_DISCONNECTION;
        d.onSuccess5 = on_disconnect5;
        d.onFailure5 = on_failure5;
        d.context = client;
        if (MQTTAsync_disconnect(client, &d) == MQTTASYNC_SUCCESS) {
            pthread_mutex_lock(&lock);
            while (step < 3)
                pthread_cond_wait(&cond, &lock);
            pthread_mutex_unlock(&lock);
        }
    }
    MQTTAsync_destroy(&client);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
