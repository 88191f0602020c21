/* Configuration: FORKSAN_* environment variables, read once at start-up (never on a hot path),
 * and the environment strings that exec must carry into the next image. */
#include "shim.h"
#include "linebuf.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* In the hot data's page (preload/hot.ld): its flags, first, are read at every fork. */
FS_HIDDEN struct fs_config fs_config
    __attribute__((section(".data.fs_hot.2"))) = {.follow_exec = 1, .lock_stack = 1};

extern char **environ;

void fs_complain(const char *msg)
{
    if (!fs_config.verbose)
        return;
    char buf[512];
    size_t n = fs_fmt_str(buf, sizeof buf, 0, "forksan: ");
    n = fs_fmt_str(buf, sizeof buf, n, msg);
    n = fs_fmt_str(buf, sizeof buf, n, "\n");
    if (n != (size_t)-1 && write(STDERR_FILENO, buf, n) < 0)
        return;
}

static long env_long(const char *name, long def, long min, long max)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < min || v > max) {
        fs_complain("ignoring a malformed FORKSAN_* number");
        return def;
    }
    return v;
}

static void save_env(const char *entry)
{
    size_t n = strlen(entry) + 1;
    if (fs_config.saved_env_len + n > sizeof fs_config.saved_env) {
        fs_complain("environment too large to carry across exec");
        return;
    }
    memcpy(fs_config.saved_env + fs_config.saved_env_len, entry, n);
    fs_config.saved_env_len += n;
}

/* Replaces the saved entry with the same name as `entry` (which must fit). */
static void replace_saved_env(const char *entry)
{
    size_t klen = strcspn(entry, "=") + 1;
    char *env = fs_config.saved_env;
    for (size_t off = 0; off < fs_config.saved_env_len;) {
        size_t len = strlen(env + off) + 1;
        if (strncmp(env + off, entry, klen) == 0) {
            memmove(env + off, env + off + len, fs_config.saved_env_len - off - len);
            fs_config.saved_env_len -= len;
            break;
        }
        off += len;
    }
    save_env(entry);
}

static const char *const policy_names[] = {
    [FS_ON_DEADLOCK_WAIT] = "wait",
    [FS_ON_DEADLOCK_FAIL] = "fail",
    [FS_ON_DEADLOCK_ABORT] = "abort",
};

const char *fs_deadlock_policy_name(int policy)
{
    if (policy < 0 || policy > FS_ON_DEADLOCK_ABORT)
        return "wait";
    return policy_names[policy];
}

static int env_policy(void)
{
    const char *s = getenv("FORKSAN_ON_DEADLOCK");
    if (!s || !*s)
        return FS_ON_DEADLOCK_WAIT;
    for (int i = 0; i <= FS_ON_DEADLOCK_ABORT; i++)
        if (strcmp(s, policy_names[i]) == 0)
            return i;
    fs_complain("FORKSAN_ON_DEADLOCK must be wait, fail or abort; using wait");
    return FS_ON_DEADLOCK_WAIT;
}

/* The trace directory as an absolute path without trailing slashes: a program that chdirs must
 * not move its children's traces, and "dir/" would make lstat follow a symlink named dir.  A
 * relative FORKSAN_TRACE_DIR is resolved once, in the first traced image, and the environment
 * entry replaced, so that every later image (they may start in another directory) gets the
 * same absolute path. */
static int trace_dir_absolute(const char *dir)
{
    char *out = fs_config.trace_dir;
    size_t cap = sizeof fs_config.trace_dir, n = 0;
    int relative = dir[0] != '/';
    if (relative) {
        if (!getcwd(out, cap))
            return -1;
        n = fs_fmt_str(out, cap, strlen(out), "/");
    }
    n = fs_fmt_str(out, cap, n, dir);
    if (n == (size_t)-1)
        return -1;
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
    if (!relative && n == strlen(dir))
        return 0;
    /* Replace the entry saved for exec and the one in environ; setenv copies. */
    setenv("FORKSAN_TRACE_DIR", out, 1);
    char entry[FS_PATH_MAX + 32];
    if (fs_fmt_str(entry, sizeof entry, fs_fmt_str(entry, sizeof entry, 0, "FORKSAN_TRACE_DIR="),
                   out) == (size_t)-1)
        return -1;
    replace_saved_env(entry);
    return 0;
}

static int parse_dir_id(const char *s)
{
    char *end;
    if (!s || !*s)
        return -1;
    fs_config.dir_dev = strtoull(s, &end, 16);
    if (*end != ':')
        return -1;
    fs_config.dir_ino = strtoull(end + 1, &end, 16);
    return *end ? -1 : 0;
}

void fs_config_set_dir_id(unsigned long long dev, unsigned long long ino)
{
    static const char hexdig[] = "0123456789abcdef";
    char entry[80] = "FORKSAN_TRACE_DIR_ID=";
    size_t n = strlen(entry);
    unsigned long long parts[2] = {dev, ino};
    for (int k = 0; k < 2; k++) {
        char tmp[20];
        size_t m = 0;
        do
            tmp[m++] = hexdig[parts[k] & 15];
        while ((parts[k] >>= 4) && m < sizeof tmp);
        while (m)
            entry[n++] = tmp[--m];
        entry[n++] = k == 0 ? ':' : '\0';
    }
    fs_config.dir_dev = dev;
    fs_config.dir_ino = ino;
    fs_config.have_dir_id = 1;
    setenv("FORKSAN_TRACE_DIR_ID", entry + strlen("FORKSAN_TRACE_DIR_ID="), 1);
    replace_saved_env(entry);
}

void fs_config_load(void)
{
    fs_config.verbose = (int)env_long("FORKSAN_VERBOSE", 0, 0, 1);
    fs_config.follow_exec = (int)env_long("FORKSAN_FOLLOW_EXEC", 1, 0, 1);
    fs_config.lock_stack = (int)env_long("FORKSAN_LOCK_STACK", 1, 1, FS_LOCK_STACK_MAX);
    fs_config.on_deadlock = env_policy();

    Dl_info info;
    if (dladdr((void *)&fs_config_load, &info) && info.dli_fname)
        fs_fmt_str(fs_config.self_path, sizeof fs_config.self_path, 0, info.dli_fname);

    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "FORKSAN_", 8) == 0 || strncmp(*e, "LD_PRELOAD=", 11) == 0)
            save_env(*e);

    const char *dir = getenv("FORKSAN_TRACE_DIR");
    if (!dir || !*dir)
        return;
    fs_config.have_dir_id = parse_dir_id(getenv("FORKSAN_TRACE_DIR_ID")) == 0;
    if (trace_dir_absolute(dir) < 0) {
        fs_complain("FORKSAN_TRACE_DIR is too long, or relative and the current directory "
                    "unknown; not recording");
        return;
    }
    fs_config.active = 1;
}
