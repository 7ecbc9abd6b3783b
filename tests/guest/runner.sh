#!/bin/bash
# In-guest test runner: runs every test file of suite $1 (tests/guest/$1/)
# in its own bash, each bounded by TEST_TIMEOUT, then checks what the
# kernel logged meanwhile.  Writes "ok <name>" / "not ok <name>" lines to
# $OUT/results and each test's output to $OUT/<name>.log.
set -u
suite=$1
OUT=${OUT:-/tmp/out}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
export REPO
: > "$OUT/results"
cd /tmp	# the host's root is read-only; tests write their files here
# the block tracepoint is on from boot: record only while a test asks
echo 0 > /sys/kernel/tracing/tracing_on

# Anything the kernel must never say.  Refusals we provoke are DMERR lines
# and match none of these.  The debug kernels' reports (KASAN, KCSAN,
# lockdep, RCU, ODEBUG, sleeping in atomic context) begin with "BUG:" or
# "WARNING:"; kmemleak's are read from its own file, below.
BAD='WARNING:|BUG:|Oops|general protection|Call Trace|hung_task|blocked for more than|refcount_t:|UBSAN|kernel BUG|list_(add|del) corruption|Poison overwritten|Redzone|Object padding|soft lockup|Kernel panic|KASAN|KCSAN|ODEBUG|possible circular locking|suspicious RCU usage|sleeping function called|suspected memory leak'

# kmemleak, on the debug kernels: forget what boot left, then scan after
# each test (KMEMLEAK_EACH_TEST=1) or once after the suite: a scan takes
# 30 s under TCG.  An object counts as leaked once unreferenced for 5 s, so
# a leak may surface one test late; its backtrace names the allocator.
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	echo scan > $KMEMLEAK
	echo clear > $KMEMLEAK
fi
kmemleak_check() {	# <log>: fails (1) if kmemleak has a new report
	local t=$SECONDS
	[ -w $KMEMLEAK ] || return 0
	echo scan > $KMEMLEAK
	echo "# kmemleak scan: $((SECONDS - t))s" >> "$1"
	if grep -q unreferenced $KMEMLEAK; then
		{ echo "FAIL: kmemleak:"; head -60 $KMEMLEAK; } >> "$1"
		echo clear > $KMEMLEAK
		return 1
	fi
	return 0
}

# Leave nothing behind for the next test: kill what the test left running
# (its process group), fail whatever a device still holds by replacing
# tables with error targets, then remove every device.
cleanup_after() {	# <process group of the test>
	local i d
	kill -9 -- "-$1" 2>/dev/null
	# a gate the test left shut holds I/O (and a flush a remove waits for)
	for d in $(dmsetup info -c --noheadings -o name,suspended --separator : 2>/dev/null |
		   sed -n 's/:Suspended$//p'); do
		dmsetup resume "$d" >/dev/null 2>&1
	done
	# a writer in D state holds its device open until --force fails its
	# I/O; stacked devices go one layer per round
	for i in $(seq 40); do
		dmsetup remove_all >/dev/null 2>&1
		[ "$(dmsetup ls 2>/dev/null)" = "No devices found" ] && break
		dmsetup remove_all --force >/dev/null 2>&1
		sleep 0.25
	done
	for d in /sys/kernel/config/nullb/*/; do
		[ -d "$d" ] || continue
		echo 0 > "$d/power" 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
}

for t in "$REPO/tests/guest/$suite"/*.sh; do
	name=$(basename "$t" .sh)
	if [ -n "${ONLY:-}" ]; then
		case " $ONLY " in *" ${name%%-*} "*) ;; *) continue ;; esac
	fi
	# "# kernels: newest": a test of the tools above the target (fencectl's
	# commands and copy, the contrib scripts, the daemons that run them),
	# whose kernel paths other tests drive on every kernel: make check runs
	# it on the newest kernel only (SKIP_NEWEST_ONLY=1 on the others)
	if [ "${SKIP_NEWEST_ONLY:-0}" = 1 ] && grep -qx '# kernels: newest' "$t"; then
		continue
	fi
	# the test's slice of the kernel log starts at a marker of its own: a
	# line count goes wrong once the ring wraps, a lost marker is seen
	marker="=== $name $$.$RANDOM"
	echo "$marker" > /dev/kmsg
	start=$SECONDS
	# a test that runs many short-lived programs (each python start costs
	# seconds under TCG) may ask for more: "# test-timeout: <s>"
	limit=${TEST_TIMEOUT:-180}
	# (a Debian-kernel figure: GUEST_SLOWDOWN times it on the debug kernels,
	# where test 71 took 1412 s against its 900)
	own=$(sed -n 's/^# test-timeout: \([0-9]*\)$/\1/p' "$t")
	[ -n "$own" ] && own=$((own * ${GUEST_SLOWDOWN:-1}))
	[ -n "$own" ] && [ "$own" -gt "$limit" ] && limit=$own
	# timeout puts the test in a process group of its own: its pid
	timeout -k 5 "$limit" bash "$t" > "$OUT/$name.log" 2>&1 &
	pgid=$!
	wait $pgid
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "FAIL: timed out after ${limit}s" >> "$OUT/$name.log"
		echo w > /proc/sysrq-trigger
	elif [ $rc -ne 0 ] && ! grep -q '^FAIL' "$OUT/$name.log"; then
		# killed by a signal, or a command that failed last: say so
		echo "FAIL: exit status $rc, and no word of why" >> "$OUT/$name.log"
	fi
	cleanup_after $pgid
	if ! dmesg | awk -v m="$marker" 'seen { print } index($0, m) { seen = 1 } END { exit !seen }' \
		> "$OUT/$name.dmesg"; then
		echo "FAIL: the kernel log wrapped: this test's start marker is gone" >> "$OUT/$name.log"
		rc=1
	fi
	[ "${KMEMLEAK_EACH_TEST:-0}" = 1 ] && { kmemleak_check "$OUT/$name.log" || rc=1; }
	# KCSAN reports that name no frame of dm or dm-fence: aside, counted
	awk -v outside="$OUT/$name.kcsan-outside" -f "$REPO/tests/guest/tools/kcsan_split.awk" \
		"$OUT/$name.dmesg" > "$OUT/$name.dmesg-ours"
	if [ -s "$OUT/$name.kcsan-outside" ]; then
		n=$(grep -c 'BUG: KCSAN:' "$OUT/$name.kcsan-outside")
		echo "# $n KCSAN report(s) outside dm and dm-fence, not counted: $(grep -o 'BUG: KCSAN: .*' "$OUT/$name.kcsan-outside" | sort -u | tr '\n' ';')" >> "$OUT/$name.log"
		grep -o 'BUG: KCSAN: .*' "$OUT/$name.kcsan-outside" | sed "s/^/$name: /" >> "$OUT/kcsan-outside.txt"
	fi
	mv "$OUT/$name.dmesg-ours" "$OUT/$name.dmesg.checked"
	if grep -Eq "$BAD" "$OUT/$name.dmesg.checked"; then
		echo "FAIL: kernel log:" >> "$OUT/$name.log"
		grep -E -A5 "$BAD" "$OUT/$name.dmesg.checked" | head -40 >> "$OUT/$name.log"
		rc=1
	fi
	if [ $rc -eq 0 ]; then
		echo "ok $name $((SECONDS - start))s" >> "$OUT/results"
	else
		echo "not ok $name $((SECONDS - start))s" >> "$OUT/results"
	fi
done
if [ -w $KMEMLEAK ]; then
	sleep 6	# kmemleak reports only objects unreferenced for 5 s
	if kmemleak_check "$OUT/kmemleak-after-suite.log"; then
		echo "ok kmemleak-after-suite" >> "$OUT/results"
	else
		echo "not ok kmemleak-after-suite" >> "$OUT/results"
	fi
fi
dmesg > "$OUT/dmesg.txt"
echo complete >> "$OUT/results"
