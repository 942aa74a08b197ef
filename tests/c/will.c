/* Will messages: delivered when a client's connection dies without a
 * DISCONNECT (a child process holding the connection is SIGKILLed, so the
 * kernel closes its socket), and not delivered after a clean disconnect. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static const char *uri_for_child;

static MQTTClient connect_with_will(const char *uri, const char *id, const char *will_text)
{
    MQTTClient c = NULL;
    REQUIRE_RC(MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    MQTTClient_willOptions will = MQTTClient_willOptions_initializer;
    will.topicName = "will/topic";
    will.message = will_text;
    will.qos = 1;
    opts.will = &will;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    return c;
}

/* Child: wait for the go byte, connect with a will, report, then block until
 * killed (or until the parent exits and the pipe reports EOF). Never returns. */
static void child_main(int go_fd, int ready_fd)
{
    char b;
    if (read(go_fd, &b, 1) != 1)
        _exit(3);
    MQTTClient c = connect_with_will(uri_for_child, "will-victim", "victim died");
    (void)c;
    if (write(ready_fd, "c", 1) != 1)
        _exit(4);
    if (read(go_fd, &b, 1) < 0)
        _exit(5);
    _exit(0);
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);
    uri_for_child = uri;

    /* Fork before this process touches the library (no threads yet). */
    int go[2], ready[2];
    REQUIRE(pipe(go) == 0 && pipe(ready) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(go[1]);
        close(ready[0]);
        child_main(go[0], ready[1]);
    }
    close(go[0]);
    close(ready[1]);

    MQTTClient sub = NULL;
    REQUIRE_RC(MQTTClient_create(&sub, uri, "will-watcher", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(sub, &opts), MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_subscribe(sub, "will/#", 1), MQTTCLIENT_SUCCESS);

    /* A clean disconnect must not publish the will: the next message seen
     * is the marker published after it. */
    MQTTClient polite = connect_with_will(uri, "will-polite", "polite will");
    CHECK_RC(MQTTClient_disconnect(polite, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&polite);
    CHECK_RC(MQTTClient_publish(sub, "will/marker", 6, "marker", 1, 0, NULL), MQTTCLIENT_SUCCESS);
    char *topic = NULL;
    MQTTClient_message *msg = test_receive(sub, &topic, 10000);
    CHECK(msg != NULL);
    if (msg != NULL) {
        CHECK(strcmp(topic, "will/marker") == 0);
        CHECK(test_payload_is(msg, "marker"));
        MQTTClient_freeMessage(&msg);
        MQTTClient_free(topic);
    }

    /* Let the child connect, then kill it: its socket closes abruptly. */
    char b;
    REQUIRE(write(go[1], "g", 1) == 1);
    REQUIRE(read(ready[0], &b, 1) == 1);
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    msg = test_receive(sub, &topic, 10000);
    CHECK(msg != NULL);
    if (msg != NULL) {
        CHECK(strcmp(topic, "will/topic") == 0);
        CHECK(test_payload_is(msg, "victim died"));
        CHECK(msg->qos == 1);
        MQTTClient_freeMessage(&msg);
        MQTTClient_free(topic);
    }

    CHECK_RC(MQTTClient_disconnect(sub, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&sub);
    return test_finish("will");
}
