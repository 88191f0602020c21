/*
 * Helper library of the deadlock_logger.c case, not a case itself (see logger_lib.h).  The flusher
 * writes the buffer out while it holds the mutex, which keeps lines in order and is how many small
 * loggers are written; it also means that whenever output is slow, the mutex is held for as long
 * as the write takes.  A process that forks at such a moment gives its child a logger whose mutex
 * no thread of the child will ever release, and the child's first log_write blocks forever.  The
 * markers below are the two acquisitions the case's header points at.
 */
#include "logger_lib.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define LOG_BUFFER 4096

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER; /* guards buffer, used, closing */
static char buffer[LOG_BUFFER];
static size_t used;
static int closing;
static int out_fd = -1;
static int wake[2] = {-1, -1}; /* one byte per log_write: the flusher sleeps in read, not holding
                                  the mutex */
static pthread_t flusher;
static atomic_int flusher_tid;

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t got = write(fd, p, n);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static void *flush_loop(void *arg)
{
    (void)arg;
    atomic_store(&flusher_tid, (int)gettid());
    for (;;) {
        char c;
        int done, rc;

        if (read(wake[0], &c, 1) != 1)
            return NULL;
        if (pthread_mutex_lock(&mutex) != 0) // @flush
            return NULL;
        rc = write_all(out_fd, buffer, used);
        used = 0;
        done = closing;
        if (pthread_mutex_unlock(&mutex) != 0 || rc != 0 || done)
            return NULL;
    }
}

int log_open(int fd)
{
    if (pipe(wake) != 0)
        return -1;
    out_fd = fd;
    if (pthread_create(&flusher, NULL, flush_loop, NULL) != 0) {
        close(wake[0]);
        close(wake[1]);
        return -1;
    }
    return 0;
}

int log_write(const char *msg)
{
    size_t n = strlen(msg);
    int dropped = 0;

    if (pthread_mutex_lock(&mutex) != 0) // @lock
        return -1;
    if (n + 1 > sizeof buffer - used) {
        dropped = 1; /* full: the line is lost, as with a logger under pressure */
    } else {
        memcpy(buffer + used, msg, n);
        used += n;
        buffer[used++] = '\n';
    }
    if (pthread_mutex_unlock(&mutex) != 0)
        return -1;
    return write(wake[1], "w", 1) == 1 && !dropped ? 0 : -1;
}

int log_flusher_tid(void)
{
    return atomic_load(&flusher_tid);
}

int log_close(void)
{
    if (pthread_mutex_lock(&mutex) != 0)
        return -1;
    closing = 1;
    if (pthread_mutex_unlock(&mutex) != 0)
        return -1;
    if (write(wake[1], "c", 1) != 1 || pthread_join(flusher, NULL) != 0)
        return -1;
    return close(wake[0]) == 0 && close(wake[1]) == 0 ? 0 : -1;
}
