/* MQTTAsync with MQTT 5: createWithOptions, connect with onSuccess5 and
 * properties, subscribe with subscription options (noLocal), publish with
 * user properties, reason codes of SUBACK/UNSUBACK in successData5, an MQTT
 * 5 disconnect, and the rules on mixing 3.x and 5 callbacks. */
#include "async_util.h"

static MQTTAsync client;
static char uri[256], topic[128], local[160], sentinel[160];

static struct {
    int connected, connect_failed, version, session_present, connack_rc;
    int subscribed, sub_rc, sub_count, sub_failed;
    int unsubscribed, unsub_count, unsub_rc0;
    int published, pub_failed, pub_rc;
    int arrived, local_seen, sentinel_seen, user_prop_ok;
    int disconnected;
} st;

static int on_arrived(void *ctx, char *t, int len, MQTTAsync_message *m)
{
    (void)ctx;
    (void)len;
    pthread_mutex_lock(&ev_mutex);
    if (strcmp(t, local) == 0)
        st.local_seen++;
    else if (strcmp(t, sentinel) == 0)
        st.sentinel_seen++;
    else if (strcmp(t, topic) == 0) {
        st.arrived++;
        MQTTProperty *p = MQTTProperties_getProperty(&m->properties, MQTTPROPERTY_CODE_USER_PROPERTY);
        st.user_prop_ok = p != NULL && p->value.data.len == 3 &&
                          memcmp(p->value.data.data, "key", 3) == 0 &&
                          p->value.value.len == 5 && memcmp(p->value.value.data, "value", 5) == 0;
    }
    pthread_cond_broadcast(&ev_cond);
    pthread_mutex_unlock(&ev_mutex);
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}

static void on_connect5(void *ctx, MQTTAsync_successData5 *r)
{
    CHECK(ctx == &st);
    CHECK(memcmp(r->struct_id, "MQSD", 4) == 0);
    SIGNAL(st.version = r->alt.connect.MQTTVersion; st.session_present = r->alt.connect.sessionPresent;
           st.connack_rc = r->reasonCode; st.connected++);
}

static void on_connect_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "connect failed: %d %d\n", r->code, r->reasonCode);
    SIGNAL(st.connect_failed++);
}

static void on_sub5(void *ctx, MQTTAsync_successData5 *r)
{
    CHECK(ctx == &st);
    SIGNAL(st.sub_rc = r->reasonCode; st.sub_count = r->alt.sub.reasonCodeCount; st.subscribed++);
}

static void on_sub_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "subscribe failed: %d %d\n", r->code, r->reasonCode);
    SIGNAL(st.sub_failed++);
}

static void on_unsub5(void *ctx, MQTTAsync_successData5 *r)
{
    CHECK(ctx == &st);
    SIGNAL(st.unsub_count = r->alt.unsub.reasonCodeCount;
           /* For one topic Paho reports the code in reasonCode only. */
           st.unsub_rc0 = r->reasonCode;
           st.unsubscribed++);
}

static void on_pub5(void *ctx, MQTTAsync_successData5 *r)
{
    CHECK(ctx == &st);
    SIGNAL(st.pub_rc = r->reasonCode; st.published++);
}

static void on_pub_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    fprintf(stderr, "publish failed: %d %d\n", r->code, r->reasonCode);
    SIGNAL(st.pub_failed++);
}

static void on_disc5(void *ctx, MQTTAsync_successData5 *r)
{
    CHECK(ctx == &st);
    (void)r;
    SIGNAL(st.disconnected++);
}

static void subscribe5(const char *t, int qos, int no_local)
{
    MQTTAsync_responseOptions o = MQTTAsync_responseOptions_initializer;
    o.onSuccess5 = on_sub5;
    o.onFailure5 = on_sub_failed5;
    o.context = &st;
    o.subscribeOptions.noLocal = no_local;
    int before = st.subscribed;
    CHECK_RC(MQTTAsync_subscribe(client, t, qos, &o), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.subscribed == before + 1 || st.sub_failed, 10000);
    REQUIRE(st.sub_failed == 0);
}

int main(int argc, char **argv)
{
    test_uri(argc, argv, uri, sizeof uri);
    test_topic(topic, sizeof topic, "async_mqtt5");
    snprintf(local, sizeof local, "%s/local", topic);
    snprintf(sentinel, sizeof sentinel, "%s/sentinel", topic);

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    REQUIRE_RC(MQTTAsync_createWithOptions(&client, uri, "ferromq-async-mqtt5",
                                           MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
               MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_setCallbacks(client, &st, NULL, on_arrived, NULL), MQTTASYNC_SUCCESS);

    /* cleansession is refused on an MQTT 5 connect. */
    MQTTAsync_connectOptions conn = MQTTAsync_connectOptions_initializer5;
    conn.cleansession = 1;
    CHECK_RC(MQTTAsync_connect(client, &conn), MQTTASYNC_BAD_MQTT_OPTION);

    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty p;
    p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
    p.value.integer4 = 0;
    CHECK_RC(MQTTProperties_add(&props, &p), 0);
    conn = (MQTTAsync_connectOptions)MQTTAsync_connectOptions_initializer5;
    conn.cleanstart = 1;
    conn.connectProperties = &props;
    conn.onSuccess5 = on_connect5;
    conn.onFailure5 = on_connect_failed5;
    conn.context = &st;
    REQUIRE_RC(MQTTAsync_connect(client, &conn), MQTTASYNC_SUCCESS);
    MQTTProperties_free(&props);
    REQUIRE_WAIT(st.connected || st.connect_failed, 10000);
    REQUIRE(st.connected == 1);
    CHECK(st.version == MQTTVERSION_5);
    CHECK(st.session_present == 0);
    CHECK(st.connack_rc == MQTTREASONCODE_SUCCESS);

    subscribe5(topic, 1, 0);
    CHECK(st.sub_rc == MQTTREASONCODE_GRANTED_QOS_1);
    subscribe5(local, 1, 1);
    subscribe5(sentinel, 2, 0);
    CHECK(st.sub_rc == MQTTREASONCODE_GRANTED_QOS_2);

    /* A publish with a user property (from the response options). */
    MQTTAsync_responseOptions po = MQTTAsync_responseOptions_initializer;
    po.onSuccess5 = on_pub5;
    po.onFailure5 = on_pub_failed5;
    po.context = &st;
    p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    p.value.data.data = "key";
    p.value.data.len = 3;
    p.value.value.data = "value";
    p.value.value.len = 5;
    CHECK_RC(MQTTProperties_add(&po.properties, &p), 0);
    CHECK_RC(MQTTAsync_send(client, topic, 5, "hello", 1, 0, &po), MQTTASYNC_SUCCESS);
    MQTTProperties_free(&po.properties);
    REQUIRE_WAIT(st.published == 1 || st.pub_failed, 10000);
    CHECK(st.pub_rc == MQTTREASONCODE_SUCCESS);
    REQUIRE_WAIT(st.arrived == 1, 10000);
    CHECK(st.user_prop_ok);

    /* noLocal: our own message on `local` is not sent back to us. */
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = (void *)"x";
    m.payloadlen = 1;
    m.qos = 1;
    MQTTAsync_responseOptions mo = MQTTAsync_responseOptions_initializer;
    CHECK_RC(MQTTAsync_sendMessage(client, local, &m, &mo), MQTTASYNC_SUCCESS);
    CHECK_RC(MQTTAsync_sendMessage(client, sentinel, &m, &mo), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.sentinel_seen == 1, 10000);
    CHECK(st.local_seen == 0);

    /* 5 callbacks with a struct_version 0 response are not read. */
    MQTTAsync_responseOptions uo = MQTTAsync_responseOptions_initializer;
    uo.onSuccess5 = on_unsub5;
    uo.context = &st;
    CHECK_RC(MQTTAsync_unsubscribe(client, topic, &uo), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.unsubscribed == 1, 10000);
    CHECK(st.unsub_count == 1);
    CHECK(st.unsub_rc0 == MQTTREASONCODE_SUCCESS);

    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer5;
    d.reasonCode = MQTTREASONCODE_NORMAL_DISCONNECTION;
    d.onSuccess5 = on_disc5;
    d.context = &st;
    CHECK_RC(MQTTAsync_disconnect(client, &d), MQTTASYNC_SUCCESS);
    REQUIRE_WAIT(st.disconnected == 1, 10000);
    MQTTAsync_destroy(&client);
    return test_finish("async_mqtt5");
}
