#!/bin/sh
# The scale run of shim_stress under the shim (run_shim.sh: the program's own checks, at least
# one trace per fork, `forksan report` reads them all), then: no `lost` record in any trace, and
# the report says nothing of lost records, damage or traces without their end record.
#
# usage: stress_scale.sh SHIM FORKSAN TRACE_DIR PROGRAM
#        FORKSAN_STRESS_SECONDS (default 3) and FORKSAN_STRESS_THREADS (1000) set the run.
set -u
shim=$1 forksan=$2 dir=$3 prog=$4
sh "$(dirname "$0")/run_shim.sh" "$shim" "$dir" 2 "$forksan" "$prog" scale || exit 1
fail=0
lost=$(cat "$dir"/*.trace | grep -c '^lost ')
[ "$lost" -eq 0 ] && echo "ok - no lost record in $(ls "$dir" | grep -c trace) traces" ||
    { echo "not ok - $lost lost records:"; cat "$dir"/*.trace | grep '^lost ' | sort | uniq -c | head; fail=1; }
"$forksan" report --fail-on never "$dir" >/dev/null 2>"$dir.err"
if grep -Eq 'lost|could not be read|truncated|no end record' "$dir.err"; then
    echo "not ok - the report warns:"; head -n 5 "$dir.err"; fail=1
else
    echo "ok - the report reads every trace whole"
fi
exit $fail
