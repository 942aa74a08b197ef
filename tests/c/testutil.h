/* Shared helpers for the C client tests: failure-counting checks that print
 * file:line, argv parsing into a broker URI, and bounded waits on a condition
 * variable. Only the MQTTClient API is used by the tests themselves. */
#ifndef FERROMQ_TESTUTIL_H
#define FERROMQ_TESTUTIL_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "MQTTClient.h"

static int test_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            test_failures++;                                                 \
        }                                                                    \
    } while (0)

/* Evaluate expr once; it must equal expected (an int return code). */
#define CHECK_RC(expr, expected)                                             \
    do {                                                                     \
        int rc_got_ = (expr);                                                \
        int rc_want_ = (expected);                                           \
        if (rc_got_ != rc_want_) {                                           \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n",    \
                    __FILE__, __LINE__, #expr, rc_got_, rc_want_, #expected); \
            test_failures++;                                                 \
        }                                                                    \
    } while (0)

/* Like CHECK_RC, but stop the program: later steps depend on this one. */
#define REQUIRE_RC(expr, expected)                                           \
    do {                                                                     \
        int rc_got_ = (expr);                                                \
        if (rc_got_ != (expected)) {                                         \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d; giving up\n", \
                    __FILE__, __LINE__, #expr, rc_got_, (int)(expected));    \
            exit(2);                                                         \
        }                                                                    \
    } while (0)

#define REQUIRE(cond)                                                        \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: required check failed: %s; giving up\n", \
                    __FILE__, __LINE__, #cond);                              \
            exit(2);                                                         \
        }                                                                    \
    } while (0)

/* Fill uri with tcp://HOST:PORT from argv[1], argv[2]. */
static inline void test_uri(int argc, char **argv, char *uri, size_t size)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        exit(2);
    }
    snprintf(uri, size, "tcp://%s:%s", argv[1], argv[2]);
}

/* Report and return the exit status. */
static inline int test_finish(const char *name)
{
    if (test_failures == 0) {
        printf("%s: all checks passed\n", name);
        return 0;
    }
    fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    return 1;
}

/* An absolute CLOCK_REALTIME deadline ms from now, for pthread_cond_timedwait. */
static inline struct timespec test_deadline(long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec += 1;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Receive one message (receive mode), waiting up to timeout_ms in total.
 * Returns the message (caller frees it and *topic) or NULL on timeout. */
static inline MQTTClient_message *test_receive(MQTTClient c, char **topic, long timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        MQTTClient_message *msg = NULL;
        int len = 0;
        *topic = NULL;
        int rc = MQTTClient_receive(c, topic, &len, &msg, 500);
        if (rc == MQTTCLIENT_SUCCESS && msg != NULL)
            return msg;
        if (*topic != NULL) {
            MQTTClient_free(*topic);
            *topic = NULL;
        }
        if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
            fprintf(stderr, "MQTTClient_receive returned %d\n", rc);
            return NULL;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000L +
                       (now.tv_nsec - start.tv_nsec) / 1000000L;
        if (elapsed >= timeout_ms)
            return NULL;
    }
}

/* True when msg's payload is exactly the NUL-free string text. */
static inline int test_payload_is(const MQTTClient_message *msg, const char *text)
{
    size_t n = strlen(text);
    return msg != NULL && msg->payloadlen == (int)n &&
           (n == 0 || memcmp(msg->payload, text, n) == 0);
}

#endif
