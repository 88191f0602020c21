#!/usr/bin/env python3
"""Real prefork servers, natively and under `forksan run`: nginx (master as root, 2 workers as
`user nobody`) and apache2 (prefork MPM, workers as nobody).  Each server gets a configuration
written into a temporary directory, binds 127.0.0.1 on a free high port only, serves a bounded
loop of requests, and is stopped the way its users stop it (nginx -s quit, apache2 -k
graceful-stop).  Checked, for each server: the responses and the exit status under forksan are
the native ones, forksan's own status is the server's, and every process of the server (the
master and each worker seen during the run) has a trace and is counted in the report.

usage: servers.py FORKSAN [nginx|apache2 ...]
Exit 0 when every check passed, 1 when one failed, 77 (skipped) when no server could run here
(not root, or neither installed: scripts/install-deps.sh installs them).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REQUESTS = 40
START_TIMEOUT = 20.0
STOP_TIMEOUT = 30.0

failures = 0


def ok(cond, what):
    global failures
    print(("ok - " if cond else "not ok - ") + what, flush=True)
    if not cond:
        failures += 1
    return cond


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_setup(d, port):
    conf = os.path.join(d, "nginx.conf")
    tmp = os.path.join(d, "tmp")
    os.mkdir(tmp)
    with open(conf, "w") as f:
        f.write(f"""daemon off;
master_process on;
worker_processes 2;
user nobody nogroup;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}; proxy_temp_path {tmp}; fastcgi_temp_path {tmp};
    uwsgi_temp_path {tmp}; scgi_temp_path {tmp};
    server {{ listen 127.0.0.1:{port}; root {d}/html; }}
}}
""")
    start = ["nginx", "-c", conf, "-p", d]
    stop = ["nginx", "-c", conf, "-p", d, "-s", "quit"]
    return start, stop


def apache_setup(d, port, how="graceful-stop"):
    conf = os.path.join(d, "httpd.conf")
    mods = "/usr/lib/apache2/modules"
    with open(conf, "w") as f:
        f.write(f"""ServerRoot {d}
PidFile {d}/httpd.pid
Listen 127.0.0.1:{port}
LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
LoadModule authz_core_module {mods}/mod_authz_core.so
User nobody
Group nogroup
ServerName localhost
DocumentRoot {d}/html
ErrorLog {d}/error.log
Mutex file:{d} default
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 4
""")
    start = ["apache2", "-f", conf, "-DFOREGROUND"]
    stop = ["apache2", "-f", conf, "-k", how]
    return start, stop


# name: (executable, configuration).  apache2-stop stops with `-k stop` (SIGTERM): the master then
# signals its own process group, forksan's included (issue 9: forksan must not take that signal
# for the user's).
SERVERS = {
    "nginx": ("nginx", nginx_setup),
    "apache2": ("apache2", apache_setup),
    "apache2-stop": ("apache2", lambda d, port: apache_setup(d, port, "stop")),
    # A graceful restart halfway (the master signals its process group with SIGUSR1), then a
    # stop (SIGTERM to the group): two group signals, which forksan must not take for a user's
    # Ctrl-C (issue 9).
    "apache2-restart": ("apache2", lambda d, port: apache_setup(d, port, "stop")),
}
MIDWAY = {"apache2-restart": ["-k", "graceful"]}


def children_of(pid):
    """Direct children of pid, from /proc (empty when it is gone)."""
    out = set()
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(x) for x in f.read().split())
    except OSError:
        pass
    return out


def server_pid(launcher_pid, exe):
    """The server's master: the launcher itself, or (under forksan) its child running exe."""
    todo = [launcher_pid]
    while todo:
        p = todo.pop()
        try:
            if os.path.basename(os.readlink(f"/proc/{p}/exe")) == exe:
                return p
        except OSError:
            pass
        todo.extend(children_of(p))
    return None


def fetch(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return (r.status, r.read())
    except urllib.error.HTTPError as e:
        return (e.code, b"")
    except OSError as e:
        return ("error", str(e).encode())


def run_once(name, forksan, trace_dir):
    """Runs the server once; returns (responses, server status, forksan status or None,
    pids seen, forksan's stderr)."""
    d = tempfile.mkdtemp(prefix=f"forksan-{name}.")
    os.chmod(d, 0o755)  # the workers (nobody) read the document root
    os.mkdir(os.path.join(d, "html"))
    with open(os.path.join(d, "html", "index.html"), "w") as f:
        f.write(f"hello from {name}\n")
    os.chmod(os.path.join(d, "html"), 0o755)
    os.chmod(os.path.join(d, "html", "index.html"), 0o644)
    port = free_port()
    exe, setup = SERVERS[name]
    start, stop = setup(d, port)
    cmd = start
    report = os.path.join(d, "report.json")
    if forksan:
        cmd = [forksan, "run", "--fail-on", "never", "--trace-dir", trace_dir,
               "--format", "json", "-o", report, "--"] + start
    err = open(os.path.join(d, "stderr"), "w+")
    # A session of its own: apache signals its own process group when it stops.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=err, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    master = server_pid(proc.pid, exe)
    pids = {master} if master else set()
    responses = []
    for i in range(REQUESTS):
        if i == REQUESTS // 2 and name in MIDWAY:
            subprocess.run(stop[:-2] + MIDWAY[name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
            time.sleep(1)  # the new generation of workers
        path = "/index.html" if i % 4 else "/missing.html"
        responses.append(fetch(port, path))
        if master:
            pids |= children_of(master)
    subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    try:
        status = proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        status = "hung"
    err.seek(0)
    stderr = err.read()
    err.close()
    summary = None
    if forksan and os.path.exists(report):
        with open(report) as f:
            summary = json.load(f)["summary"]
    shutil.rmtree(d, ignore_errors=True)
    return responses, status, pids, stderr, summary


def traced_pids(trace_dir):
    """pids with a trace file, in the directory or one <pid>.d level down."""
    pids = set()
    for root, dirs, files in os.walk(trace_dir):
        for f in files:
            if f.endswith(".trace"):
                pids.add(int(f.split(".")[0]))
    return pids


def check(name, forksan):
    native = run_once(name, None, None)
    trace_dir = tempfile.mkdtemp(prefix=f"forksan-{name}-traces.")
    traced = run_once(name, forksan, trace_dir)
    n_resp, n_status, n_pids = native[0], native[1], native[2]
    t_resp, t_status, t_pids, t_err, summary = traced
    ok(all(r[0] in (200, 404) for r in n_resp), f"{name}: natively, every request answered")
    ok(t_resp == n_resp, f"{name}: the same {len(n_resp)} responses under forksan")
    ok(n_status == 0, f"{name}: natively, exit status 0 (got {n_status})")
    ok(t_status == n_status,
       f"{name}: forksan exits with the server's status ({t_status} vs {n_status} natively)")
    ok(len(n_pids) >= 3 and len(t_pids) >= 3,
       f"{name}: a master and at least 2 workers ran ({len(n_pids)} natively, "
       f"{len(t_pids)} under forksan)")
    have = traced_pids(trace_dir)
    missing = t_pids - have
    ok(not missing, f"{name}: every process has a trace (missing: {sorted(missing)})")
    ok(summary is not None and summary["processes"] >= len(t_pids),
       f"{name}: the report counts every process "
       f"({summary['processes'] if summary else 'no report'} of {len(t_pids)})")
    ok("interrupted" not in t_err,
       f"{name}: forksan took none of the server's signals for the user's")
    for line in t_err.splitlines():
        print("# forksan: " + line[:200])
    shutil.rmtree(trace_dir, ignore_errors=True)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    forksan = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or list(SERVERS)
    if os.geteuid() != 0:
        print("# SKIP: the servers drop to 'nobody', which needs root")
        return 77
    ran = 0
    for name in names:
        if name not in SERVERS:
            print(f"unknown server {name}", file=sys.stderr)
            return 2
        if not shutil.which(SERVERS[name][0]):
            print(f"ok - # SKIP {name} is not installed (scripts/install-deps.sh)")
            continue
        check(name, forksan)
        ran += 1
    if not ran:
        return 77
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
