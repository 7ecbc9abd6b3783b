#!/usr/bin/env python3
# Issue DM_FENCE_IOC_REOPEN with DM_FENCE_REOPEN_SWITCH on a fence device,
# as fencectl copy --switch does, for tests of the kernel side alone:
#   fence_switch.py MAJ:MIN [REOPENS|- [STANDBY_MAJ:MIN [START]]]
# REOPENS defaults to the device's count read by STATUS just before (also
# with "-").  With STANDBY (since 1.4: DM_FENCE_REOPEN_STANDBY, the struct's
# version 3), only onto that standby device at START (default 0).
# Prints "ok" or the errno's name, and exits 0 or 1.
import errno
import fcntl
import os
import struct
import sys

MAGIC = 0xDF
INFO = 128                      # struct dm_fence_info
REOPENS_AT = 96                 # its reopens field
SWITCH = 1 << 2                 # DM_FENCE_REOPEN_SWITCH
STANDBY = 1 << 4                # DM_FENCE_REOPEN_STANDBY


def iowr(nr, size):
    return (3 << 30) | (size << 16) | (MAGIC << 8) | nr


def call(fd, nr, size, flags, devt, tail=b""):
    maj, mnr = devt
    buf = bytearray(struct.pack("=IIII", size, flags, maj, mnr) + bytes(INFO) + tail)
    assert len(buf) == size
    try:
        fcntl.ioctl(fd, iowr(nr, size), buf)
    except OSError as e:
        return e.errno, buf
    return 0, buf


def main():
    devt = tuple(int(x) for x in sys.argv[1].split(":"))
    fd = os.open("/dev/dm-fence", os.O_RDWR)
    if len(sys.argv) > 2 and sys.argv[2] != "-":
        reopens = int(sys.argv[2])
    else:
        err, buf = call(fd, 0x00, 16 + INFO, 0, devt)
        if err:
            print(errno.errorcode[err])
            return 1
        reopens = struct.unpack_from("=Q", buf, 16 + REOPENS_AT)[0]
    if len(sys.argv) > 3:
        smaj, smin = (int(x) for x in sys.argv[3].split(":"))
        start = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        # generation, reopens, closes, standby_major, standby_minor, start
        err, _ = call(fd, 0x03, 16 + INFO + 40, SWITCH | STANDBY, devt,
                      struct.pack("=QQQIIQ", 0, reopens, 0, smaj, smin, start))
    else:
        err, _ = call(fd, 0x03, 16 + INFO + 16, SWITCH, devt,
                      struct.pack("=QQ", 0, reopens))
    print(errno.errorcode[err] if err else "ok")
    return 1 if err else 0


sys.exit(main())
