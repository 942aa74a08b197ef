/* A small Paho C program, as a user of Paho would write it: it prints the
 * library's version information, then connects to the URI given on the
 * command line, subscribes to a topic, publishes one QoS 1 message to it and
 * waits (bounded) to receive that message back. Exit status 0 on success.
 *
 * usage: client URI TOPIC CLIENT_ID */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTClient.h"

static int fail(const char *what, int rc)
{
    fprintf(stderr, "%s failed: %d (%s)\n", what, rc, MQTTClient_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    MQTTClient client;
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    MQTTClient_message msg = MQTTClient_message_initializer;
    MQTTClient_deliveryToken token = 0;
    MQTTClient_nameValue *info;
    char payload[128];
    int rc, tries;

    if (argc != 4) {
        fprintf(stderr, "usage: %s URI TOPIC CLIENT_ID\n", argv[0]);
        return 2;
    }
    for (info = MQTTClient_getVersionInfo(); info && info->name; info++)
        printf("%s: %s\n", info->name, info->value);

    rc = MQTTClient_create(&client, argv[1], argv[3], MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("MQTTClient_create", rc);
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    opts.connectTimeout = 10;
    rc = MQTTClient_connect(client, &opts);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("MQTTClient_connect", rc);
    rc = MQTTClient_subscribe(client, argv[2], 1);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("MQTTClient_subscribe", rc);

    snprintf(payload, sizeof payload, "hello from %s", argv[3]);
    msg.payload = payload;
    msg.payloadlen = (int)strlen(payload);
    msg.qos = 1;
    rc = MQTTClient_publishMessage(client, argv[2], &msg, &token);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("MQTTClient_publishMessage", rc);
    rc = MQTTClient_waitForCompletion(client, token, 10000);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("MQTTClient_waitForCompletion", rc);

    /* Each receive waits at most 1 s; 20 of them bound the whole wait. */
    for (tries = 0; tries < 20; tries++) {
        char *topic = NULL;
        int topic_len = 0;
        MQTTClient_message *got = NULL;
        rc = MQTTClient_receive(client, &topic, &topic_len, &got, 1000);
        if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED)
            return fail("MQTTClient_receive", rc);
        if (got) {
            printf("received on %s: %.*s\n", topic, got->payloadlen, (const char *)got->payload);
            MQTTClient_freeMessage(&got);
            MQTTClient_free(topic);
            break;
        }
    }
    if (tries == 20) {
        fprintf(stderr, "no message came back\n");
        return 1;
    }
    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    return 0;
}
