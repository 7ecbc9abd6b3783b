#!/bin/bash
# The clang static analyzer (scan-build) over userspace/, built in a copy
# of its own (the guest runs the fencectl of the tree): any finding fails.
# It found copy_regions returning an uninitialised status on an empty
# dirty set (the final round of an idle disk), issue 33.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
work=$BUILD/analyzer
rm -rf "$work"
mkdir -p "$work"
cp -a "$REPO/userspace" "$REPO/uapi" "$work/"
make -C "$work/userspace" --no-print-directory clean > /dev/null
scan-build --status-bugs -o "$work/reports" make -C "$work/userspace" --no-print-directory
echo "scan-build: no findings"
