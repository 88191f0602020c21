/* The trace-directory watcher (deadwatch.h): inotify on the directory, a table of how far each
 * trace file has been read, and a scan of the appended complete lines for `deadlock` records,
 * parsed with the trace reader so that escaping is handled in one place. */
#include "deadwatch.h"
#include "diag.h"
#include "finding.h"
#include "hang.h"
#include "textsafe.h"
#include "trace_format.h"
#include "trace_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A blocking call on an inherited lock seen in a trace. */
struct event {
    pid_t pid;
    int image;      /* the <n> of the trace file */
    char call[64];  /* the function called, control bytes replaced by '?' */
    char kind[32];  /* mutex, rwlock, sem, spin, ... */
    int holder;     /* the parent thread that held the lock at fork */
    bool blocks;    /* not a try/timed variant: the call waits forever */
    char policy[8]; /* what the shim did: wait, fail or abort */
};

/* A child announced, and under --on-deadlock end, due to be ended. */
struct pending {
    pid_t pid;
    int image;
    unsigned long long start; /* /proc starttime: the same process, not a reused pid */
    double due;               /* CLOCK_MONOTONIC seconds; 0 once handled */
};

struct seen {
    char *name; /* NULL: empty slot */
    off_t offset;
};

struct fs_deadwatch {
    bool end;
    double started;
    struct pending *pending;
    size_t npending;
    unsigned ended;
    int fd;
    int dir_fd;
    char *dir;
    struct seen *slots; /* open addressing, capacity a power of two */
    size_t cap, n;
};

static size_t hash(const char *s)
{
    size_t h = 5381;
    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

static struct seen *lookup(struct fs_deadwatch *w, const char *name, bool *created)
{
    if ((w->n + 1) * 2 > w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 256;
        struct seen *ns = fs_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < w->cap; i++) {
            if (!w->slots[i].name)
                continue;
            size_t k = hash(w->slots[i].name) & (ncap - 1);
            while (ns[k].name)
                k = (k + 1) & (ncap - 1);
            ns[k] = w->slots[i];
        }
        free(w->slots);
        w->slots = ns;
        w->cap = ncap;
    }
    size_t k = hash(name) & (w->cap - 1);
    while (w->slots[k].name) {
        if (strcmp(w->slots[k].name, name) == 0) {
            *created = false;
            return &w->slots[k];
        }
        k = (k + 1) & (w->cap - 1);
    }
    w->slots[k].name = fs_xstrdup(name);
    w->slots[k].offset = 0;
    w->n++;
    *created = true;
    return &w->slots[k];
}

/* "<pid>.<n>.trace" -> pid, n; -1 for anything else (hang files, strays). */
static int parse_name(const char *name, pid_t *pid, int *image)
{
    char *end;
    errno = 0;
    long p = strtol(name, &end, 10);
    if (errno || p <= 0 || p > INT_MAX || *end != '.')
        return -1;
    long n = strtol(end + 1, &end, 10);
    if (errno || n < 0 || n > INT_MAX || strcmp(end, ".trace") != 0)
        return -1;
    *pid = (pid_t)p;
    *image = (int)n;
    return 0;
}

/* These go to a terminal at once: control bytes from the trace must not reach it. */
static void copy_field(char *dst, size_t len, const struct fs_record *rec, const char *key)
{
    const char *v = fs_rec_str(rec, key);
    snprintf(dst, len, "%s", v ? v : "");
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* One complete `deadlock` line, parsed with the trace reader behind a synthetic header. */
static void on_deadlock(struct fs_deadwatch *w, const struct event *ev);

static void parse_line(struct fs_deadwatch *w, const char *line, size_t len, pid_t pid, int image)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *fp = open_memstream(&text, &tlen);
    if (!fp)
        return;
    fprintf(fp, "%s version=%d pid=%d\n", FS_TRACE_MAGIC, FS_TRACE_VERSION, (int)pid);
    fwrite(line, 1, len, fp);
    if (fclose(fp) != 0 || !text) {
        free(text);
        return;
    }
    struct fs_trace_file tf;
    if (fs_trace_parse(text, tlen, "live", &tf) == 0) {
        for (size_t i = 0; i < tf.nrecs; i++) {
            const struct fs_record *rec = &tf.recs[i];
            if (strcmp(rec->tag, FS_REC_DEADLOCK) != 0)
                continue;
            struct event ev = {.pid = pid, .image = image};
            int64_t v;
            copy_field(ev.call, sizeof ev.call, rec, "call");
            copy_field(ev.kind, sizeof ev.kind, rec, "kind");
            copy_field(ev.policy, sizeof ev.policy, rec, "policy");
            ev.holder = fs_rec_dec(rec, "holder", &v) == 0 ? (int)v : 0;
            ev.blocks = !(fs_rec_dec(rec, "try", &v) == 0 && v != 0);
            on_deadlock(w, &ev);
        }
        fs_trace_release(&tf);
    }
    free(text);
}

static void on_image(struct fs_deadwatch *w, pid_t pid, int image);

static void scan_file(struct fs_deadwatch *w, const char *name)
{
    pid_t pid;
    int image;
    if (parse_name(name, &pid, &image) < 0)
        return;
    bool created;
    struct seen *s = lookup(w, name, &created);
    if (created)
        on_image(w, pid, image);
    int fd = openat(w->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= s->offset) {
        close(fd);
        return;
    }
    size_t want = (size_t)(st.st_size - s->offset);
    char *buf = fs_xcalloc(want + 1, 1);
    ssize_t got = pread(fd, buf, want, s->offset);
    close(fd);
    if (got <= 0) {
        free(buf);
        return;
    }
    /* Only complete lines: a record being written is read again next time, whole. */
    size_t done = 0;
    for (size_t i = 0; i < (size_t)got; i++) {
        if (buf[i] != '\n')
            continue;
        const char *line = buf + done;
        size_t len = i + 1 - done;
        size_t tag = strlen(FS_REC_DEADLOCK);
        if (len > tag && strncmp(line, FS_REC_DEADLOCK, tag) == 0 && line[tag] == ' ')
            parse_line(w, line, len, pid, image);
        done = i + 1;
    }
    s->offset += (off_t)done;
    free(buf);
}

static void rescan(struct fs_deadwatch *w);

struct fs_deadwatch *fs_deadwatch_open(const char *trace_dir, bool end, double started)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        fs_warn("cannot watch the traces (%s): deadlocked children are not announced or ended",
                strerror(errno));
        return NULL;
    }
    if (inotify_add_watch(fd, trace_dir, IN_MODIFY | IN_CREATE | IN_CLOSE_WRITE) < 0) {
        fs_warn("cannot watch %s (%s): deadlocked children are not announced or ended", trace_dir,
                strerror(errno));
        close(fd);
        return NULL;
    }
    int dir_fd = open(trace_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        fs_warn("cannot open %s (%s): deadlocked children are not announced or ended", trace_dir,
                strerror(errno));
        close(fd);
        return NULL;
    }
    struct fs_deadwatch *w = fs_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->dir_fd = dir_fd;
    w->dir = fs_xstrdup(trace_dir);
    w->end = end;
    w->started = started;
    /* The program runs already: what it wrote before the watch existed raised no event. */
    rescan(w);
    return w;
}

int fs_deadwatch_fd(const struct fs_deadwatch *w)
{
    return w ? w->fd : -1;
}

/* After an overflowed event queue: every file, from where it was left. */
static void rescan(struct fs_deadwatch *w)
{
    DIR *d = opendir(w->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        scan_file(w, e->d_name);
    closedir(d);
}

static void read_events(struct fs_deadwatch *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    bool overflow = false;
    for (;;) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            if (ev->mask & IN_Q_OVERFLOW)
                overflow = true;
            else if (ev->len && !overflow)
                scan_file(w, ev->name);
            p += sizeof *ev + ev->len;
        }
    }
    if (overflow)
        rescan(w);
}

void fs_deadwatch_close(struct fs_deadwatch *w)
{
    if (!w)
        return;
    close(w->fd);
    close(w->dir_fd);
    for (size_t i = 0; i < w->cap; i++)
        free(w->slots[i].name);
    free(w->slots);
    free(w->pending);
    free(w->dir);
    free(w);
}

/* ---- the policy: announce, then end what can never go on -------------------------------- */

/* Field 22 of /proc/PID/stat (after the parenthesised comm, which may hold spaces), and the
 * state letter; 0 when the process is gone. */
static unsigned long long proc_start(pid_t pid, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    *state = p[2];
    p += 2;
    /* Fields from 3 (state) on; starttime is field 22. */
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

static void proc_comm(pid_t pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, len - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '\n')
            *p = '\0';
        else if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

static struct pending *pending_of(struct fs_deadwatch *w, pid_t pid)
{
    for (size_t i = 0; i < w->npending; i++)
        if (w->pending[i].pid == pid)
            return &w->pending[i];
    return NULL;
}

static void on_image(struct fs_deadwatch *w, pid_t pid, int image)
{
    /* An exec dropped the inherited locks: the blocked call is gone with the old image. */
    struct pending *p = pending_of(w, pid);
    if (p && image > p->image)
        p->due = 0;
}

static void on_deadlock(struct fs_deadwatch *w, const struct event *ev)
{
    if (!ev->blocks)
        return; /* a try or timed variant fails by itself; the report tells of it */
    struct pending *p = pending_of(w, ev->pid);
    if (p && p->image == ev->image)
        return; /* announced already (the shim writes up to 8 records per lock) */
    char state = '?';
    unsigned long long start = proc_start(ev->pid, &state);
    char comm[64];
    proc_comm(ev->pid, comm, sizeof comm);
    /* Names from the traced program: escaped for the terminal (textsafe.h). */
    char *scomm = fs_safe_dup(*comm ? comm : "?");
    char *scall = fs_safe_dup(*ev->call ? ev->call : "a lock function");
    char *skind = fs_safe_dup(*ev->kind ? ev->kind : "lock");
    fs_warn("child-deadlock: process %d (%s) blocked in %s on a %s that thread %d held when its "
            "parent forked; nobody in the child can release it",
            (int)ev->pid, scomm, scall, skind, ev->holder);
    free(scomm);
    free(scall);
    free(skind);
    const char *next;
    if (strcmp(ev->policy, "abort") == 0)
        next = "the shim aborts the child (--on-deadlock abort)";
    else if (strcmp(ev->policy, "fail") == 0)
        next = "the call returns an error instead (--on-deadlock fail)";
    else if (w->end)
        next = "forksan ends the child in 1 s if it is still blocked (--on-deadlock wait lets "
               "it block)";
    else
        next = "the child waits forever (--on-deadlock wait)";
    fs_warn("  hint: release the lock in the child through pthread_atfork, or exec or _exit right "
            "after fork; %s",
            next);
    if (!p) {
        w->pending = fs_xrealloc(w->pending, w->npending + 1, sizeof *w->pending);
        p = &w->pending[w->npending++];
    }
    p->pid = ev->pid;
    p->image = ev->image;
    p->start = start;
    p->due = 0;
    if (w->end && start && strcmp(ev->policy, "wait") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        p->due = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + FS_DEADLOCK_GRACE;
    }
}

/* Still blocked: the same process, alive, and (when the kernel says) a thread asleep in a futex
 * wait, which is where every blocking lock call of glibc ends up. */
static bool still_blocked(const struct pending *p)
{
    char state = '?';
    if (proc_start(p->pid, &state) != p->start || state == 'Z' || state == 'X')
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)p->pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    bool futex = false, known = false;
    struct dirent *e;
    while ((e = readdir(d)) && !futex) {
        if (e->d_name[0] == '.')
            continue;
        char wpath[320], wchan[128];
        snprintf(wpath, sizeof wpath, "/proc/%d/task/%s/wchan", (int)p->pid, e->d_name);
        int fd = open(wpath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, wchan, sizeof wchan - 1);
        close(fd);
        if (n <= 0)
            continue;
        wchan[n] = '\0';
        if (strcmp(wchan, "0") == 0)
            continue; /* hidden (kptr_restrict) or running */
        known = true;
        futex = strstr(wchan, "futex") != NULL;
    }
    closedir(d);
    return futex || !known;
}

unsigned fs_deadwatch_service(struct fs_deadwatch *w, double now)
{
    if (!w)
        return 0;
    read_events(w);
    unsigned ended = 0;
    for (size_t i = 0; i < w->npending; i++) {
        struct pending *p = &w->pending[i];
        if (!p->due || p->due > now)
            continue;
        p->due = 0;
        if (!still_blocked(p))
            continue;
        /* The evidence first: once killed, the stacks are gone. */
        char comm[64];
        proc_comm(p->pid, comm, sizeof comm);
        (void)fs_hang_capture_ended(p->pid, w->dir, now - w->started, "deadlock");
        if (kill(p->pid, SIGKILL) == 0) {
            char *scomm = fs_safe_dup(*comm ? comm : "?");
            fs_warn("ended process %d (%s): blocked on an inherited lock for %g s", (int)p->pid,
                    scomm, FS_DEADLOCK_GRACE);
            free(scomm);
            ended++;
        }
    }
    w->ended += ended;
    return ended;
}

double fs_deadwatch_next(const struct fs_deadwatch *w, double now)
{
    double next = -1;
    for (size_t i = 0; w && i < w->npending; i++) {
        double left = w->pending[i].due - now;
        if (!w->pending[i].due)
            continue;
        if (left < 0)
            left = 0;
        if (next < 0 || left < next)
            next = left;
    }
    return next;
}
