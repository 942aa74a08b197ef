/* Received messages the application has not taken yet, across a client
 * crash, with MQTTCLIENT_PERSISTENCE_DEFAULT (Paho keeps such a message as
 * a "q-<seqno>" record from its arrival until messageArrived returns).
 * Written only against Paho's API; tests/client_persist_queue.rs runs it
 * on Debian's Paho or on FerroMQ, kills it, and resumes the store with
 * tests/c/persist_receive.c.
 *
 *   persist_queue URI CLIENTID STOREDIR VERSION TOPIC [take]
 *     create on STOREDIR, set a messageArrived callback, connect with MQTT
 *     VERSION (4: 3.1.1, 5) and cleansession/cleanstart 0, subscribe to
 *     TOPIC at QoS 2 and print "subscribed". messageArrived prints
 *     "arrived <topic> <payload>" and then holds the message (it never
 *     returns before the test kills the process with SIGKILL; at most
 *     60 s); with "take" it takes 2 ms over each message and returns it
 *     taken (a slow consumer, so that messages pile up behind it).
 *     The test kills the process with SIGKILL either way. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTClient.h"

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s failed: %d\n", what, rc);
    return 2;
}

static int take;

static int arrived(void *ctx, char *topic, int len, MQTTClient_message *m)
{
    (void)ctx;
    (void)len;
    if (take)
        poll(NULL, 0, 2); /* a slow consumer: messages pile up meanwhile */
    printf("arrived %s %.*s\n", topic, m->payloadlen, (char *)m->payload);
    if (take) {
        MQTTClient_freeMessage(&m);
        MQTTClient_free(topic);
        return 1;
    }
    /* Hold the message until the test kills us. */
    poll(NULL, 0, 60000);
    return 0;
}

static void lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR VERSION TOPIC\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *uri = argv[1], *id = argv[2], *dir = argv[3], *topic = argv[5];
    int version = atoi(argv[4]);
    take = argc > 6 && strcmp(argv[6], "take") == 0;
    MQTTClient c;
    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.MQTTVersion = version;
    int rc = MQTTClient_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_DEFAULT,
                                          (void *)dir, &co);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("create", rc);
    rc = MQTTClient_setCallbacks(c, NULL, lost, arrived, NULL);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("setCallbacks", rc);
    if (version == MQTTVERSION_5) {
        MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;
        o.cleanstart = 0;
        o.keepAliveInterval = 60;
        MQTTProperties props = MQTTProperties_initializer;
        MQTTProperty expiry = {.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL};
        expiry.value.integer4 = 600;
        MQTTProperties_add(&props, &expiry);
        MQTTResponse r = MQTTClient_connect5(c, &o, &props, NULL);
        rc = r.reasonCode;
        MQTTResponse_free(r);
        MQTTProperties_free(&props);
        if (rc == MQTTCLIENT_SUCCESS) {
            r = MQTTClient_subscribe5(c, topic, 2, NULL, NULL);
            rc = r.reasonCode == 2 ? MQTTCLIENT_SUCCESS : r.reasonCode;
            MQTTResponse_free(r);
            if (rc != MQTTCLIENT_SUCCESS)
                return fail("subscribe", rc);
        }
    } else {
        MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
        o.cleansession = 0;
        o.keepAliveInterval = 60;
        o.MQTTVersion = version;
        rc = MQTTClient_connect(c, &o);
        if (rc == MQTTCLIENT_SUCCESS) {
            rc = MQTTClient_subscribe(c, topic, 2);
            if (rc != MQTTCLIENT_SUCCESS)
                return fail("subscribe", rc);
        }
    }
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("connect", rc);
    printf("subscribed\n");
    poll(NULL, 0, 60000);
    return fail("waiting to be killed", -1);
}
