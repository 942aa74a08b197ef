/* MQTTAsync persistence through MQTTAsync_setBeforePersistenceWrite and
 * MQTTAsync_setAfterPersistenceRead, as an application encrypting its
 * store would use them: every byte written is XORed with 0x5A, every byte
 * read back XORed again. Written only against Paho's API;
 * tests/client_persistence.rs runs it.
 *
 *   persist_xor URI CLIENTID STOREDIR buffer
 *     never connects; sends "x0" (QoS 1) and "x1" (QoS 2) to persist/x into
 *     the offline buffer, prints "buffered" and waits to be killed.
 *   persist_xor URI CLIENTID STOREDIR resume
 *     creates on the same store, sets both callbacks, connects
 *     (cleansession=0), waits for every pending token, prints
 *     "resumed <n>" and "afterRead calls <k>", and disconnects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async_util.h"

static int connected;
static int writes, reads;

static void xor_bytes(char *buf, int len)
{
    for (int i = 0; i < len; i++)
        buf[i] ^= 0x5A;
}

static int before_write(void *context, int bufcount, char *buffers[], int buflens[])
{
    CHECK(context == &writes);
    for (int i = 0; i < bufcount; i++)
        xor_bytes(buffers[i], buflens[i]);
    SIGNAL(writes++);
    return 0;
}

static int after_read(void *context, char **buffer, int *buflen)
{
    CHECK(context == &reads);
    xor_bytes(*buffer, *buflen);
    SIGNAL(reads++);
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
    if (argc < 5) {
        fprintf(stderr, "usage: %s URI CLIENTID STOREDIR buffer|resume\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.sendWhileDisconnected = 1;
    co.allowDisconnectedSendAtAnyTime = 1;
    co.maxBufferedMessages = 10;
    MQTTAsync c;
    REQUIRE_RC(MQTTAsync_createWithOptions(&c, argv[1], argv[2], MQTTCLIENT_PERSISTENCE_DEFAULT,
                                           argv[3], &co),
               MQTTASYNC_SUCCESS);
    REQUIRE_RC(MQTTAsync_setBeforePersistenceWrite(c, &writes, before_write), MQTTASYNC_SUCCESS);
    REQUIRE_RC(MQTTAsync_setAfterPersistenceRead(c, &reads, after_read), MQTTASYNC_SUCCESS);
    if (strcmp(argv[4], "buffer") == 0) {
        for (int i = 0; i < 2; i++) {
            char m[16];
            snprintf(m, sizeof m, "x%d", i);
            MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
            REQUIRE_RC(MQTTAsync_send(c, "persist/x", (int)strlen(m), m, 1 + i, 0, &ro),
                       MQTTASYNC_SUCCESS);
        }
        WAIT_FOR(writes >= 2, 1000);
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
    pthread_mutex_lock(&ev_mutex);
    printf("afterRead calls %d\n", reads);
    pthread_mutex_unlock(&ev_mutex);
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    MQTTAsync_disconnect(c, &d);
    MQTTAsync_destroy(&c);
    return test_finish("persist_xor");
}
