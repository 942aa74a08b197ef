/*
 * pub5_properties.c - an MQTT 5 publish carrying properties.
 *
 * MQTT 5 clients are created with MQTTClient_createWithOptions and use the
 * *5 calls, which take property lists and return an MQTTResponse holding the
 * broker's reason code. This one attaches two user properties and a content
 * type to a QoS 1 message.
 *
 *   usage: pub5_properties [URI] [TOPIC] [MESSAGE]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTClient.h"

/* Append a user property (a name/value string pair) to a property list. */
static void add_user_property(MQTTProperties *props, const char *name, const char *value)
{
    MQTTProperty property;
    memset(&property, 0, sizeof property);
    property.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    property.value.data.data = (char *)name;
    property.value.data.len = (int)strlen(name);
    property.value.value.data = (char *)value;
    property.value.value.len = (int)strlen(value);
    MQTTProperties_add(props, &property);
}

int main(int argc, char *argv[])
{
    const char *uri = argc > 1 ? argv[1] : "tcp://127.0.0.1:1883";
    const char *topic = argc > 2 ? argv[2] : "ferromq/v5";
    const char *text = argc > 3 ? argv[3] : "{\"temperature\": 21.5}";

    MQTTClient client;
    MQTTClient_createOptions create_opts = MQTTClient_createOptions_initializer;
    create_opts.MQTTVersion = MQTTVERSION_5;
    int rc = MQTTClient_createWithOptions(&client, uri, "pub5-example",
                                          MQTTCLIENT_PERSISTENCE_NONE, NULL, &create_opts);
    if (rc != MQTTCLIENT_SUCCESS) {
        fprintf(stderr, "create failed: %s\n", MQTTClient_strerror(rc));
        return EXIT_FAILURE;
    }

    /* MQTT 5 uses cleanstart instead of cleansession. */
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer5;
    opts.cleanstart = 1;
    MQTTResponse response = MQTTClient_connect5(client, &opts, NULL, NULL);
    if (response.reasonCode != MQTTREASONCODE_SUCCESS) {
        fprintf(stderr, "connect refused: %s\n", MQTTReasonCode_toString(response.reasonCode));
        MQTTResponse_free(response);
        MQTTClient_destroy(&client);
        return EXIT_FAILURE;
    }
    MQTTResponse_free(response);

    MQTTClient_message msg = MQTTClient_message_initializer;
    msg.payload = (void *)text;
    msg.payloadlen = (int)strlen(text);
    msg.qos = 1;
    add_user_property(&msg.properties, "sensor", "kitchen");
    add_user_property(&msg.properties, "unit", "celsius");
    MQTTProperty content_type;
    memset(&content_type, 0, sizeof content_type);
    content_type.identifier = MQTTPROPERTY_CODE_CONTENT_TYPE;
    content_type.value.data.data = "application/json";
    content_type.value.data.len = (int)strlen("application/json");
    MQTTProperties_add(&msg.properties, &content_type);

    MQTTClient_deliveryToken token;
    response = MQTTClient_publishMessage5(client, topic, &msg, &token);
    rc = response.reasonCode;
    MQTTResponse_free(response);
    MQTTProperties_free(&msg.properties); /* the library keeps its own copy */
    if (rc == MQTTREASONCODE_SUCCESS)
        rc = MQTTClient_waitForCompletion(client, token, 10000);
    if (rc == MQTTCLIENT_SUCCESS)
        printf("published %s with %d properties\n", topic, 3);
    else
        fprintf(stderr, "publish failed: %d\n", rc);

    MQTTClient_disconnect5(client, 1000, MQTTREASONCODE_NORMAL_DISCONNECTION, NULL);
    MQTTClient_destroy(&client);
    return rc == MQTTCLIENT_SUCCESS ? EXIT_SUCCESS : EXIT_FAILURE;
}
