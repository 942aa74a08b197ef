/* The broker's version 1 callbacks, talked to with the MQTTClient API: the
 * version 1 client info (certificate subject, bridge flag), the unsubscribe
 * notice, the per-delivery check (and the error a broker call from inside it
 * gets), MQTT 5 enhanced authentication in one step (success with data back,
 * refusal), and MQTTBroker_disconnectClient for MQTT 5 and 3.1.1 clients
 * with their wills. */
#include "MQTTBroker.h"
#include "broker_log.h"

static MQTTBroker the_broker;

static const char *str_or(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

/* A version 1 info, as the initializer's callbacks struct gets. */
static int info_ok(const MQTTBroker_clientInfo *c)
{
    return c != NULL && memcmp(c->struct_id, "MQBI", 4) == 0 && c->struct_version == 1 &&
           c->clientId != NULL && c->address != NULL;
}

static int on_connect(void *ctx, const MQTTBroker_clientInfo *c)
{
    (void)ctx;
    if (!info_ok(c)) {
        log_line("connect BAD ARGUMENTS");
        return 0x80;
    }
    log_line("connect id=%s cert=%s bridge=%d v=%d", c->clientId, str_or(c->certSubject, "(none)"),
             c->bridge, c->MQTTVersion);
    return 0;
}

static void on_unsubscribe(void *ctx, const MQTTBroker_clientInfo *c, const char *filter)
{
    (void)ctx;
    if (!info_ok(c) || filter == NULL) {
        log_line("unsubscribe BAD ARGUMENTS");
        return;
    }
    log_line("unsubscribe id=%s filter=%s", c->clientId, filter);
}

static int on_deliver(void *ctx, const MQTTBroker_clientInfo *c, const char *topic,
                      const MQTTBroker_message *m)
{
    (void)ctx;
    if (!info_ok(c) || topic == NULL || m == NULL || memcmp(m->struct_id, "MQBM", 4) != 0) {
        log_line("deliver BAD ARGUMENTS");
        return 1;
    }
    /* The broker is busy routing: a call into it is refused, not deadlocked. */
    int rc = MQTTBroker_getPort(the_broker, 0);
    int deny = strstr(topic, "secret") != NULL;
    log_line("deliver id=%s topic=%s payload=%.*s call=%d deny=%d", c->clientId, topic,
             m->payloadlen, (const char *)m->payload, rc, deny);
    return deny;
}

static int on_auth(void *ctx, const MQTTBroker_clientInfo *c, const char *method,
                   const void *data, int dataLen, int step, void *outData, int outCapacity,
                   int *outDataLen)
{
    (void)ctx;
    if (!info_ok(c) || method == NULL || outData == NULL || outDataLen == NULL ||
        *outDataLen != -1) {
        log_line("auth BAD ARGUMENTS");
        return 0x80;
    }
    log_line("auth id=%s method=%s data=%.*s step=%d cap=%d", c->clientId, method, dataLen,
             data != NULL ? (const char *)data : "", step, outCapacity);
    if (strcmp(method, "TOKEN") != 0)
        return 0x8C; /* bad authentication method */
    if (dataLen == 4 && memcmp(data, "good", 4) == 0) {
        memcpy(outData, "welcome", 7);
        *outDataLen = 7;
        return MQTTBROKER_AUTH_SUCCESS;
    }
    return 0x87;
}

static void on_disconnect(void *ctx, const MQTTBroker_clientInfo *c, int reason)
{
    (void)ctx;
    if (!info_ok(c)) {
        log_line("disconnect BAD ARGUMENTS");
        return;
    }
    log_line("disconnect id=%s reason=%d", c->clientId, reason);
}

static MQTTClient make_client(const char *uri, const char *id, int version)
{
    MQTTClient c = NULL;
    MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
    co.MQTTVersion = version;
    REQUIRE_RC(MQTTClient_createWithOptions(&c, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
               MQTTCLIENT_SUCCESS);
    return c;
}

/* Connect an MQTT 5 client, with a will on wills/ID when will_topic is set
 * and an Authentication Method/Data when method is set. Returns the CONNACK
 * reason; *auth_data (if given) receives the CONNACK's Authentication Data. */
static int connect5(MQTTClient c, const char *will_topic, const char *method,
                    const char *data, char *auth_data, size_t auth_size)
{
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;
    MQTTClient_willOptions w = MQTTClient_willOptions_initializer;
    if (will_topic != NULL) {
        w.topicName = will_topic;
        w.message = "gone";
        o.will = &w;
    }
    MQTTProperties props = MQTTProperties_initializer;
    if (method != NULL) {
        MQTTProperty p;
        p.identifier = MQTTPROPERTY_CODE_AUTHENTICATION_METHOD;
        p.value.data.data = (char *)method;
        p.value.data.len = (int)strlen(method);
        CHECK_RC(MQTTProperties_add(&props, &p), 0);
        p.identifier = MQTTPROPERTY_CODE_AUTHENTICATION_DATA;
        p.value.data.data = (char *)data;
        p.value.data.len = (int)strlen(data);
        CHECK_RC(MQTTProperties_add(&props, &p), 0);
    }
    MQTTResponse r = MQTTClient_connect5(c, &o, &props, NULL);
    int rc = r.reasonCode;
    if (auth_data != NULL) {
        snprintf(auth_data, auth_size, "(none)");
        MQTTProperty *p = r.properties == NULL
                              ? NULL
                              : MQTTProperties_getProperty(r.properties,
                                                           MQTTPROPERTY_CODE_AUTHENTICATION_DATA);
        if (p != NULL)
            snprintf(auth_data, auth_size, "%.*s", p->value.data.len, p->value.data.data);
    }
    MQTTResponse_free(r);
    MQTTProperties_free(&props);
    return rc;
}

static int subscribe5(MQTTClient c, const char *filter, int qos)
{
    MQTTResponse r = MQTTClient_subscribe5(c, filter, qos, NULL, NULL);
    int rc = r.reasonCode;
    MQTTResponse_free(r);
    return rc;
}

/* Receive one message on c within 10 s; it must be on topic with payload. */
static void expect_message(MQTTClient c, const char *topic, const char *payload)
{
    char *got_topic = NULL;
    MQTTClient_message *m = test_receive(c, &got_topic, 10000);
    if (m == NULL) {
        fprintf(stderr, "no message arrived (wanted %s)\n", topic);
        test_failures++;
        return;
    }
    printf("client received %s: %.*s\n", got_topic, m->payloadlen, (char *)m->payload);
    CHECK(strcmp(got_topic, topic) == 0);
    CHECK(test_payload_is(m, payload));
    MQTTClient_freeMessage(&m);
    MQTTClient_free(got_topic);
}

int main(void)
{
    MQTTBroker broker = NULL;
    const char *listeners[] = {"127.0.0.1:0"};
    MQTTBroker_createOptions opts = MQTTBroker_createOptions_initializer;
    opts.listeners = listeners;
    opts.listenerCount = 1;
    REQUIRE_RC(MQTTBroker_create(&broker, &opts), MQTTBROKER_SUCCESS);
    the_broker = broker;
    MQTTBroker_callbacks cbs = MQTTBroker_callbacks_initializer;
    CHECK_RC(cbs.struct_version, 1);
    cbs.on_client_connect = on_connect;
    cbs.on_client_unsubscribe = on_unsubscribe;
    cbs.on_client_deliver = on_deliver;
    cbs.on_client_auth = on_auth;
    cbs.on_client_disconnect = on_disconnect;
    REQUIRE_RC(MQTTBroker_setCallbacks(broker, NULL, &cbs), MQTTBROKER_SUCCESS);
    REQUIRE_RC(MQTTBroker_start(broker), MQTTBROKER_SUCCESS);
    int port = MQTTBroker_getPort(broker, 0);
    REQUIRE(port > 0);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);

    /* The version 1 info: no certificate on plain TCP, not a bridge. */
    int mark = log_mark();
    MQTTClient sub = make_client(uri, "sub", MQTTVERSION_5);
    REQUIRE_RC(connect5(sub, NULL, NULL, NULL, NULL, 0), MQTTREASONCODE_SUCCESS);
    EXPECT_LOG(mark, "connect id=sub cert=(none) bridge=0 v=5");

    /* Unsubscribe notices, one per filter. */
    CHECK_RC(subscribe5(sub, "news/#", 1), MQTTREASONCODE_GRANTED_QOS_1);
    mark = log_mark();
    char *filters[] = {"news/#", "never/held"};
    MQTTResponse r = MQTTClient_unsubscribeMany5(sub, 2, filters, NULL);
    MQTTResponse_free(r);
    EXPECT_LOG(mark, "unsubscribe id=sub filter=news/#");
    EXPECT_LOG(mark, "unsubscribe id=sub filter=never/held");

    /* The delivery check: the secret message is skipped for the subscriber
     * (the next it gets is the one after), and counted. */
    CHECK_RC(subscribe5(sub, "news/#", 1), MQTTREASONCODE_GRANTED_QOS_1);
    mark = log_mark();
    CHECK_RC(MQTTBroker_publish(broker, "news/secret", 4, "hush", 1, 0, NULL), MQTTBROKER_SUCCESS);
    CHECK_RC(MQTTBroker_publish(broker, "news/open", 4, "read", 1, 0, NULL), MQTTBROKER_SUCCESS);
    char line[128];
    snprintf(line, sizeof line, "deliver id=sub topic=news/secret payload=hush call=%d deny=1",
             MQTTBROKER_IN_DELIVERY_CALLBACK);
    EXPECT_LOG(mark, line);
    expect_message(sub, "news/open", "read");
    MQTTBroker_stats stats = MQTTBroker_stats_initializer;
    CHECK_RC(stats.struct_version, 2);
    CHECK_RC(MQTTBroker_getStats(broker, &stats), MQTTBROKER_SUCCESS);
    CHECK(stats.deliveryDenied == 1);

    /* Enhanced authentication in one step: success with data back... */
    mark = log_mark();
    char data[64];
    MQTTClient a = make_client(uri, "authed", MQTTVERSION_5);
    CHECK_RC(connect5(a, NULL, "TOKEN", "good", data, sizeof data), MQTTREASONCODE_SUCCESS);
    EXPECT_LOG(mark, "auth id=authed method=TOKEN data=good step=0 cap=65535");
    CHECK(strcmp(data, "welcome") == 0);
    MQTTClient_disconnect(a, 1000);
    MQTTClient_destroy(&a);
    /* ... or a refusal with the callback's reason code. */
    MQTTClient b = make_client(uri, "refused", MQTTVERSION_5);
    CHECK_RC(connect5(b, NULL, "TOKEN", "bad", NULL, 0), MQTTREASONCODE_NOT_AUTHORIZED);
    MQTTClient_destroy(&b);

    /* MQTTBroker_disconnectClient: an MQTT 5 and a 3.1.1 client, both with
     * a will that the watcher then receives. */
    MQTTClient watcher = make_client(uri, "watcher", MQTTVERSION_3_1_1);
    MQTTClient_connectOptions o3 = MQTTClient_connectOptions_initializer;
    REQUIRE_RC(MQTTClient_connect(watcher, &o3), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_subscribe(watcher, "wills/#", 0), 0);
    MQTTClient k5 = make_client(uri, "kick5", MQTTVERSION_5);
    REQUIRE_RC(connect5(k5, "wills/kick5", NULL, NULL, NULL, 0), MQTTREASONCODE_SUCCESS);
    MQTTClient k3 = make_client(uri, "kick3", MQTTVERSION_3_1_1);
    MQTTClient_willOptions w3 = MQTTClient_willOptions_initializer;
    w3.topicName = "wills/kick3";
    w3.message = "gone";
    o3.will = &w3;
    REQUIRE_RC(MQTTClient_connect(k3, &o3), MQTTCLIENT_SUCCESS);
    mark = log_mark();
    CHECK_RC(MQTTBroker_disconnectClient(broker, "kick5", 0x98), MQTTBROKER_SUCCESS);
    EXPECT_LOG(mark, "disconnect id=kick5 reason=152");
    expect_message(watcher, "wills/kick5", "gone");
    CHECK_RC(MQTTBroker_disconnectClient(broker, "kick3", 0x98), MQTTBROKER_SUCCESS);
    EXPECT_LOG(mark, "disconnect id=kick3 reason=152");
    expect_message(watcher, "wills/kick3", "gone");
    CHECK_RC(MQTTBroker_disconnectClient(broker, "kick5", 0x98), MQTTBROKER_NOT_FOUND);
    CHECK_RC(MQTTBroker_disconnectClient(broker, "nobody", 0), MQTTBROKER_NOT_FOUND);
    CHECK_RC(MQTTBroker_disconnectClient(broker, "kick\xff", 0x98), MQTTBROKER_BAD_UTF8_STRING);
    CHECK_RC(MQTTBroker_disconnectClient(broker, NULL, 0x98), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_disconnectClient(NULL, "sub", 0x98), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_disconnectClient(broker, "sub", 0x04), MQTTBROKER_BAD_REASON_CODE);
    CHECK_RC(MQTTBroker_disconnectClient(broker, "sub", 0x300), MQTTBROKER_BAD_REASON_CODE);

    MQTTClient_disconnect(watcher, 1000);
    MQTTClient_disconnect(sub, 1000);
    MQTTClient_destroy(&k5);
    MQTTClient_destroy(&k3);
    MQTTClient_destroy(&watcher);
    MQTTClient_destroy(&sub);
    MQTTBroker_destroy(&broker);
    return test_finish("broker_hooks");
}
