# forksan case: a results file opened with open(path, "w") still holds the header in Python's buffer at os.fork; parent and child both write it
# requires: python3
# expect: stdio-unflushed-at-fork error

# A script that writes a header to its results file and then forks one worker per job: the
# header is still in the file object's buffer (Python's own, above libc) at os.fork, so the
# worker's close() writes it as well as its own line, and the parent writes it again at close().
import os
import signal
import sys
import tempfile

signal.alarm(5)
workdir = tempfile.mkdtemp()
path = os.path.join(workdir, "results.txt")
results = open(path, "w")
results.write("job results\n")

pid = os.fork()  # @fork
if pid == 0:
    results.write("job 1 done\n")
    results.close()
    os._exit(0)
_, status = os.waitpid(pid, 0)
results.close()
with open(path) as f:
    lines = f.read().splitlines()
os.unlink(path)
os.rmdir(workdir)
if status != 0 or lines.count("job results") != 2:
    sys.exit("case: the header was not written twice: %r" % lines)
