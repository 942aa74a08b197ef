/* The broker's C API on bad input and in the wrong state: NULL arguments,
 * wrong struct ids and versions, bad listeners and limits, calls before
 * start, bind failures; getPort with several listeners; strerror;
 * repeated start/stop. Needs no client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "MQTTBroker.h"

static int failures;

#define CHECK_RC(expr, expected)                                              \
    do {                                                                      \
        int got_ = (expr);                                                    \
        if (got_ != (expected)) {                                             \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n",      \
                    __FILE__, __LINE__, #expr, got_, (int)(expected), #expected); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                       \
        }                                                                     \
    } while (0)

/* MQTTBroker_create with opts must fail with `expected` and leave the handle. */
static void create_fails(const MQTTBroker_createOptions *opts, int expected, int line)
{
    MQTTBroker b = NULL;
    int rc = MQTTBroker_create(&b, opts);
    if (rc != expected || b != NULL) {
        fprintf(stderr, "line %d: MQTTBroker_create returned %d (handle %p), expected %d\n",
                line, rc, b, expected);
        failures++;
        MQTTBroker_destroy(&b);
    }
}

static MQTTBroker_createOptions local_options(const char **listeners, int count)
{
    MQTTBroker_createOptions o = MQTTBroker_createOptions_initializer;
    o.listeners = listeners;
    o.listenerCount = count;
    return o;
}

static int noop_connect(void *ctx, const MQTTBroker_clientInfo *c)
{
    (void)ctx;
    (void)c;
    return 0;
}

int main(void)
{
    const char *one[] = {"127.0.0.1:0"};
    MQTTBroker_createOptions o = local_options(one, 1);

    /* create: NULL handle, struct id and version. */
    CHECK_RC(MQTTBroker_create(NULL, &o), MQTTBROKER_NULL_PARAMETER);
    o.struct_id[3] = 'X';
    create_fails(&o, MQTTBROKER_BAD_STRUCTURE, __LINE__);
    o = local_options(one, 1);
    o.struct_version = 3;
    create_fails(&o, MQTTBROKER_BAD_STRUCTURE, __LINE__);
    /* Version 0 (the first header, without the byte and slow-consumer
     * limits) and version 1 (without persistenceLocation) are still
     * accepted; version 1 limits are range-checked. */
    o = local_options(one, 1);
    o.struct_version = 0;
    MQTTBroker v0 = NULL;
    CHECK_RC(MQTTBroker_create(&v0, &o), MQTTBROKER_SUCCESS);
    MQTTBroker_destroy(&v0);
    o.struct_version = 1;
    CHECK_RC(MQTTBroker_create(&v0, &o), MQTTBROKER_SUCCESS);
    MQTTBroker_destroy(&v0);
    o = local_options(one, 1);
    o.slowConsumerTimeout = -1;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);

    /* Listeners. */
    const char *bad_port[] = {"127.0.0.1:99999"};
    const char *no_port[] = {"nonsense"};
    const char *null_entry[] = {NULL};
    const char *not_utf8[] = {"\xff\xfe:1883"};
    o = local_options(bad_port, 1);
    create_fails(&o, MQTTBROKER_BAD_LISTENER, __LINE__);
    o = local_options(no_port, 1);
    create_fails(&o, MQTTBROKER_BAD_LISTENER, __LINE__);
    o = local_options(one, -1);
    create_fails(&o, MQTTBROKER_BAD_LISTENER, __LINE__);
    o = local_options(null_entry, 1);
    create_fails(&o, MQTTBROKER_NULL_PARAMETER, __LINE__);
    o = local_options(NULL, 1);
    create_fails(&o, MQTTBROKER_NULL_PARAMETER, __LINE__);
    o = local_options(not_utf8, 1);
    create_fails(&o, MQTTBROKER_BAD_UTF8_STRING, __LINE__);

    /* Limits out of range. */
    o = local_options(one, 1);
    o.maxInflight = 0;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);
    o = local_options(one, 1);
    o.maxPacketSize = -1;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);
    o = local_options(one, 1);
    o.keepAliveFactorPercent = 50;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);
    o = local_options(one, 1);
    o.receiveMaximum = 70000;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);
    o = local_options(one, 1);
    o.maxConnections = 0;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);
    o = local_options(one, 1);
    o.maxTopicLength = 70000;
    create_fails(&o, MQTTBROKER_BAD_OPTION, __LINE__);

    /* NULL options: the defaults (not started here: 1883 may be taken). */
    MQTTBroker dflt = NULL;
    CHECK_RC(MQTTBroker_create(&dflt, NULL), MQTTBROKER_SUCCESS);
    CHECK(dflt != NULL);
    MQTTBroker_destroy(&dflt);
    CHECK(dflt == NULL);
    MQTTBroker_destroy(&dflt); /* already NULL: nothing happens */
    MQTTBroker_destroy(NULL);

    /* NULL handles. */
    MQTTBroker_callbacks cbs = MQTTBroker_callbacks_initializer;
    CHECK_RC(MQTTBroker_start(NULL), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_stop(NULL), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_getPort(NULL, 0), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_setCallbacks(NULL, NULL, &cbs), MQTTBROKER_NULL_PARAMETER);
    CHECK_RC(MQTTBroker_publish(NULL, "t", 1, "x", 0, 0, NULL), MQTTBROKER_NULL_PARAMETER);

    /* Two listeners; calls before start; callbacks struct checks. */
    const char *two[] = {"127.0.0.1:0", "127.0.0.1:0"};
    o = local_options(two, 2);
    MQTTBroker b = NULL;
    CHECK_RC(MQTTBroker_create(&b, &o), MQTTBROKER_SUCCESS);
    if (b == NULL) {
        fprintf(stderr, "no broker; giving up\n");
        return 2;
    }
    CHECK_RC(MQTTBroker_stop(b), MQTTBROKER_NOT_STARTED);
    CHECK_RC(MQTTBroker_getPort(b, 0), MQTTBROKER_NOT_STARTED);
    CHECK_RC(MQTTBroker_publish(b, "t", 1, "x", 0, 0, NULL), MQTTBROKER_NOT_STARTED);
    MQTTBroker_callbacks bad_cbs = MQTTBroker_callbacks_initializer;
    bad_cbs.struct_id[0] = 'X';
    CHECK_RC(MQTTBroker_setCallbacks(b, NULL, &bad_cbs), MQTTBROKER_BAD_STRUCTURE);
    bad_cbs = cbs;
    bad_cbs.struct_version = 2;
    CHECK_RC(MQTTBroker_setCallbacks(b, NULL, &bad_cbs), MQTTBROKER_BAD_STRUCTURE);
    bad_cbs.struct_version = -1;
    CHECK_RC(MQTTBroker_setCallbacks(b, NULL, &bad_cbs), MQTTBROKER_BAD_STRUCTURE);
    cbs.on_client_connect = noop_connect;
    CHECK_RC(MQTTBroker_setCallbacks(b, NULL, &cbs), MQTTBROKER_SUCCESS);
    CHECK_RC(MQTTBroker_setCallbacks(b, NULL, NULL), MQTTBROKER_SUCCESS);

    for (int round = 0; round < 3; round++) {
        CHECK_RC(MQTTBroker_start(b), MQTTBROKER_SUCCESS);
        CHECK_RC(MQTTBroker_start(b), MQTTBROKER_ALREADY_STARTED);
        int p0 = MQTTBroker_getPort(b, 0);
        int p1 = MQTTBroker_getPort(b, 1);
        printf("round %d: ports %d and %d\n", round, p0, p1);
        CHECK(p0 > 0 && p0 < 65536);
        CHECK(p1 > 0 && p1 < 65536);
        CHECK(p0 != p1);
        CHECK_RC(MQTTBroker_getPort(b, 2), MQTTBROKER_BAD_INDEX);
        CHECK_RC(MQTTBroker_getPort(b, -1), MQTTBROKER_BAD_INDEX);

        if (round == 0) {
            /* A second broker on the first one's port cannot bind it. */
            char taken[32];
            snprintf(taken, sizeof taken, "127.0.0.1:%d", p0);
            const char *clash[] = {taken};
            MQTTBroker_createOptions co = local_options(clash, 1);
            MQTTBroker other = NULL;
            CHECK_RC(MQTTBroker_create(&other, &co), MQTTBROKER_SUCCESS);
            CHECK_RC(MQTTBroker_start(other), MQTTBROKER_BIND_FAILED);
            CHECK_RC(MQTTBroker_stop(other), MQTTBROKER_NOT_STARTED);
            CHECK_RC(MQTTBroker_getPort(other, 0), MQTTBROKER_NOT_STARTED);
            MQTTBroker_destroy(&other);
        }
        CHECK_RC(MQTTBroker_stop(b), MQTTBROKER_SUCCESS);
    }
    /* Destroy while running stops it. */
    CHECK_RC(MQTTBroker_start(b), MQTTBROKER_SUCCESS);
    MQTTBroker_destroy(&b);
    CHECK(b == NULL);

    /* strerror: every code has its own text; unknown codes too. */
    int codes[] = {MQTTBROKER_SUCCESS, MQTTBROKER_FAILURE, MQTTBROKER_BAD_UTF8_STRING,
                   MQTTBROKER_NULL_PARAMETER, MQTTBROKER_BAD_STRUCTURE, MQTTBROKER_BAD_QOS,
                   MQTTBROKER_BAD_TOPIC, MQTTBROKER_ALREADY_STARTED, MQTTBROKER_NOT_STARTED,
                   MQTTBROKER_BIND_FAILED, MQTTBROKER_BAD_LISTENER, MQTTBROKER_BAD_INDEX,
                   MQTTBROKER_BAD_OPTION, MQTTBROKER_PERSISTENCE_ERROR,
                   MQTTBROKER_NOT_FOUND, MQTTBROKER_BAD_REASON_CODE,
                   MQTTBROKER_IN_DELIVERY_CALLBACK};
    int n = (int)(sizeof codes / sizeof codes[0]);
    for (int i = 0; i < n; i++) {
        const char *s = MQTTBroker_strerror(codes[i]);
        CHECK(s != NULL && strlen(s) > 0);
        for (int j = 0; j < i; j++)
            CHECK(s != NULL && strcmp(s, MQTTBroker_strerror(codes[j])) != 0);
    }
    const char *unknown = MQTTBroker_strerror(12345);
    CHECK(unknown != NULL && strcmp(unknown, "unknown error") == 0);

    if (failures == 0) {
        printf("broker_errors: all checks passed\n");
        return 0;
    }
    fprintf(stderr, "broker_errors: %d check(s) failed\n", failures);
    return 1;
}
