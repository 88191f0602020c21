#!/bin/sh
# Runs shim_settle_tid under the shim.  Each worker's child (a grandchild of main) writes a
# snapshot whose `child` record must name the worker's own thread as the forker (its tid is the
# worker's pid), and the second worker's thread record must name the worker as its creator.
#
# usage: settle_tid.sh SHIM TRACE_DIR PROGRAM
set -u
if [ $# -ne 3 ]; then
    echo "usage: settle_tid.sh SHIM TRACE_DIR PROGRAM" >&2
    exit 2
fi
shim=$1 dir=$2 prog=$3
rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mkdir -m 700 "$dir" || exit 1
out=$(env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$dir" "$prog") || {
    echo "not ok - shim_settle_tid failed under the shim"
    exit 1
}
set -- $out
fail=0
for w in "$1" "$2"; do
    rec=$(grep -a -h "^child .* parent=$w " "$dir"/*.trace | head -n 1)
    forker=$(printf '%s\n' "$rec" | sed -n 's/.* forker=\([0-9]*\).*/\1/p')
    if [ "$forker" != "$w" ]; then
        echo "not ok - worker $w's child names forker=${forker:-none}, expected $w"
        fail=1
    fi
done
# The second worker's child lists the worker's idle thread, created by the worker.
if ! grep -a -h "^thread .* forker=0 .* creator=$2 " "$dir"/*.trace >/dev/null; then
    echo "not ok - no thread record with creator=$2 (the second worker's thread)"
    fail=1
fi
[ $fail -eq 0 ] && echo "ok - both workers' children name the worker's own thread; the creator is right"
exit $fail
