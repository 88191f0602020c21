/* The records of the copied-state family (stream, streamend, end, zombie, refused, reaped, fd;
 * docs/trace-format.md) into the image that wrote them.  Kept apart from model.c, which owns
 * everything else. */
#include "model.h"
#include "finding.h"
#include "trace_format.h"
#include "trace_read.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void addrs(const struct fs_record *rec, const char *key, struct fs_addrs *out)
{
    uint64_t *pcs = NULL;
    long n = fs_rec_hexlist(rec, key, &pcs);
    out->pc = n > 0 ? pcs : NULL;
    out->n = n > 0 ? (size_t)n : 0;
    if (n <= 0)
        free(pcs);
}

static long dec_or(const struct fs_record *rec, const char *key, long dflt)
{
    int64_t v;
    return fs_rec_dec(rec, key, &v) == 0 ? (long)v : dflt;
}

static int add_stream(struct fs_image *img, const struct fs_record *rec)
{
    struct fs_stream_rec s = {0};
    const char *layer = fs_rec_str(rec, "layer");
    int64_t pending;
    if (!layer || fs_rec_hex(rec, "id", &s.id) < 0 || fs_rec_dec(rec, "pending", &pending) < 0)
        return -1;
    s.pending = (long)pending;
    s.fd = (int)dec_or(rec, "fd", -1);
    s.layer = fs_xstrdup(layer);
    s.buffering = fs_xstrdup(fs_rec_str(rec, "buffering") ? fs_rec_str(rec, "buffering") : "");
    const char *bytes = fs_rec_str(rec, "bytes");
    s.bytes = fs_xstrdup(bytes ? bytes : "");
    s.nbytes = strlen(s.bytes);
    s.target = fs_xstrdup(fs_rec_str(rec, "target") ? fs_rec_str(rec, "target") : "");
    img->streams = fs_xrealloc(img->streams, img->nstreams + 1, sizeof *img->streams);
    img->streams[img->nstreams++] = s;
    return 1;
}

static int add_fate(struct fs_image *img, const struct fs_record *rec)
{
    struct fs_stream_fate f = {0};
    const char *layer = fs_rec_str(rec, "layer");
    if (!layer || fs_rec_hex(rec, "id", &f.id) < 0)
        return -1;
    f.still = dec_or(rec, "still", 0) != 0;
    f.layer = fs_xstrdup(layer);
    /* A later record for the same stream (exec, then exit) supersedes the earlier one. */
    for (size_t i = 0; i < img->nfates; i++)
        if (img->fates[i].id == f.id && strcmp(img->fates[i].layer, f.layer) == 0) {
            free(img->fates[i].layer);
            img->fates[i] = f;
            return 1;
        }
    img->fates = fs_xrealloc(img->fates, img->nfates + 1, sizeof *img->fates);
    img->fates[img->nfates++] = f;
    return 1;
}

static void end_free(struct fs_end_rec *e)
{
    if (!e)
        return;
    free(e->how);
    free(e->sigchld);
    free(e->frames.pc);
    free(e->handlers.pc);
    free(e->hsites.pc);
    free(e->zombies);
    free(e);
}

static int add_end(struct fs_image *img, const struct fs_record *rec)
{
    const char *how = fs_rec_str(rec, "how");
    int64_t time;
    if (!how || fs_rec_dec(rec, "time", &time) < 0)
        return -1;
    /* An exec record only says what exec discarded; a real end replaces it, not the reverse. */
    if (img->end && strcmp(how, "exec") == 0 && strcmp(img->end->how, "exec") != 0)
        return 1;
    struct fs_end_rec *e = fs_xcalloc(1, sizeof *e);
    e->how = fs_xstrdup(how);
    e->time = time;
    e->forked = dec_or(rec, "forked", 0) != 0;
    const char *sigchld = fs_rec_str(rec, "sigchld");
    e->sigchld = fs_xstrdup(sigchld ? sigchld : "unknown");
    addrs(rec, "frames", &e->frames);
    addrs(rec, "handlers", &e->handlers);
    addrs(rec, "hsites", &e->hsites);
    e->pyatexit = dec_or(rec, "pyatexit", 0);
    /* The zombies are written before the `end` record they belong to (end comes last). */
    if (img->end) {
        e->zombies = img->end->zombies;
        e->nzombies = img->end->nzombies;
        img->end->zombies = NULL;
    }
    end_free(img->end);
    img->end = e;
    return 1;
}

static int add_zombie(struct fs_image *img, const struct fs_record *rec)
{
    long pid = dec_or(rec, "pid", -1);
    if (pid <= 0)
        return -1;
    if (!img->end) { /* held until the `end` record that follows; "" if the file is cut */
        img->end = fs_xcalloc(1, sizeof *img->end);
        img->end->how = fs_xstrdup("");
        img->end->sigchld = fs_xstrdup("unknown");
    }
    struct fs_end_rec *e = img->end;
    e->zombies = fs_xrealloc(e->zombies, e->nzombies + 1, sizeof *e->zombies);
    e->zombies[e->nzombies++] = (int)pid;
    return 1;
}

static int add_refused(struct fs_image *img, const struct fs_record *rec)
{
    const char *limit = fs_rec_str(rec, "limit");
    if (!limit)
        return -1;
    struct fs_refused r = {0};
    r.limit = fs_xstrdup(limit);
    r.max = dec_or(rec, "max", 0);
    r.alive = dec_or(rec, "alive", 0);
    r.forks = dec_or(rec, "forks", 0);
    r.time = dec_or(rec, "time", 0);
    addrs(rec, "frames", &r.frames);
    img->refused = fs_xrealloc(img->refused, img->nrefused + 1, sizeof *img->refused);
    img->refused[img->nrefused++] = r;
    return 1;
}

static int add_reaped(struct fs_image *img, const struct fs_record *rec)
{
    struct fs_late_reap r = {0};
    r.pid = (int)dec_or(rec, "pid", -1);
    r.zombie_ns = dec_or(rec, "zombie", -1);
    r.threshold_ns = dec_or(rec, "threshold", 0);
    r.time = dec_or(rec, "time", 0);
    if (r.pid <= 0 || r.zombie_ns < 0)
        return -1;
    img->late_reaps = fs_xrealloc(img->late_reaps, img->nlate_reaps + 1, sizeof *img->late_reaps);
    img->late_reaps[img->nlate_reaps++] = r;
    return 1;
}

static int add_killed(struct fs_image *img, const struct fs_record *rec)
{
    long pid = dec_or(rec, "pid", -1);
    if (pid <= 0 || pid > INT_MAX)
        return -1;
    img->killed = fs_xrealloc(img->killed, img->nkilled + 1, sizeof *img->killed);
    img->killed[img->nkilled++] = (int)pid;
    return 1;
}

static int add_fd(struct fs_image *img, const struct fs_record *rec)
{
    long fd = dec_or(rec, "fd", -1);
    if (fd < 0)
        return -1;
    const char *target = fs_rec_str(rec, "target");
    img->fds = fs_xrealloc(img->fds, img->nfds + 1, sizeof *img->fds);
    img->fds[img->nfds++] = (struct fs_fd_rec){(int)fd, fs_xstrdup(target ? target : "")};
    return 1;
}

int fs_model_copied_record(struct fs_image *img, const struct fs_record *rec)
{
    const char *tag = rec->tag;
    if (strcmp(tag, FS_REC_STREAM) == 0)
        return add_stream(img, rec);
    if (strcmp(tag, FS_REC_STREAMEND) == 0)
        return add_fate(img, rec);
    if (strcmp(tag, FS_REC_END) == 0)
        return add_end(img, rec);
    if (strcmp(tag, FS_REC_ZOMBIE) == 0)
        return add_zombie(img, rec);
    if (strcmp(tag, FS_REC_REFUSED) == 0)
        return add_refused(img, rec);
    if (strcmp(tag, FS_REC_FD) == 0)
        return add_fd(img, rec);
    if (strcmp(tag, FS_REC_REAPED) == 0)
        return add_reaped(img, rec);
    if (strcmp(tag, FS_REC_KILLED) == 0)
        return add_killed(img, rec);
    return 0;
}

void fs_model_copied_release(struct fs_image *img)
{
    for (size_t i = 0; i < img->nstreams; i++) {
        free(img->streams[i].layer);
        free(img->streams[i].buffering);
        free(img->streams[i].bytes);
        free(img->streams[i].target);
    }
    free(img->streams);
    for (size_t i = 0; i < img->nfates; i++)
        free(img->fates[i].layer);
    free(img->fates);
    end_free(img->end);
    for (size_t i = 0; i < img->nrefused; i++) {
        free(img->refused[i].limit);
        free(img->refused[i].frames.pc);
    }
    free(img->refused);
    free(img->late_reaps);
    free(img->killed);
    for (size_t i = 0; i < img->nfds; i++)
        free(img->fds[i].target);
    free(img->fds);
}
