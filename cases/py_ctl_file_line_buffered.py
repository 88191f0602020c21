# forksan case: control: a results file opened line-buffered (buffering=1) whose header ends in a newline has nothing pending at os.fork
# requires: python3
# expect: none

# The same script as py_file_dup_written.py, but the file is line-buffered: the header's newline
# wrote it at once, and the object kept on an attribute (as in py_file_dup_attr.py) holds
# nothing at the fork.
import os
import signal
import sys
import tempfile


class Results:
    def __init__(self, path):
        self.path = path
        self.out = open(path, "w", buffering=1)


signal.alarm(5)
workdir = tempfile.mkdtemp()
results = Results(os.path.join(workdir, "results.txt"))
results.out.write("job results\n")

pid = os.fork()  # @fork
if pid == 0:
    results.out.write("job 1 done\n")
    results.out.close()
    os._exit(0)
_, status = os.waitpid(pid, 0)
results.out.close()
with open(results.path) as f:
    lines = f.read().splitlines()
os.unlink(results.path)
os.rmdir(workdir)
if status != 0 or lines.count("job results") != 1:
    sys.exit("case: the header was not written once: %r" % lines)
