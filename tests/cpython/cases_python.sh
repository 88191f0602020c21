#!/bin/sh
# Runs the Python cases with one interpreter (forksan cases --python).  fork-lock-race keeps each
# thread's used locks in a bounded, direct-mapped table (docs/performance.md, "fork-lock-race's
# table of used locks"): where lock addresses collide, which ASLR decides anew each run, an entry
# can be overwritten, and the report then says so ("lock-use entries were overwritten ...
# fork-lock-race may miss a lock").  Only when a run failed and reported that loss are the failed
# cases run once more, and the rerun says why; any other failure fails at once.
#
# usage: cases_python.sh FORKSAN PYTHON CASE...
set -u
forksan=$1 python=$2
shift 2
out=$(mktemp) || exit 2
"$forksan" cases --python "$python" "$@" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -ne 0 ] && grep -q "lock-use entr.* overwritten" "$out"; then
    failed=$(sed -n 's/^FAIL  *\([^ ]*\).*/\1/p' "$out")
    echo "# rerun of $(echo $failed): the run above reported a fork-lock-race table loss"
    # shellcheck disable=SC2086
    "$forksan" cases --python "$python" $failed
    rc=$?
fi
rm -f "$out"
exit $rc
