/* QoS 0/1/2 round trip in receive mode (no callbacks): N messages per QoS
 * published back to back, all received with the right QoS and payload, in
 * order per QoS; tokens complete via waitForCompletion. */
#include "testutil.h"

#define N 20

static const char *topics[3] = {"rt/q0", "rt/q1", "rt/q2"};

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);

    MQTTClient sub = NULL, pub = NULL;
    REQUIRE_RC(MQTTClient_create(&sub, uri, "rt-sub", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_create(&pub, uri, "rt-pub", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(sub, &opts), MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_connect(pub, &opts), MQTTCLIENT_SUCCESS);

    char *filters[3] = {"rt/q0", "rt/q1", "rt/q2"};
    int qos[3] = {0, 1, 2};
    REQUIRE_RC(MQTTClient_subscribeMany(sub, 3, filters, qos), MQTTCLIENT_SUCCESS);
    /* The granted QoS is written back. */
    CHECK(qos[0] == 0 && qos[1] == 1 && qos[2] == 2);

    MQTTClient_deliveryToken tokens[3][N];
    for (int q = 0; q < 3; q++) {
        for (int i = 0; i < N; i++) {
            char payload[32];
            int len = snprintf(payload, sizeof payload, "q%d-%d", q, i);
            tokens[q][i] = -1;
            if (i % 2 == 0) {
                CHECK_RC(MQTTClient_publish(pub, topics[q], len, payload, q, 0, &tokens[q][i]),
                         MQTTCLIENT_SUCCESS);
            } else {
                MQTTClient_message m = MQTTClient_message_initializer;
                m.payload = payload;
                m.payloadlen = len;
                m.qos = q;
                CHECK_RC(MQTTClient_publishMessage(pub, topics[q], &m, &tokens[q][i]),
                         MQTTCLIENT_SUCCESS);
            }
            if (q > 0)
                CHECK(tokens[q][i] > 0);
        }
    }
    for (int q = 0; q < 3; q++)
        for (int i = 0; i < N; i++)
            CHECK_RC(MQTTClient_waitForCompletion(pub, tokens[q][i], 10000), MQTTCLIENT_SUCCESS);

    MQTTClient_deliveryToken *pending = (MQTTClient_deliveryToken *)1;
    CHECK_RC(MQTTClient_getPendingDeliveryTokens(pub, &pending), MQTTCLIENT_SUCCESS);
    CHECK(pending == NULL);
    if (pending != NULL && pending != (MQTTClient_deliveryToken *)1)
        MQTTClient_free(pending);

    int next[3] = {0, 0, 0};
    for (int got = 0; got < 3 * N; got++) {
        char *topic = NULL;
        MQTTClient_message *msg = test_receive(sub, &topic, 10000);
        if (msg == NULL) {
            fprintf(stderr, "%s:%d: only %d of %d messages arrived (next: %d %d %d)\n",
                    __FILE__, __LINE__, got, 3 * N, next[0], next[1], next[2]);
            test_failures++;
            break;
        }
        int q = -1;
        for (int k = 0; k < 3; k++)
            if (strcmp(topic, topics[k]) == 0)
                q = k;
        CHECK(q >= 0);
        if (q >= 0) {
            char want[32];
            snprintf(want, sizeof want, "q%d-%d", q, next[q]);
            if (!test_payload_is(msg, want)) {
                fprintf(stderr, "%s:%d: on %s expected %s, got %.*s\n", __FILE__, __LINE__,
                        topic, want, msg->payloadlen, (char *)msg->payload);
                test_failures++;
            }
            CHECK(msg->qos == q);
            CHECK(msg->retained == 0);
            CHECK(msg->dup == 0);
            next[q]++;
        }
        MQTTClient_freeMessage(&msg);
        CHECK(msg == NULL);
        MQTTClient_free(topic);
    }
    CHECK(next[0] == N && next[1] == N && next[2] == N);

    CHECK_RC(MQTTClient_unsubscribe(sub, "rt/q1"), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect(pub, 1000), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect(sub, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&sub);
    CHECK(pub == NULL && sub == NULL);
    return test_finish("pubsub_receive");
}
