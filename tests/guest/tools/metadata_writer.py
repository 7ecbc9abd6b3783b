#!/usr/bin/python3
"""A metadata-heavy writer on a mounted filesystem: small files (1-4 KiB),
20 to a directory, made in bursts of 10 (for each, a scratch file created,
renamed and the one before unlinked), then each file and its directory
fsynced; all in one process (no fork per file: hundreds of metadata
changes a second under TCG, where a shell loop makes one or two).

    metadata_writer.py <dir> <stop> <log>

Runs until the file <stop> exists.  Appends "<name> <md5>" to <log> for
each file once it and its directory are fsynced."""
import hashlib
import os
import sys

top, stop, log = sys.argv[1:4]
BATCH = 10
i = 0
with open(log, "a") as out:
    while not os.path.exists(stop):
        # a burst of metadata changes: the batch's files, a scratch file
        # created, renamed and the last one unlinked for each
        made = []
        for _ in range(BATCH):
            d = os.path.join(top, f"d{i // 20}")
            if i % 20 == 0:
                os.mkdir(d)
            scratch = os.path.join(d, f"s{i}")
            with open(scratch, "w"):
                pass
            os.rename(scratch, os.path.join(d, f"r{i}"))
            if i % 20:
                os.unlink(os.path.join(d, f"r{i - 1}"))
            data = os.urandom(1024 * (1 + i % 4))
            name = f"d{i // 20}/f{i}"
            fd = os.open(os.path.join(top, name), os.O_WRONLY | os.O_CREAT, 0o644)
            os.write(fd, data)
            made.append((name, fd, hashlib.md5(data).hexdigest()))
            i += 1
        # then each file and its directory made durable, and logged
        for name, fd, _ in made:
            os.fsync(fd)
            os.close(fd)
        for d in sorted({name.split("/")[0] for name, _, _ in made}):
            dfd = os.open(os.path.join(top, d), os.O_RDONLY | os.O_DIRECTORY)
            os.fsync(dfd)
            os.close(dfd)
        for name, _, md5 in made:
            out.write(f"{name} {md5}\n")
        out.flush()
