/* MQTTAsync with MQTTCLIENT_PERSISTENCE_DEFAULT: publishes buffered while
 * disconnected survive a crash. Written only against Paho's API;
 * tests/client_persistence.rs runs it on Debian's Paho and on FerroMQ.
 *
 *   persist_async URI CLIENTID STOREDIR buffer PERSISTQOS0
 *     never connects; sends "off0" (QoS 0), "off1" (QoS 1, retained) and
 *     "off2" (QoS 2) to persist/a into the offline buffer, prints
 *     "buffered" and how often the beforeWrite callback ran (it leaves the
 *     records unchanged), and waits to be killed.
 *   persist_async URI CLIENTID STOREDIR resume PERSISTQOS0
 *     creates on the same store, connects (cleansession=0), waits for every
 *     pending token, prints "resumed <n>" and disconnects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_util.h"

static int connected;
static int writes;

static int before_write(void *context, int bufcount, char *buffers[], int buflens[])
{
    (void)buffers;
    (void)buflens;
    CHECK(context == &writes && bufcount > 0);
    SIGNAL(writes++);
    return 0;
}

static void on_connect(void *context, MQTTAsync_successData *data)
{
    (void)context;
    (void)data;
    SIGNAL(connected = 1);
}

static void on_connect_failure(void *context, MQTTAsync_failureData *data)
{
    (void)context;
    fprintf(stderr, "connect failed: %d\n", data ? data->code : 0);
    SIGNAL(connected = -1);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR buffer|resume PERSISTQOS0\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.sendWhileDisconnected = 1;
    co.allowDisconnectedSendAtAnyTime = 1;
    co.maxBufferedMessages = 10;
    co.persistQoS0 = atoi(argv[5]);
    MQTTAsync c;
    REQUIRE_RC(MQTTAsync_createWithOptions(&c, argv[1], argv[2], MQTTCLIENT_PERSISTENCE_DEFAULT,
                                           argv[3], &co),
               MQTTASYNC_SUCCESS);
    if (strcmp(argv[4], "buffer") == 0) {
        REQUIRE_RC(MQTTAsync_setBeforePersistenceWrite(c, &writes, before_write),
                   MQTTASYNC_SUCCESS);
        for (int i = 0; i < 3; i++) {
            char m[16];
            snprintf(m, sizeof m, "off%d", i);
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            REQUIRE_RC(MQTTAsync_send(c, "persist/a", (int)strlen(m), m, i, i == 1, &ro),
                       MQTTASYNC_SUCCESS);
        }
        WAIT_FOR(writes >= 2, 1000);
        pthread_mutex_lock(&ev_mutex);
        printf("beforeWrite calls %d\n", writes);
        pthread_mutex_unlock(&ev_mutex);
        printf("buffered\n");
        /* Wait to be killed; the test never lets this run out. */
        WAIT_FOR(0, 60000);
        return 3;
    }
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.cleansession = 0;
    o.onSuccess = on_connect;
    o.onFailure = on_connect_failure;
    REQUIRE_RC(MQTTAsync_connect(c, &o), MQTTASYNC_SUCCESS);
    WAIT_FOR(connected != 0, 10000);
    REQUIRE(connected == 1);
    MQTTAsync_token *tokens = NULL;
    REQUIRE_RC(MQTTAsync_getPendingTokens(c, &tokens), MQTTASYNC_SUCCESS);
    int n = 0;
    for (; tokens && tokens[n] != -1; n++)
        CHECK_RC(MQTTAsync_waitForCompletion(c, tokens[n], 10000), MQTTASYNC_SUCCESS);
    MQTTAsync_free(tokens);
    printf("resumed %d\n", n);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c, &d);
    MQTTAsync_destroy(&c);
    return test_finish("persist_async");
}
