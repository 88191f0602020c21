#!/bin/sh
# Runs shim_modmap_dlopen under the shim and checks the parent's trace: besides start-up's module
# map, the map must have been written again once naming LIBRARY1 and once naming LIBRARY2 (each
# loaded with dlopen after start-up, then a fork).
#
# usage: modmap_dlopen.sh SHIM TRACE_DIR PROGRAM LIBRARY1 LIBRARY2
set -u
if [ $# -ne 5 ]; then
    echo "usage: modmap_dlopen.sh SHIM TRACE_DIR PROGRAM LIBRARY1 LIBRARY2" >&2
    exit 2
fi
shim=$1 dir=$2 prog=$3 lib1=$4 lib2=$5
rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mkdir -m 700 "$dir" || exit 1
env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$dir" "$prog" "$lib1" "$lib2" || {
    echo "not ok - shim_modmap_dlopen failed under the shim"
    exit 1
}
# The parent's trace: the one with fork records.
trace=$(grep -l -a '^fork ' "$dir"/*.trace 2>/dev/null | head -n 1)
if [ -z "$trace" ]; then
    echo "not ok - no trace with a fork record in $dir"
    exit 1
fi
# Module maps are runs of consecutive `mod` records.
awk -v a="$(basename "$lib1")" -v b="$(basename "$lib2")" '
    /^mod / { if (!inmap) { maps++; inmap = 1 } if (index($0, a)) na++; if (index($0, b)) nb++; next }
    { inmap = 0 }
    END {
        if (na < 1 || nb < 1) {
            printf "not ok - module maps: %d, naming %s: %d, naming %s: %d\n", maps, a, na, b, nb
            exit 1
        }
        printf "ok - %d module maps, the dlopened libraries named in %d and %d records\n", maps, na, nb
    }' "$trace"
