#!/usr/bin/env python3
"""The copy tool's oracle for the dirty bitmap: keep a mirror of a fence
device up to date with nothing but fetch-and-clear of its dirty regions,
while a writer runs; at the end the mirror must equal the device.

If a write racing a fetch-and-clear were ever lost (its region cleared while
the write was in flight and not reported again), the mirror would keep the
old data for that region and the final comparison fails.

usage: dirty_mirror.py [--ioctl] <dm name> <region_bytes> -- <writer command...>
(--ioctl: fetch with fencectl's GET_DIRTY ioctl instead of the message)
Prints one line of figures; exits 1 on any difference.
"""
import json
import mmap
import os
import subprocess
import sys


def get_dirty_ioctl(name):
    """The same through fencectl and the GET_DIRTY ioctl (binary window)."""
    out = subprocess.run([os.environ.get("FENCECTL", "fencectl"), "--json", "dirty", name, "--clear"],
                         check=True, capture_output=True, text=True).stdout
    regions = set()
    for lo, hi in json.loads(out)["ranges"]:
        regions.update(range(lo, hi + 1))
    return regions


def get_dirty(name):
    """Fetch and clear the dirty regions; returns a set of region numbers."""
    if VIA_IOCTL:
        return get_dirty_ioctl(name)
    regions = set()
    while True:
        out = subprocess.run(["dmsetup", "message", name, "0", "get_dirty", "clear"],
                             check=True, capture_output=True, text=True).stdout.split()
        more = out and out[-1] == "+"
        for word in out[:-1] if more else out:
            lo, _, hi = word.partition("-")
            regions.update(range(int(lo), int(hi or lo) + 1))
        if not more:
            return regions


def read_regions(fd, regions, region, size, into):
    """Copy the given regions of the device (O_DIRECT) into the mirror."""
    buf = mmap.mmap(-1, region)
    for r in sorted(regions):
        off = r * region
        n = min(region, size - off)
        got = os.preadv(fd, [buf], off)
        if got < n:
            sys.exit(f"short read at region {r}")
        into[off:off + n] = buf[:n]


VIA_IOCTL = False


def main():
    global VIA_IOCTL
    if sys.argv[1] == "--ioctl":
        VIA_IOCTL = True
        del sys.argv[1]
    name, region = sys.argv[1], int(sys.argv[2])
    writer = sys.argv[sys.argv.index("--") + 1:]
    dev = f"/dev/mapper/{name}"
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    size = os.lseek(fd, 0, os.SEEK_END)
    nr = (size + region - 1) // region

    get_dirty(name)                       # the first fetch: the start line
    mirror = bytearray(size)
    read_regions(fd, range(nr), region, size, mirror)
    snapshot = bytes(mirror)

    proc = subprocess.Popen(writer)
    rounds, copied, union = 0, 0, set()
    while proc.poll() is None:
        got = get_dirty(name)
        rounds += 1
        copied += len(got)
        union |= got
        read_regions(fd, got, region, size, mirror)
    if proc.returncode:
        sys.exit(f"writer failed: {proc.returncode}")
    got = get_dirty(name)                 # after the last write completed
    copied += len(got)
    union |= got
    read_regions(fd, got, region, size, mirror)

    final = bytearray(size)
    read_regions(fd, range(nr), region, size, final)
    stale = [r for r in range(nr)
             if mirror[r * region:(r + 1) * region] != final[r * region:(r + 1) * region]]
    changed = [r for r in range(nr)
               if snapshot[r * region:(r + 1) * region] != final[r * region:(r + 1) * region]]
    missed = [r for r in changed if r not in union]
    print(f"rounds={rounds} regions_copied={copied} changed={len(changed)} "
          f"union={len(union)} missed={len(missed)} stale_in_mirror={len(stale)}")
    if not changed:
        sys.exit("the writer changed nothing: the test proves nothing")
    if missed or stale:
        print(f"missed: {missed[:20]} stale: {stale[:20]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
