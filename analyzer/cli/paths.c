/* Where forksan's own files are.  The build tree mirrors the install tree (bin/, lib/forksan/,
 * libexec/forksan/cases, share/forksan/cases), so one rule relative to the running executable
 * finds the shim and the cases from either; compiled-in build paths are the fallback. */
#include "cli.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
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
    char *abs = fs_paths_absolute(tmp);
    if (!abs)
        return NULL;
    char *tmpl = fs_xasprintf("%s/forksan.XXXXXX", abs);
    free(abs);
    if (!mkdtemp(tmpl)) {
        int e = errno;
        free(tmpl);
        errno = e;
        return NULL;
    }
    return tmpl;
}

char *fs_paths_absolute(const char *path)
{
    if (path[0] == '/')
        return fs_xstrdup(path);
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    char *abs = fs_xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
    free(cwd);
    return abs;
}

int fs_paths_check_trace_dir(const char *dir, char *why, size_t size)
{
    struct stat st;
    if (lstat(dir, &st) < 0) {
        snprintf(why, size, "cannot use trace directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(why, size,
                 "trace directory %s is a symbolic link, which the shim never follows: give the "
                 "directory it points to, or a new path",
                 dir);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, size, "trace directory %s exists and is not a directory: give a new path",
                 dir);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, size,
                 "trace directory %s belongs to uid %u, not to you (uid %u): others could read "
                 "or replace the traces; give a new path, forksan creates it private",
                 dir, (unsigned)st.st_uid, (unsigned)geteuid());
        return -1;
    }
    if (st.st_mode & 0022) {
        snprintf(why, size,
                 "trace directory %s is writable by %s (mode %04o), so the shim would not write "
                 "into it: chmod go-w it (0700 is best), or give a new path",
                 dir, (st.st_mode & 0002) ? "others" : "its group",
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* The program's file as execvp would find it; NULL when not found. */
static char *find_program(const char *prog)
{
    if (strchr(prog, '/'))
        return fs_xstrdup(prog);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char *copy = fs_xstrdup(path), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char *cand = fs_xasprintf("%s/%s", *d ? d : ".", prog);
        if (access(cand, X_OK) == 0) {
            free(copy);
            return cand;
        }
        free(cand);
    }
    free(copy);
    return NULL;
}

/* 1 when the ELF file has no program interpreter (statically linked), 0 when it has one,
 * -1 when it is not a 64-bit ELF file we can read (a script: its interpreter decides). */
static int elf_is_static(const char *file)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    Elf64_Ehdr eh;
    int rc = -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pread(fd, &eh, sizeof eh, 0) == sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
        eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum < 256) {
        rc = 1;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) != sizeof ph) {
                rc = -1;
                break;
            }
            if (ph.p_type == PT_INTERP) {
                rc = 0;
                break;
            }
        }
    }
    close(fd);
    return rc;
}

void fs_paths_untraced_reason(const char *prog, char *why, size_t size)
{
    char *file = find_program(prog);
    struct stat st;
    if (file && stat(file, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
        snprintf(why, size,
                 "%s is set-user-ID or set-group-ID: the loader ignores LD_PRELOAD for it", file);
    else if (file && elf_is_static(file) == 1)
        snprintf(why, size, "%s is statically linked: LD_PRELOAD cannot reach it", file);
    else
        snprintf(why, size,
                 "%s and its children removed the shim (LD_PRELOAD cleared or replaced, "
                 "FORKSAN_FOLLOW_EXEC=0), or the shim could not write there",
                 prog);
    free(file);
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
                    strcmp(e->d_name, "limits") == 0 || /* the shim's fork counters */
                    strcmp(e->d_name, "exits") == 0;     /* its exit stamps (hooks_wait.c) */
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
