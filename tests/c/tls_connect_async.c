/* tls_connect.c for MQTTAsync: one TLS connect, settings from the command
 * line, for comparing Paho's libpaho-mqtt3as with FerroMQ case by case:
 *   tls_connect_async URI CAFILE KEYSTORE KEYFILE VERIFY SSLVERSION CIPHERS SSLVER [KEYPASS]
 * Prints "rc=N": MQTTAsync_connect's own code when it is not 0, else 0 on
 * onSuccess or onFailure's code; "errcb=1" when ssl_error_cb was called
 * before that; "roundtrip=ok" once a QoS 1 publish completed. */
#include "async_util.h"

static int error_calls;
static int done;
static int result;
static int published;

static int on_ssl_error(const char *str, size_t len, void *context)
{
    (void)context;
    if (str != NULL && len > 0)
        SIGNAL(error_calls++);
    return 0;
}

static void on_connect(void *context, MQTTAsync_successData *data)
{
    (void)context;
    (void)data;
    SIGNAL(done = 1; result = 0);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *data)
{
    (void)context;
    SIGNAL(done = 1; result = data != NULL ? data->code : -999);
}

static void on_published(void *context, MQTTAsync_successData *data)
{
    (void)context;
    (void)data;
    SIGNAL(published = 1);
}

static const char *arg(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : s;
}

int main(int argc, char **argv)
{
    if (argc < 9) {
        fprintf(stderr, "usage: %s URI CAFILE KEYSTORE KEYFILE VERIFY SSLVERSION CIPHERS SSLVER\n",
                argv[0]);
        return 2;
    }
    MQTTAsync c;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    MQTTAsync_connectOptions opts = MQTTAsync_connectOptions_initializer;
    REQUIRE_RC(MQTTAsync_create(&c, argv[1], "ferromq-tls-async", MQTTCLIENT_PERSISTENCE_NONE,
                                NULL),
               MQTTASYNC_SUCCESS);
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
    if (ssl.struct_version >= 4)
        ssl.disableDefaultTrustStore = 1;
    opts.ssl = &ssl;
    opts.keepAliveInterval = 20;
    opts.cleansession = 1;
    opts.connectTimeout = 10;
    opts.onSuccess = on_connect;
    opts.onFailure = on_connect_failure;
    int rc = MQTTAsync_connect(c, &opts);
    if (rc != MQTTASYNC_SUCCESS) {
        printf("rc=%d\n", rc);
    } else {
        REQUIRE_WAIT(done, 30000);
        pthread_mutex_lock(&ev_mutex);
        int got = result, errors = error_calls;
        pthread_mutex_unlock(&ev_mutex);
        printf("rc=%d\n", got);
        if (errors > 0)
            printf("errcb=1\n");
        if (got == 0) {
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            ro.onSuccess = on_published;
            char payload[] = "over tls, async";
            REQUIRE_RC(MQTTAsync_send(c, "ferromq/tls/async", (int)strlen(payload), payload, 1, 0,
                                      &ro),
                       MQTTASYNC_SUCCESS);
            CHECK_WAIT(published, 10000);
            if (wait_ok)
                printf("roundtrip=ok\n");
        }
    }
    fflush(stdout);
    MQTTAsync_destroy(&c);
    return test_failures == 0 ? 0 : 1;
}
