#!/bin/bash
# Golden analyzer tests: every tests/golden/<name>/ holds hand-written traces (traces/*.trace, with
# fixed pids and module paths that exist on no machine, so nothing depends on the host) and the
# reports forksan must make of them: expected.txt (text), expected.json (JSON, with the tool's
# version masked), expected.stderr (forksan's messages) and expected.status (exit status).  Each
# is compared with diff -u.  The report runs inside the case directory on the relative path
# "traces", so file names in messages and the JSON "command" are the same on every checkout.
#
# usage: run.sh FORKSAN [--update]    (--update rewrites the expected files from this forksan)
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != --update ]; }; then
    echo "usage: $0 FORKSAN [--update]" >&2
    exit 2
fi
FORKSAN=$1
UPDATE=${2:-}
case $FORKSAN in /*) ;; *) FORKSAN=$PWD/$FORKSAN ;; esac
if [ ! -x "$FORKSAN" ]; then
    echo "$0: $FORKSAN is not an executable" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forksan-golden.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0

ok() {
    echo "ok - $1"
    passed=$((passed + 1))
}

not_ok() {
    echo "not ok - $1"
    failed=$((failed + 1))
}

# The tool's version is the only thing in a report that changes without the analysis changing;
# the report format's own "version" is a number and stays.
mask_json() {
    sed -E 's/^(    "version": )"[^"]*"/\1"VERSION"/'
}

# compare NAME EXPECTED_FILE ACTUAL_FILE: one check; with --update, rewrites EXPECTED_FILE.
compare() {
    local name=$1 expected=$2 actual=$3
    if [ -n "$UPDATE" ]; then
        cp "$actual" "$expected"
        ok "$name (updated)"
    elif [ ! -f "$expected" ]; then
        not_ok "$name"
        echo "# missing $expected (run: $0 FORKSAN --update)"
    elif diff -u "$expected" "$actual" >"$WORK/diff"; then
        ok "$name"
    else
        not_ok "$name"
        sed 's/^/# /' "$WORK/diff"
    fi
}

ncases=0
for dir in "$HERE"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    compgen -G "$dir/traces/*.trace" >/dev/null || continue
    ncases=$((ncases + 1))
    out=$WORK/$name
    mkdir -p "$out"

    (cd "$dir" && "$FORKSAN" report --fail-on never traces >"$out/text" 2>"$out/stderr")
    text_status=$?
    (cd "$dir" && "$FORKSAN" report --fail-on never --format json traces >"$out/json.raw" \
        2>"$out/json.stderr")
    json_status=$?
    mask_json <"$out/json.raw" >"$out/json"
    echo "$text_status" >"$out/status"

    compare "$name: text report" "$dir/expected.txt" "$out/text"
    compare "$name: json report" "$dir/expected.json" "$out/json"
    compare "$name: stderr" "$dir/expected.stderr" "$out/stderr"
    compare "$name: exit status" "$dir/expected.status" "$out/status"

    # Both formats come from one analysis: they must agree on everything but the rendering.
    if [ "$json_status" = "$text_status" ] && cmp -s "$out/stderr" "$out/json.stderr"; then
        ok "$name: json run has the same status and messages as the text run"
    else
        not_ok "$name: json run has the same status and messages as the text run"
        echo "# text status $text_status, json status $json_status"
        diff -u "$out/stderr" "$out/json.stderr" | sed 's/^/# /'
    fi
done

if [ "$ncases" -eq 0 ]; then
    not_ok "golden cases found under $HERE"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
