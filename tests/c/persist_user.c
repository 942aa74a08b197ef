/* MQTTCLIENT_PERSISTENCE_USER: an in-memory store that logs every call the
 * library makes, checked for Paho's conventions (open's arguments, records
 * put before and removed after a QoS 1/2 flow, clear on a clean connect,
 * close at destroy), and a record put in the store beforehand resumed by a
 * connect that keeps the session. Usage: persist_user HOST PORT */
#include "MQTTClientPersistence.h"
#include "testutil.h"

#define MAX_RECORDS 32
#define MAX_LOG 128

struct record {
    char key[64];
    char *data;
    int len;
};

struct store {
    struct record records[MAX_RECORDS];
    char log[MAX_LOG][96];
    int nlog;
    int opened;
};

static struct store the_store;

static void log_call(struct store *s, const char *what, const char *arg)
{
    if (s->nlog < MAX_LOG)
        snprintf(s->log[s->nlog++], sizeof s->log[0], "%s %s", what, arg ? arg : "");
}

static struct record *find(struct store *s, const char *key)
{
    for (int i = 0; i < MAX_RECORDS; i++)
        if (s->records[i].data && strcmp(s->records[i].key, key) == 0)
            return &s->records[i];
    return NULL;
}

static int count_records(struct store *s)
{
    int n = 0;
    for (int i = 0; i < MAX_RECORDS; i++)
        n += s->records[i].data != NULL;
    return n;
}

static int s_open(void **handle, const char *client_id, const char *server_uri, void *context)
{
    struct store *s = context;
    char arg[80];
    snprintf(arg, sizeof arg, "%s %s", client_id, server_uri);
    log_call(s, "open", arg);
    s->opened++;
    *handle = s;
    return 0;
}

static int s_close(void *handle)
{
    struct store *s = handle;
    log_call(s, "close", NULL);
    s->opened--;
    return 0;
}

static int s_put(void *handle, char *key, int bufcount, char *buffers[], int buflens[])
{
    struct store *s = handle;
    log_call(s, "put", key);
    struct record *r = find(s, key);
    for (int i = 0; !r && i < MAX_RECORDS; i++)
        if (!s->records[i].data)
            r = &s->records[i];
    if (!r)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    int total = 0;
    for (int i = 0; i < bufcount; i++)
        total += buflens[i];
    char *data = malloc(total > 0 ? total : 1);
    int at = 0;
    for (int i = 0; i < bufcount; i++) {
        memcpy(data + at, buffers[i], buflens[i]);
        at += buflens[i];
    }
    free(r->data);
    snprintf(r->key, sizeof r->key, "%s", key);
    r->data = data;
    r->len = total;
    return 0;
}

static int s_get(void *handle, char *key, char **buffer, int *buflen)
{
    struct store *s = handle;
    log_call(s, "get", key);
    struct record *r = find(s, key);
    if (!r)
        return MQTTCLIENT_PERSISTENCE_ERROR;
    *buffer = malloc(r->len > 0 ? r->len : 1);
    memcpy(*buffer, r->data, r->len);
    *buflen = r->len;
    return 0;
}

static int s_remove(void *handle, char *key)
{
    struct store *s = handle;
    log_call(s, "remove", key);
    struct record *r = find(s, key);
    if (r) {
        free(r->data);
        r->data = NULL;
    }
    return 0;
}

static int s_keys(void *handle, char ***keys, int *nkeys)
{
    struct store *s = handle;
    log_call(s, "keys", NULL);
    int n = count_records(s);
    *nkeys = n;
    *keys = NULL;
    if (n == 0)
        return 0;
    *keys = malloc(sizeof(char *) * n);
    int j = 0;
    for (int i = 0; i < MAX_RECORDS; i++)
        if (s->records[i].data)
            (*keys)[j++] = strdup(s->records[i].key);
    return 0;
}

static int s_clear(void *handle)
{
    struct store *s = handle;
    log_call(s, "clear", NULL);
    for (int i = 0; i < MAX_RECORDS; i++) {
        free(s->records[i].data);
        s->records[i].data = NULL;
    }
    return 0;
}

static int s_containskey(void *handle, char *key)
{
    struct store *s = handle;
    log_call(s, "containskey", key);
    return find(s, key) ? 0 : MQTTCLIENT_PERSISTENCE_ERROR;
}

/* Index of the first log line equal to `line` at or after `from`, or -1. */
static int logged(const struct store *s, const char *line, int from)
{
    for (int i = from; i < s->nlog; i++)
        if (strcmp(s->log[i], line) == 0)
            return i;
    return -1;
}

static void print_log(const struct store *s)
{
    for (int i = 0; i < s->nlog; i++)
        printf("  %s\n", s->log[i]);
}

int main(int argc, char **argv)
{
    char uri[256];
    test_uri(argc, argv, uri, sizeof uri);
    struct store *s = &the_store;
    MQTTClient_persistence table = {s, s_open, s_close, s_put, s_get,
                                    s_remove, s_keys, s_clear, s_containskey};
    MQTTClient c = NULL;
    /* USER needs the table. */
    CHECK_RC(MQTTClient_create(&c, uri, "pu", MQTTCLIENT_PERSISTENCE_USER, NULL),
             MQTTCLIENT_PERSISTENCE_ERROR);

    /* 1. A clean session: clear at connect, records around each flow. */
    REQUIRE_RC(MQTTClient_create(&c, uri, "pu", MQTTCLIENT_PERSISTENCE_USER, &table),
               MQTTCLIENT_SUCCESS);
    char open_line[96];
    snprintf(open_line, sizeof open_line, "open pu %s:%s", argv[1], argv[2]);
    CHECK(logged(s, open_line, 0) == 0);
    CHECK(s->opened == 1);
    MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
    o.cleansession = 1;
    REQUIRE_RC(MQTTClient_connect(c, &o), MQTTCLIENT_SUCCESS);
    int cleared = logged(s, "clear ", 0);
    CHECK(cleared > 0);
    MQTTClient_deliveryToken t1, t2;
    REQUIRE_RC(MQTTClient_publish(c, "pu/t", 2, "q1", 1, 0, &t1), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(c, t1, 10000), MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_publish(c, "pu/t", 2, "q2", 2, 0, &t2), MQTTCLIENT_SUCCESS);
    CHECK_RC(MQTTClient_waitForCompletion(c, t2, 10000), MQTTCLIENT_SUCCESS);
    char key[32], line[96];
    snprintf(key, sizeof key, "s-%d", t1);
    snprintf(line, sizeof line, "put %s", key);
    int put1 = logged(s, line, 0);
    snprintf(line, sizeof line, "remove %s", key);
    CHECK(put1 > cleared && logged(s, line, put1) > put1);
    snprintf(line, sizeof line, "put s-%d", t2);
    int put2 = logged(s, line, 0);
    snprintf(line, sizeof line, "put sc-%d", t2);
    int rel2 = logged(s, line, 0);
    snprintf(line, sizeof line, "remove s-%d", t2);
    int rm2 = logged(s, line, 0);
    snprintf(line, sizeof line, "remove sc-%d", t2);
    int rmrel2 = logged(s, line, 0);
    CHECK(put2 > put1 && rel2 > put2 && rm2 > rel2 && rmrel2 > rel2);
    CHECK(count_records(s) == 0);
    MQTTClient_disconnect(c, 1000);
    MQTTClient_destroy(&c);
    CHECK(s->opened == 0);
    CHECK(strcmp(s->log[s->nlog - 1], "close ") == 0);

    /* 2. Make the server keep a session for "pu". */
    REQUIRE_RC(MQTTClient_create(&c, uri, "pu", MQTTCLIENT_PERSISTENCE_USER, &table),
               MQTTCLIENT_SUCCESS);
    o.cleansession = 0;
    REQUIRE_RC(MQTTClient_connect(c, &o), MQTTCLIENT_SUCCESS);
    MQTTClient_disconnect(c, 1000);
    MQTTClient_destroy(&c);

    /* 3. A QoS 1 PUBLISH record (as Paho writes it) is resumed: a
     * subscriber gets it. */
    MQTTClient sub;
    REQUIRE_RC(MQTTClient_create(&sub, uri, "pu-sub", MQTTCLIENT_PERSISTENCE_NONE, NULL),
               MQTTCLIENT_SUCCESS);
    MQTTClient_connectOptions so = MQTTClient_connectOptions_initializer;
    REQUIRE_RC(MQTTClient_connect(sub, &so), MQTTCLIENT_SUCCESS);
    REQUIRE_RC(MQTTClient_subscribe(sub, "pu/t", 1), MQTTCLIENT_SUCCESS);
    static char rec[] = {0x32, 0x0a, 0x00, 0x04, 'p', 'u', '/', 't', 0x00, 0x07, 'r', '7'};
    char *bufs[] = {rec};
    int lens[] = {(int)sizeof rec};
    s_put(s, "s-7", 1, bufs, lens);
    int mark = s->nlog;
    REQUIRE_RC(MQTTClient_create(&c, uri, "pu", MQTTCLIENT_PERSISTENCE_USER, &table),
               MQTTCLIENT_SUCCESS);
    CHECK(logged(s, "keys ", mark) > mark);
    CHECK(logged(s, "get s-7", mark) > mark);
    REQUIRE_RC(MQTTClient_connect(c, &o), MQTTCLIENT_SUCCESS);
    MQTTClient_deliveryToken *tokens = NULL;
    CHECK_RC(MQTTClient_getPendingDeliveryTokens(c, &tokens), MQTTCLIENT_SUCCESS);
    /* Empty when the resent message 7 was already acknowledged. */
    CHECK(tokens == NULL || (tokens[0] == 7 && tokens[1] == -1));
    MQTTClient_free(tokens);
    CHECK_RC(MQTTClient_waitForCompletion(c, 7, 10000), MQTTCLIENT_SUCCESS);
    char *topic = NULL;
    MQTTClient_message *m = test_receive(sub, &topic, 10000);
    CHECK(test_payload_is(m, "r7"));
    if (m) {
        MQTTClient_freeMessage(&m);
        MQTTClient_free(topic);
    }
    MQTTClient_disconnect(sub, 1000);
    MQTTClient_destroy(&sub);
    CHECK(logged(s, "remove s-7", mark) > mark);
    CHECK(count_records(s) == 0);
    MQTTClient_disconnect(c, 1000);
    MQTTClient_destroy(&c);
    CHECK(s->opened == 0);
    if (test_failures)
        print_log(s);
    return test_finish("persist_user");
}
