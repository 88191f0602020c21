#!/bin/sh
# Runs one test program under the shim with a fresh, private trace directory, then checks that
# the shim really recorded (at least N trace files) and, when asked, that `forksan report` reads
# every trace without damage.  Only the program gets LD_PRELOAD: this script and the analyzer
# run without it, so they neither write into the trace directory nor get traced themselves.
#
# usage: run_shim.sh SHIM TRACE_DIR MIN_TRACES FORKSAN|- PROGRAM [ARGS...]
set -u
if [ $# -lt 5 ]; then
    echo "usage: run_shim.sh SHIM TRACE_DIR MIN_TRACES FORKSAN|- PROGRAM [ARGS...]" >&2
    exit 2
fi
shim=$1 dir=$2 min=$3 forksan=$4
shift 4

rm -rf "$dir" || exit 1
mkdir -p "$(dirname "$dir")" || exit 1
mkdir -m 700 "$dir" || exit 1

env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$dir" "$@"
rc=$?
if [ $rc -ne 0 ]; then
    echo "run_shim: $1 exited with status $rc under the shim" >&2
    exit 1
fi

n=$(find "$dir" -maxdepth 1 -name '*.trace' | wc -l)
if [ "$n" -lt "$min" ]; then
    echo "run_shim: $n trace files in $dir, expected at least $min" >&2
    exit 1
fi
echo "# $n trace files in $dir"

if [ "$forksan" != - ]; then
    "$forksan" report --fail-on never --format json -o "$dir.json" "$dir"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "run_shim: forksan report exited with status $rc (65: damaged traces)" >&2
        exit 1
    fi
    echo "# forksan report read the traces: $dir.json"
fi
exit 0
