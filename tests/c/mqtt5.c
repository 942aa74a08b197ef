/* MQTT 5 through the MQTTClient API: connect5/subscribe5/publish5 with user
 * and other properties, the properties as received, and the reason codes the
 * broker returns in MQTTResponse. */
#include "testutil.h"

static void add_string(MQTTProperties *props, enum MQTTPropertyCodes id, const char *s, int len)
{
    MQTTProperty p;
    memset(&p, 0, sizeof p);
    p.identifier = id;
    p.value.data.data = (char *)s;
    p.value.data.len = len;
    CHECK_RC(MQTTProperties_add(props, &p), 0);
}

static void add_user(MQTTProperties *props, const char *name, const char *value)
{
    MQTTProperty p;
    memset(&p, 0, sizeof p);
    p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    p.value.data.data = (char *)name;
    p.value.data.len = (int)strlen(name);
    p.value.value.data = (char *)value;
    p.value.value.len = (int)strlen(value);
    CHECK_RC(MQTTProperties_add(props, &p), 0);
}

static void add_int(MQTTProperties *props, enum MQTTPropertyCodes id, unsigned int v)
{
    MQTTProperty p;
    memset(&p, 0, sizeof p);
    p.identifier = id;
    if (id == MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR)
        p.value.byte = (unsigned char)v;
    else
        p.value.integer4 = v;
    CHECK_RC(MQTTProperties_add(props, &p), 0);
}

static int lenstring_is(const MQTTLenString *s, const char *want, int len)
{
    return s->len == len && memcmp(s->data, want, (size_t)len) == 0;
}

/* PUBACK/PUBCOMP reason codes, reported through MQTTClient_setPublished. */
static pthread_mutex_t acks_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acks_cond = PTHREAD_COND_INITIALIZER;
static int ack_token[16];
static int ack_reason[16];
static int nacks;

static void on_published(void *ctx, int dt, int packet_type, MQTTProperties *props,
                         enum MQTTReasonCodes reason)
{
    (void)ctx;
    (void)packet_type;
    (void)props;
    pthread_mutex_lock(&acks_lock);
    if (nacks < 16) {
        ack_token[nacks] = dt;
        ack_reason[nacks] = reason;
    }
    nacks++;
    pthread_cond_broadcast(&acks_cond);
    pthread_mutex_unlock(&acks_lock);
}

static int acks_so_far(void)
{
    pthread_mutex_lock(&acks_lock);
    int n = nacks;
    pthread_mutex_unlock(&acks_lock);
    return n;
}

/* The reason code reported for token dt at or after report number `from`
 * (the callback may run on another thread, so wait up to 10 s for it), or -1
 * if none was. */
static int ack_reason_for(int dt, int from)
{
    int reason = -1;
    struct timespec deadline = test_deadline(10000);
    pthread_mutex_lock(&acks_lock);
    for (;;) {
        for (int i = from; i < nacks && i < 16; i++)
            if (ack_token[i] == dt)
                reason = ack_reason[i];
        if (reason != -1 ||
            pthread_cond_timedwait(&acks_cond, &acks_lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&acks_lock);
    return reason;
}

static MQTTClient connect5(const char *uri, const char *id)
{
    MQTTClient c = NULL;
    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.MQTTVersion = MQTTVERSION_5;
    REQUIRE_RC(MQTTClient_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
               MQTTCLIENT_SUCCESS);

    /* The 3.x connect call is refused on an MQTT 5 client. */
    MQTTClient_connectOptions v3 = MQTTClient_connectOptions_initializer;
    CHECK_RC(MQTTClient_connect(c, &v3), MQTTCLIENT_WRONG_MQTT_VERSION);

    MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer5;
    opts.cleanstart = 1;
    MQTTProperties props = MQTTProperties_initializer;
    add_user(&props, "client", id);
    add_int(&props, MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL, 0);
    MQTTResponse resp = MQTTClient_connect5(c, &opts, &props, NULL);
    REQUIRE_RC(resp.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(resp);
    MQTTProperties_free(&props);
    CHECK_RC(MQTTClient_isConnected(c), 1);
    return c;
}

static void check_received(MQTTClient sub)
{
    char *topic = NULL;
    MQTTClient_message *msg = test_receive(sub, &topic, 10000);
    REQUIRE(msg != NULL);
    CHECK(strcmp(topic, "v5/data") == 0);
    CHECK(test_payload_is(msg, "hello five"));
    CHECK_RC(msg->qos, 1);
    MQTTProperties *p = &msg->properties;
    CHECK_RC(MQTTProperties_propertyCount(p, MQTTPROPERTY_CODE_USER_PROPERTY), 2);
    MQTTProperty *u0 = MQTTProperties_getPropertyAt(p, MQTTPROPERTY_CODE_USER_PROPERTY, 0);
    MQTTProperty *u1 = MQTTProperties_getPropertyAt(p, MQTTPROPERTY_CODE_USER_PROPERTY, 1);
    CHECK(u0 != NULL && lenstring_is(&u0->value.data, "k1", 2) &&
          lenstring_is(&u0->value.value, "v1", 2));
    CHECK(u1 != NULL && lenstring_is(&u1->value.data, "k2", 2) &&
          lenstring_is(&u1->value.value, "second value", 12));
    MQTTProperty *ct = MQTTProperties_getProperty(p, MQTTPROPERTY_CODE_CONTENT_TYPE);
    CHECK(ct != NULL && lenstring_is(&ct->value.data, "text/plain", 10));
    MQTTProperty *rt = MQTTProperties_getProperty(p, MQTTPROPERTY_CODE_RESPONSE_TOPIC);
    CHECK(rt != NULL && lenstring_is(&rt->value.data, "v5/reply", 8));
    MQTTProperty *cd = MQTTProperties_getProperty(p, MQTTPROPERTY_CODE_CORRELATION_DATA);
    CHECK(cd != NULL && lenstring_is(&cd->value.data, "id\0\1", 4));
    CHECK_RC(MQTTProperties_getNumericValue(p, MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR), 1);
    int expiry = MQTTProperties_getNumericValue(p, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL);
    CHECK(expiry > 3000 && expiry <= 3600);
    MQTTClient_freeMessage(&msg);
    MQTTClient_free(topic);
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);

    MQTTClient sub = connect5(uri, "v5-sub");
    MQTTClient pub = connect5(uri, "v5-pub");
    CHECK_RC(MQTTClient_setPublished(pub, NULL, on_published), MQTTCLIENT_SUCCESS);

    /* subscribe5: the reason code is the granted QoS. */
    MQTTSubscribe_options so = MQTTSubscribe_options_initializer;
    so.noLocal = 1;
    MQTTProperties sprops = MQTTProperties_initializer;
    add_user(&sprops, "sub", "yes");
    MQTTResponse r = MQTTClient_subscribe5(sub, "v5/#", 2, &so, &sprops);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_GRANTED_QOS_2);
    MQTTResponse_free(r);
    MQTTProperties_free(&sprops);

    /* noLocal: the subscriber's own publish does not come back. */
    r = MQTTClient_publish5(sub, "v5/self", 4, "self", 1, 0, NULL, NULL);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);

    /* publishMessage5 with properties. */
    MQTTClient_message m = MQTTClient_message_initializer;
    m.payload = "hello five";
    m.payloadlen = 10;
    m.qos = 1;
    add_user(&m.properties, "k1", "v1");
    add_user(&m.properties, "k2", "second value");
    add_string(&m.properties, MQTTPROPERTY_CODE_CONTENT_TYPE, "text/plain", 10);
    add_string(&m.properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, "v5/reply", 8);
    add_string(&m.properties, MQTTPROPERTY_CODE_CORRELATION_DATA, "id\0\1", 4);
    add_int(&m.properties, MQTTPROPERTY_CODE_PAYLOAD_FORMAT_INDICATOR, 1);
    add_int(&m.properties, MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL, 3600);
    MQTTClient_deliveryToken dt = 0;
    int acks = acks_so_far();
    r = MQTTClient_publishMessage5(pub, "v5/data", &m, &dt);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    MQTTProperties_free(&m.properties);
    CHECK_RC(MQTTClient_waitForCompletion(pub, dt, 10000), MQTTCLIENT_SUCCESS);
    CHECK_RC(ack_reason_for(dt, acks), MQTTREASONCODE_SUCCESS);
    check_received(sub);

    /* QoS 2 through publish5. */
    r = MQTTClient_publish5(pub, "v5/two", 3, "two", 2, 0, NULL, &dt);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    CHECK_RC(MQTTClient_waitForCompletion(pub, dt, 10000), MQTTCLIENT_SUCCESS);
    char *topic = NULL;
    MQTTClient_message *got = test_receive(sub, &topic, 10000);
    CHECK(got != NULL);
    if (got != NULL) {
        /* Not v5/self: noLocal held. */
        CHECK(strcmp(topic, "v5/two") == 0);
        CHECK(test_payload_is(got, "two"));
        CHECK_RC(got->qos, 2);
        MQTTClient_freeMessage(&got);
        MQTTClient_free(topic);
    }

    /* subscribeMany5: one reason code per filter. */
    char *filters[2] = {"v5m/a", "v5m/b"};
    int qos[2] = {0, 1};
    r = MQTTClient_subscribeMany5(sub, 2, filters, qos, NULL, NULL);
    CHECK_RC(r.reasonCodeCount, 2);
    if (r.reasonCodeCount == 2 && r.reasonCodes != NULL) {
        CHECK_RC(r.reasonCodes[0], MQTTREASONCODE_GRANTED_QOS_0);
        CHECK_RC(r.reasonCodes[1], MQTTREASONCODE_GRANTED_QOS_1);
    }
    MQTTResponse_free(r);

    /* unsubscribe5: success, then "no subscription existed". */
    r = MQTTClient_unsubscribe5(sub, "v5/#", NULL);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    r = MQTTClient_unsubscribe5(sub, "v5/#", NULL);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_NO_SUBSCRIPTION_FOUND);
    MQTTResponse_free(r);

    /* A QoS 1 publish nobody subscribed to: publish5 returns once it is
     * sent; the PUBACK's reason code reaches the published callback. */
    acks = acks_so_far();
    r = MQTTClient_publish5(pub, "v5/nobody", 1, "x", 1, 0, NULL, &dt);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    CHECK_RC(MQTTClient_waitForCompletion(pub, dt, 10000), MQTTCLIENT_SUCCESS);
    CHECK_RC(ack_reason_for(dt, acks), MQTTREASONCODE_NO_MATCHING_SUBSCRIBERS);

    CHECK_RC(MQTTClient_disconnect5(pub, 1000, MQTTREASONCODE_SUCCESS, NULL), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_disconnect5(sub, 1000, MQTTREASONCODE_NORMAL_DISCONNECTION, NULL),
             MQTTCLIENT_SUCCESS);
    MQTTClient_destroy(&pub);
    MQTTClient_destroy(&sub);
    return test_finish("mqtt5");
}
