/*
 * sub_receive.c - subscribe and pull messages with MQTTClient_receive.
 *
 * A client that sets no callbacks works in "receive mode": incoming
 * messages wait in the client until the application asks for them. This
 * program prints COUNT messages (default 1), giving up after 30 s of quiet.
 *
 *   usage: sub_receive [URI] [TOPIC-FILTER] [COUNT]
 *   e.g.   sub_receive tcp://127.0.0.1:1883 'greetings/#' 5
 */
#include <stdio.h>
#include <stdlib.h>

#include "MQTTClient.h"

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    const char *filter = argc > 2 ? argv[2] : "ferromq/#";
    int count = argc > 3 ? atoi(argv[3]) : 1;

    MQTTClient client;
    int rc = MQTTClient_create(&client, uri, "sub-receive-example", MQTTCLIENT_PERSISTENCE_NONE,
                               NULL);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTClient_strerror(rc));
        return EXIT_FAILURE;
    }
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    if ((rc = MQTTClient_connect(client, &opts)) != MQTTCLIENT_SUCCESS ||
        (rc = MQTTClient_subscribe(client, filter, 1)) != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "connect/subscribe failed: %d\n", rc);
        MQTTClient_destroy(&client);
        return EXIT_FAILURE;
    }
    printf("subscribed to %s, waiting for %d message(s)\n", filter, count);
    fflush(stdout);

    int received = 0;
    while (received < count) {
        char *topic = NULL;
        int topic_len = 0;
        MQTTClient_message *msg = NULL;
        /* Blocks up to 30 s; on timeout it succeeds with msg == NULL. */
        rc = MQTTClient_receive(client, &topic, &topic_len, &msg, 30000);
        if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
            fprintf(stderr, "receive failed: %d\n", rc);
            break;
        }
        if (msg == NULL) {
            fprintf(stderr, "no message within 30 s\n");
            break;
        }
        printf("%s: %.*s\n", topic, msg->payloadlen, (const char *)msg->payload);
        fflush(stdout);
        MQTTClient_freeMessage(&msg);
        MQTTClient_free(topic);
        received++;
    }

    MQTTClient_disconnect(client, 1000);
    MQTTClient_destroy(&client);
    return received == count ? EXIT_SUCCESS : EXIT_FAILURE;
}
