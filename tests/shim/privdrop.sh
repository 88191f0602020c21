#!/bin/sh
# Runs shim_privdrop natively and under the shim, and checks: the program saw the same results
# (diff of its output), every process it made has a trace or is named by an `untraced` record,
# the trace directory kept its owner and mode 0700, nothing was written into the chroot jail,
# and `forksan report` reads every file (no damage) and counts the untraced child.
#
# usage: privdrop.sh SHIM FORKSAN WORKDIR PROGRAM
set -u
shim=$1 forksan=$2 work=$3 prog=$4
[ "$(id -u)" -eq 0 ] || { echo "# SKIP: needs root"; exit 77; }
rm -rf "$work" && mkdir -p "$work/jail" "$work/jail-native" && mkdir -m 700 "$work/traces" || exit 1
chmod 755 "$work" "$work/jail" "$work/jail-native"
fail=0
"$prog" "$work/jail-native" >"$work/native.out" 2>&1
rc_native=$?
env LD_PRELOAD="$shim" FORKSAN_TRACE_DIR="$work/traces" "$prog" "$work/jail" >"$work/shim.out" 2>&1
rc_shim=$?
cat "$work/shim.out" | sed 's/^/# /'
if [ $rc_native -ne $rc_shim ] || ! diff -u "$work/native.out" "$work/shim.out"; then
    echo "not ok - the program saw something else under the shim (status $rc_shim vs $rc_native)"
    fail=1
else
    echo "ok - the program saw the same results natively and under the shim"
fi
procs=$(sed -n 's/^procs=//p' "$work/shim.out")
traced=$(find "$work/traces" -maxdepth 2 -name '*.trace' | sed 's|.*/||; s|\..*||' | sort -u | wc -l)
untraced=$(cat "$work/traces"/*.trace "$work/traces"/*.d/*.trace 2>/dev/null | grep -c '^untraced ')
if [ -n "$procs" ] && [ $((traced + untraced)) -eq "$procs" ] && [ "$untraced" -eq 1 ]; then
    echo "ok - all $procs processes accounted for: $traced traced, $untraced named untraced"
else
    echo "not ok - $procs processes, $traced traced, $untraced named untraced (expected 1)"
    fail=1
fi
mode=$(stat -c '%a %U' "$work/traces")
[ "$mode" = "700 root" ] && echo "ok - trace directory still 0700 root" ||
    { echo "not ok - trace directory is now $mode"; fail=1; }
[ -z "$(ls -A "$work/jail")" ] && echo "ok - nothing written into the chroot jail" ||
    { echo "not ok - files in the jail: $(ls -A "$work/jail")"; fail=1; }
"$forksan" report --fail-on never --format json -o "$work/report.json" "$work/traces" \
    >/dev/null 2>"$work/report.err"
rc=$?
sed 's/^/# report: /' "$work/report.err"
[ $rc -eq 0 ] && echo "ok - forksan report read every trace" ||
    { echo "not ok - forksan report exited $rc"; fail=1; }
grep -q '"untraced": 1' "$work/report.json" && grep -q 'was not traced: no descriptor was free' "$work/report.err" &&
    echo "ok - the report counts and names the untraced child" ||
    { echo "not ok - the untraced child is not in the report"; fail=1; }
n=$(grep -c '"hazard": "lock-held-at-fork"' "$work/report.json")
[ "$n" -ge 6 ] && echo "ok - $n lock-held-at-fork findings (one per traced fork with the lock held)" ||
    { echo "not ok - $n lock-held-at-fork findings, expected at least 6"; fail=1; }
exit $fail
