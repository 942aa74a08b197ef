/* The broker's TLS and WebSocket listeners from C: MQTTBroker_listenerOptions
 * checked (struct id, version, protocol, unreadable certificate), then a
 * broker with an ssl:// and a wss:// listener served to our own MQTTClient
 * with a QoS 1 round trip on each, and MQTTBroker_reloadCertificates.
 * The certificates are in the directory named by FERROMQ_CERTS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTBroker.h"
#include "MQTTClient.h"

static int failures;

#define CHECK_RC(expr, expected)                                              \
    do {                                                                      \
        int got_ = (expr);                                                    \
        if (got_ != (expected)) {                                             \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n",      \
                    __FILE__, __LINE__, #expr, got_, (int)(expected), #expected); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

static char server_pem[1024], server_key[1024], ca_pem[1024];

static int create_rc(MQTTBroker_listenerOptions *lo, int version)
{
    const char *listeners[] = { "127.0.0.1:0" };
    MQTTBroker_createOptions o = MQTTBroker_createOptions_initializer;
    o.struct_version = version;
    o.listeners = listeners;
    o.listenerCount = 1;
    o.listenerOptions = lo;
    MQTTBroker b = NULL;
    int rc = MQTTBroker_create(&b, &o);
    MQTTBroker_destroy(&b);
    return rc;
}

static void bad_options(void)
{
    MQTTBroker_listenerOptions lo = MQTTBroker_listenerOptions_initializer;
    lo.certfile = server_pem;
    lo.keyfile = server_key;
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_SUCCESS);
    /* Version 1 options have no listenerOptions: not read. */
    lo.struct_id[0] = 'X';
    CHECK_RC(create_rc(&lo, 1), MQTTBROKER_SUCCESS);
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_BAD_STRUCTURE);
    lo.struct_id[0] = 'M';
    lo.struct_version = 1;
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_BAD_STRUCTURE);
    lo.struct_version = 0;
    lo.protocol = 7;
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_BAD_OPTION);
    lo.protocol = MQTTBROKER_PROTOCOL_MQTT;
    lo.certfile = "/nonexistent/server.pem";
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_TLS_ERROR);
    lo.certfile = server_pem;
    lo.keyfile = NULL;
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_TLS_ERROR);
    lo.keyfile = server_key;
    lo.requireCertificate = 1; /* without cafile */
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_TLS_ERROR);
    lo.requireCertificate = 0;
    lo.tlsVersion = "sslv3";
    CHECK_RC(create_rc(&lo, 2), MQTTBROKER_TLS_ERROR);
    printf("bad listener options refused\n");
}

static void round_trip(const char *uri)
{
    MQTTClient c = NULL;
    CHECK_RC(MQTTClient_create(&c, uri, "c-broker-tls", MQTTCLIENT_PERSISTENCE_NONE, NULL),
             MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    ssl.trustStore = ca_pem;
    co.ssl = &ssl;
    co.connectTimeout = 10;
    int rc = MQTTClient_connect(c, &co);
    CHECK_RC(rc, MQTTCLIENT_SUCCESS);
    if (rc == MQTTCLIENT_SUCCESS) {
        CHECK_RC(MQTTClient_subscribe(c, "c/tls", 1), MQTTCLIENT_SUCCESS);
        MQTTClient_deliveryToken tok;
        CHECK_RC(MQTTClient_publish(c, "c/tls", 5, "hello", 1, 0, &tok), MQTTCLIENT_SUCCESS);
        char *topic = NULL;
        int topic_len = 0;
        MQTTClient_message *m = NULL;
        CHECK_RC(MQTTClient_receive(c, &topic, &topic_len, &m, 10000), MQTTCLIENT_SUCCESS);
        if (m == NULL || m->payloadlen != 5 || memcmp(m->payload, "hello", 5) != 0) {
            fprintf(stderr, "%s: no round trip\n", uri);
            failures++;
        } else {
            printf("round trip over %.6s\n", uri);
        }
        if (m)
            MQTTClient_freeMessage(&m);
        if (topic)
            MQTTClient_free(topic);
        CHECK_RC(MQTTClient_disconnect(c, 5000), MQTTCLIENT_SUCCESS);
    }
    MQTTClient_destroy(&c);
}

int main(void)
{
    const char *dir = getenv("FERROMQ_CERTS");
    if (dir == NULL) {
        fprintf(stderr, "FERROMQ_CERTS is not set\n");
        return 2;
    }
    snprintf(server_pem, sizeof server_pem, "%s/server.pem", dir);
    snprintf(server_key, sizeof server_key, "%s/server.key", dir);
    snprintf(ca_pem, sizeof ca_pem, "%s/ca.pem", dir);
    bad_options();

    const char *listeners[] = { "127.0.0.1:0", "127.0.0.1:0" };
    MQTTBroker_listenerOptions lo[2] = { MQTTBroker_listenerOptions_initializer,
                                         MQTTBroker_listenerOptions_initializer };
    lo[0].certfile = lo[1].certfile = server_pem;
    lo[0].keyfile = lo[1].keyfile = server_key;
    lo[1].protocol = MQTTBROKER_PROTOCOL_WEBSOCKETS;
    MQTTBroker_createOptions o = MQTTBroker_createOptions_initializer;
    o.listeners = listeners;
    o.listenerCount = 2;
    o.listenerOptions = lo;
    MQTTBroker b = NULL;
    CHECK_RC(MQTTBroker_create(&b, &o), MQTTBROKER_SUCCESS);
    CHECK_RC(MQTTBroker_reloadCertificates(b), MQTTBROKER_NOT_STARTED);
    CHECK_RC(MQTTBroker_start(b), MQTTBROKER_SUCCESS);
    char uri[128];
    snprintf(uri, sizeof uri, "ssl://127.0.0.1:%d", MQTTBroker_getPort(b, 0));
    round_trip(uri);
    CHECK_RC(MQTTBroker_reloadCertificates(b), MQTTBROKER_SUCCESS);
    snprintf(uri, sizeof uri, "wss://127.0.0.1:%d/mqtt", MQTTBroker_getPort(b, 1));
    round_trip(uri);
    CHECK_RC(MQTTBroker_reloadCertificates(NULL), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_stop(b), MQTTBROKER_SUCCESS);
    MQTTBroker_destroy(&b);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("broker_tls done\n");
    return 0;
}
