/* connectionLost fires when the broker goes away. Handshake with the test
 * driver: this program prints KILL_BROKER once connected and subscribed; the
 * driver kills the broker; the callback must then arrive within 20 s. */
#include "testutil.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int lost;

static void on_lost(void *ctx, char *cause)
{
    CHECK(ctx == &lost);
    (void)cause; /* may be NULL */
    pthread_mutex_lock(&lock);
    lost++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)ctx;
    (void)topic_len;
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 1;
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);

    MQTTClient c = NULL;
    REQUIRE_RC(MQTTClient_create(&c, uri, "lost-client", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_setCallbacks(c, &lost, on_lost, on_message, NULL), MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    opts.keepAliveInterval = 60; /* loss must be seen from the socket, not keepalive */
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_subscribe(c, "lost/#", 1), MQTTCLIENT_SUCCESS);

    printf("KILL_BROKER\n");
    fflush(stdout);

    struct timespec deadline = test_deadline(20000);
    pthread_mutex_lock(&lock);
    while (lost == 0) {
        if (pthread_cond_timedwait(&cond, &lock, &deadline) == ETIMEDOUT)
            break;
    }
    int seen = lost;
    pthread_mutex_unlock(&lock);
    CHECK_RC(seen, 1);
    CHECK_RC(MQTTClient_isConnected(c), 0);
    CHECK_RC(MQTTClient_publish(c, "lost/t", 1, "x", 1, 0, NULL), MQTTCLIENT_DISCONNECTED);

    MQTTClient_destroy(&c);
    return test_finish("conn_lost");
}
