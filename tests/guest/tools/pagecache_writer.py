#!/usr/bin/python3
"""A consumer that writes through a block device's page cache, as QEMU
with cache=writeback on a raw block device does: buffered 4 KiB writes at
random in one MiB (the first, or the one at <MiB> MiB), an fsync every 500 writes.

    pagecache_writer.py <dev> <image> <stop> <progress> [<MiB>]

Runs until the file <stop> exists, then fsyncs once more and writes that
MiB as it wrote it to <image>.  After each fsync, <progress> holds
the number of writes made so far."""
import os
import random
import sys

dev, image, stop, progress = sys.argv[1:5]
SPAN = 1 << 20
base = int(sys.argv[5]) * SPAN if len(sys.argv) > 5 else 0
fd = os.open(dev, os.O_RDWR)
img = bytearray(os.pread(fd, SPAN, base))
rng = random.Random(35)
n = 0
while not os.path.exists(stop):
    block = rng.randrange(SPAN // 4096)
    data = os.urandom(4096)
    os.pwrite(fd, data, base + block * 4096)
    img[block * 4096:(block + 1) * 4096] = data
    n += 1
    if n % 500 == 0:
        os.fsync(fd)
        with open(progress + ".new", "w") as f:
            f.write(f"{n}\n")
        os.replace(progress + ".new", progress)
os.fsync(fd)
os.close(fd)
with open(image, "wb") as f:
    f.write(img)
