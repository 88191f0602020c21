# forksan case: a binary log opened with open(path, "wb") and kept on an object's attribute holds a record at os.fork; both processes write it
# requires: python3
# expect: stdio-unflushed-at-fork error

# The log file is a bare BufferedWriter kept as self.out of an object the script holds in a
# global; the first record is still buffered at os.fork.  The child ends with os._exit after
# closing the log (which writes the inherited record), the parent closes it after the wait.
import os
import signal
import sys
import tempfile


class Recorder:
    def __init__(self, path):
        self.path = path
        self.out = open(path, "wb")

    def record(self, data):
        self.out.write(data + b"\n")

    def close(self):
        self.out.close()


signal.alarm(5)
workdir = tempfile.mkdtemp()
recorder = Recorder(os.path.join(workdir, "events.bin"))
recorder.record(b"start")

pid = os.fork()  # @fork
if pid == 0:
    recorder.record(b"child")
    recorder.close()
    os._exit(0)
_, status = os.waitpid(pid, 0)
recorder.close()
with open(recorder.path, "rb") as f:
    records = f.read().splitlines()
os.unlink(recorder.path)
os.rmdir(workdir)
if status != 0 or records.count(b"start") != 2:
    sys.exit("case: the record was not written twice: %r" % records)
