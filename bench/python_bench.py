#!/usr/bin/env python3
"""python_bench: what libforksan.so costs a Python program (issue 7 point 8), measured against
native and the empty interposer (libforksan_empty.so, see forksan_bench.c) in the same run.

Two workloads per interpreter:
  startup    `python -c pass`, wall time of the whole process as the driver sees it (spawn,
             interpreter start-up and exit; the driver's own spawn cost is in every variant)
  fork-loop  inside one interpreter with 4 Python threads parked on a threading.Event:
             os.fork(), the child os._exit(0)s, the parent os.waitpid()s; time per fork

Every measurement runs in a fresh process; variants rotate from round to round so that drift
hits them alike; the table gives the median per variant and the ratio to native.  Under forksan
each measurement gets a fresh private FORKSAN_TRACE_DIR, removed afterwards (its trace file count
is printed, so a shim that silently recorded nothing cannot flatter itself).  A measurement, not a
test: exit 0 once measured, 1 when a native run failed, 2 on a usage error.

usage: python_bench.py [--python PATH]... [--rounds R] [--forks N] [--starts N]
                       [--shim PATH] [--empty-shim PATH] [--json FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(os.path.dirname(HERE), "build")

# The fork-loop worker, given to the interpreter with -c; valid from Python 3.6 on.  The threads
# wait on an Event (blocked in a lock acquire inside the interpreter): idle, as in a server.
FORK_WORKER = r"""
import os, sys, threading, time
n = int(sys.argv[1])
ev = threading.Event()
threads = [threading.Thread(target=ev.wait) for _ in range(4)]
for t in threads:
    t.start()
bad = 0
def once():
    global bad
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    bad += status != 0
for _ in range(max(1, n // 16)):
    once()
c0 = os.times()
t0 = time.perf_counter()
for _ in range(n):
    once()
dt = time.perf_counter() - t0
c1 = os.times()
cpu = sum(c1[:4]) - sum(c0[:4])
ev.set()
for t in threads:
    t.join()
print("%.3f %.3f %d" % (dt / n * 1e6, cpu / n * 1e6, bad))
"""

# fork-cpu: the same loop's CPU time (user + system of the parent and its reaped children, from
# os.times()) per fork; unlike wall time it does not count waiting for a CPU, so it is the figure
# to look at on a loaded machine.  Its resolution is a clock tick (10 ms) over the whole loop.
TARGETS = {"startup": ("+ms", 15.0), "fork-loop": ("ratio", 1.3), "fork-cpu": ("ratio", 1.3)}


def base_env():
    """The driver's environment without LD_*, FORKSAN_* and PYTHON* variables."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("LD_", "FORKSAN_", "PYTHON"))}


def run_variant(variant, shim, cmd):
    """Runs cmd once under a variant; returns (seconds of wall time, stdout, trace files)."""
    env = base_env()
    trace_dir = None
    if shim:
        env["LD_PRELOAD"] = shim
    if variant == "forksan":
        trace_dir = tempfile.mkdtemp(prefix="forksan-pybench.")
        env["FORKSAN_TRACE_DIR"] = trace_dir
    try:
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        wall = time.perf_counter() - t0
        files = len(os.listdir(trace_dir)) if trace_dir else 0
    finally:
        if trace_dir:
            shutil.rmtree(trace_dir, ignore_errors=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s exited %d: %s" % (variant, cmd[0], p.returncode,
                                                     p.stderr.strip()[-300:]))
    return wall, p.stdout, files


def measure(py, variants, args):
    """{workload: {variant: {"samples": [...], "trace_files": n}}} for one interpreter."""
    out = {w: {v: {"samples": [], "trace_files": 0} for v, _ in variants} for w in TARGETS}
    for r in range(args.rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for name, shim in order:
            # startup: the median of --starts runs is one sample (ms per start)
            walls, files = [], 0
            for _ in range(args.starts):
                wall, _, n = run_variant(name, shim, [py, "-c", "pass"])
                walls.append(wall * 1e3)
                files += n
            out["startup"][name]["samples"].append(statistics.median(walls))
            out["startup"][name]["trace_files"] += files
            # fork-loop: one process, --forks timed forks (us per fork)
            _, stdout, n = run_variant(name, shim, [py, "-W", "ignore::DeprecationWarning",
                                                    "-c", FORK_WORKER, str(args.forks)])
            us, cpu_us, bad = stdout.split()
            if int(bad):
                raise RuntimeError("%s: %s children of %s exited non-zero" % (name, bad, py))
            out["fork-loop"][name]["samples"].append(float(us))
            out["fork-loop"][name]["trace_files"] += n
            out["fork-cpu"][name]["samples"].append(float(cpu_us))
    return out


def version_of(py):
    p = subprocess.run([py, "-c", "import sys; print(sys.version.split()[0])"], env=base_env(),
                       stdout=subprocess.PIPE, universal_newlines=True)
    return p.stdout.strip() if p.returncode == 0 else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", action="append", help="interpreter (repeatable); "
                    "default /usr/bin/python3")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--forks", type=int, default=300, help="timed forks per fork-loop sample")
    ap.add_argument("--starts", type=int, default=15, help="starts per startup sample")
    ap.add_argument("--shim", default=os.path.join(BUILD, "lib/forksan/libforksan.so"))
    ap.add_argument("--empty-shim",
                    default=os.path.join(BUILD, "lib/forksan-bench/libforksan_empty.so"))
    ap.add_argument("--json", help="write every sample to this file")
    args = ap.parse_args()
    if args.rounds < 1 or args.forks < 1 or args.starts < 1:
        ap.error("--rounds, --forks and --starts must be at least 1")
    for path in (args.shim, args.empty_shim):
        if not os.path.isfile(path):
            ap.error("%s: no such shim (build first: scripts/build.sh build)" % path)
    variants = [("native", None), ("empty-shim", args.empty_shim), ("forksan", args.shim)]
    pythons = args.python or ["/usr/bin/python3"]
    print("python_bench: %d rounds, %d starts per startup sample, %d forks per fork-loop "
          "sample; medians over rounds" % (args.rounds, args.starts, args.forks))
    print("%-22s %-10s %10s %11s %10s %8s %8s %7s  %s" % ("python", "workload", "native",
                                                         "empty-shim", "forksan", "ratio",
                                                         "empty", "spread", "target"))
    report, status = {}, 0
    for py in pythons:
        ver = version_of(py)
        if ver is None:
            print("%s: cannot run it, skipped" % py)
            status = 1
            continue
        try:
            res = measure(py, variants, args)
        except RuntimeError as exc:
            print("%s: %s" % (py, exc))
            status = 1
            continue
        label = "%s %s" % (ver, "(debian)" if py.startswith("/usr/bin") else "")
        for w, (kind, limit) in TARGETS.items():
            med = {v: statistics.median(res[w][v]["samples"]) for v, _ in variants}
            unit = "ms" if w == "startup" else "us"
            if min(med.values()) <= 0:  # fork-cpu below one clock tick: too few --forks
                print("%-22s %-10s below the clock's resolution: raise --forks" % (label, w))
                continue
            ratio = med["forksan"] / med["native"]
            if kind == "+ms":
                extra = med["forksan"] - med["native"]
                verdict = "%+.1f ms %s (<= +%g ms)" % (extra, "ok" if extra <= limit else
                                                       "OVER", limit)
            else:
                verdict = "%s (<= %gx)" % ("ok" if ratio <= limit else "OVER", limit)
            # spread: the largest (max - min) / median of a variant, as in forksan-bench; when
            # it exceeds the difference between two columns, that difference is noise.
            spread = max((max(res[w][v]["samples"]) - min(res[w][v]["samples"])) / med[v]
                         for v, _ in variants)
            print("%-22s %-10s %7.2f %s %8.2f %s %7.2f %s %7.2fx %7.2fx %6.0f%%  %s" % (
                label, w, med["native"], unit, med["empty-shim"], unit, med["forksan"], unit,
                ratio, med["empty-shim"] / med["native"], spread * 100, verdict))
            res[w]["spread"] = spread
            for v, _ in variants:
                res[w][v]["median"] = med[v]
        print("%-22s trace files written under forksan: startup %d, fork-loop %d" % (
            "", res["startup"]["forksan"]["trace_files"],
            res["fork-loop"]["forksan"]["trace_files"]))
        report[py] = {"version": ver, "workloads": res}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())
