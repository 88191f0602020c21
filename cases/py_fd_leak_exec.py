# forksan case: a pipe made inheritable for one Python child leaks into another program the script execs
# requires: python3
# expect: fd-inherited note

# Python creates descriptors non-inheritable, so leaks come from descriptors made inheritable for
# one purpose: here the write end of a status pipe, for a helper.  A later child execs /bin/true,
# which receives that descriptor too.  The read end stays non-inheritable and does not cross.
import os
import signal
import sys


def main():
    signal.alarm(5)
    r, w = os.pipe()
    os.set_inheritable(w, True)
    pid = os.fork()
    if pid == 0:
        try:
            os.execv("/bin/true", ["true"])
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        sys.exit("case: child failed")


main()
