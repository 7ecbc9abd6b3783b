#!/bin/bash
# sparse (make C=2) over the module and the test-only targets for kernel $1:
# any sparse warning or error in our sources fails, and so does a run that
# checked nothing (make skips an up-to-date .ko, and C=2 with it).
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
k=$1
rm -f "$BUILD/$k/dm-fence.ko" "$BUILD/$k"/test-modules/*.ko
out=$(build_module "$k" KBUILD_ARGS="C=2 CF=-D__CHECK_ENDIAN__" 2>&1)
echo "$out"
for src in driver/*.c tests/modules/*.c; do
	# a here-string, not a pipe: grep -q quits at the first match, and
	# under pipefail echo's SIGPIPE would fail the check now and then
	grep -q "CHECK .*/${src#tests/modules/}\$" <<< "$out" ||
		{ echo "sparse did not check $src" >&2; exit 1; }
done
! grep -E '(driver|uapi|test-modules)/.*: (warning|error):' <<< "$out"
