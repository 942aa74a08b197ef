/* A line log for the broker C tests: callbacks (on the broker's callback
 * thread) append formatted lines, the test thread waits, bounded, for a line
 * containing a given text. Every line is also printed. */
#ifndef FERROMQ_BROKER_LOG_H
#define FERROMQ_BROKER_LOG_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define LOG_MAX_LINES 256
#define LOG_LINE_LEN 256

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_cond = PTHREAD_COND_INITIALIZER;
static char log_lines[LOG_MAX_LINES][LOG_LINE_LEN];
static int log_count;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void log_line(const char *fmt, ...)
{
    char line[LOG_LINE_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    printf("callback: %s\n", line);
    fflush(stdout);
    pthread_mutex_lock(&log_lock);
    if (log_count < LOG_MAX_LINES)
        memcpy(log_lines[log_count++], line, sizeof line);
    pthread_cond_broadcast(&log_cond);
    pthread_mutex_unlock(&log_lock);
}

/* Number of lines so far (a starting point for log_wait). */
static int log_mark(void)
{
    pthread_mutex_lock(&log_lock);
    int n = log_count;
    pthread_mutex_unlock(&log_lock);
    return n;
}

/* Wait up to timeout_ms for a line at index >= from containing needle;
 * returns its index or -1. */
static int log_wait(int from, const char *needle, long timeout_ms)
{
    struct timespec deadline = test_deadline(timeout_ms);
    int found = -1;
    pthread_mutex_lock(&log_lock);
    for (;;) {
        for (int i = from; i < log_count && found < 0; i++)
            if (strstr(log_lines[i], needle) != NULL)
                found = i;
        if (found >= 0 ||
            pthread_cond_timedwait(&log_cond, &log_lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&log_lock);
    return found;
}

/* A line at index >= from containing needle must appear within 10 s. */
#define EXPECT_LOG(from, needle)                                              \
    do {                                                                      \
        if (log_wait((from), (needle), 10000) < 0) {                          \
            fprintf(stderr, "%s:%d: no callback line contains \"%s\"\n",      \
                    __FILE__, __LINE__, (needle));                            \
            test_failures++;                                                  \
        }                                                                     \
    } while (0)

#endif
