#!/bin/bash
# fencectl's input, where no kernel is needed (issue 33, item 10):
# - the build takes CFLAGS from make's command line (a packager's
#   `make CFLAGS=-O3`) without losing what the code needs, and builds
#   warning-free at every optimisation level (-Werror: GCC's truncation
#   and flow warnings change with -O);
# - a number is digits only: " 5", "+5", "-5", "5x" and "" are usage
#   errors (exit 1), never read as 5 and acted on;
# - create/remove say when they cannot ask device-mapper (no permission,
#   no dm in the kernel) and exit non-zero: "not there" (exit 0) only when
#   dm said so.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
work=$BUILD/fencectl-input
rm -rf "$work"
mkdir -p "$work"
cp -a "$REPO/userspace" "$REPO/uapi" "$work/"
fail=0
for o in -O0 -O1 -O3 -Os "-O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong"; do
	make -C "$work/userspace" --no-print-directory clean > /dev/null
	if ! make -C "$work/userspace" --no-print-directory CFLAGS="$o" > "$work/make.log" 2>&1; then
		echo "make CFLAGS=\"$o\" failed:"
		sed 's/^/    /' "$work/make.log" | tail -n 20
		fail=1
	fi
done
make -C "$work/userspace" --no-print-directory clean > /dev/null
make -C "$work/userspace" --no-print-directory > /dev/null
f=$work/userspace/fencectl

expect() {	# <exit status> <what> <fencectl args...>
	local want=$1 what=$2 rc=0
	shift 2
	"$f" "$@" > "$work/out" 2>&1 || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "fencectl $* ($what): exit $rc, want $want:"
		sed 's/^/    /' "$work/out" | head -n 3
		fail=1
	fi
}
for n in ' 5' '+5' '-5' '5x' '' '0' '0x5' '9223372036854775808' '18446744073709551616'; do
	expect 1 "generation '$n'" fence nosuchdev "$n"
	expect 1 "generation '$n'" unfence nosuchdev "$n"
done
for n in ' 5' '+5' '-5' '5x' '' '4294967296'; do
	expect 1 "timeout '$n'" drain nosuchdev --timeout "$n"
	expect 1 "threshold '$n'" copy nosuchdev /dev/null --threshold "${n/4294967296/x}"
done
# a well-formed number gets as far as the device (there is none)
expect 2 "generation 5" fence nosuchdev 5
expect 2 "timeout 5" drain nosuchdev --timeout 5

tab=$work/fencetab
printf 'vm1 /dev/null\n' > "$tab"
chmod 755 "$work" "$work/userspace" "$f"
chmod 644 "$tab"
# not root: dm's control node is root's alone
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups env FENCECTL_FENCETAB="$tab" \
	"$f" remove > "$work/out" 2>&1 || rc=$?
if [ $rc = 0 ] || ! grep -q 'permission denied' "$work/out"; then
	echo "fencectl remove as nobody: exit $rc, want 4 and 'permission denied':"
	sed 's/^/    /' "$work/out"
	fail=1
fi
# root: dm there (a name it has not: "not there", exit 0) or not (this
# host's kernel may have no dm: say so, exit 2)
rc=0
FENCECTL_FENCETAB=$tab "$f" remove > "$work/out" 2>&1 || rc=$?
if dmsetup version > /dev/null 2>&1; then
	want="0 vm1: not there"
else
	want="2 device-mapper is not in the kernel"
fi
if [ "$rc" != "${want%% *}" ] || ! grep -q "${want#* }" "$work/out"; then
	echo "fencectl remove as root: exit $rc, want $want:"
	sed 's/^/    /' "$work/out"
	fail=1
fi
[ $fail = 0 ] && echo "fencectl input: ok"
exit $fail
