/*
 * pub_sync.c - publish one message and wait until the broker has it.
 *
 * The simplest use of the synchronous MQTTClient API: create a client,
 * connect, publish at QoS 1, wait for the acknowledgement, disconnect.
 *
 *   usage: pub_sync [URI] [TOPIC] [MESSAGE]
 *   e.g.   pub_sync tcp://127.0.0.1:1883 greetings "hello world"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTClient.h"

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    const char *topic = argc > 2 ? argv[2] : "ferromq/example";
    const char *text = argc > 3 ? argv[3] : "hello from pub_sync";

    MQTTClient client;
    int rc = MQTTClient_create(&client, uri, "pub-sync-example", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTClient_strerror(rc));
        return EXIT_FAILURE;
    }

    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    if ((rc = MQTTClient_connect(client, &opts)) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "connect to %s failed: %d\n", uri, rc);
        MQTTClient_destroy(&client);
        return EXIT_FAILURE;
    }

    /* The token identifies this publish until the broker acknowledges it. */
    MQTTClient_deliveryToken token;
    rc = MQTTClient_publish(client, topic, (int)strlen(text), text, 1, 0, &token);
    if (rc == MQTTCLIENT_SUCCESS)
        rc = MQTTClient_waitForCompletion(client, token, 10000);
    if (rc == MQTTCLIENT_SUCCESS)
        printf("published \"%s\" to %s\n", text, topic);
    else
        fprintf(stderr, "publish failed: %d\n", rc);

    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    return rc == MQTTCLIENT_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
