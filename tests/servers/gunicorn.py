#!/usr/bin/env python3
"""gunicorn, a real Python prefork server, under `forksan run`: a tiny WSGI app, 2 sync workers,
a few requests, a graceful stop with SIGTERM to the master (gunicorn's workers then end through
sys.exit, running the interpreter's shutdown).

Checked: every request is answered and forksan exits with gunicorn's status (0);
- clean: the report has no finding at all.  The workers inherit libcrypto's own exit handler
  (OPENSSL_cleanup) and logging's atexit callback (logging.shutdown): the runtime's cleanup of the
  child's own state, not the program's (docs/hazards.md, docs/python.md);
- control: the app module, loaded in the master before the fork (--preload), registers its own
  atexit callback; every worker runs it at its sys.exit, and forksan reports
  child-exit-runs-parent-cleanup with that Python callback.

usage: gunicorn.py FORKSAN
Exit 0 when every check passed, 1 when one failed, 77 (skipped) without gunicorn
(scripts/install-deps.sh installs Debian's).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# The prefork-server test's helpers: its ok() counts this run's failures too.
import servers
from servers import children_of, free_port, ok

REQUESTS = 6
START_TIMEOUT = 30.0
STOP_TIMEOUT = 60.0

APP = """def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from gunicorn\\n"]
"""

# The control: a module-level atexit callback, the way programs clean up a pid or lock file.
APP_ATEXIT = """import atexit
import os

LOCK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "app.lock")
open(LOCK, "w").close()


def remove_lock():
    if os.path.exists(LOCK):
        os.unlink(LOCK)


atexit.register(remove_lock)
""" + APP

def run(forksan, gunicorn, name, source, preload):
    d = tempfile.mkdtemp(prefix=f"forksan-gunicorn-{name}.")
    with open(os.path.join(d, "app.py"), "w") as f:
        f.write(source)
    port = free_port()
    report = os.path.join(d, "report.json")
    cmd = [forksan, "run", "--fail-on", "never", "--trace-dir", os.path.join(d, "traces"),
           "--format", "json", "-o", report, "--", gunicorn, "--workers", "2",
           "--bind", f"127.0.0.1:{port}", "--chdir", d]
    if preload:
        cmd.append("--preload")
    cmd.append("app:app")
    err = open(os.path.join(d, "stderr"), "w+")
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err, env=env, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    # The master is forksan's child; the workers are its children.  Both workers booted before
    # the requests, so that each has served some.
    masters, workers = set(), set()
    while time.monotonic() < deadline:
        masters = children_of(proc.pid)
        workers = set()
        for m in masters:
            workers |= children_of(m)
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    responses = [servers.fetch(port, "/") for _ in range(REQUESTS)]
    for m in masters:
        os.kill(m, signal.SIGTERM)
    try:
        status = proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        status = "hung"
    err.seek(0)
    stderr = err.read()
    err.close()
    findings = None
    if os.path.exists(report):
        with open(report) as f:
            findings = json.load(f)["findings"]
    shutil.rmtree(d, ignore_errors=True)
    return responses, status, len(masters), workers, findings, stderr


def describe(findings):
    return "; ".join(f"{x.get('hazard')}: {x.get('summary', x.get('message', ''))}"[:300]
                     for x in findings or [])


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    forksan = os.path.abspath(sys.argv[1])
    gunicorn = shutil.which("gunicorn")
    if not gunicorn:
        print("# SKIP: gunicorn is not installed (scripts/install-deps.sh)")
        return 77

    resp, status, nmasters, workers, findings, stderr = run(forksan, gunicorn, "clean", APP, False)
    ok(nmasters == 1 and len(workers) >= 2,
       f"clean: a master and 2 workers ran ({nmasters} master(s), {len(workers)} workers)")
    ok(all(r == (200, b"hello from gunicorn\n") for r in resp),
       f"clean: all {REQUESTS} requests answered ({resp[:2]}...)")
    ok(status == 0, f"clean: forksan exits with gunicorn's status 0 (got {status})")
    ok(findings == [], f"clean: no finding (got {describe(findings)})")
    for line in stderr.splitlines():
        if line.startswith("forksan:"):
            print("# " + line[:200])

    # Without --preload each worker imports the app itself, after the fork: the callback is the
    # worker's own, and running it at the worker's exit is right.
    resp, status, nmasters, workers, findings, stderr = run(forksan, gunicorn, "own-atexit",
                                                            APP_ATEXIT, False)
    ok(len(workers) >= 2 and all(r[0] == 200 for r in resp) and status == 0,
       f"app with atexit, not preloaded: served and stopped ({len(workers)} workers, "
       f"status {status})")
    ok(findings == [], f"app with atexit, not preloaded: no finding (got {describe(findings)})")

    resp, status, nmasters, workers, findings, stderr = run(forksan, gunicorn, "atexit",
                                                            APP_ATEXIT, True)
    ok(len(workers) >= 2 and all(r[0] == 200 for r in resp),
       f"control: 2 workers served all {REQUESTS} requests ({len(workers)} workers, {resp[:2]})")
    ok(status == 0, f"control: forksan exits with gunicorn's status 0 (got {status})")
    exits = [x for x in findings or [] if x.get("hazard") == "child-exit-runs-parent-cleanup"]
    ok(len(exits) >= 1, f"control: child-exit-runs-parent-cleanup reported (got "
                        f"{describe(findings)})")
    text = json.dumps(exits)
    ok("python_atexit_callbacks" in text and "1 Python atexit callback" in text,
       "control: the finding names the app's one Python atexit callback")
    return 1 if servers.failures else 0


if __name__ == "__main__":
    sys.exit(main())
