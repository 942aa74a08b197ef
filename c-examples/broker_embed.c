/* Embed the FerroMQ broker in a C program and talk to it with the MQTTClient
 * API. The broker's callbacks print what they see and decide:
 *   - clients whose id starts with "intruder" are refused (not authorized);
 *   - subscriptions to "secret/#" are refused;
 *   - publishes to "readonly/..." are refused.
 * The program also injects a message of its own with MQTTBroker_publish.
 *
 * Build: make examples    Run: build/broker_embed [HOST:PORT]  (default 127.0.0.1:0,
 * a free port) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTBroker.h"
#include "MQTTClient.h"

#define NOT_AUTHORIZED 0x87 /* an MQTT 5 reason code */

static int on_client_connect(void *context, const MQTTBroker_clientInfo *client)
{
    (void)context;
    printf("[broker] connect: id=\"%s\" user=%s password=%d bytes from %s (MQTT version %d)\n",
           client->clientId, client->username ? client->username : "(none)",
           client->password ? client->passwordLen : 0,
           client->address ? client->address : "?", client->MQTTVersion);
    if (strncmp(client->clientId, "intruder", 8) == 0) {
        printf("[broker]   refused\n");
        return NOT_AUTHORIZED;
    }
    return 0;
}

static int on_client_publish(void *context, const MQTTBroker_clientInfo *client,
                             const char *topic, const MQTTBroker_message *message)
{
    (void)context;
    printf("[broker] publish from \"%s\": %s = \"%.*s\" (qos %d%s)\n", client->clientId, topic,
           message->payloadlen, (const char *)message->payload, message->qos,
           message->retained ? ", retained" : "");
    if (strncmp(topic, "readonly/", 9) == 0) {
        printf("[broker]   refused\n");
        return NOT_AUTHORIZED;
    }
    return 0;
}

static int on_client_subscribe(void *context, const MQTTBroker_clientInfo *client,
                               const char *filter, int qos)
{
    (void)context;
    printf("[broker] subscribe from \"%s\": %s (qos %d)\n", client->clientId, filter, qos);
    if (strcmp(filter, "secret/#") == 0) {
        printf("[broker]   refused\n");
        return NOT_AUTHORIZED;
    }
    return qos;
}

static void on_client_disconnect(void *context, const MQTTBroker_clientInfo *client, int reason)
{
    (void)context;
    printf("[broker] \"%s\" left (reason %d)\n", client->clientId, reason);
}

/* Wait up to 5 s for one message on the client and print it. */
static int receive_one(MQTTClient client)
{
    char *topic = NULL;
    int topic_len = 0;
    MQTTClient_message *msg = NULL;
    int rc = MQTTClient_receive(client, &topic, &topic_len, &msg, 5000);
    if (rc != MQTTCLIENT_SUCCESS || msg == NULL) {
        printf("[client] nothing received (rc %d)\n", rc);
        return -1;
    }
    printf("[client] received %s = \"%.*s\"\n", topic, msg->payloadlen, (char *)msg->payload);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 0;
}

static MQTTClient connect_client(const char *uri, const char *id, int *rc)
{
    MQTTClient client = NULL;
    MQTTClient_create(&client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.username = "demo";
    opts.password = "demo-password";
    *rc = MQTTClient_connect(client, &opts);
    printf("[client] %s: MQTTClient_connect returned %d\n", id, *rc);
    return client;
}

int main(int argc, char **argv)
{
    const char *listeners[] = {argc > 1 ? argv[1] : "127.0.0.1:0"};
    MQTTBroker_createOptions opts = MQTTBroker_createOptions_initializer;
    opts.listeners = listeners;
    opts.listenerCount = 1;

    MQTTBroker broker = NULL;
    int rc = MQTTBroker_create(&broker, &opts);
    if (rc != MQTTBROKER_SUCCESS) {
        fprintf(stderr, "MQTTBroker_create: %s\n", MQTTBroker_strerror(rc));
        return 1;
    }
    MQTTBroker_callbacks callbacks = MQTTBroker_callbacks_initializer;
    callbacks.on_client_connect = on_client_connect;
    callbacks.on_client_publish = on_client_publish;
    callbacks.on_client_subscribe = on_client_subscribe;
    callbacks.on_client_disconnect = on_client_disconnect;
    MQTTBroker_setCallbacks(broker, NULL, &callbacks);
    if ((rc = MQTTBroker_start(broker)) != MQTTBROKER_SUCCESS) {
        fprintf(stderr, "MQTTBroker_start: %s\n", MQTTBroker_strerror(rc));
        MQTTBroker_destroy(&broker);
        return 1;
    }
    int port = MQTTBroker_getPort(broker, 0);
    char uri[128];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    printf("broker listening on port %d\n", port);

    /* Refused in on_client_connect: a 3.1.1 client sees return code 5. */
    MQTTClient intruder = connect_client(uri, "intruder-1", &rc);
    MQTTClient_destroy(&intruder);

    MQTTClient app = connect_client(uri, "app", &rc);
    int ok = rc == MQTTCLIENT_SUCCESS;
    if (ok) {
        rc = MQTTClient_subscribe(app, "sensors/#", 1);
        printf("[client] subscribe sensors/#: %d\n", rc);
        rc = MQTTClient_subscribe(app, "secret/#", 1);
        printf("[client] subscribe secret/#: %d (0x80 = refused)\n", rc);

        /* Refused in on_client_publish (a 3.1.1 client is not told). */
        MQTTClient_deliveryToken token;
        MQTTClient_publish(app, "readonly/config", 3, "bad", 1, 0, &token);
        MQTTClient_waitForCompletion(app, token, 5000);

        MQTTClient_publish(app, "sensors/temperature", 4, "21.5", 1, 0, &token);
        MQTTClient_waitForCompletion(app, token, 5000);
        ok = receive_one(app) == 0;

        /* The host program publishes too. */
        const char *note = "hello from the host program";
        rc = MQTTBroker_publish(broker, "sensors/status", (int)strlen(note), note, 1, 0, NULL);
        printf("[host] MQTTBroker_publish returned %d\n", rc);
        ok = receive_one(app) == 0 && ok;
        MQTTClient_disconnect(app, 1000);
    }
    MQTTClient_destroy(&app);

    MQTTBroker_stop(broker);
    MQTTBroker_destroy(&broker);
    printf("%s\n", ok ? "example done" : "example FAILED");
    return ok ? 0 : 1;
}
