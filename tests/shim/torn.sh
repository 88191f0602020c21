#!/bin/sh
# Runs shim_torn under the shim and checks the parent's trace: no empty line, no fork record
# written twice, every fork either recorded or counted in `lost what=fork`, and `forksan report`
# reads every file without damage (exit 65 would mean a torn record).
#
# usage: torn.sh SHIM FORKSAN TRACE_DIR PROGRAM ARGS...
set -u
shim=$1 forksan=$2 dir=$3
shift 3
rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mkdir -m 700 "$dir" || exit 1
out=$(env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$dir" "$@") || {
    echo "not ok - $* exited with status $? under the shim" >&2
    exit 1
}
echo "# $out"
forks=${out#forks=}
forks=${forks%% *}
parent=$(grep -l ' origin=start ' "$dir"/*.trace | head -n 1)
[ -n "$parent" ] || { echo "not ok - no parent trace" >&2; exit 1; }
# atfork: the children fork too; their records are in their own files.
[ "${2:-}" = atfork ] && parent=$(ls "$dir"/*.trace)
fail=0
empty=$(cat $parent | grep -c '^$')
[ "$empty" -eq 0 ] || { echo "not ok - $empty empty lines in $parent"; fail=1; }
dups=$(for f in $parent; do grep '^fork ' "$f" | sed 's/.* seq=\([0-9]*\) .*/\1/' | sort | uniq -d; done | wc -l)
[ "$dups" -eq 0 ] || { echo "not ok - $dups fork records written twice"; fail=1; }
recorded=$(cat $parent | grep -c '^fork ')
lost=$(cat $parent | sed -n 's/^lost what=fork count=\([0-9]*\)$/\1/p' | awk '{s += $1} END {print s + 0}')
atfork=$(cat $parent | grep -c '^fork .* via=atfork')
[ "$atfork" -eq 0 ] || { echo "not ok - $atfork forks recorded via=atfork (the wrapper's were)"; fail=1; }
[ $((recorded + lost)) -eq "$forks" ] ||
    { echo "not ok - $forks forks, $recorded recorded and $lost counted lost"; fail=1; }
"$forksan" report --fail-on never --format json -o "$dir.json" "$dir" >/dev/null 2>"$dir.err"
rc=$?
[ $rc -eq 0 ] || { echo "not ok - forksan report exited $rc:"; cat "$dir.err"; fail=1; }
[ $fail -eq 0 ] && echo "ok - $recorded forks recorded, $lost counted lost, no torn record"
exit $fail
