/* The broker's C API with every callback, talked to with the MQTTClient API:
 * connect refusals (3.x return codes and MQTT 5 reason codes), what
 * on_client_connect sees, subscription refusal and downgrade, publish
 * refusal (MQTT 5 PUBACK reason), injection with MQTTBroker_publish (with
 * properties, retained), on_client_disconnect reasons, stop and restart.
 * The callbacks are given as struct_version 0, as a program built against
 * the first header does (broker_hooks.c covers version 1). */
#include "MQTTBroker.h"
#include "broker_log.h"

#define REFUSE_CODE 0x87 /* MQTT 5 "not authorized" */

/* The broker, for callbacks that call back into its API. */
static MQTTBroker the_broker;

static const char *str_or(const char *s, const char *dflt)
{
    return s != NULL ? s : dflt;
}

static int info_ok(const MQTTBroker_clientInfo *c)
{
    return c != NULL && memcmp(c->struct_id, "MQBI", 4) == 0 && c->struct_version == 0 &&
           c->clientId != NULL;
}

static int on_connect(void *ctx, const MQTTBroker_clientInfo *c)
{
    if (ctx != (void *)&log_count || !info_ok(c)) {
        log_line("connect BAD ARGUMENTS");
        return 0x80;
    }
    int pwlen = c->password != NULL ? c->passwordLen : 0;
    log_line("connect id=%s user=%s pw=%.*s v=%d addr=%s", c->clientId,
             str_or(c->username, "(none)"), pwlen,
             c->password != NULL ? (const char *)c->password : "", c->MQTTVersion,
             str_or(c->address, "(none)"));
    if (strncmp(c->clientId, "refused", 7) == 0)
        return REFUSE_CODE;
    if (c->username != NULL && strcmp(c->username, "bad") == 0)
        return 4; /* the 3.x code "bad user name or password" */
    return 0;
}

/* The first user property of a list as "k=v", or "(none)". */
static void first_user_property(const MQTTProperties *props, char *out, size_t size)
{
    snprintf(out, size, "(none)");
    for (int i = 0; i < props->count; i++) {
        const MQTTProperty *p = &props->array[i];
        if (p->identifier == MQTTPROPERTY_CODE_USER_PROPERTY) {
            snprintf(out, size, "%.*s=%.*s", p->value.data.len, p->value.data.data,
                     p->value.value.len, p->value.value.data);
            return;
        }
    }
}

static int on_publish(void *ctx, const MQTTBroker_clientInfo *c, const char *topic,
                      const MQTTBroker_message *m)
{
    if (ctx != (void *)&log_count || !info_ok(c) || topic == NULL || m == NULL ||
        memcmp(m->struct_id, "MQBM", 4) != 0) {
        log_line("publish BAD ARGUMENTS");
        return 0x80;
    }
    char prop[96];
    first_user_property(&m->properties, prop, sizeof prop);
    log_line("publish id=%s user=%s v=%d addr=%s topic=%s payload=%.*s qos=%d retained=%d prop=%s",
             c->clientId, str_or(c->username, "(none)"), c->MQTTVersion,
             str_or(c->address, "(none)"), topic, m->payloadlen, (const char *)m->payload,
             m->qos, m->retained, prop);
    return strncmp(topic, "blocked/", 8) == 0 ? REFUSE_CODE : 0;
}

static int on_subscribe(void *ctx, const MQTTBroker_clientInfo *c, const char *filter, int qos)
{
    if (ctx != (void *)&log_count || !info_ok(c) || filter == NULL) {
        log_line("subscribe BAD ARGUMENTS");
        return 0x80;
    }
    log_line("subscribe id=%s user=%s filter=%s qos=%d", c->clientId,
             str_or(c->username, "(none)"), filter, qos);
    if (strcmp(filter, "forbidden/#") == 0)
        return REFUSE_CODE;
    if (strcmp(filter, "downgrade/#") == 0)
        return 0;
    if (strcmp(filter, "welcome/#") == 0) {
        /* The API works from inside a callback: retain a greeting that the
         * subscription about to be granted then receives. */
        int rc = MQTTBroker_publish(the_broker, "welcome/new", 5, "hello", 1, 1, NULL);
        log_line("welcome publish rc=%d port=%d", rc, MQTTBroker_getPort(the_broker, 0));
    }
    return qos;
}

static void on_disconnect(void *ctx, const MQTTBroker_clientInfo *c, int reason)
{
    if (ctx != (void *)&log_count || !info_ok(c)) {
        log_line("disconnect BAD ARGUMENTS");
        return;
    }
    log_line("disconnect id=%s user=%s reason=%d", c->clientId, str_or(c->username, "(none)"),
             reason);
}

/* PUBACK reason codes of the MQTT 5 publisher (MQTTClient_setPublished). */
static pthread_mutex_t acks_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acks_cond = PTHREAD_COND_INITIALIZER;
static int ack_token = -1;
static int ack_reason = -1;

static void on_published(void *ctx, int dt, int packet_type, MQTTProperties *props,
                         enum MQTTReasonCodes reason)
{
    (void)ctx;
    (void)packet_type;
    (void)props;
    pthread_mutex_lock(&acks_lock);
    ack_token = dt;
    ack_reason = reason;
    pthread_cond_broadcast(&acks_cond);
    pthread_mutex_unlock(&acks_lock);
}

/* The PUBACK reason for token dt, waiting up to 10 s; -1 if none came. */
static int ack_reason_for(int dt)
{
    int reason = -1;
    struct timespec deadline = test_deadline(10000);
    pthread_mutex_lock(&acks_lock);
    while (ack_token != dt &&
           pthread_cond_timedwait(&acks_cond, &acks_lock, &deadline) != ETIMEDOUT)
        ;
    if (ack_token == dt)
        reason = ack_reason;
    pthread_mutex_unlock(&acks_lock);
    return reason;
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

/* Connect a 3.1.1 client; returns MQTTClient_connect's code. */
static int connect3(MQTTClient c, const char *user, const char *password)
{
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.username = user;
    o.password = password;
    return MQTTClient_connect(c, &o);
}

/* Connect an MQTT 5 client; returns the CONNACK reason (or an error code). */
static int connect5(MQTTClient c, const char *user, const char *password)
{
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer5;
    o.username = user;
    o.password = password;
    MQTTResponse r = MQTTClient_connect5(c, &o, NULL, NULL);
    int rc = r.reasonCode;
    MQTTResponse_free(r);
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
static void expect_message(MQTTClient c, const char *topic, const char *payload,
                           int retained, const char *user_prop)
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
    CHECK_RC(m->retained, retained);
    if (user_prop != NULL) {
        char prop[96];
        first_user_property(&m->properties, prop, sizeof prop);
        CHECK(strcmp(prop, user_prop) == 0);
    }
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
    cbs.on_client_connect = on_connect;
    cbs.on_client_publish = on_publish;
    cbs.on_client_subscribe = on_subscribe;
    cbs.on_client_disconnect = on_disconnect;
    /* The first header's struct: version 0 ends at on_client_disconnect,
     * whatever follows in memory is not read (made garbage to prove it). */
    cbs.struct_version = 0;
    memset(&cbs.on_client_unsubscribe, 0xAB,
           sizeof cbs - offsetof(MQTTBroker_callbacks, on_client_unsubscribe));
    REQUIRE_RC(MQTTBroker_setCallbacks(broker, &log_count, &cbs), MQTTBROKER_SUCCESS);
    REQUIRE_RC(MQTTBroker_start(broker), MQTTBROKER_SUCCESS);
    /* Callbacks are fixed by the first start. */
    CHECK_RC(MQTTBroker_setCallbacks(broker, NULL, &cbs), MQTTBROKER_ALREADY_STARTED);
    int port = MQTTBroker_getPort(broker, 0);
    REQUIRE(port > 0);
    char uri[64];
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    printf("broker listening on port %d\n", port);

    /* on_client_connect refuses: 3.1.1 clients get the 3.x return code. */
    int mark = log_mark();
    MQTTClient r3 = make_client(uri, "refused-v3", MQTTVERSION_3_1_1);
    CHECK_RC(connect3(r3, NULL, NULL), 5);
    EXPECT_LOG(mark, "connect id=refused-v3 user=(none) pw= v=4 addr=127.0.0.1:");
    MQTTClient_destroy(&r3);
    MQTTClient b3 = make_client(uri, "bad-user-v3", MQTTVERSION_3_1_1);
    CHECK_RC(connect3(b3, "bad", "pw"), 4);
    MQTTClient_destroy(&b3);

    /* ... and MQTT 5 clients the reason code itself. */
    MQTTClient r5 = make_client(uri, "refused-v5", MQTTVERSION_5);
    CHECK_RC(connect5(r5, NULL, NULL), REFUSE_CODE);
    MQTTClient_destroy(&r5);

    /* Accepted clients: the callback sees user name, password, version. */
    mark = log_mark();
    MQTTClient sub5 = make_client(uri, "sub5", MQTTVERSION_5);
    REQUIRE_RC(connect5(sub5, "alice", "s3cret"), MQTTREASONCODE_SUCCESS);
    EXPECT_LOG(mark, "connect id=sub5 user=alice pw=s3cret v=5 addr=127.0.0.1:");

    /* on_client_subscribe: grant, refuse, downgrade. */
    mark = log_mark();
    CHECK_RC(subscribe5(sub5, "inject/#", 2), MQTTREASONCODE_GRANTED_QOS_2);
    EXPECT_LOG(mark, "subscribe id=sub5 user=alice filter=inject/# qos=2");
    CHECK_RC(subscribe5(sub5, "forbidden/#", 1), REFUSE_CODE);
    CHECK_RC(subscribe5(sub5, "downgrade/#", 2), MQTTREASONCODE_GRANTED_QOS_0);
    CHECK_RC(subscribe5(sub5, "blocked/#", 1), MQTTREASONCODE_GRANTED_QOS_1);

    /* A 3.1.1 subscriber sees a refusal as 0x80. */
    MQTTClient sub3 = make_client(uri, "sub3", MQTTVERSION_3_1_1);
    REQUIRE_RC(connect3(sub3, "bob", NULL), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_subscribe(sub3, "forbidden/#", 1), MQTT_BAD_SUBSCRIBE);

    /* on_client_publish refuses: the MQTT 5 publisher gets the PUBACK
     * reason and the subscriber never gets the message (the next one it
     * gets is the allowed publish that followed). */
    MQTTClient pub5 = make_client(uri, "pub5", MQTTVERSION_5);
    REQUIRE_RC(connect5(pub5, "carol", NULL), MQTTREASONCODE_SUCCESS);
    CHECK_RC(MQTTClient_setPublished(pub5, NULL, on_published), MQTTCLIENT_SUCCESS);
    mark = log_mark();
    MQTTClient_deliveryToken dt = 0;
    MQTTResponse r = MQTTClient_publish5(pub5, "blocked/a", 2, "no", 1, 0, NULL, &dt);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    CHECK_RC(ack_reason_for(dt), REFUSE_CODE);
    EXPECT_LOG(mark, "publish id=pub5 user=carol v=5 addr=127.0.0.1:");
    EXPECT_LOG(mark, "topic=blocked/a payload=no qos=1 retained=0 prop=(none)");

    MQTTProperties props = MQTTProperties_initializer;
    MQTTProperty up;
    up.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
    up.value.data.data = "k";
    up.value.data.len = 1;
    up.value.value.data = "v";
    up.value.value.len = 1;
    CHECK_RC(MQTTProperties_add(&props, &up), 0);
    mark = log_mark();
    r = MQTTClient_publish5(pub5, "inject/allowed", 2, "ok", 1, 0, &props, &dt);
    CHECK_RC(r.reasonCode, MQTTREASONCODE_SUCCESS);
    MQTTResponse_free(r);
    CHECK_RC(ack_reason_for(dt), MQTTREASONCODE_SUCCESS);
    EXPECT_LOG(mark, "topic=inject/allowed payload=ok qos=1 retained=0 prop=k=v");
    expect_message(sub5, "inject/allowed", "ok", 0, "k=v");

    /* MQTTBroker_publish injects, with properties, to MQTT 5 subscribers. */
    up.value.data.data = "from";
    up.value.data.len = 4;
    up.value.value.data = "host";
    up.value.value.len = 4;
    MQTTProperties host_props = MQTTProperties_initializer;
    CHECK_RC(MQTTProperties_add(&host_props, &up), 0);
    CHECK_RC(MQTTBroker_publish(broker, "inject/host", 5, "hello", 1, 0, &host_props),
             MQTTBROKER_SUCCESS);
    expect_message(sub5, "inject/host", "hello", 0, "from=host");
    MQTTProperties_free(&host_props);
    MQTTProperties_free(&props);

    /* A retained injection reaches later subscribers with the retain flag. */
    CHECK_RC(MQTTBroker_publish(broker, "kept/one", 4, "kept", 1, 1, NULL), MQTTBROKER_SUCCESS);
    CHECK_RC(MQTTClient_subscribe(sub3, "kept/#", 1), MQTTCLIENT_SUCCESS);
    expect_message(sub3, "kept/one", "kept", 1, NULL);

    /* Calls into the broker from a callback. */
    char expected[64];
    snprintf(expected, sizeof expected, "welcome publish rc=0 port=%d", port);
    mark = log_mark();
    CHECK_RC(MQTTClient_subscribe(sub3, "welcome/#", 1), MQTTCLIENT_SUCCESS);
    EXPECT_LOG(mark, expected);
    expect_message(sub3, "welcome/new", "hello", 1, NULL);

    /* Bad input to MQTTBroker_publish on a running broker. */
    CHECK_RC(MQTTBroker_publish(broker, "a/+", 1, "x", 0, 0, NULL), MQTTBROKER_BAD_TOPIC);
    CHECK_RC(MQTTBroker_publish(broker, "", 1, "x", 0, 0, NULL), MQTTBROKER_BAD_TOPIC);
    CHECK_RC(MQTTBroker_publish(broker, "a", 1, "x", 3, 0, NULL), MQTTBROKER_BAD_QOS);
    CHECK_RC(MQTTBroker_publish(broker, "a", 1, "x", -1, 0, NULL), MQTTBROKER_BAD_QOS);
    CHECK_RC(MQTTBroker_publish(broker, NULL, 1, "x", 0, 0, NULL), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_publish(broker, "a", 3, NULL, 0, 0, NULL), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_publish(broker, "a\xff", 1, "x", 0, 0, NULL), MQTTBROKER_BAD_UTF8_STRING);
    CHECK_RC(MQTTBroker_publish(broker, "a", -1, "x", 0, 0, NULL), MQTTBROKER_FAILURE);
    CHECK_RC(MQTTBroker_publish(broker, "empty", 0, NULL, 0, 0, NULL), MQTTBROKER_SUCCESS);

    /* Counters: what happened so far shows in MQTTBroker_getStats. */
    MQTTBroker_stats stats = MQTTBroker_stats_initializer;
    CHECK_RC(MQTTBroker_getStats(broker, &stats), MQTTBROKER_SUCCESS);
    printf("stats: connections=%lld sessions=%lld retained=%lld in=%lld out=%lld dropped=%lld\n",
           stats.connections, stats.sessions, stats.retained, stats.messagesIn,
           stats.messagesOut, stats.dropped);
    CHECK(stats.connections == 3); /* sub5, sub3, pub5 */
    CHECK(stats.retained == 2);    /* kept/one, welcome/new */
    /* In: inject/allowed, inject/host, kept/one, welcome/new, empty (the
     * refused blocked/a is not); out: the four that subscribers received. */
    CHECK(stats.messagesIn == 5);
    CHECK(stats.messagesOut == 4);
    CHECK(stats.dropped == 1); /* the refused publish */
    CHECK(stats.droppedQoS0 == 0 && stats.droppedOffline == 0);
    CHECK(stats.flowPauses == 0 && stats.slowConsumers == 0);
    /* Version 0 (the first header) ends before the flow-control counters. */
    MQTTBroker_stats v0_stats = MQTTBroker_stats_initializer;
    v0_stats.struct_version = 0;
    v0_stats.flowPauses = 77;
    CHECK_RC(MQTTBroker_getStats(broker, &v0_stats), MQTTBROKER_SUCCESS);
    CHECK(v0_stats.messagesIn == 5 && v0_stats.flowPauses == 77);
    MQTTBroker_stats bad_stats = MQTTBroker_stats_initializer;
    bad_stats.struct_version = 3;
    CHECK_RC(MQTTBroker_getStats(broker, &bad_stats), MQTTBROKER_BAD_STRUCTURE);
    CHECK_RC(MQTTBroker_getStats(broker, NULL), MQTTBROKER_NULL_PARAMETER);

    /* on_client_disconnect: a normal DISCONNECT, and MQTT 5's "with will". */
    mark = log_mark();
    CHECK_RC(MQTTClient_disconnect(sub3, 1000), MQTTCLIENT_SUCCESS);
    EXPECT_LOG(mark, "disconnect id=sub3 user=bob reason=0");
    CHECK_RC(MQTTClient_disconnect5(pub5, 1000, MQTTREASONCODE_DISCONNECT_WITH_WILL_MESSAGE, NULL),
             MQTTCLIENT_SUCCESS);
    EXPECT_LOG(mark, "disconnect id=pub5 user=carol reason=4");

    /* Stop: connected clients are told the server is shutting down. */
    mark = log_mark();
    CHECK_RC(MQTTBroker_stop(broker), MQTTBROKER_SUCCESS);
    EXPECT_LOG(mark, "disconnect id=sub5 user=alice reason=139");
    CHECK_RC(MQTTBroker_stop(broker), MQTTBROKER_NOT_STARTED);
    CHECK_RC(MQTTBroker_getPort(broker, 0), MQTTBROKER_NOT_STARTED);
    CHECK_RC(MQTTBroker_publish(broker, "a", 1, "x", 0, 0, NULL), MQTTBROKER_NOT_STARTED);

    /* Start again: it serves, and retained messages were kept. */
    REQUIRE_RC(MQTTBroker_start(broker), MQTTBROKER_SUCCESS);
    CHECK_RC(MQTTBroker_start(broker), MQTTBROKER_ALREADY_STARTED);
    port = MQTTBroker_getPort(broker, 0);
    REQUIRE(port > 0);
    snprintf(uri, sizeof uri, "tcp://127.0.0.1:%d", port);
    MQTTClient again = make_client(uri, "again", MQTTVERSION_3_1_1);
    mark = log_mark();
    REQUIRE_RC(connect3(again, NULL, NULL), MQTTCLIENT_SUCCESS);
    EXPECT_LOG(mark, "connect id=again user=(none) pw= v=4");
    CHECK_RC(MQTTClient_subscribe(again, "kept/#", 0), MQTTCLIENT_SUCCESS);
    expect_message(again, "kept/one", "kept", 1, NULL);
    CHECK_RC(MQTTClient_disconnect(again, 1000), MQTTCLIENT_SUCCESS);

    MQTTClient_destroy(&again);
    MQTTClient_destroy(&sub3);
    MQTTClient_destroy(&pub5);
    MQTTClient_destroy(&sub5);
    MQTTBroker_destroy(&broker);
    CHECK(broker == NULL);
    return test_finish("broker_callbacks");
}
