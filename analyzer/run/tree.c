/* Walking forksan's process tree through /proc.  A snapshot of every process's parent is taken,
 * then the descendants of a root are its transitive children in that snapshot; zombies are left
 * to waitpid. */
#include "tree.h"
#include "finding.h"

#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct proc_entry {
    pid_t pid, ppid;
    bool zombie;
};

static size_t snapshot(struct proc_entry **out)
{
    size_t n = 0, cap = 256;
    struct proc_entry *v = fs_xcalloc(cap, sizeof *v);
    DIR *d = opendir("/proc");
    if (!d) {
        *out = v;
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        /* The command name may contain spaces and parentheses: parse after the last ')'. */
        char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
            continue;
        if (n == cap)
            v = fs_xrealloc(v, cap *= 2, sizeof *v);
        v[n++] = (struct proc_entry){atoi(e->d_name), ppid, state == 'Z'};
    }
    closedir(d);
    *out = v;
    return n;
}

size_t fs_tree_descendants(pid_t root, pid_t *pids, size_t max)
{
    struct proc_entry *v;
    size_t n = snapshot(&v);
    pid_t *queue = fs_xcalloc(n + 1, sizeof *queue);
    size_t head = 0, tail = 0, found = 0;
    queue[tail++] = root;
    while (head < tail) {
        pid_t parent = queue[head++];
        for (size_t i = 0; i < n; i++) {
            if (v[i].ppid != parent || v[i].pid == root)
                continue;
            queue[tail++] = v[i].pid;
            v[i].ppid = -1; /* visit once */
            if (v[i].zombie)
                continue;
            if (found < max && pids)
                pids[found] = v[i].pid;
            found++;
        }
    }
    free(queue);
    free(v);
    return found;
}

bool fs_tree_has_descendants(pid_t root)
{
    return fs_tree_descendants(root, NULL, 0) > 0;
}

/* The parent of pid from /proc/<pid>/stat, or -1 when it cannot be read. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    char state;
    int ppid;
    if (!rp || sscanf(rp + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

bool fs_tree_contains(pid_t root, pid_t pid)
{
    /* Up the parent chain; a bounded walk, as pids are reused while we read. */
    for (int depth = 0; pid > 1 && depth < 4096; depth++) {
        if (pid == root)
            return true;
        pid = parent_of(pid);
    }
    return pid == root;
}

static void signal_all(pid_t root, int sig)
{
    pid_t pids[4096];
    size_t n = fs_tree_descendants(root, pids, 4096);
    for (size_t i = 0; i < n && i < 4096; i++)
        kill(pids[i], sig);
}

unsigned fs_tree_end(pid_t root, double grace)
{
    signal_all(root, SIGTERM);
    signal_all(root, SIGCONT); /* a stopped process cannot act on SIGTERM */
    struct timespec tick = {0, 20 * 1000 * 1000};
    /* Zombies do not count as descendants, so nothing is reaped here: the caller's waitpid
     * keeps the exit statuses. */
    for (double waited = 0; waited < grace; waited += 0.02) {
        if (!fs_tree_has_descendants(root))
            return 0;
        nanosleep(&tick, NULL);
    }
    unsigned killed = (unsigned)fs_tree_descendants(root, NULL, 0);
    for (int round = 0; round < 50 && fs_tree_has_descendants(root); round++) {
        signal_all(root, SIGKILL);
        nanosleep(&tick, NULL);
    }
    return killed;
}
