# forksan case: control: the results file is flushed before os.fork, so each line is written once
# requires: python3
# expect: none

# py_file_dup_written.py with the fix: results.flush() before the fork leaves nothing buffered
# to copy; the worker's and the parent's close() each write only their own lines.
import os
import signal
import sys
import tempfile

signal.alarm(5)
workdir = tempfile.mkdtemp()
path = os.path.join(workdir, "results.txt")
results = open(path, "w")
results.write("job results\n")
results.flush()

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
if status != 0 or lines.count("job results") != 1:
    sys.exit("case: the header was not written once: %r" % lines)
