/* Where forksan's own files are.  The build tree mirrors the install tree (bin/, lib/forksan/,
 * libexec/forksan/cases, share/forksan/cases), so one rule relative to the running executable
 * finds the shim and the cases from either; compiled-in build paths are the fallback. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *exe_dir(void)
{
    static char dir[PATH_MAX];
    if (!dir[0]) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n <= 0)
            return NULL;
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    return dir;
}

static bool set_path(char *buf, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap)
        return false;
    memcpy(buf, s, n + 1);
    return true;
}

/* exe_dir/rel if it exists, else fallback if that exists; the result is static per caller. */
static const char *locate(char *buf, size_t cap, const char *env, const char *rel,
                          const char *fallback, bool want_dir)
{
    struct stat st;
    const char *e = env ? getenv(env) : NULL;
    if (e && *e)
        return set_path(buf, cap, e) ? buf : NULL;
    const char *dir = exe_dir();
    if (dir) {
        if ((size_t)snprintf(buf, cap, "%s/%s", dir, rel) >= cap)
            return NULL;
        char resolved[PATH_MAX];
        if (stat(buf, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))) {
            if (realpath(buf, resolved))
                set_path(buf, cap, resolved);
            return buf;
        }
    }
    if (stat(fallback, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
        return set_path(buf, cap, fallback) ? buf : NULL;
    return NULL;
}

const char *fs_paths_shim(void)
{
    static char buf[PATH_MAX];
    return locate(buf, sizeof buf, "FORKSAN_LIB", FORKSAN_REL_LIB, FORKSAN_BUILD_LIB, false);
}

const char *fs_paths_cases_bin(void)
{
    static char buf[PATH_MAX];
    return locate(buf, sizeof buf, NULL, FORKSAN_REL_CASES_BIN, FORKSAN_BUILD_CASES_BIN, true);
}

const char *fs_paths_cases_src(void)
{
    static char buf[PATH_MAX];
    return locate(buf, sizeof buf, "FORKSAN_CASES_DIR", FORKSAN_REL_CASES_SRC,
                  FORKSAN_BUILD_CASES_SRC, true);
}

char *fs_paths_make_trace_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char *tmpl = fs_xasprintf("%s/forksan.XXXXXX", tmp);
    if (!mkdtemp(tmpl)) {
        int e = errno;
        free(tmpl);
        errno = e;
        return NULL;
    }
    return tmpl;
}

/* Only what forksan and the shim put there: traces, hang captures and case logs. */
void fs_paths_remove_trace_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        bool ours = (n > 6 && strcmp(e->d_name + n - 6, ".trace") == 0) ||
                    (n > 5 && strcmp(e->d_name + n - 5, ".hang") == 0) ||
                    (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0) ||
                    strcmp(e->d_name, "limits") == 0; /* the shim's fork counters */
        struct stat st;
        /* "<pid>.d": a dropped process's directory for its descendants' traces (one level). */
        if (n > 2 && strcmp(e->d_name + n - 2, ".d") == 0 &&
            fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
            char *sub = fs_xasprintf("%s/%s", dir, e->d_name);
            fs_paths_remove_trace_dir(sub);
            free(sub);
        } else if (ours) {
            unlinkat(dirfd(d), e->d_name, 0);
        }
    }
    closedir(d);
    rmdir(dir);
}
