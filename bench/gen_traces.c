/* forksan-gen-traces: writes a synthetic trace directory of N process traces, for measuring the
 * analyzer at scale (bench/README.md, "The analyzer at scale").  Not a test: timing is read by a
 * person from /usr/bin/time -v.
 *
 *   forksan-gen-traces DIR N [FANOUT]
 *
 * The tree is a root process and N-1 forked children, each process forking up to FANOUT of the
 * others in breadth-first order (FANOUT 0, the default: every child is the root's, as in a
 * prefork server that has forked N-1 workers over its life).  Every child inherited a mutex held
 * by a second parent thread (a lock-held-at-fork finding per child, merged by the report), and
 * every trace names the same dozen modules, as real traces of one program do.  Module paths
 * do not exist, so symbolization costs the lookups, not disk. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NMODS 12
#define BASE_PID 100000

static void put_mods(FILE *f)
{
    for (int m = 0; m < NMODS; m++) {
        unsigned long start = 0x7f0000000000UL + (unsigned long)m * 0x1000000UL;
        fprintf(f,
                "mod start=%lx end=%lx bias=%lx buildid=%040x "
                "path=/nonexistent/forksan-bench/lib%02d/libmodule-with-a-long-name.so.%d\n",
                start, start + 0x200000, start, m + 1, m, m);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: forksan-gen-traces DIR N [FANOUT]\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = strtol(argv[2], NULL, 10);
    long fanout = argc > 3 ? strtol(argv[3], NULL, 10) : 0;
    if (n < 1 || n > 10000000 || fanout < 0) {
        fprintf(stderr, "forksan-gen-traces: N from 1 to 10000000, FANOUT >= 0\n");
        return 2;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "forksan-gen-traces: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char path[4096];
    for (long i = 0; i < n; i++) {
        long pid = BASE_PID + i;
        long parent = i == 0 ? 0 : fanout ? BASE_PID + (i - 1) / fanout : BASE_PID;
        snprintf(path, sizeof path, "%s/%ld.0.trace", dir, pid);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "forksan-gen-traces: %s: %s\n", path, strerror(errno));
            return 1;
        }
        long t = 1000000 + i * 1000;
        fprintf(f, "forksan-trace version=1 pid=%ld\n", pid);
        fprintf(f,
                "proc pid=%ld ppid=%ld origin=%s image=0 time=%ld exe=/nonexistent/server "
                "comm=server cmdline=/nonexistent/server%%20--workers\n",
                pid, parent ? parent : 1, i ? "fork" : "start", t);
        put_mods(f);
        if (i) {
            /* The parent's fork counter: this child's rank among its siblings. */
            long seq = fanout ? (i - 1) % fanout + 1 : i;
            fprintf(f,
                    "child seq=%ld parent=%ld forker=%ld via=fork time=%ld "
                    "frames=7f0000001234,7f0001001234,7f0002001234\n",
                    seq, parent, parent, t);
            fprintf(f, "thread tid=%ld name=server forker=1 known=1 start=0 creator=0 site=0\n",
                    parent);
            fprintf(f,
                    "thread tid=%ld name=logger forker=0 known=1 start=7f0000001100 "
                    "creator=%ld site=7f0000001200\n",
                    parent + 5000000, parent);
            fprintf(f,
                    "held tid=%ld lock=7f0000104040 kind=mutex mode=excl count=1 "
                    "frames=7f0000001130 type=0\n",
                    parent + 5000000);
        }
        /* Parent side: one fork record per child this process made. */
        long first = fanout ? i * fanout + 1 : (i == 0 ? 1 : n);
        long last = fanout ? first + fanout : n;
        for (long c = first; c < last && c < n; c++)
            fprintf(f,
                    "fork seq=%ld child=%ld tid=%ld via=fork time=%ld "
                    "frames=7f0000001234,7f0001001234,7f0002001234\n",
                    fanout ? c - first + 1 : c, BASE_PID + c, pid, 1000000 + c * 1000);
        if (fclose(f) != 0) {
            fprintf(stderr, "forksan-gen-traces: %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
