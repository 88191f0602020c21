#!/usr/bin/env python3
"""CTest driver: CPython's own fork-related test modules, natively and under `forksan run`, for
one interpreter, compared test by test.

For each group of tests (below) it runs tests/cpython/suite_runner.py with the interpreter under
test twice, natively and under `forksan run --format json --fail-on never`, the two side by side
(the selection is mostly sleeps, so they barely compete for the CPU).  It fails when

  - a test's outcome (ok / FAIL / ERROR / skipped / ...) differs between the two runs and still
    differs when that one test is run again natively and under forksan (CPython's suite has
    timing-sensitive tests; a difference that does not repeat is reported as flaky, not failed);
  - forksan reports a finding of severity `error` that tests/cpython/expected-errors.txt does not
    list for that group, hazard and CPython version (FORKSAN_CPYTHON_STRICT=1 ignores the file);
  - a run produced no results at all (the interpreter or forksan died).

Every warning and note is summarised by hazard and kind with a count and a short explanation, so
that docs/python.md can explain what remains.  Exit status: 0 pass, 1 fail, 77 skipped (the
interpreter has no `test` package: Debian's python3 needs libpython3.X-testsuite).

usage: run_suites.py --forksan PATH --python PATH --work DIR [--expected FILE] [--group NAME]...
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RUNNER = os.path.join(HERE, "suite_runner.py")
SKIP = 77

# Groups: one forksan run each, so that every finding can be attributed to a group.  Only fork
# related tests are selected, to keep all interpreters together within a few minutes.
GROUPS = collections.OrderedDict([
    ("fork1", ["test.test_fork1"]),
    ("wait3", ["test.test_wait3"]),
    ("wait4", ["test.test_wait4"]),
    ("threading", ["test.test_threading::fork"]),
    ("os", ["test.test_os:ForkTests", "test.test_os:PidTests", "test.test_os::fork"]),
    ("mp_lock", ["mp:WithProcessesTestLock", "mp:WithProcessesTestSemaphore",
                 "mp:WithProcessesTestCondition", "mp:WithProcessesTestEvent"]),
    ("mp_pool", ["mp:WithProcessesTestPool"]),
])
# A group takes under 10 s; these limits only end a hang.  The runner's faulthandler watchdog
# (as regrtest's --timeout) dumps the tracebacks first; forksan --timeout then reports every
# still-running process as child-hang and ends the tree; last, the driver kills the session.
WATCHDOG = 100
FORKSAN_TIMEOUT = 120
KILL_AFTER = 150


def clean_env():
    """The environment of both runs: ours without PYTHON* variables (PYTHONHOME or PYTHONPATH
    of the calling interpreter would break another CPython), identical for native and forksan."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("LD_PRELOAD", None)
    return env


def run_one(mode, args, pyver, group, specs, tag):
    """Runs specs natively or under forksan in a fresh directory; returns a dict with the
    runner's results (or None), forksan's JSON report (or None) and the exit status."""
    wd = os.path.join(args.work, pyver, mode, group + tag)
    shutil.rmtree(wd, ignore_errors=True)
    os.makedirs(wd)
    results = os.path.join(wd, "results.json")
    report = os.path.join(wd, "forksan.json")
    cmd = [args.python, RUNNER, results, str(WATCHDOG)] + specs
    if mode == "forksan":
        # --native: the interpreter's frames stay in the stacks, so that the summary can group
        # the findings by the C function that took each lock (PyThread_acquire_lock_timed).
        cmd = [args.forksan, "run", "--native", "--format", "json", "-o", report,
               "--fail-on", "never", "--timeout", str(FORKSAN_TIMEOUT), "--"] + cmd
    with open(os.path.join(wd, "output.txt"), "wb") as out:
        # Own session: whatever the run leaves behind (a hung child of a failed test) is ended
        # with it, and never outlives the CTest.
        proc = subprocess.Popen(cmd, cwd=wd, env=clean_env(), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=KILL_AFTER)
        except subprocess.TimeoutExpired:
            rc = "killed after %d s" % KILL_AFTER
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    res = {"rc": rc, "dir": wd, "results": None, "report": None}
    for key, path in (("results", results), ("report", report)):
        try:
            with open(path) as f:
                res[key] = json.load(f)
        except (OSError, ValueError):
            pass
    return res


def load_expected(path, strict):
    """(group, hazard) -> set of CPython versions ("3.12") or {"*"}, from the expected-errors
    file: `GROUP HAZARD VERSION[,VERSION...]|*  # why`."""
    expected = collections.defaultdict(set)
    if strict or not path or not os.path.exists(path):
        return expected
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) == 3:
                expected[(line[0], line[1])].update(line[2].split(","))
    return expected


def first_function(stack):
    """The innermost frame of a stack outside libc: its function, else "in MODULE (no symbols)"
    (Debian's python3 is stripped: libpython is linked into the executable)."""
    for fr in stack.get("frames", []):
        mod = os.path.basename(fr.get("module") or "")
        if mod.startswith("libc.so") or mod.startswith("libpthread"):
            continue
        return fr.get("function") or "%s (no symbols)" % (mod or "?")
    return "?"


def python_top(stack):
    """The innermost Python frame of a stack, as FILE:FUNCTION (file name only)."""
    for fr in stack.get("frames", []):
        if fr.get("kind") == "python":
            return "%s:%s" % (os.path.basename(fr.get("file") or "?"), fr.get("function") or "?")
    return "?"


def thread_start(value):
    """A thread's start as the JSON details give it ("pythread_wrapper known",
    "unknown found only in /proc", "0x63bb20 known"), in words."""
    start, _, how = value.partition(" ")
    if start == "unknown":
        return "unrecorded thread (found only in /proc)" if "/proc" in how else \
            "thread of unknown start (the main thread)"
    if start.startswith("0x"):
        return "a thread started at an unsymbolized address (stripped python)"
    return "a thread started at " + start


def signature(f):
    """What distinguishes kinds of one hazard in this suite, for the summary (typed fields of the
    JSON report only; the summary line is not parsed)."""
    d, stacks = f.get("details", {}), {s["role"]: s for s in f.get("stacks", [])}
    if f["hazard"] == "lock-held-at-fork":
        acq = first_function(stacks["acquire"]) if "acquire" in stacks else "unknown site"
        holder = d.get("holder_start")
        owner = str(d.get("lock_owner") or "")
        # One row for all the interpreter's own locks of a kind, whatever the thread's name.
        kind = str(d.get("kind", "?")).split(" (")[0]
        if owner.startswith("interpreter"):
            kind += " (the interpreter's: %s)" % re.sub(r'"[^"]*"', '"..."',
                                                        str(d.get("lock_name") or "?"))
        return "%s acquired in %s, held by %s%s" % (
            kind, acq,
            thread_start(holder + " known") if holder else "thread of unknown start (the main "
            "thread)", "; holder at the fork in " + python_top(stacks["holder"])
            if "holder" in stacks else "")
    if f["hazard"] == "threads-at-fork":
        # JSON report version 2: other_threads is an array of {tid, name, start, known}.
        starts = sorted({thread_start("%s %s" % (t.get("start") or "unknown",
                                                 "known" if t.get("known") else
                                                 "found only in /proc"))
                         for t in d.get("other_threads", [])})
        execed = d.get("execed")
        return "other threads: %s; child execed: %s" % (
            "; ".join(starts) or "?", "?" if execed is None else "yes" if execed else "no")
    if f["hazard"] == "fork-lock-race":
        other = d.get("other_start")
        return "%s taken by %s (at the fork in %s), then by the child in %s" % (
            d.get("kind", "?"),
            thread_start(other + " known") if other else "thread of unknown start (the main "
            "thread)", python_top(stacks["holder"]) if "holder" in stacks else "?",
            python_top(stacks["child-acquire"]) if "child-acquire" in stacks else "?")
    roles = ",".join(sorted(stacks))
    first = first_function(next(iter(stacks.values()))) if stacks else "?"
    return "stacks %s, innermost %s" % (roles or "-", first)


PYLOCK = re.compile(r"acquired in (PyThread_acquire_lock|python3\.\d+ \(no symbols\))")


def explain(hazard, sig):
    """A short explanation of a warning/note kind this suite is known to produce; the long one
    is in docs/python.md ("CPython's own test suites")."""
    if hazard == "lock-held-at-fork" and "(the interpreter's:" in sig:
        return ("a lock of the interpreter's own (each live thread's tstate lock, a lock "
                "_at_fork_reinit re-creates), which CPython forgets or re-creates in the child: "
                "a note, not a hazard (issue 7 point 5)")
    if hazard == "lock-held-at-fork" and "threading.py:wait" in sig and "main thread" in sig:
        return ("the waiter lock of a threading.Condition: the main thread is inside "
                "Thread.start(), waiting for the new thread to signal that it started, when that "
                "thread forks at once (the tests do so on purpose); the lock is private to that "
                "wait")
    if hazard == "fork-lock-race" and "threading.py:wait" in sig and "main thread" in sig:
        return ("a lock the main thread last used in Thread.start()'s handshake (a "
                "Condition wait), used again by the child while still inside os.fork (CPython's "
                "after-fork work for the vanished main thread): the tests fork from a thread "
                "right after its start on purpose; had the fork landed inside that wait, the "
                "child could have waited forever")
    if hazard == "child-exit-runs-parent-cleanup":
        return ("the tests' children end with sys.exit() or the end of their `-c` script on "
                "purpose (they check what runs at exit in a child): the warning is about the "
                "test code, and true")
    if hazard == "lock-held-at-fork" and "_multiprocessing" in sig:
        return ("a multiprocessing lock (a process-shared POSIX semaphore, e.g. a Pool queue's "
                "lock) held by a pool thread at the fork: the parent releases it, so it is no "
                "hazard (issue 7 point 5: process-shared primitives)")
    if hazard == "child-deadlock" and "_multiprocessing" in sig:
        return ("a child taking a process-shared multiprocessing semaphore another process "
                "holds: it waits, it does not deadlock (same false positive as the error)")
    if hazard == "lock-held-at-fork" and PYLOCK.search(sig) and "main thread" in sig:
        return ("PyThread locks the main thread holds while another thread forks: its own "
                "tstate lock (up to 3.12), the faulthandler watchdog's two locks (the runner, "
                "like regrtest, arms dump_traceback_later) and on 3.13 one more C-level lock "
                "not identified; none is the test's")
    if hazard == "lock-held-at-fork" and PYLOCK.search(sig):
        return ("a Python lock (a semaphore up to 3.12) held by another Python thread at "
                "os.fork(): mostly each live thread's tstate lock (the fork_wait threads only "
                "sleep), which CPython forgets in the child (issue 7 point 5: runtime noise); in "
                "mp_pool possibly a pool thread's queue lock held for an instant, which forksan "
                "cannot tell apart today (issue 7 point 3)")
    if hazard == "lock-held-at-fork" and ("PyCOND" in sig or "take_gil" in sig):
        return ("the GIL's internal mutex, held for an instant by a thread in take_gil's "
                "condition wait; CPython re-initialises the GIL in the child (runtime noise)")
    if hazard == "threads-at-fork" and "child execed: yes" in sig:
        return "the child called exec right after the fork: harmless by construction (a note)"
    if hazard == "threads-at-fork" and "/proc" in sig:
        return ("a thread forksan saw only in /proc at the fork, started just before it "
                "(issue 9 point 5); otherwise as the other threads-at-fork rows")
    if hazard == "threads-at-fork":
        return ("threads alive at os.fork(): these tests fork from multi-threaded processes on "
                "purpose (their own threads, multiprocessing's pool threads, the faulthandler "
                "watchdog; a non-main thread forking leaves the main thread behind); CPython "
                ">= 3.12 itself warns about it")
    return "UNEXPLAINED: look at the report and explain it in docs/python.md"


def outcomes(res):
    return (res["results"] or {}).get("outcomes", {})


def rerun_spec(group, test_id):
    """The runner SPEC that names one test id of a group, or None."""
    for spec in GROUPS[group]:
        if spec.startswith("mp:"):
            return "mp:" + test_id if re.match(r"^\w+\.\w+$", test_id) else None
        mod = re.split(r":", spec, 1)[0]
        if test_id.startswith(mod + "."):
            return mod + ":" + test_id[len(mod) + 1:]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forksan", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--expected", default=os.path.join(HERE, "expected-errors.txt"))
    ap.add_argument("--group", action="append", choices=list(GROUPS))
    args = ap.parse_args()
    args.work = os.path.abspath(args.work)
    # The runs start in their own directories: relative paths must not change meaning.
    args.forksan = os.path.abspath(args.forksan)
    if os.sep in args.python:
        args.python = os.path.abspath(args.python)
    strict = os.environ.get("FORKSAN_CPYTHON_STRICT", "") not in ("", "0")

    probe = subprocess.run([args.python, "-c",
                            "import sys, test.fork_wait, test._test_multiprocessing; "
                            "print('%d.%d.%d' % sys.version_info[:3])"],
                           env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
    if probe.returncode != 0:
        print("SKIP: %s has no usable `test` package (%s); Debian: apt-get install "
              "libpython3.X-testsuite" % (args.python, probe.stderr.strip().splitlines()[-1:]))
        return SKIP
    pyver = probe.stdout.strip()
    minor = ".".join(pyver.split(".")[:2])
    expected = load_expected(args.expected, strict)
    groups = args.group or list(GROUPS)
    print("CPython %s (%s): groups %s%s" % (pyver, args.python, " ".join(groups),
                                           ", strict" if strict else ""))

    failures, flaky, tolerated = [], [], []
    kinds = collections.Counter()      # (hazard, severity, signature) -> count
    kind_groups = collections.defaultdict(set)
    totals = collections.Counter()
    rows = []

    def findings_of(res, group):
        rep = res["report"]
        if rep is None:
            return
        totals["damaged_traces"] += rep["summary"].get("damaged_traces", 0)
        totals["processes"] += rep["summary"].get("processes", 0)
        for f in rep["findings"]:
            if f["severity"] == "error":
                allowed = expected.get((group, f["hazard"]), set())
                line = "%s: %s error: %s" % (group, f["hazard"], f.get("summary"))
                if "*" in allowed or minor in allowed:
                    tolerated.append(line)
                else:
                    failures.append(line)
            else:
                k = (f["hazard"], f["severity"], signature(f))
                kinds[k] += 1
                kind_groups[k].add(group)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for group in groups:
            nat_f = pool.submit(run_one, "native", args, pyver, group, GROUPS[group], "")
            fs_f = pool.submit(run_one, "forksan", args, pyver, group, GROUPS[group], "")
            nat, fs = nat_f.result(), fs_f.result()
            for name, res in (("native", nat), ("forksan", fs)):
                if res["results"] is None:
                    failures.append("%s: %s run gave no results (exit %s; see %s/output.txt)"
                                    % (group, name, res["rc"], res["dir"]))
            if fs["report"] is None:
                failures.append("%s: forksan wrote no JSON report (exit %s; see %s)"
                                % (group, fs["rc"], fs["dir"]))
            findings_of(fs, group)
            a, b = outcomes(nat), outcomes(fs)
            # Without both result sets every test would differ: that run already failed.
            diff = [] if nat["results"] is None or fs["results"] is None else \
                sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
            if not diff and (nat["results"] and fs["results"]) and \
                    nat["results"]["loaded"] != fs["results"]["loaded"]:
                failures.append("%s: loaded tests differ: %s vs %s" % (
                    group, nat["results"]["loaded"], fs["results"]["loaded"]))
            for t in diff:
                # A test id that names no spec of its own (a setUpClass error, fork_wait's base
                # class collected from test_wait3 on 3.8) is rerun with its whole group.
                spec = rerun_spec(group, t)
                specs = [spec] if spec else GROUPS[group]
                tag = "-rerun-" + re.sub(r"[^A-Za-z0-9_.]", "_", t)[-60:]
                # One after the other: a timing-sensitive test gets the machine to itself.
                n2 = run_one("native", args, pyver, group, specs, tag)
                f2 = run_one("forksan", args, pyver, group, specs, tag)
                findings_of(f2, group)
                o2n, o2f = outcomes(n2).get(t), outcomes(f2).get(t)
                line = "%s: %s: native %s, forksan %s; rerun: native %s, forksan %s" % (
                    group, t, a.get(t), b.get(t), o2n, o2f)
                (flaky if o2n == o2f and o2n is not None else failures).append(line)
            counts = collections.Counter(a.values())
            rows.append((group, len(a), counts.get("ok", 0), counts.get("skipped", 0),
                         len(a) - counts.get("ok", 0) - counts.get("skipped", 0), len(diff),
                         fs["rc"]))

    print("\n%-10s %6s %5s %8s %7s %6s %12s" % ("group", "tests", "ok", "skipped", "other",
                                              "differ", "forksan-exit"))
    for r in rows:
        print("%-10s %6d %5d %8d %7d %6d %12s" % r)
    print("processes traced: %d, damaged traces: %d" % (totals["processes"],
                                                       totals["damaged_traces"]))
    print("\nwarnings and notes under forksan (CPython %s):" % pyver)
    if not kinds:
        print("  none")
    for (hazard, sev, sig), n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        print("  %4d  %-18s %-7s %s  [%s]" % (n, hazard, sev, sig,
                                              ",".join(sorted(kind_groups[(hazard, sev, sig)]))))
        print("        -> %s" % explain(hazard, sig))
    summary = {"python": pyver, "interpreter": args.python, "rows": rows,
               "kinds": [{"hazard": h, "severity": s, "signature": g, "count": n,
                          "groups": sorted(kind_groups[(h, s, g)]), "why": explain(h, g)}
                         for (h, s, g), n in kinds.items()],
               "failures": failures, "flaky": flaky, "tolerated_errors": tolerated}
    with open(os.path.join(args.work, pyver, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    for line in flaky:
        print("FLAKY (differed once, agreed on rerun): " + line)
    for line in tolerated:
        print("EXPECTED ERROR (listed in %s; remove the line once fixed): %s"
              % (os.path.basename(args.expected), line))
    for line in failures:
        print("FAIL: " + line)
    print("\n%s: CPython %s" % ("FAILED" if failures else "PASSED", pyver))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
