#!/usr/bin/env python3
"""Fence race oracle: writers stamp every 4 KiB block they write with
(magic, generation, writer, block, sequence); a fence arrives at a random
moment; afterwards every block must hold exactly the last write to it that
completed successfully, never a write that failed (a stale write landing)
and never an older one (a lost write), and the device must not change
again once stale_inflight is 0.  Every write is also timed: one that was
submitted after the fence message returned must fail, and the kernel's
failed_writes and late_completions must agree with what the writers saw.

Each writer owns a disjoint set of blocks and writes one block at a time,
so for every block the writes are ordered and "the last successful write"
is well defined.

usage: fence_race.py <dm name> <iterations> <seed> <backing> [<blocks>]
The device must be open with generation 1 at the start of each iteration;
the script fences it to 2, 3, ...  (it unfences it after each iteration).

With RACE_OUTAGE_CMD and RACE_RESTORE_CMD set (e.g. an NFS server that
stops answering and answers again), each iteration also takes the storage
away at a random moment before the fence and gives it back at a random
moment after it, so that the writes caught below complete late.
"""
import mmap
import os
import random
import struct
import subprocess
import sys
import threading
import time

BLOCK = 4096
MAGIC = 0x66656e6365726163          # "fencerac"
WRITERS = 16
HDR = struct.Struct("<QQQQQ")


def dm(*args):
    return subprocess.run(["dmsetup", *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def status(name):
    f = dm("status", name).split()[3:]
    return {"state": f[0], "generation": int(f[1]), "inflight": int(f[2]),
            "held": int(f[3]), "stale": int(f[4]), "late": int(f[5]),
            "failed": int(f[6])}


def wait_for(cond, limit, what):
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.02)


class Writer(threading.Thread):
    def __init__(self, dev, wid, blocks, gen, rng):
        super().__init__()
        self.dev, self.wid, self.blocks, self.gen = dev, wid, blocks, gen
        self.rng = random.Random(rng.random())
        self.last_ok = {}           # block -> seq of the last successful write
        self.failed = {}            # block -> seqs of failed writes
        self.times = []             # (submitted, completed, ok) per write
        self.stop = threading.Event()
        self.ok = self.errors = 0

    def run(self):
        fd = os.open(self.dev, os.O_WRONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, BLOCK)
        seq = 0
        while not self.stop.is_set():
            b = self.rng.choice(self.blocks)
            seq += 1
            buf.seek(0)
            buf.write(HDR.pack(MAGIC, self.gen, self.wid, b, seq))
            buf.write(os.urandom(64))
            t = time.monotonic()
            try:
                os.pwritev(fd, [buf], b * BLOCK)
                self.times.append((t, time.monotonic(), True))
                self.last_ok[b] = seq
                self.ok += 1
            except OSError:
                self.times.append((t, time.monotonic(), False))
                self.failed.setdefault(b, set()).add(seq)
                self.errors += 1
                if self.errors > 200:
                    break
        os.close(fd)


def read_stamps(dev, nblocks):
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 1 << 20)
    stamps = []
    for off in range(0, nblocks * BLOCK, len(buf)):
        n = os.preadv(fd, [buf], off)
        for i in range(0, n, BLOCK):
            stamps.append(HDR.unpack_from(buf, i))
    os.close(fd)
    return stamps[:nblocks]


def checksum(dev):
    return subprocess.run(f"dd if={dev} iflag=direct bs=1M status=none | md5sum",
                          shell=True, check=True, capture_output=True,
                          text=True).stdout.split()[0]


def iteration(name, backing, nblocks, it, rng):
    dev = f"/dev/mapper/{name}"
    st = status(name)
    gen = st["generation"]
    blocks = list(range(nblocks))
    rng.shuffle(blocks)
    writers = [Writer(dev, w, blocks[w::WRITERS], gen, rng) for w in range(WRITERS)]
    for w in writers:
        w.start()
    time.sleep(rng.uniform(0.05, 0.8))            # a random moment
    outage, restore = os.environ.get("RACE_OUTAGE_CMD"), os.environ.get("RACE_RESTORE_CMD")
    if outage:
        subprocess.run(outage, shell=True, check=True)
        time.sleep(rng.uniform(0, 0.5))           # writes pile up below
    t_fence = time.monotonic()
    dm("message", name, "0", "fence", str(gen + 1))
    t_fenced = time.monotonic()
    after = status(name)
    if restore:
        time.sleep(rng.uniform(0.2, 1.5))
        subprocess.run(restore, shell=True, check=True)
    # every writer goes on until the fence has failed one of its writes
    wait_for(lambda: all(w.errors or not w.is_alive() for w in writers), 30,
             "a failed write in every writer")
    for w in writers:
        w.stop.set()
    for w in writers:
        w.join()
    wait_for(lambda: status(name)["stale"] == 0, 60, "stale_inflight 0")
    final = status(name)
    sum1 = checksum(backing)

    stamps = read_stamps(backing, nblocks)
    bad = []
    for w in writers:
        for b in w.blocks:
            magic, sgen, wid, sb, seq = stamps[b]
            want = w.last_ok.get(b)
            if magic != MAGIC or sgen != gen:
                if want is not None:
                    bad.append(f"block {b}: lost write seq {want} (holds {stamps[b]})")
                continue
            if wid != w.wid or sb != b:
                bad.append(f"block {b}: foreign stamp {stamps[b]}")
            elif seq in w.failed.get(b, ()):
                bad.append(f"block {b}: a FAILED write (seq {seq}) landed")
            elif want is None or seq != want:
                bad.append(f"block {b}: holds seq {seq}, last successful was {want}")
    # a write submitted after the fence returned must never succeed
    after_fence = [t for w in writers for t in w.times if t[0] > t_fenced]
    passed = sum(1 for t in after_fence if t[2])
    if passed:
        bad.append(f"{passed} write(s) submitted after the fence returned succeeded")
    if not after_fence:
        bad.append("no write was submitted after the fence: the test proved nothing")
    # the kernel's counts agree with the writers: each write dm-fence failed
    # is one a writer saw fail; each late completion is a write that was
    # below at the fence, so it was submitted before the fence returned and
    # completed after it began
    failed_delta = final["failed"] - st["failed"]
    late_delta = final["late"] - st["late"]
    errors = sum(w.errors for w in writers)
    if failed_delta > errors or (not outage and failed_delta != errors):
        bad.append(f"failed_writes grew by {failed_delta}, the writers saw {errors} failures")
    spanning = sum(1 for w in writers for t in w.times
                   if t[0] < t_fenced and t[1] > t_fence)
    if not after["stale"] <= late_delta <= spanning:
        bad.append(f"late_completions grew by {late_delta}: expected between the "
                   f"{after['stale']} stale at the fence and the {spanning} writes "
                   f"that spanned it")
    # nothing may change once no stale write is below (none is: a write
    # below at this point would be a counting bug; give it time to show)
    time.sleep(0.3)
    sum2 = checksum(backing)
    if sum1 != sum2:
        bad.append("the backing device changed after stale_inflight reached 0")
    ok = sum(w.ok for w in writers)
    print(f"iteration {it}: gen {gen}->{gen + 1} writes_ok={ok} writes_failed={errors} "
          f"stale_at_fence={after['stale']} late={final['late']} "
          f"failed_writes={final['failed']} bad={len(bad)}", flush=True)
    for line in bad[:20]:
        print("  " + line)
    if final["inflight"] or final["held"]:
        bad.append(f"counts not at rest: {final}")
    if errors == 0:
        bad.append("no write failed after the fence: the test proved nothing")
    dm("message", name, "0", "unfence", str(gen + 1))
    return not bad, after["stale"]


def main():
    name, iterations, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    backing = sys.argv[4]
    nblocks = int(sys.argv[5]) if len(sys.argv) > 5 else 2048
    print(f"fence race: {iterations} iterations, seed {seed}", flush=True)
    rng = random.Random(seed)
    good, stale_seen = True, 0
    for it in range(iterations):
        ok, stale = iteration(name, backing, nblocks, it, rng)
        good &= ok
        stale_seen += stale > 0
    print(f"iterations={iterations} with_stale_writes_below={stale_seen} "
          f"result={'ok' if good else 'FAILED'}")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
