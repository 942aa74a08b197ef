/* fork() after the library is in use, as a daemon that initialises and then
 * forks workers does. The parent connects and subscribes, then forks twice:
 * - child 1 finds its inherited handle dead (error codes, no crash, no
 *   traffic on the parent's socket), creates a client of its own and
 *   publishes at QoS 1;
 * - child 2 connects a client with a will and vanishes (_exit without
 *   DISCONNECT), so the broker publishes the will.
 * The parent receives both messages on its own, untouched connection and
 * can still publish afterwards. FerroMQ only: Paho's child shares the
 * parent's socket. */
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char uri[256], topic[128], will_topic[128];

static MQTTClient make(const char *id, int with_will)
{
    MQTTClient c = NULL;
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    MQTTClient_willOptions w = MQTTClient_willOptions_initializer;
    REQUIRE_RC(MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    o.cleansession = 1;
    if (with_will) {
        w.topicName = will_topic;
        w.message = "child 2 vanished";
        w.qos = 1;
        o.will = &w;
    }
    REQUIRE_RC(MQTTClient_connect(c, &o), MQTTCLIENT_SUCCESS);
    return c;
}

static void child_publisher(MQTTClient inherited)
{
    /* The parent's handle is dead here and says so. */
    CHECK(MQTTClient_isConnected(inherited) == 0);
    CHECK_RC(MQTTClient_publish(inherited, topic, 4, "nope", 1, 0, NULL), MQTTCLIENT_FAILURE);
    CHECK_RC(MQTTClient_subscribe(inherited, topic, 1), MQTTCLIENT_FAILURE);
    MQTTClient_message *m = NULL;
    char *t = NULL;
    int len = 0;
    CHECK_RC(MQTTClient_receive(inherited, &t, &len, &m, 10), MQTTCLIENT_FAILURE);
    /* Its own client works. */
    MQTTClient c = make("fork-child-1", 0);
    MQTTClient_deliveryToken tok = 0;
    CHECK_RC(MQTTClient_publish(c, topic, 10, "from child", 1, 0, &tok), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(c, tok, 10000), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect(c, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&c);
    /* Destroying the inherited handle is safe and touches nothing. */
    MQTTClient_destroy(&inherited);
    CHECK(inherited == NULL);
    _exit(test_failures == 0 ? 0 : 1);
}

static void child_vanisher(void)
{
    MQTTClient c = make("fork-child-2", 1);
    (void)c;
    _exit(0); /* no DISCONNECT: the broker publishes the will */
}

/* Receive one message on `c`; 1 if its payload is `want` on `want_topic`. */
static int receive_one(MQTTClient c, const char *want_topic, const char *want)
{
    char *t = NULL;
    int len = 0;
    MQTTClient_message *m = NULL;
    int rc = MQTTClient_receive(c, &t, &len, &m, 15000);
    if (rc != MQTTCLIENT_SUCCESS || m == NULL) {
        fprintf(stderr, "receive: rc %d, message %p\n", rc, (void *)m);
        return 0;
    }
    int ok = strcmp(t, want_topic) == 0 && m->payloadlen == (int)strlen(want) &&
             memcmp(m->payload, want, strlen(want)) == 0;
    if (!ok)
        fprintf(stderr, "unexpected message on %s: %.*s\n", t, m->payloadlen,
                (char *)m->payload);
    MQTTClient_freeMessage(&m);
    MQTTClient_free(t);
    return ok;
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    snprintf(topic, sizeof topic, "ferromq/fork/%ld", (long)getpid());
    snprintf(will_topic, sizeof will_topic, "ferromq/fork/%ld/will", (long)getpid());

    MQTTClient parent = make("fork-parent", 0);
    CHECK_RC(MQTTClient_subscribe(parent, topic, 1), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_subscribe(parent, will_topic, 1), MQTTCLIENT_SUCCESS);

    pid_t c1 = fork();
    REQUIRE(c1 >= 0);
    if (c1 == 0)
        child_publisher(parent);
    int status = 0;
    REQUIRE(waitpid(c1, &status, 0) == c1);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(receive_one(parent, topic, "from child"));

    pid_t c2 = fork();
    REQUIRE(c2 >= 0);
    if (c2 == 0)
        child_vanisher();
    REQUIRE(waitpid(c2, &status, 0) == c2);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(receive_one(parent, will_topic, "child 2 vanished"));

    /* The parent's connection was never disturbed. */
    CHECK(MQTTClient_isConnected(parent));
    CHECK_RC(MQTTClient_publish(parent, topic, 5, "after", 1, 0, NULL), MQTTCLIENT_SUCCESS);
    CHECK(receive_one(parent, topic, "after"));
    CHECK_RC(MQTTClient_disconnect(parent, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&parent);
    return test_finish("fork_after_connect");
}
