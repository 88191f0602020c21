"""Runs `forksan run -- PROGRAM...` on a new pseudo-terminal as its controlling terminal, types
a line, then Ctrl-C: what a user at a terminal does.  Prints what the terminal showed, then
`status N` (forksan's exit status).  usage: pty_run.py FORKSAN PROGRAM [ARGS...]"""
import os
import pty
import select
import sys
import time

pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "run", "--"] + sys.argv[2:])
time.sleep(1.0)
os.write(fd, b"hello\n")
time.sleep(0.5)
os.write(fd, b"\x03")
out = b""
deadline = time.time() + 30
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
print("status", os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
