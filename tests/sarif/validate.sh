#!/bin/bash
# Every SARIF log forksan makes in this test is validated by Microsoft's SARIF multitool
# (scripts/install-sarif-tools.sh) against the official SARIF 2.1.0 JSON schema that ships with
# it, with its SARIF and GitHub (code scanning ingestion) rule sets: no error may remain
# (warnings are listed: a finding whose program has no debug information is located in its binary,
# without a line region, which the SARIF rules warn about).  The logs: `forksan report` of every golden trace directory, and `forksan run` of every
# case program (as it runs without its case header's arguments, with a time limit), once with
# --source-root and once without.  Skips (status 77) with a message when the tool is missing.
#
# usage: validate.sh FORKSAN CASEBIN GOLDEN_DIR [ARTIFACT_DIR]
set -u
FORKSAN=$1
CASEBIN=$2
GOLDEN=$3
ARTIFACTS=${4:-}
dir=${FORKSAN_TOOLS_DIR:-$HOME/.cache/forksan/tools}
tool=$dir/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
schema=$dir/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json
if [ ! -x "$tool" ] || [ ! -f "$schema" ]; then
    echo "SKIP: the SARIF multitool is not installed in $dir (run scripts/install-sarif-tools.sh)"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forksan-sarif.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$WORK/logs"
n=0
for g in "$GOLDEN"/*/; do
    [ -d "$g/traces" ] || continue
    name=$(basename "$g")
    (cd "$g" && "$FORKSAN" report -q --fail-on never --format sarif -o "$WORK/logs/golden-$name.sarif" traces)
    n=$((n + 1))
done
# With --suppressions: the run's notifications located at the suppressions file's lines, and its
# property bag, with the file under --source-root and outside it.
printf 'lock-held-at-fork:*\nrng-unseeded:no_such_function\n' >"$WORK/forksan.supp"
if [ -d "$GOLDEN/mutex_thread/traces" ]; then
    (cd "$GOLDEN/mutex_thread" && "$FORKSAN" report -q --fail-on never --suppressions "$WORK/forksan.supp" \
        --format sarif -o "$WORK/logs/golden-suppressions.sarif" traces)
    (cd "$GOLDEN/mutex_thread" && "$FORKSAN" report -q --fail-on never --suppressions "$WORK/forksan.supp" \
        --source-root "$WORK" --format sarif -o "$WORK/logs/golden-suppressions-root.sarif" traces)
    n=$((n + 2))
fi
for prog in "$CASEBIN"/*; do
    [ -x "$prog" ] && [ -f "$prog" ] || continue
    case $prog in *.so) continue ;; esac # the cases' shared libraries
    name=$(basename "$prog")
    root=()
    [ $((n % 2)) -eq 0 ] && root=(--source-root "$SRC")
    # The program's own output and forksan's messages are not what this test checks.
    (cd "$WORK" && "$FORKSAN" run -q --timeout 5s --fail-on never "${root[@]}" --format sarif \
        -o "$WORK/logs/case-$name.sarif" -- "$prog" >/dev/null 2>&1 </dev/null)
    if [ ! -s "$WORK/logs/case-$name.sarif" ]; then
        echo "FAIL: forksan run wrote no SARIF for $name"
        exit 1
    fi
    n=$((n + 1))
done
echo "validating $n SARIF logs"
"$tool" validate --json-schema "$schema" --rule-kind "Gh;Sarif" --level "Error;Warning" \
    -o "$WORK/validation.sarif" "$WORK"/logs/*.sarif >"$WORK/out.txt" 2>&1
status=$?
grep -E ": (error|warning) " "$WORK/out.txt" | cut -c1-300 | head -40
if [ -n "$ARTIFACTS" ]; then
    mkdir -p "$ARTIFACTS" && cp "$WORK/out.txt" "$ARTIFACTS/sarif-validation.txt"
fi
problems=$(grep -cE ": error " "$WORK/out.txt")
if [ "$status" -ne 0 ] || [ "$problems" -ne 0 ] || ! grep -q "Analysis completed successfully" "$WORK/out.txt"; then
    echo "FAIL: $problems errors (multitool status $status)"
    tail -5 "$WORK/out.txt"
    exit 1
fi
echo "PASS: $n SARIF logs valid against the SARIF 2.1.0 schema, no error from the GitHub rules ($(grep -cE ": warning " "$WORK/out.txt") warnings)"
