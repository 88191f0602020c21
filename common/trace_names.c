/* Names of the trace vocabulary's enums, one table each, shared by writer and reader. */
#include "trace_format.h"

#include <string.h>

static const char *const kind_names[FS_LOCK_KIND_MAX] = {
    [FS_LOCK_MUTEX] = "mutex", [FS_LOCK_RWLOCK] = "rwlock", [FS_LOCK_SPIN] = "spin",
    [FS_LOCK_SEM] = "sem",     [FS_LOCK_MTX] = "mtx",
};

static const char *const mode_names[FS_MODE_MAX] = {
    [FS_MODE_EXCL] = "excl",
    [FS_MODE_READ] = "read",
    [FS_MODE_WRITE] = "write",
};

static const char *const via_names[FS_VIA_MAX] = {
    [FS_VIA_FORK] = "fork",
    [FS_VIA_UFORK] = "_Fork",
    [FS_VIA_ATFORK] = "atfork",
};

static const char *name_of(const char *const *table, int n, int value)
{
    if (value <= 0 || value >= n || !table[value])
        return "unknown";
    return table[value];
}

static int value_of(const char *const *table, int n, const char *name)
{
    for (int i = 1; i < n; i++)
        if (table[i] && strcmp(table[i], name) == 0)
            return i;
    return 0;
}

const char *fs_lock_kind_name(int kind)
{
    return name_of(kind_names, FS_LOCK_KIND_MAX, kind);
}

const char *fs_lock_mode_name(int mode)
{
    return name_of(mode_names, FS_MODE_MAX, mode);
}

const char *fs_fork_via_name(int via)
{
    return name_of(via_names, FS_VIA_MAX, via);
}

int fs_lock_kind_from_name(const char *name)
{
    return value_of(kind_names, FS_LOCK_KIND_MAX, name);
}

int fs_lock_mode_from_name(const char *name)
{
    return value_of(mode_names, FS_MODE_MAX, name);
}

int fs_fork_via_from_name(const char *name)
{
    return value_of(via_names, FS_VIA_MAX, name);
}
