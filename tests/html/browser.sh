#!/bin/bash
# The HTML report in a real browser: forksan run --format html,json on two cases (deadlock_logger:
# a child deadlocked on an inherited lock, ended by forksan; rng_prefork_pool: a master and four
# workers), then headless Chromium loads each page from file:// and dumps the DOM after its script
# ran.  Checked: the script finished without error, the process tree has one entry per process of
# the JSON report, the timeline one bar per process, and every finding of the JSON report is
# shown with its id.  A screenshot of each page is kept in ARTIFACT_DIR.  Skips (77) when no
# Chromium is installed (scripts/install-browser.sh).
#
# usage: browser.sh FORKSAN CASEBIN ARTIFACT_DIR
set -u
FORKSAN=$1
CASEBIN=$2
ARTIFACTS=$3
BROWSER=$(command -v chromium-headless-shell || command -v chromium || true)
if [ -z "$BROWSER" ]; then
    echo "SKIP: no chromium or chromium-headless-shell (run scripts/install-browser.sh)"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed to read the JSON report"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/forksan-html.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ARTIFACTS"
failed=0
browse() { # URL, then extra flags: a fresh profile each time, nothing fetched
    local url=$1
    shift
    timeout 120 "$BROWSER" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run \
        --user-data-dir="$(mktemp -d "$WORK/profile.XXXXXX")" "$@" "$url" 2>>"$WORK/browser.log"
}
# One report carries a suppressions file whose line matches nothing: its table must show it.
printf 'child-hang:no_such_function_anywhere\n' >"$WORK/unused.supp"
for name in deadlock_logger rng_prefork_pool; do
    supp=()
    [ "$name" = rng_prefork_pool ] && supp=(--suppressions "$WORK/unused.supp")
    (cd "$WORK" && "$FORKSAN" run -q --fail-on never "${supp[@]}" --format html,json \
        -o "$WORK/$name" -- "$CASEBIN/$name" >/dev/null 2>&1 </dev/null)
    if [ ! -s "$WORK/$name.html" ] || [ ! -s "$WORK/$name.json" ]; then
        echo "not ok - $name: forksan wrote no HTML or JSON report"
        failed=1
        continue
    fi
    browse "file://$WORK/$name.html" --dump-dom >"$WORK/$name.dom"
    browse "file://$WORK/$name.html" --hide-scrollbars --window-size=1100,1600 \
        --screenshot="$ARTIFACTS/report-$name.png" >/dev/null
    cp "$WORK/$name.html" "$ARTIFACTS/report-$name.html"
    if python3 - "$WORK/$name.json" "$WORK/$name.dom" <<'PY'; then
import json, re, sys
report = json.load(open(sys.argv[1]))
dom = open(sys.argv[2]).read()
problems = []
if 'data-rendered="ok"' not in dom:
    problems.append("the page's script did not finish")
m = re.search(r'data-errors="([^"]*)"', dom)
if m:
    problems.append("script errors: " + m.group(1))
procs = report["processes"]
tree = re.findall(r'<li id="pid-(\d+)"', dom)
if sorted(map(int, tree)) != sorted(p["pid"] for p in procs):
    problems.append("process tree shows %s, the report has %s" % (tree, [p["pid"] for p in procs]))
bars = len(re.findall(r'class="bar"', dom))
if bars != len(procs):
    problems.append("timeline has %d bars for %d processes" % (bars, len(procs)))
if not report["findings"]:
    problems.append("the case gave no finding to show")
for f in report["findings"]:
    if ('<section id="%s" class="finding %s"' % (f["id"], f["severity"])) not in dom:
        problems.append("finding %s (%s) not shown" % (f["id"], f["hazard"]))
sups = report["suppressions"]
if sups:
    if 'id="suppressions"' not in dom:
        problems.append("the suppressions table is missing")
    unused = len(re.findall(r'<tr class="unused">', dom))
    if unused != sum(1 for s in sups if not s["used"]):
        problems.append("%d unused suppressions shown, the report has %d" %
                        (unused, sum(1 for s in sups if not s["used"])))
print("# %d processes, %d findings, %d suppressions" % (len(procs), len(report["findings"]),
                                                        len(sups)))
for p in problems:
    print("# " + p)
sys.exit(1 if problems else 0)
PY
        echo "ok - $name: tree, timeline and every finding shown, no script error"
    else
        echo "not ok - $name: see above"
        failed=1
    fi
    if [ -s "$ARTIFACTS/report-$name.png" ]; then
        echo "ok - $name: screenshot kept in $ARTIFACTS/report-$name.png"
    else
        echo "not ok - $name: no screenshot"
        failed=1
    fi
done
[ "$failed" -eq 0 ]
