/* Helpers for the MQTTAsync C tests: one mutex/condition pair that every
 * callback signals under, and bounded waits for a condition on the test's
 * state. The checks (CHECK, CHECK_RC, REQUIRE...) come from testutil.h. */
#ifndef FERROMQ_ASYNC_UTIL_H
#define FERROMQ_ASYNC_UTIL_H

#include <unistd.h>

#include "testutil.h"
#include "MQTTAsync.h"

static pthread_mutex_t ev_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ev_cond = PTHREAD_COND_INITIALIZER;
static int wait_ok;

/* Run stmt under the event lock and wake every waiter. */
#define SIGNAL(stmt)                                                         \
    do {                                                                     \
        pthread_mutex_lock(&ev_mutex);                                       \
        stmt;                                                                \
        pthread_cond_broadcast(&ev_cond);                                    \
        pthread_mutex_unlock(&ev_mutex);                                     \
    } while (0)

/* Wait (at most ms) until cond holds, evaluated under the event lock;
 * wait_ok says whether it did. cond must not call the MQTTAsync API: a
 * library may hold its own lock while it runs a callback that takes ours. */
#define WAIT_FOR(cond, ms)                                                   \
    do {                                                                     \
        struct timespec dl_ = test_deadline(ms);                             \
        pthread_mutex_lock(&ev_mutex);                                       \
        while (!(cond)) {                                                    \
            if (pthread_cond_timedwait(&ev_cond, &ev_mutex, &dl_) == ETIMEDOUT) \
                break;                                                       \
        }                                                                    \
        wait_ok = (cond);                                                    \
        pthread_mutex_unlock(&ev_mutex);                                     \
    } while (0)

/* As WAIT_FOR; a timeout ends the program (later steps depend on it). */
#define REQUIRE_WAIT(cond, ms)                                               \
    do {                                                                     \
        WAIT_FOR(cond, ms);                                                  \
        if (!wait_ok) {                                                      \
            fprintf(stderr, "%s:%d: timed out waiting for %s; giving up\n",  \
                    __FILE__, __LINE__, #cond);                              \
            exit(2);                                                         \
        }                                                                    \
    } while (0)

/* As WAIT_FOR; a timeout is a failed check. */
#define CHECK_WAIT(cond, ms)                                                 \
    do {                                                                     \
        WAIT_FOR(cond, ms);                                                  \
        if (!wait_ok) {                                                      \
            fprintf(stderr, "%s:%d: timed out waiting for %s\n", __FILE__,   \
                    __LINE__, #cond);                                        \
            test_failures++;                                                 \
        }                                                                    \
    } while (0)

/* A unique topic prefix per run, so tests never see each other's messages. */
static inline void test_topic(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "ferromq/%s/%ld", name, (long)getpid());
}

#endif
