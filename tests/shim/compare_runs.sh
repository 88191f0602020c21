#!/bin/sh
# Runs a test program natively and under the shim and compares the lines it marks as having to be
# identical ("= " lines): the shim must not change them.
#
# usage: compare_runs.sh SHIM TRACE_DIR PROGRAM [ARGS...]
# SHIM is the whole LD_PRELOAD of the second run; NATIVE_PRELOAD, when set, is the LD_PRELOAD of
# the first (another library preloaded in both runs).
set -u
if [ $# -lt 3 ]; then
    echo "usage: compare_runs.sh SHIM TRACE_DIR PROGRAM [ARGS...]" >&2
    exit 2
fi
shim=$1 dir=$2
shift 2
rm -rf "$dir" || exit 1
mkdir -p "$dir" || exit 1
if [ -n "${NATIVE_PRELOAD:-}" ]; then
    env LD_PRELOAD="$NATIVE_PRELOAD" "$@" >"$dir/native.out" 2>&1
else
    "$@" >"$dir/native.out" 2>&1
fi
env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$dir" "$@" >"$dir/shim.out" 2>&1
grep '^= ' "$dir/native.out" >"$dir/native.exact"
grep '^= ' "$dir/shim.out" >"$dir/shim.exact"
n=$(wc -l <"$dir/native.exact")
if [ "$n" -eq 0 ]; then
    echo "not ok - the native run printed no '= ' line" >&2
    exit 1
fi
if ! diff -u "$dir/native.exact" "$dir/shim.exact"; then
    echo "not ok - the shim changed what the lines above say (-native +shim)"
    exit 1
fi
echo "ok - $n results identical natively and under the shim"
