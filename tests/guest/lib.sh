# Shared helpers of the in-guest tests.  Sourced by every test file; each
# test runs in its own bash with `set -euo pipefail` and the runner's
# time-out.  A test fails by exiting non-zero; fail() says what it expected.
set -eEuo pipefail

# A test that set -e ends says which command ended it, where: the runner's
# "exit status N, and no word of why" was all a log said (issue 31).  Only
# where errexit is on (a command tested by if, || or ! is no failure), and a
# subshell's (a background writer whose dd fails on a fenced device) is not
# the test's own failure.
set_e_failed() {	# <status> <command> <file> <line>
	[[ $- == *e* ]] || return 0
	if [ "$BASH_SUBSHELL" = 0 ]; then
		echo "FAIL: $3:$4: \"$2\" exited $1 (set -e)" >&2
	else
		echo "# a subshell ended at $3:$4: \"$2\" exited $1" >&2
	fi
}
trap 'set_e_failed $? "$BASH_COMMAND" "${BASH_SOURCE[0]}" $LINENO' ERR

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KVER=$(uname -r)
FENCE_KO=$REPO/build/$KVER/dm-fence.ko
TEST_MODULES=$REPO/build/$KVER/test-modules
export DM_DISABLE_UDEV=1

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

log() {
	echo "# $*"
}

expect_eq() {	# <actual> <expected> <what>
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# "cmd | grep -q" under pipefail is a race: grep exits at the first match
# and cmd, still writing, dies of SIGPIPE and fails the pipeline.  has()
# reads all of its input first.
has() {	# <grep args...>: grep -q on stdin
	local all
	all=$(cat)
	grep -q "$@" <<< "$all"
}

load_fence() {
	modprobe dm-mod
	grep -qw '^dm_fence' /proc/modules || insmod "$FENCE_KO"
}

# A test-only target of tests/modules/ (dm-slow-undo, ...).
load_test_module() {	# <name, as dm-slow-undo>
	grep -qw "^${1//-/_}" /proc/modules || insmod "$TEST_MODULES/$1.ko"
}

# Wait until "$@" succeeds; poll only where the kernel raises no event.
# <timeout_s> is the bound on Debian's kernels; the debug kernels get
# GUEST_SLOWDOWN times it, as RETURN_BOUND below (on kasan beside other
# guests test 55's agent took over 20 s to fence its first device).
wait_until() {	# <timeout_s> <cmd...>
	local limit=$(($1 * ${GUEST_SLOWDOWN:-1})) end
	shift
	end=$((SECONDS + limit))
	until "$@"; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# --- status of a fence device -------------------------------------------
# Fields: state generation inflight held stale_inflight late_completions
#         failed_writes dirty/regions flush_errors unknown_fate
FENCE_FIELDS=(state generation inflight held stale late failed dirty flush_errors unknown)

fence_status() {	# <name>: the fence target's own fields
	dmsetup status "$1" | sed -n 's/^[0-9]* [0-9]* fence //p'
}

# Open <name> whatever its state, for a storm or fuzz test's clean-up: not
# compare-and-swap (reads the generation, then unfences at it, forced).
open_any() {	# <name>
	local st
	read -r -a st <<< "$(fence_status "$1")"
	if [ "${st[0]}" = fenced ]; then
		"$FENCECTL" unfence "$1" "${st[1]}" --force
	else
		"$FENCECTL" reopen "$1"
	fi
}

field() {	# <name> <field>
	local i st
	read -r -a st <<< "$(fence_status "$1")"
	for i in "${!FENCE_FIELDS[@]}"; do
		if [ "${FENCE_FIELDS[$i]}" = "$2" ]; then
			echo "${st[$i]}"
			return
		fi
	done
	fail "no status field $2"
}

expect_field() {	# <name> <field> <value>
	expect_eq "$(field "$1" "$2")" "$3" "$1 status $2 ($(fence_status "$1"))"
}

field_is() {	# <name> <field> <value>: for wait_until
	[ "$(field "$1" "$2")" = "$3" ]
}

dirty_regions() {	# <name>: the dirty count, without "/regions"
	local d
	d=$(field "$1" dirty)
	echo "${d%/*}"
}

dirty_is() {	# <name> <count>: for wait_until
	[ "$(dirty_regions "$1")" = "$2" ]
}

dirty_above() {	# <name> <count>: for wait_until
	[ "$(dirty_regions "$1")" -gt "$2" ]
}

# Wait for the device-mapper event that accompanies state $2, not by
# polling: `dmsetup wait` returns when the event counter moves past the
# one we saw, and we re-check the state after every event.  A state that
# changes under our eyes without its event fails (returns 2): the contract
# promises an event with every state change, and scripts wait on it.
wait_state() {	# <name> <state> [timeout_s]
	local name=$1 want=$2 limit=${3:-30} nr end other=
	end=$((SECONDS + limit))
	while :; do
		nr=$(dmsetup info -c --noheadings -o events "$name" | tr -d ' ')
		if [ "$(field "$name" state)" = "$want" ]; then
			# already there when we came: no event to expect
			[ -z "$other" ] && return 0
			# the event follows the change: give it a moment
			[ "$nr" -gt "$other" ] ||
				timeout 5 dmsetup wait "$name" "$other" >/dev/null 2>&1 ||
				{ echo "wait_state: $name became $want without a device-mapper event" >&2; return 2; }
			return 0
		fi
		other=$nr
		[ $SECONDS -lt $end ] || return 1
		timeout $((end - SECONDS + 1)) dmsetup wait "$name" "$nr" >/dev/null || true
	done
}

devt_of() {	# <block device> -> MAJ:MIN
	local d
	d=$(readlink -f "$1")
	printf '%d:%d\n' "0x$(stat -c %t "$d")" "0x$(stat -c %T "$d")"
}

dm_devt() {	# <dm name> -> MAJ:MIN
	dmsetup info -c --noheadings -o major,minor --separator : "$1" | tr -d ' '
}

dm_sysname() {	# <dm name> -> dm-N (nodes are not symlinks without udev)
	echo "dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"
}

sectors_of() {
	blockdev --getsz "$1"
}

# --- backing devices ------------------------------------------------------
# null_blk through configfs: memory backed (data survives), with a volatile
# write cache so that flush and FUA are real operations the block layer
# passes down (without one it strips them before they reach the device).
nullb_create() {	# <name> <size_MiB> [attr=value...]
	local name=$1 size=$2 a d=/sys/kernel/config/nullb/$1
	shift 2
	modprobe null_blk nr_devices=0
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	mkdir "$d"
	echo "$size" > "$d/size"
	echo 1 > "$d/memory_backed"
	echo 16 > "$d/cache_size"
	echo 2 > "$d/queue_mode"
	for a in "$@"; do
		echo "${a#*=}" > "$d/${a%%=*}"
	done
	echo 1 > "$d/power"
	[ -b "/dev/$name" ] || fail "null_blk $name did not appear"
	echo "/dev/$name"
}

# null_blk for speed measurements: no memory backing, no write cache, so
# what fio measures is the CPU cost of each I/O.
nullb_perf_create() {	# <name> <size_MiB>
	local d=/sys/kernel/config/nullb/$1
	modprobe null_blk nr_devices=0
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	mkdir "$d"
	echo "$2" > "$d/size"
	echo 2 > "$d/queue_mode"
	echo 1 > "$d/power"
	echo "/dev/$1"
}

nullb_remove() {
	local d=/sys/kernel/config/nullb/$1
	[ -d "$d" ] || return 0
	echo 0 > "$d/power" 2>/dev/null || true
	rmdir "$d"
}

scsi_debug_disk() {	# [module params...]: load scsi_debug, print its disk
	local b
	modprobe sd_mod
	modprobe scsi_debug "$@"
	wait_until 20 scsi_debug_find >/dev/null || fail "scsi_debug disk did not appear"
	scsi_debug_find
}

scsi_debug_find() {
	local b
	for b in /sys/block/sd*; do
		[ -e "$b/device/model" ] || continue
		if [ "$(tr -d ' ' < "$b/device/model")" = scsi_debug ] &&
		   blockdev --getsz "/dev/${b##*/}" >/dev/null 2>&1; then
			echo "/dev/${b##*/}"
			return 0
		fi
	done
	return 1
}

# A fence device over <dev>, whole device unless a length is given.
fence_create() {	# <name> <dev> [features...]
	local name=$1 dev=$2 len
	shift 2
	len=$(sectors_of "$dev")
	if [ $# -gt 0 ]; then
		dmsetup create "$name" --table "0 $len fence $dev 0 $# $*"
	else
		dmsetup create "$name" --table "0 $len fence $dev 0"
	fi
}

# --- block tracepoints: what reached the backing device --------------------
TRACE=/sys/kernel/tracing

trace_start() {	# <dev>: record bios queued to <dev>
	local mm maj min
	mm=$(devt_of "$1")
	maj=${mm%:*} min=${mm#*:}
	# the event itself is enabled at boot (see tests/vm/run.sh): never
	# write to .../enable here
	echo 0 > $TRACE/tracing_on
	echo "dev == $(((maj << 20) | min))" > $TRACE/events/block/block_bio_queue/filter
	echo > $TRACE/trace
	echo 1 > $TRACE/tracing_on
}

trace_stop() {	# prints "<rwbs> <sector> <nr_sectors>" per bio
	trace_stop_ts | cut -d' ' -f2-
}

trace_stop_ts() {	# prints "<seconds> <rwbs> <sector> <nr_sectors>" per bio, "<seconds> MARK <text>" per trace_mark
	echo 0 > $TRACE/tracing_on
	echo 0 > $TRACE/events/block/block_bio_queue/filter
	sed -n -e 's/.* \([0-9]*\.[0-9]*\): block_bio_queue: [0-9]*,[0-9]* \([A-Z]*\) \([0-9]*\) + \([0-9]*\).*/\1 \2 \3 \4/p' \
		-e 's/.* \([0-9]*\.[0-9]*\): tracing_mark_write: \(.*\)/\1 MARK \2/p' $TRACE/trace
}

# A point in the trace, in its clock: what was queued before and after it.
trace_mark() {	# <text>
	echo "$1" > $TRACE/trace_marker
}

# --- data -------------------------------------------------------------------
random_file() {	# <file> <size_KiB>
	head -c $(($2 * 1024)) /dev/urandom > "$1"
}

sum_range() {	# <dev> <offset_sectors> <nr_sectors>
	dd if="$1" iflag=direct,skip_bytes,count_bytes skip=$(($2 * 512)) \
		count=$(($3 * 512)) bs=1M status=none | md5sum | cut -d' ' -f1
}

# dm-delay over <dev>: reads and flushes pass at once, writes wait <ms>.
# Suspending it releases what it holds: a deterministic "complete now".
delay_create() {	# <name> <dev> <write_delay_ms>
	local len
	len=$(sectors_of "$2")
	modprobe dm-delay
	dmsetup create "$1" --table "0 $len delay $2 0 0 $2 0 $3 $2 0 0"
}

# Start a direct write of one 4 KiB block of <file> at block <n>, in the
# background; its pid is in $!.
# A gate: a dm-linear that, shut (suspended), keeps the writes that reach
# it below the fence device until it is opened again.  Unlike a dm-delay
# window, no slow moment of the guest can let such a write complete early.
gate_create() {	# <name> <dev>
	dmsetup create "$1" --table "0 $(sectors_of "$2") linear $2 0"
}
gate_shut() { dmsetup suspend "$1"; }
gate_open() { dmsetup resume "$1"; }

# A gate for writes only: a dm-delay <name> over <dev> (no delay) whose
# writes go through gate <gate>, so that reads (a copy's, a checksum's)
# pass while the gate holds writes below.
write_gate_create() {	# <name> <gate> <dev>
	local len
	len=$(sectors_of "$3")
	modprobe dm-delay
	gate_create "$2" "$3"
	dmsetup create "$1" --table "0 $len delay $3 0 0 /dev/mapper/$2 0 0 $3 0 0"
	# shellcheck disable=SC2064 # the gate's name now
	trap "gate_open $2 2>/dev/null || true" EXIT
}

# A fence device <name> over a gate <gate> over <dev>; a test that ends
# (or fails) with the gate shut opens it on exit, so cleanup can proceed.
gated_fence() {	# <name> <gate> <dev>
	gate_create "$2" "$3"
	fence_create "$1" "/dev/mapper/$2"
	# shellcheck disable=SC2064 # the gate's name now
	trap "gate_open $2 2>/dev/null || true" EXIT
}

write_block_bg() {	# <dev> <block> <file>
	dd if="$3" of="$1" bs=4k count=1 seek="$2" oflag=direct status=none &
}

# Close fence device <name> and hold one write of <file> at block <n>
# (it waits in the target); its pid is left in $HELD_PID.
hold_one_write() {	# <name> <block> <file>
	dmsetup message "$1" 0 close
	wait_state "$1" closed 10
	write_block_bg "/dev/mapper/$1" "$2" "$3"
	HELD_PID=$!
	wait_until 10 field_is "$1" held 1 || fail "write not held: $(fence_status "$1")"
}

# Start a write of one block through fence device <name> and wait until it
# is in flight below (on a slow device); its pid is left in $INFLIGHT_PID.
write_in_flight() {	# <dm name> <block> <file>
	write_block_bg "/dev/mapper/$1" "$2" "$3"
	INFLIGHT_PID=$!
	wait_until 20 field_is "$1" inflight 1 || fail "write to $1 not in flight: $(fence_status "$1")"
}

# Start "fencectl copy <name> <dst> --max-rounds 0 --rate 8 [args...]" in
# the background (pid in $COPY_PID, stderr in /tmp/copy.err) and return
# once it has drained the source with a final round of 48 MiB ahead of it
# (6 s): the 48 MiB (/tmp/final) are written while round 0 is stopped
# right after its fetch.  (Racing the writes against round 0's rate
# instead hung on the kcsan kernel: the writer, slower than the round, had
# its last write held by the close.)
copy_into_long_final_round() {	# <name> <dst> [copy args...]
	local name=$1 dst=$2
	shift 2
	random_file /tmp/final $((48 * 1024))
	# one region dirty, so that a clean bitmap says the copy fetched it
	# (with --switch, after its reload: never stopped inside that)
	dd if=/tmp/final of="/dev/mapper/$name" bs=4k count=1 oflag=direct status=none
	"$FENCECTL" copy "$name" "$dst" --max-rounds 0 --rate 8 "$@" 2> /tmp/copy.err &
	COPY_PID=$!
	wait_until 10 dirty_is "$name" 0 || fail "copy did not fetch the bitmap: $(fence_status "$name") $(cat /tmp/copy.err)"
	kill -STOP $COPY_PID
	dd if=/tmp/final of="/dev/mapper/$name" bs=1M oflag=direct status=none
	kill -CONT $COPY_PID
	wait_until 30 field_is "$name" state closed ||
		fail "copy never drained: $(fence_status "$name") $(cat /tmp/copy.err)"
}

# Each process in D state and every fencectl, with their kernel stacks:
# where a copy that does not end waits.
copy_stacks() {
	local p t
	for p in /proc/[0-9]*; do
		grep -q '^State:.*D' "$p/status" 2> /dev/null ||
			[ "$(cat "$p/comm" 2> /dev/null)" = fencectl ] || continue
		echo "$(cat "$p/comm") ${p#/proc/}:"
		cat "$p/stack" 2> /dev/null
		for t in "$p"/task/*; do
			grep -q '^State:.*D' "$t/status" 2> /dev/null || continue
			echo "  thread $(cat "$t/comm"):"
			sed 's/^/    /' "$t/stack"
		done
	done
}

exited() {	# <pid>: gone or a zombie (for wait_until)
	[ ! -e "/proc/$1" ] || grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"
}

# A copy started in the background (stderr in /tmp/copy.err) must end
# within <bound_s> s with <code>; one that hangs is unstuck by a reopen of
# <name> (so that the test ends) and fails the test with the stacks.
copy_ends() {	# <name> <bound_s> <pid> <code> <what>
	if ! wait_until "$2" exited "$3"; then
		copy_stacks > /tmp/stacks
		"$FENCECTL" reopen "$1" || true
		kill -KILL "$3" 2> /dev/null || true
		fail "$5: the copy did not end within ${2}s ($(fence_status "$1")); $(cat /tmp/stacks /tmp/copy.err)"
	fi
	expect_wait "$3" "$4" "$5: exit of the copy ($(cat /tmp/copy.err))"
}

block_sum() {	# <dev> <block>
	sum_range "$1" $(($2 * 8)) 8
}

file_sum() {
	md5sum < "$1" | cut -d' ' -f1
}

# --- the control plane --------------------------------------------------------
export FENCECTL=$REPO/userspace/fencectl
# fencectl records each fence and unfence for the next boot; the guest's
# /var is the host's, read-only: a fresh place per test (fencetab(5))
export FENCECTL_STATE_DIR=/tmp/dm-fence-state
rm -rf "$FENCECTL_STATE_DIR"
TOOLS=$REPO/build/tools
fencectl() { "$FENCECTL" "$@"; }

expect_wait() {	# <pid> <code> <what>: wait for a background job, expect its exit code
	local rc=0
	wait "$1" || rc=$?
	expect_eq "$rc" "$2" "$3"
}

expect_exit() {	# <code> <cmd...>: run, expect that exit code
	local want=$1 rc=0
	shift
	"$@" > /tmp/expect_exit.out 2>&1 || rc=$?
	[ "$rc" = "$want" ] || { cat /tmp/expect_exit.out; fail "'$*' exited $rc, expected $want"; }
}

# A command that must return (and succeed) within $RETURN_BOUND s while
# the disk below does not answer: the gate holds the disk for as long as
# the test wants, so any bound tells "returns" from "waits for the disk".
# 2 s, times GUEST_SLOWDOWN on the debug kernels (KASAN and lockdep make
# every process start and grace period several times slower under TCG).
RETURN_BOUND=$((2 * ${GUEST_SLOWDOWN:-1}))
returns_at_once() {	# <what> <cmd...>
	local t0 t1
	log "$1 (exit 124: it did not return within ${RETURN_BOUND}s)"
	shift
	t0=$(date +%s%N)
	expect_exit 0 timeout "$RETURN_BOUND" "$@"
	t1=$(date +%s%N)
	log "  returned in $(((t1 - t0) / 1000000)) ms"
}

json_field() {	# <field>: from the JSON object on stdin
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# A SCSI disk from the kernel's own SCSI target (LIO) through its loopback
# fabric: a RAM backstore behind tcm_loop.  Unlike scsi_debug it answers
# persistent reservations (PERSISTENT RESERVE IN/OUT) the way an iSCSI or
# FC array does.  Prints the new sd device.  <n> (0, 1...) makes more than
# one, each its own backstore, target port and initiator.
lio_disk() {	# <size_MiB> [n]
	local t=/sys/kernel/config/target before b n=${2:-0}
	local wwn=naa.5001405f000000${n}1 rd=rd$n
	modprobe sd_mod
	modprobe tcm_loop
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	before=$(ls /sys/block)
	# sd registers keys with APTPL: LIO keeps them under its dbroot, which
	# must be writable (the host's root is read-only here)
	mkdir -p /tmp/lio/pr
	[ "$(cat $t/dbroot)" = /tmp/lio ] || echo /tmp/lio > $t/dbroot
	mkdir -p $t/core/rd_mcp_0/$rd
	echo "rd_pages=$(($1 * 256))" > $t/core/rd_mcp_0/$rd/control
	echo 1 > $t/core/rd_mcp_0/$rd/enable
	mkdir -p $t/loopback/$wwn/tpgt_1/lun/lun_0
	echo naa.5001405f000000${n}2 > $t/loopback/$wwn/tpgt_1/nexus
	ln -s $t/core/rd_mcp_0/$rd $t/loopback/$wwn/tpgt_1/lun/lun_0/$rd
	lio_find() {
		for b in /sys/block/sd*; do
			[ -e "$b" ] || continue
			grep -qxF "${b##*/}" <<< "$before" && continue
			blockdev --getsz "/dev/${b##*/}" >/dev/null 2>&1 || continue
			echo "/dev/${b##*/}"
			return 0
		done
		return 1
	}
	wait_until 20 lio_find >/dev/null || fail "LIO loopback disk did not appear"
	lio_find
}

lio_remove() {	# [n]: undo lio_disk (best effort: the next test starts clean)
	local t=/sys/kernel/config/target n=${1:-0}
	local w=naa.5001405f000000${n}1
	rm -f $t/loopback/$w/tpgt_1/lun/lun_0/rd$n
	rmdir $t/loopback/$w/tpgt_1/lun/lun_0 $t/loopback/$w/tpgt_1 $t/loopback/$w \
		$t/core/rd_mcp_0/rd$n 2>/dev/null || true
	rmdir $t/core/rd_mcp_0 2>/dev/null || true
}
