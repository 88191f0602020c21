/* forksan case: the child's first log line deadlocks inside a logging library
 * on-deadlock: abort
 * expect: lock-held-at-fork warning acquire=logger_lib.c@flush fork=@fork
 * expect: threads-at-fork warning
 * expect: child-deadlock error child=logger_lib.c@lock acquire=logger_lib.c@flush
 */

/*
 * How the hazard reaches real programs: through a library.  The program only calls log_write();
 * the logger (logger_lib.c, built as libcase_logger.so) has a flusher thread that holds its
 * internal mutex while it writes to the log's pipe.  Main fills that pipe before logging, so the
 * flusher blocks in write() holding the mutex, and main forks only once /proc shows the flusher in
 * that write: the mutex is held at fork on every run.  The child's first log_write() then blocks
 * inside the library on a mutex that no thread of the child will ever release.  forksan records it
 * there, so the child's stack points into logger_lib.c, and the abort policy ends the child with
 * SIGABRT, which main checks for.  Main then drains the pipe, which lets the flusher finish, and
 * closes the logger.
 */
#include <fcntl.h>
#include <sys/syscall.h>

#include "case_util.h"
#include "logger_lib.h"

static const char parent_line[] = "parent: starting a worker";

/* Fills the pipe to the last byte, so the next write to it blocks; returns the bytes written. */
static size_t fill_pipe(int fd)
{
    static const char chunk[4096];
    size_t total = 0;
    int flags = fcntl(fd, F_GETFL);

    CASE_SYS(flags);
    CASE_SYS(fcntl(fd, F_SETFL, flags | O_NONBLOCK));
    for (size_t size = sizeof chunk; size > 0; size /= 2) {
        ssize_t got;

        while ((got = write(fd, chunk, size)) > 0)
            total += (size_t)got;
        CASE_TRUE(got == -1 && errno == EAGAIN);
    }
    CASE_SYS(fcntl(fd, F_SETFL, flags));
    return total;
}

/* Returns once thread tid is blocked in write(fd, ...), as /proc/self/task/TID/syscall shows. */
static void wait_in_write(int fd)
{
    const struct timespec tick = {0, 1000000L};

    for (int waited_ms = 0; waited_ms < CASE_CHILD_WAIT_MS; waited_ms++) {
        int tid = log_flusher_tid();
        char path[64], text[256];
        long nr = -1;
        unsigned long arg0 = 0;

        if (tid != 0) {
            snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
            FILE *f = fopen(path, "r");
            CASE_TRUE(f != NULL);
            size_t n = fread(text, 1, sizeof text - 1, f);
            CASE_TRUE(fclose(f) == 0);
            text[n] = '\0';
            if (sscanf(text, "%ld %lx", &nr, &arg0) == 2 && nr == SYS_write &&
                arg0 == (unsigned long)fd)
                return;
        }
        nanosleep(&tick, NULL);
    }
    case_die(__FILE__, __LINE__, "the flusher never blocked in write", 0);
}

/* Reads n bytes from fd into buf, or discards them when buf is NULL. */
static void read_exactly(int fd, char *buf, size_t n)
{
    char scratch[4096];

    while (n > 0) {
        size_t want = buf ? n : n < sizeof scratch ? n : sizeof scratch;
        ssize_t got = read(fd, buf ? buf : scratch, want);

        CASE_SYS(got);
        CASE_TRUE(got > 0);
        n -= (size_t)got;
        if (buf)
            buf += got;
    }
}

int main(void)
{
    int out[2];
    pid_t pid;
    size_t filled;
    char line[sizeof parent_line]; /* the line and its newline */

    case_watchdog();
    CASE_SYS(pipe(out));
    filled = fill_pipe(out[1]);
    CASE_TRUE(log_open(out[1]) == 0);
    CASE_TRUE(log_write(parent_line) == 0);
    wait_in_write(out[1]);

    pid = fork(); // @fork
    CASE_SYS(pid);
    if (pid == 0) {
        alarm(CASE_CHILD_WATCHDOG_SECONDS);
        log_write("child: worker started");
        _exit(1); /* only reached if the logger's mutex was not inherited locked */
    }
    case_wait_child_aborted(pid);

    /* The filler, then the parent's line, which the flusher can write once there is room. */
    read_exactly(out[0], NULL, filled);
    read_exactly(out[0], line, sizeof line);
    CASE_TRUE(memcmp(line, parent_line, sizeof line - 1) == 0 && line[sizeof line - 1] == '\n');
    CASE_TRUE(log_close() == 0);
    return 0;
}
