#!/usr/bin/env python3
"""The shim's writable memory must keep its touched part together.

A fork copies one page table per 2 MB range in which the parent has touched pages, and every
child frees them again.  The big registry tables (fs_threads, fs_sems, fs_lock_stacks: tens of
MB, almost all never touched) must come after every other variable, fs_threads (whose first
slots are live) first of them, so that the shim's small variables and the live slots fit in one
range (preload/registry.c).

usage: check_layout.py SHIM
"""
import subprocess
import sys

BIG = ("fs_threads", "fs_sems", "fs_lock_stacks")
LIMIT = 1 << 20  # the small variables and fs_threads' start must fit in this much


def main():
    if len(sys.argv) != 2:
        print("usage: check_layout.py SHIM", file=sys.stderr)
        return 2
    try:
        out = subprocess.run(["nm", "-S", "-n", sys.argv[1]], check=True, capture_output=True,
                             text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"check_layout: nm failed: {e}", file=sys.stderr)
        return 1
    small, big = [], {}
    for line in out.splitlines():
        f = line.split()
        if len(f) != 4 or f[2] not in "bBdD":
            continue
        addr, size, name = int(f[0], 16), int(f[1], 16), f[3]
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
    print(f"ok - fs_threads follows the last small variable ({last}), "
          f"{(threads - first) >> 10} KiB from the first")
    return 0


if __name__ == "__main__":
    sys.exit(main())
