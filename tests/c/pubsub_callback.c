/* QoS 0/1/2 round trip in callback mode: messageArrived sees every message in
 * order per QoS with the right payload; deliveryComplete reports exactly the
 * tokens that publish returned for QoS 1 and 2. */
#include "testutil.h"

#define N 20

static const char *topics[3] = {"cb/q0", "cb/q1", "cb/q2"};

struct state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int next[3];      /* next expected sequence number per QoS */
    int arrived;      /* messages seen by the subscriber */
    int bad;          /* wrong topic/payload/qos seen in a callback */
    int delivered[2 * N + 8];
    int ndelivered;   /* deliveryComplete calls on the QoS 1/2 publisher */
    int lost;
};

static struct state st = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0, 0, 0}, 0, 0,
                          {0}, 0, 0};

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    pthread_mutex_lock(&st.lock);
    st.lost++;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)ctx;
    (void)topic_len;
    pthread_mutex_lock(&st.lock);
    int q = -1;
    for (int k = 0; k < 3; k++)
        if (strcmp(topic, topics[k]) == 0)
            q = k;
    if (q < 0) {
        fprintf(stderr, "unexpected topic %s\n", topic);
        st.bad++;
    } else {
        char want[32];
        snprintf(want, sizeof want, "q%d-%d", q, st.next[q]);
        if (!test_payload_is(msg, want) || msg->qos != q) {
            fprintf(stderr, "on %s expected %s qos %d, got %.*s qos %d\n", topic, want, q,
                    msg->payloadlen, (char *)msg->payload, msg->qos);
            st.bad++;
        }
        st.next[q]++;
    }
    st.arrived++;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 1;
}

static int on_message_unexpected(void *ctx, char *topic, int topic_len, MQTTClient_message *msg)
{
    (void)ctx;
    (void)topic_len;
    fprintf(stderr, "publisher received a message on %s\n", topic);
    pthread_mutex_lock(&st.lock);
    st.bad++;
    pthread_mutex_unlock(&st.lock);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
    return 1;
}

static void on_delivered(void *ctx, MQTTClient_deliveryToken dt)
{
    (void)ctx;
    pthread_mutex_lock(&st.lock);
    if (st.ndelivered < (int)(sizeof st.delivered / sizeof st.delivered[0]))
        st.delivered[st.ndelivered] = dt;
    st.ndelivered++;
    pthread_cond_broadcast(&st.cond);
    pthread_mutex_unlock(&st.lock);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Wait until *counter >= target or 10 s pass; returns the final value. */
static int wait_count(int *counter, int target)
{
    struct timespec deadline = test_deadline(10000);
    pthread_mutex_lock(&st.lock);
    while (*counter < target) {
        if (pthread_cond_timedwait(&st.cond, &st.lock, &deadline) == ETIMEDOUT)
            break;
    }
    int value = *counter;
    pthread_mutex_unlock(&st.lock);
    return value;
}

static MQTTClient make(const char *uri, const char *id, MQTTClient_messageArrived *ma,
                       MQTTClient_deliveryComplete *dc)
{
    MQTTClient c = NULL;
    REQUIRE_RC(MQTTClient_create(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_setCallbacks(c, NULL, on_lost, ma, dc), MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
    opts.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(c, &opts), MQTTCLIENT_SUCCESS);
    return c;
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);

    MQTTClient sub = make(uri, "cb-sub", on_message, NULL);
    /* QoS 0 publishes come from a client of their own so that the other
     * publisher's deliveryComplete calls are exactly the QoS 1/2 tokens. */
    MQTTClient pub0 = make(uri, "cb-pub0", on_message_unexpected, NULL);
    MQTTClient pub = make(uri, "cb-pub12", on_message_unexpected, on_delivered);

    char *filters[3] = {"cb/q0", "cb/q1", "cb/q2"};
    int qos[3] = {0, 1, 2};
    REQUIRE_RC(MQTTClient_subscribeMany(sub, 3, filters, qos), MQTTCLIENT_SUCCESS);
    CHECK(qos[0] == 0 && qos[1] == 1 && qos[2] == 2);

    int tokens[2 * N];
    int ntokens = 0;
    for (int q = 0; q < 3; q++) {
        for (int i = 0; i < N; i++) {
            char payload[32];
            int len = snprintf(payload, sizeof payload, "q%d-%d", q, i);
            MQTTClient_deliveryToken dt = -1;
            CHECK_RC(MQTTClient_publish(q == 0 ? pub0 : pub, topics[q], len, payload, q, 0, &dt),
                     MQTTCLIENT_SUCCESS);
            if (q > 0) {
                CHECK(dt > 0);
                tokens[ntokens++] = dt;
            }
        }
    }
    for (int i = 0; i < ntokens; i++)
        CHECK_RC(MQTTClient_waitForCompletion(pub, tokens[i], 10000), MQTTCLIENT_SUCCESS);

    CHECK_RC(wait_count(&st.ndelivered, 2 * N), 2 * N);
    CHECK_RC(wait_count(&st.arrived, 3 * N), 3 * N);

    pthread_mutex_lock(&st.lock);
    CHECK_RC(st.ndelivered, 2 * N);
    CHECK_RC(st.bad, 0);
    CHECK(st.next[0] == N && st.next[1] == N && st.next[2] == N);
    int delivered[2 * N];
    int n = st.ndelivered < 2 * N ? st.ndelivered : 2 * N;
    memcpy(delivered, st.delivered, sizeof(int) * (size_t)n);
    pthread_mutex_unlock(&st.lock);
    /* Same multiset of tokens (an id may be reused once it completed). */
    qsort(tokens, (size_t)ntokens, sizeof(int), cmp_int);
    qsort(delivered, (size_t)n, sizeof(int), cmp_int);
    CHECK(n == ntokens && memcmp(tokens, delivered, sizeof(int) * (size_t)n) == 0);

    CHECK_RC(MQTTClient_disconnect(pub, 1000), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect(pub0, 1000), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect(sub, 1000), MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&pub0);
    MQTTClient_destroy(&sub);
    /* A disconnect we asked for is not a lost connection. */
    CHECK_RC(st.lost, 0);
    return test_finish("pubsub_callback");
}
