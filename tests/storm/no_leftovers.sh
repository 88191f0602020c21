#!/bin/bash
# A fork storm under `forksan run` ends by itself, is reported, and leaves no process behind: the
# number of processes returns to where it was.  The machine is shared, so the count is taken in a
# PID namespace of the test's own when it can make one (unshare; root or user namespaces), where
# nothing else runs; otherwise the test counts the processes that carry its unique marker
# argument, which only the storm's processes have.
#
# usage: no_leftovers.sh FORKSAN CASES_BIN_DIR
set -u
if [ $# -ne 2 ]; then
    echo "usage: no_leftovers.sh FORKSAN CASES_BIN_DIR" >&2
    exit 2
fi
forksan=$1 bin=$2
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT

# Sets $nprocs without forking (a glob in this shell): a count taken through a pipeline would
# count the pipeline's own processes, which may or may not have started yet.
count_procs() {
    local p=(/proc/[0-9]*)
    nprocs=${#p[@]}
}

check() {
    # $1: how processes are counted, $2: the count before
    local before=$2 status after
    "$forksan" run --max-processes 16 --format json -o "$out" -- "$bin/fork_storm" "$marker"
    status=$?
    if [ "$1" = ns ]; then
        count_procs
        after=$nprocs
    else
        after=$(pgrep -c -f -- "$marker")
    fi
    if [ "$status" -ne 66 ]; then
        echo "FAIL: forksan run exited $status, expected 66 (an error finding)"; return 1
    fi
    if ! grep -q '"fork-storm"' "$out"; then
        echo "FAIL: no fork-storm finding in the report"; cat "$out"; return 1
    fi
    if ! grep -q 'fork_storm.c' "$out"; then
        echo "FAIL: the finding does not show the fork site in fork_storm.c"; return 1
    fi
    if [ "$after" -ne "$before" ]; then
        echo "FAIL: $before processes before the storm, $after after"; return 1
    fi
    echo "ok: fork-storm reported, $before processes before and after ($1)"
}

marker="forksan-storm-test-$$-$RANDOM"
if unshare --pid --fork --mount-proc true 2>/dev/null; then
    export -f check count_procs
    export forksan bin out marker
    unshare --pid --fork --mount-proc bash -c 'count_procs; check ns "$nprocs"'
else
    check marker 0
fi
