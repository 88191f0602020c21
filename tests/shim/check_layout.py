#!/usr/bin/env python3
"""The shim's memory layout keeps what a fork touches together.

A fork copies one page table per 2 MB range in which the parent has touched pages, and every
child frees them again.  The big registry tables (fs_threads, fs_sems, fs_lock_stacks: tens of
MB, almost all never touched) must come after every other variable, fs_threads (whose first
slots are live) first of them, so that the shim's small variables and the live slots fit in one
range (preload/registry.c).

After a fork every page either process touches again is a TLB miss, and in the child a walk of
fresh page-table entries: preload/hot.ld gathers the fork path.  Its code (.text.fs_fork) must
start on a page with the child's path, which must fit in two pages, and hold both sides'
functions; its data (.data.fs_hot) must hold the variables the child reads, all on one page with
the flags of fs_config, and then the page-aligned fork page.

usage: check_layout.py SHIM
"""
import subprocess
import sys

BIG = ("fs_threads", "fs_sems", "fs_lock_stacks")
LIMIT = 1 << 20  # the small variables and fs_threads' start must fit in this much


# Functions a forked child runs from fork() to _exit, and the parent's side of a fork.
CHILD_CODE = ("atfork_child", "fork", "_exit", "exit_now", "fs_end_record_owned",
              "fs_wait_stamp_exit", "fs_trace_owned", "fs_unwind_after_fork_child")
PARENT_CODE = ("atfork_prepare", "atfork_parent", "fs_storm_reserve", "fs_backtrace", "waitpid",
               "fs_fork_record", "fs_lb_dec")
# Variables the child reads on its way (on the hot page).
HOT_DATA = ("fs_errno_off", "fs_real", "fs_keep", "inflight", "have_trace", "fs_ninherited")
PAGE = 4096


def run(argv):
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def sections(shim):
    out = {}
    for line in run(["readelf", "-SW", shim]).splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 5 and f[0].startswith("[") and f[1].startswith("."):
            out[f[1]] = (int(f[3], 16), int(f[3], 16) + int(f[5], 16))
    return out


def check_fork_path(syms, secs):
    """syms: name -> (start, end)."""
    for sec in (".text.fs_fork", ".data.fs_hot"):
        if sec not in secs:
            return f"no {sec} section (preload/hot.ld not applied?)"
        if secs[sec][0] % PAGE:
            return f"{sec} starts at {secs[sec][0]:#x}, not on a page"
    lo, hi = secs[".text.fs_fork"]
    for name in CHILD_CODE + PARENT_CODE:
        if name not in syms or not lo <= syms[name][0] < hi:
            return f"{name} is not in .text.fs_fork ({lo:#x}-{hi:#x})"
    child_end = max(syms[n][1] for n in CHILD_CODE)
    if child_end - lo > 2 * PAGE:
        return f"the child's path spans {child_end - lo:#x} bytes of code (limit {2 * PAGE:#x})"
    if any(syms[n][0] < child_end for n in PARENT_CODE):
        return "a parent-side function lies among the child's path"
    lo, hi = secs[".data.fs_hot"]
    for name in HOT_DATA + ("fs_config", "fs_fork_page"):
        if name not in syms or not lo <= syms[name][0] < hi:
            return f"{name} is not in .data.fs_hot ({lo:#x}-{hi:#x})"
    config = syms["fs_config"][0]
    small_end = max(e for n, (a, e) in syms.items() if lo <= a < config)
    if small_end > config or config + 64 > lo + PAGE:
        return (f"the hot variables and fs_config's flags do not share one page "
                f"({lo:#x}-{config + 64:#x})")
    if syms["fs_fork_page"][0] % PAGE:
        return f"fs_fork_page at {syms['fs_fork_page'][0]:#x} is not page-aligned"
    return None


def main():
    if len(sys.argv) != 2:
        print("usage: check_layout.py SHIM", file=sys.stderr)
        return 2
    try:
        out = run(["nm", "-S", "-n", sys.argv[1]])
        secs = sections(sys.argv[1])
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check_layout: nm or readelf failed: {e}", file=sys.stderr)
        return 1
    small, big, syms = [], {}, {}
    for line in out.splitlines():
        f = line.split()
        if len(f) != 4:
            continue
        addr, size, name = int(f[0], 16), int(f[1], 16), f[3]
        syms.setdefault(name, (addr, addr + size))
        if f[2] not in "bBdD":
            continue
        if name in BIG:
            big[name] = addr
        else:
            small.append((addr, addr + size, name))
    if set(big) != set(BIG) or not small:
        print(f"check_layout: missing symbols (stripped shim?): found {sorted(big)}")
        return 1
    first = min(a for a, _, _ in small)
    end, last = max((e, n) for _, e, n in small)
    threads = big["fs_threads"]
    if end > threads:
        print(f"check_layout: {last} ends at {end:#x}, after fs_threads ({threads:#x})")
        return 1
    for name in BIG[1:]:
        if big[name] < threads:
            print(f"check_layout: {name} ({big[name]:#x}) comes before fs_threads ({threads:#x})")
            return 1
    if threads - first > LIMIT:
        print(f"check_layout: fs_threads starts {(threads - first) >> 10} KiB after the first "
              f"variable (limit {LIMIT >> 10} KiB)")
        return 1
    problem = check_fork_path(syms, secs)
    if problem:
        print(f"check_layout: {problem}")
        return 1
    print(f"ok - fs_threads follows the last small variable ({last}), "
          f"{(threads - first) >> 10} KiB from the first; the fork path's code and data are "
          f"gathered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
