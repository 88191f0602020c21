#!/usr/bin/env bash
# Checks that tests/cpython/run_suites.py can fail: a forksan wrapper alters what the real
# forksan run produced (one test outcome flipped, always or once; an error finding injected)
# and the driver must fail, report a flaky test, or tolerate a listed error, as documented.
#   selftest.sh FORKSAN PYTHON WORKDIR
set -euo pipefail
forksan=$1 python=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
fake=$work/fake-forksan
cat > "$fake" <<WRAP
#!/usr/bin/env bash
# Runs the real forksan, then edits the runner's results (MODE=flip|flip-once) or the JSON
# report (MODE=inject-error).
"$forksan" "\$@"; rc=\$?
res=; rep=
prev=
for a in "\$@"; do
    case "\$a" in *results.json) res=\$a ;; esac
    [ "\$prev" = "-o" ] && rep=\$a
    prev=\$a
done
if [ "\$MODE" = flip ] || { [ "\$MODE" = flip-once ] && [ ! -e "$work/flipped" ]; }; then
    touch "$work/flipped"
    /usr/bin/python3 -c 'import json, sys
p = sys.argv[1]; d = json.load(open(p)); k = sorted(d["outcomes"])[0]
d["outcomes"][k] = "FAIL"; json.dump(d, open(p, "w"))' "\$res"
elif [ "\$MODE" = inject-error ]; then
    /usr/bin/python3 -c 'import json, sys
p = sys.argv[1]; d = json.load(open(p))
d["findings"].append({"hazard": "child-deadlock", "severity": "error", "summary": "injected",
                      "details": {}, "stacks": []})
json.dump(d, open(p, "w"))' "\$rep"
fi
exit \$rc
WRAP
chmod +x "$fake"
printf 'os child-deadlock *\n' > "$work/expected.txt"
: > "$work/empty.txt"

fails=0
check() { # name expected-status pattern MODE [driver args...]
    local name=$1 want=$2 pattern=$3 mode=$4; shift 4
    local st=0
    rm -f "$work/flipped"
    MODE=$mode "$python" "$here/run_suites.py" --forksan "$fake" --python "$python" \
        --work "$work/$name" --group os "$@" > "$work/$name.out" 2>&1 || st=$?
    if [ "$st" -eq 77 ]; then cat "$work/$name.out"; exit 77; fi  # no `test` package: skip
    if [ "$st" -ne "$want" ] || ! grep -q "$pattern" "$work/$name.out"; then
        echo "FAIL $name: exit $st (want $want), pattern '$pattern':"; cat "$work/$name.out"
        fails=$((fails + 1))
    else
        echo "ok   $name"
    fi
}
check unchanged        0 '^PASSED'                      none         --expected "$work/empty.txt"
check outcome-differs  1 '^FAIL: os: .*rerun: native'   flip         --expected "$work/empty.txt"
check flaky            0 '^FLAKY'                       flip-once    --expected "$work/empty.txt"
check error-finding    1 '^FAIL: os: child-deadlock'    inject-error --expected "$work/empty.txt"
check error-expected   0 '^EXPECTED ERROR'              inject-error --expected "$work/expected.txt"
FORKSAN_CPYTHON_STRICT=1 \
check error-strict     1 '^FAIL: os: child-deadlock'    inject-error --expected "$work/expected.txt"
[ "$fails" -eq 0 ]
