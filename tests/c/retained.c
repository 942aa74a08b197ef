/* Retained messages: set, delivered (retained flag set) to a later
 * subscriber, forwarded live with the flag clear, then cleared by an empty
 * retained publish so that a new subscriber gets nothing before a marker. */
#include "testutil.h"

static MQTTClient connect_client(const char *uri, const char *id)
{
    MQTTClient c = NULL;
    REQUIRE_RC(MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    return c;
}

static void publish_retained(MQTTClient pub, const char *topic, const char *text)
{
    MQTTClient_deliveryToken dt = 0;
    CHECK_RC(MQTTClient_publish(pub, topic, (int)strlen(text), strlen(text) ? (void *)text : NULL,
                                1, 1, &dt),
             MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(pub, dt, 10000), MQTTCLIENT_SUCCESS);
}

/* The next message must be on topic with payload text and this retained flag. */
static void expect_message(MQTTClient c, const char *topic, const char *text, int retained,
                           int line)
{
    char *got_topic = NULL;
    MQTTClient_message *msg = test_receive(c, &got_topic, 10000);
    if (msg == NULL) {
        fprintf(stderr, "%s:%d: no message arrived (wanted %s on %s)\n", __FILE__, line, text,
                topic);
        test_failures++;
        return;
    }
    if (strcmp(got_topic, topic) != 0 || !test_payload_is(msg, text) ||
        msg->retained != retained) {
        fprintf(stderr, "%s:%d: wanted %s=%s retained %d, got %s=%.*s retained %d\n", __FILE__,
                line, topic, text, retained, got_topic, msg->payloadlen, (char *)msg->payload,
                msg->retained);
        test_failures++;
    }
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(got_topic);
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);

    MQTTClient pub = connect_client(uri, "ret-pub");
    publish_retained(pub, "ret/a", "kept");

    /* A later subscriber gets the stored message, flagged retained. */
    MQTTClient early = connect_client(uri, "ret-sub1");
    CHECK_RC(MQTTClient_subscribe(early, "ret/#", 1), MQTTCLIENT_SUCCESS);
    expect_message(early, "ret/a", "kept", 1, __LINE__);

    /* Published while subscribed: forwarded with the retained flag clear. */
    publish_retained(pub, "ret/a", "kept2");
    expect_message(early, "ret/a", "kept2", 0, __LINE__);

    /* An empty retained message clears it (and is forwarded as empty). */
    publish_retained(pub, "ret/a", "");
    expect_message(early, "ret/a", "", 0, __LINE__);

    /* A new subscriber now gets nothing retained: the first message it sees
     * is a marker published after its SUBACK. */
    MQTTClient late = connect_client(uri, "ret-sub2");
    CHECK_RC(MQTTClient_subscribe(late, "ret/#", 1), MQTTCLIENT_SUCCESS);
    MQTTClient_deliveryToken dt = 0;
    CHECK_RC(MQTTClient_publish(pub, "ret/marker", 6, "marker", 1, 0, &dt), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(pub, dt, 10000), MQTTCLIENT_SUCCESS);
    expect_message(late, "ret/marker", "marker", 0, __LINE__);
    expect_message(early, "ret/marker", "marker", 0, __LINE__);

    MQTTClient clients[3] = {late, early, pub};
    for (int i = 0; i < 3; i++) {
        CHECK_RC(MQTTClient_disconnect(clients[i], 1000), MQTTCLIENT_SUCCESS);
        MQTTClient_destroy(&clients[i]);
    }
    return test_finish("retained");
}
