#!/bin/bash
# make demo: builds for the newest kernel and runs the demo in its guest.
set -uo pipefail
source "$(dirname "$0")/host-lib.sh"
install_host > "$BUILD/install.log" 2>&1 || { cat "$BUILD/install.log"; exit 1; }
k=${KERNELS##* }
build_module "$k" > "$BUILD/build-$k.log" 2>&1 || { cat "$BUILD/build-$k.log"; exit 1; }
make -C "$REPO" --no-print-directory userspace > "$BUILD/userspace.log" 2>&1 || exit 1
echo "dm-fence demo in a QEMU guest running $k (about a minute)..."
run_suite "$k" demo TEST_TIMEOUT=600
cat "$VMS/$k-demo/10-demo.log"
grep -q '^ok ' "$VMS/$k-demo/results"
