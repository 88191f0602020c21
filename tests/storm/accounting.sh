#!/bin/bash
# Under `forksan run --max-processes 16`, 60 forks whose children end at once are never refused,
# whether the parent reaps each child at once, leaves them all zombies until the end, or lets the
# kernel reap them (SIGCHLD ignored); 60 forks whose children keep running are refused past the
# limit (the parent counts too: at most 15 children).  What is checked is the outcome: the count
# of ends and the recount at the limit each keep ended children out on their own, while running
# children survive a recount only through the bits their parent set (the live run fails without
# them).
#
# usage: accounting.sh FORKSAN PROGRAM
set -u
if [ $# -ne 2 ]; then
    echo "usage: accounting.sh FORKSAN PROGRAM" >&2
    exit 2
fi
forksan=$1 prog=$2
fail=0
for mode in reaped zombies autoreap live; do
    out=$("$forksan" run --max-processes 16 --format json -o /dev/null -- "$prog" "$mode")
    refused=${out#refused }
    case $mode in
    live) if [ "$refused" -lt 45 ]; then
              echo "not ok - $mode: $refused forks refused, expected at least 45"; fail=1
          else
              echo "ok - $mode: $refused forks refused"
          fi ;;
    *) if [ "$refused" != 0 ]; then
           echo "not ok - $mode: $refused forks refused, expected none"; fail=1
       else
           echo "ok - $mode: no fork refused"
       fi ;;
    esac
done
exit $fail
