/* An incoming QoS 2 message across a client crash, with
 * MQTTCLIENT_PERSISTENCE_DEFAULT. Written only against Paho's API;
 * tests/client_qos2_crash.rs runs it on Debian's Paho and on FerroMQ
 * against a scripted server.
 *
 *   persist_receive URI CLIENTID STOREDIR VERSION [clean TOPIC]
 *     create on STOREDIR, connect with MQTT VERSION (4: 3.1.1, 5) and
 *     cleansession/cleanstart 0 (with "clean": 1, and then subscribe to
 *     TOPIC at QoS 2; MQTT 3.x only), print "connected", then print
 *     "arrived <topic> <payload>" for every message MQTTClient_receive
 *     returns until one with payload "end" (then disconnect, print "done"
 *     and exit 0). The test kills the first run with SIGKILL. */
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
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR VERSION\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *uri = argv[1], *id = argv[2], *dir = argv[3];
    int version = atoi(argv[4]);
    int clean = argc > 6 && strcmp(argv[5], "clean") == 0;
    MQTTClient c;
    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.MQTTVersion = version;
    int rc = MQTTClient_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_DEFAULT,
                                          (void *)dir, &co);
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("create", rc);
    if (version == MQTTVERSION_5) {
        MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;
        o.cleanstart = clean;
        o.keepAliveInterval = 60;
        MQTTResponse r = MQTTClient_connect5(c, &o, NULL, NULL);
        rc = r.reasonCode;
        MQTTResponse_free(r);
    } else {
        MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
        o.cleansession = clean;
        o.keepAliveInterval = 60;
        o.MQTTVersion = version;
        rc = MQTTClient_connect(c, &o);
    }
    if (rc != MQTTCLIENT_SUCCESS)
        return fail("connect", rc);
    if (clean && (rc = MQTTClient_subscribe(c, argv[6], 2)) != MQTTCLIENT_SUCCESS)
        return fail("subscribe", rc);
    printf("connected\n");
    for (int polls = 0; polls < 600; polls++) {
        char *topic = NULL;
        int len = 0;
        MQTTClient_message *m = NULL;
        rc = MQTTClient_receive(c, &topic, &len, &m, 100);
        if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED)
            return fail("receive", rc);
        if (!m)
            continue;
        int end = m->payloadlen == 3 && memcmp(m->payload, "end", 3) == 0;
        printf("arrived %s %.*s\n", topic, m->payloadlen, (char *)m->payload);
        MQTTClient_freeMessage(&m);
        MQTTClient_free(topic);
        if (end) {
            if (version == MQTTVERSION_5)
                MQTTClient_disconnect5(c, 1000, MQTTREASONCODE_SUCCESS, NULL);
            else
                MQTTClient_disconnect(c, 1000);
            MQTTClient_destroy(&c);
            printf("done\n");
            return 0;
        }
    }
    return fail("waiting for \"end\"", -1);
}
