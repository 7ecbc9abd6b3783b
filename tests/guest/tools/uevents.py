#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print the kernel's change uevents that carry DM_FENCE_STATE, one line each:

    <DEVNAME> <DM_FENCE_STATE> <DM_FENCE_GENERATION>

Listens on the kernel's uevent netlink group itself (no udevd needed),
prints "ready" once bound, so a test starts acting only then, and exits
after COUNT such events or TIMEOUT seconds (exit 1 on the time-out).

usage: uevents.py COUNT TIMEOUT
"""
import select
import socket
import sys
import time

NETLINK_KOBJECT_UEVENT = 15


def main():
    count, timeout = int(sys.argv[1]), float(sys.argv[2])
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((0, 1))		# group 1: the kernel's own events
    print("ready", flush=True)
    end = time.monotonic() + timeout
    seen = 0
    while seen < count:
        left = end - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            print(f"timed out after {seen} of {count} events", file=sys.stderr)
            return 1
        fields = s.recv(65536).split(b"\0")
        env = dict(f.decode().split("=", 1) for f in fields[1:] if b"=" in f)
        if env.get("ACTION") != "change" or "DM_FENCE_STATE" not in env:
            continue
        print(env.get("DEVNAME", "?"), env["DM_FENCE_STATE"], env.get("DM_FENCE_GENERATION", "?"),
              flush=True)
        seen += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
