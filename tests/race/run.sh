#!/bin/bash
# fork-lock-race on the statistics-thread program (stats.c): forksan must report the race on
# every run, with the statistics thread's pthread_mutex_lock line as the other thread's
# acquisition and the writer's pthread_mutex_timedlock line as the child's.  Runs it 3 times.
#
# usage: run.sh FORKSAN PROGRAM SOURCE
set -u
if [ $# -ne 3 ]; then
    echo "usage: $0 FORKSAN PROGRAM SOURCE" >&2
    exit 2
fi
FORKSAN=$1
PROG=$2
SRC=$3
stats_line=$(grep -n '/\* @stats \*/' "$SRC" | cut -d: -f1)
writer_line=$(grep -n '/\* @writer \*/' "$SRC" | cut -d: -f1)
if [ -z "$stats_line" ] || [ -z "$writer_line" ]; then
    echo "$0: markers not found in $SRC" >&2
    exit 2
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forksan-race.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
failed=0
for run in 1 2 3; do
    "$FORKSAN" run --format json --fail-on never -o "$WORK/report.json" "$PROG" 2>"$WORK/stderr"
    if python3 - "$WORK/report.json" "$stats_line" "$writer_line" <<'PY'; then
import json, sys
report = json.load(open(sys.argv[1]))
stats, writer = int(sys.argv[2]), int(sys.argv[3])
def top_line(f, role):
    for s in f.get("stacks", []):
        if s.get("role") == role and s.get("frames"):
            fr = s["frames"][0]
            return (fr.get("file") or "").endswith("stats.c") and fr.get("line")
    return None
ok = [f for f in report["findings"] if f["hazard"] == "fork-lock-race"
      and top_line(f, "acquire") == stats and top_line(f, "child-acquire") == writer]
sys.exit(0 if ok else 1)
PY
        echo "ok - run $run: fork-lock-race with stats.c:$stats_line and stats.c:$writer_line"
    else
        echo "not ok - run $run: no fork-lock-race with both lines"
        cat "$WORK/stderr" >&2
        python3 -m json.tool "$WORK/report.json" | head -80 >&2
        failed=$((failed + 1))
    fi
done
exit $((failed > 0))
