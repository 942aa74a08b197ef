/* One TLS connect with MQTTClient, its settings from the command line, for
 * comparing Paho's libpaho-mqtt3cs with FerroMQ case by case:
 *   tls_connect URI CAFILE KEYSTORE KEYFILE VERIFY SSLVERSION CIPHERS SSLVER [KEYPASS]
 * ("-" is NULL; SSLVER is the MQTTClient_SSLOptions struct_version).
 * Prints "rc=N" for the connect, "errcb=1" when ssl_error_cb was called,
 * and after a successful connect "roundtrip=ok" once a QoS 1 message went
 * out and came back. Exits 0 when the program itself worked. */
#include "testutil.h"

static int error_calls;

static int on_ssl_error(const char *str, size_t len, void *context)
{
    (void)context;
    if (str != NULL && len > 0)
        error_calls++;
    return 0;
}

static const char *arg(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : s;
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr,
                "usage: %s URI CAFILE KEYSTORE KEYFILE VERIFY SSLVERSION CIPHERS SSLVER\n",
                argv[0]);
        return 2;
    }
    MQTTClient c;
    MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    REQUIRE_RC(MQTTClient_create(&c, argv[1], "ferromq-tls-c", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    ssl.trustStore = arg(argv[2]);
    ssl.keyStore = arg(argv[3]);
    ssl.privateKey = arg(argv[4]);
    ssl.verify = atoi(argv[5]);
    ssl.sslVersion = atoi(argv[6]);
    ssl.enabledCipherSuites = arg(argv[7]);
    ssl.struct_version = atoi(argv[8]);
    if (argc > 9)
        ssl.privateKeyPassword = arg(argv[9]);
    if (ssl.struct_version >= 3)
        ssl.ssl_error_cb = on_ssl_error;
    /* Only the trust store given here: no system CAs (version 4+). */
    if (ssl.struct_version >= 4)
        ssl.disableDefaultTrustStore = 1;
    opts.ssl = &ssl;
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    opts.connectTimeout = 10;
    int rc = MQTTClient_connect(c, &opts);
    printf("rc=%d\n", rc);
    if (error_calls > 0)
        printf("errcb=1\n");
    if (rc == MQTTCLIENT_SUCCESS) {
        const char *topic = "ferromq/tls/c";
        REQUIRE_RC(MQTTClient_subscribe(c, topic, 1), MQTTCLIENT_SUCCESS);
        MQTTClient_deliveryToken token;
        char payload[] = "over tls";
        REQUIRE_RC(MQTTClient_publish(c, topic, (int)strlen(payload), payload, 1, 0, &token),
                   MQTTCLIENT_SUCCESS);
        REQUIRE_RC(MQTTClient_waitForCompletion(c, token, 10000), MQTTCLIENT_SUCCESS);
        char *got_topic = NULL;
        MQTTClient_message *msg = test_receive(c, &got_topic, 10000);
        REQUIRE(msg != NULL);
        CHECK(msg->qos == 1);
        CHECK(test_payload_is(msg, payload));
        if (test_failures == 0)
            printf("roundtrip=ok\n");
        MQTTClient_freeMessage(&msg);
        MQTTClient_free(got_topic);
        CHECK_RC(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);
    }
    fflush(stdout);
    MQTTClient_destroy(&c);
    return test_failures == 0 ? 0 : 1;
}
