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
#   dm said so;
# - a bad fencetab line (its form, an option out of range, a second line
#   for a name or a backing device) is said and skipped, the other lines
#   are still acted on (as crypttab at boot).
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
# fencetab: a bad line is said with its number and skipped, the others are
# still acted on (remove: "not there", or dm's absence), exit 1 or worse
cat > "$tab" <<'TAB'
# comment
good1 /dev/null
bad1 /dev/loop0 generation=-1
bad2 /dev/loop1 region_size=3
bad3 /dev/loop2 region_size=4194304
bad4 /dev/loop3 generation=+5
good1 /dev/loop4
dup2 /dev/null
bad5
good3 /dev/loop5 generation=7,region_size=256,fence_reads
TAB
rc=0
FENCECTL_FENCETAB=$tab "$f" remove > "$work/out" 2>&1 || rc=$?
for n in 3 4 5 6 7 8 9; do
	grep -q "fencetab:$n: .*line skipped" "$work/out" || { echo "fencetab line $n not reported"; fail=1; }
done
for n in 1 2 10; do
	grep -q "fencetab:$n: " "$work/out" && { echo "fencetab line $n reported"; fail=1; }
done
for n in good1 good3; do
	grep -q "$n: " "$work/out" || { echo "fencetab's $n not acted on"; fail=1; }
done
[ $rc -ge 1 ] || { echo "fencectl remove with bad fencetab lines: exit $rc"; fail=1; }
[ $fail = 0 ] || sed 's/^/    /' "$work/out"
[ $fail = 0 ] && echo "fencectl input: ok"
exit $fail
