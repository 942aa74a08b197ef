/* MQTTCLIENT_PERSISTENCE_DEFAULT across a crash. Written only against
 * Paho's API; tests/client_persistence.rs runs it on Debian's Paho and on
 * FerroMQ.
 *
 *   persist_publish URI CLIENTID STOREDIR publish COUNT
 *     connect with cleansession=0 and publish COUNT messages "m<i>" to
 *     persist/t (QoS 1 for even i, QoS 2 for odd i), printing "accepted <i>"
 *     once MQTTClient_publish has accepted message i; the test kills it
 *     (SIGKILL) mid-stream.
 *   persist_publish URI CLIENTID STOREDIR resume
 *     create on the same store, connect with cleansession=0, wait for every
 *     pending delivery to complete, print "resumed <n>" and disconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTClient.h"

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s failed: %d\n", what, rc);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR publish COUNT | resume\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *uri = argv[1], *id = argv[2], *dir = argv[3];
    int publish = strcmp(argv[4], "publish") == 0;
    MQTTClient c;
    int rc = MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_DEFAULT, (void *)dir);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("create", rc);
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    o.cleansession = 0;
    o.reliable = 0;
    o.maxInflightMessages = 20;
    o.keepAliveInterval = 30;
    if ((rc = MQTTClient_connect(c, &o)) != MQTTCLIENT_SUCCESS)
        return fail("connect", rc);
    if (publish) {
        int count = argc > 5 ? atoi(argv[5]) : 100;
        for (int i = 0; i < count; i++) {
            char m[32];
            snprintf(m, sizeof m, "m%d", i);
            MQTTClient_deliveryToken t;
            rc = MQTTClient_publish(c, "persist/t", (int)strlen(m), m, 1 + i % 2, 0, &t);
            if (rc != MQTTCLIENT_SUCCESS)
                return fail("publish", rc);
            printf("accepted %d\n", i);
        }
        printf("all accepted\n");
        /* Wait to be killed; the test never lets this run out. */
        for (int i = 0; i < 600; i++)
            MQTTClient_yield();
        return 3;
    }
    MQTTClient_deliveryToken *tokens = NULL;
    if ((rc = MQTTClient_getPendingDeliveryTokens(c, &tokens)) != MQTTCLIENT_SUCCESS)
        return fail("getPendingDeliveryTokens", rc);
    int n = 0;
    for (; tokens && tokens[n] != -1; n++) {
        rc = MQTTClient_waitForCompletion(c, tokens[n], 20000);
        if (rc != MQTTCLIENT_SUCCESS)
            return fail("waitForCompletion", rc);
    }
    MQTTClient_free(tokens);
    printf("resumed %d\n", n);
    MQTTClient_disconnect(c, 5000);
    MQTTClient_destroy(&c);
    printf("done\n");
    return 0;
}
