#!/usr/bin/python3
"""A stand-in for journald's native socket, for tests: receives what
sd_journal_send() sends to /run/systemd/journal/socket (the guest has no
journald) and appends each entry to <out> as one JSON object per line.

usage: fake_journal.py <out>   (runs until killed; the socket exists once
<out> does)
"""
import json
import os
import socket
import struct
import sys

PATH = "/run/systemd/journal/socket"


def parse(data):
    """journald's native protocol: KEY=value lines, or KEY\\n<le64 size><value>\\n."""
    entry, i = {}, 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            i = nl + 1
        else:
            k = line
            size = struct.unpack("<Q", data[nl + 1:nl + 9])[0]
            v = data[nl + 9:nl + 9 + size]
            i = nl + 9 + size + 1
        entry[k.decode()] = v.decode(errors="replace")
    return entry


def main():
    out = sys.argv[1]
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    if os.path.exists(PATH):
        os.unlink(PATH)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(PATH)
    open(out, "a").close()
    while True:
        data = s.recv(1 << 20)
        with open(out, "a") as f:
            f.write(json.dumps(parse(data)) + "\n")


if __name__ == "__main__":
    main()
