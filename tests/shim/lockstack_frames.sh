#!/bin/sh
# FORKSAN_LOCK_STACK applies to every kind of lock: run reproductions whose thread `holder` holds
# one lock of a kind at fork with --lock-stack 4, and check that the acquisition stack the report
# shows starts in the program's `holder` (not in the shim's own frames) and has more than one
# frame.
#
# usage: lockstack_frames.sh FORKSAN CASE_PROGRAM...
set -u
if [ $# -lt 2 ]; then
    echo "usage: lockstack_frames.sh FORKSAN CASE_PROGRAM..." >&2
    exit 2
fi
forksan=$1
shift
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0
for prog in "$@"; do
    name=$(basename "$prog")
    "$forksan" run --lock-stack 4 --trace-dir "$tmp/$name" -- "$prog" >"$tmp/$name.out" 2>&1
    # The two lines after the first "acquired by thread": frames #0 and #1.
    frames=$(grep -A2 -m1 'acquired by thread' "$tmp/$name.out" | tail -n 2)
    first=$(printf '%s\n' "$frames" | sed -n 1p)
    second=$(printf '%s\n' "$frames" | sed -n 2p)
    case "$first" in
    *"#0 "*" in holder "*) ;;
    *)
        echo "not ok - $name: the acquisition stack starts elsewhere: $first" >&2
        status=1
        continue
        ;;
    esac
    case "$second" in
    *"#1 "*) echo "ok - $name: $first" ;;
    *)
        echo "not ok - $name: only one frame recorded with --lock-stack 4" >&2
        status=1
        ;;
    esac
done
exit $status
