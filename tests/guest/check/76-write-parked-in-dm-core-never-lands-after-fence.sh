# A write that reached the device before a fence never reaches the disk
# after it, even when it waited in dm core (not in the target) across a
# suspend: the one the target held, which a noflush suspend handed back
# to dm core, and the ones issued while the device was suspended, which
# dm core parks before any target sees them and maps again only after
# resume, from a worker of its own.  Unfence and reopen are refused while
# the device is suspended, and unfence after resume until every write dm
# core parked has been mapped again (and, fenced, failed): host B's data
# stays.  Issue 32, item 1 (on e1e61b5 unfence was accepted while
# suspended; with that refusal alone, the second case's A landed).  While
# unfence waits for the parked writes, the status line ends with
# replay_pending (since 1.5).
. "$REPO/tests/guest/lib.sh"
load_fence

in_d_state() {	# <pid>: blocked in the kernel (its I/O waits somewhere)
	[ "$(awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null)" = D ]
}
unfenced() {	# <name> <generation>: for wait_until
	dmsetup message "$1" 0 unfence "$2" 2> /dev/null
}

# 1. the issue's sequence: close, a held write of A, suspend --noflush
# (the write goes back to dm core), fence 2, B written by the new host
dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
random_file /tmp/a 4
random_file /tmp/b 4
hold_one_write f0 3 /tmp/a
w=$HELD_PID
timeout 20 dmsetup suspend --noflush f0 || fail "noflush suspend"
expect_field f0 held 0
if dmsetup message f0 0 reopen 2> /tmp/err; then
	fail "reopen accepted while the device is suspended"
fi
dmesg | tail -n 5 | has "reopen refused: the device is suspended" ||
	fail "no reason for the reopen's refusal in the kernel log: $(dmesg | tail -n 5)"
expect_field f0 state closed
dmsetup message f0 0 fence 2
dd if=/tmp/b of="$dev" bs=4k count=1 seek=3 oflag=direct status=none
if dmsetup message f0 0 unfence 2 2> /tmp/err; then
	fail "unfence accepted while the device is suspended"
fi
dmesg | tail -n 5 | has "unfence refused: the device is suspended" ||
	fail "no reason for the refusal in the kernel log: $(dmesg | tail -n 5)"
timeout 20 dmsetup resume f0 || fail "resume"
wait_until 20 unfenced f0 2 || fail "unfence never accepted after resume: $(fence_status f0)"
expect_wait "$w" 1 "the write of A, parked in dm core across the fence"
expect_field f0 state open
expect_eq "$(block_sum "$dev" 3)" "$(md5sum < /tmp/b | cut -d' ' -f1)" \
	"block 3 after suspend, fence, B's write, resume, unfence"
dmsetup remove f0
nullb_remove nb0

# 2. writes issued while suspended; on resume dm core maps them again
# from its worker, one by one, after two reads ahead of them that wait
# for the disk's one tag (3 s each): an unfence as soon as resume returns
# must not open the device before A's write came back and failed
# (3 s per read, 6 s on the debug kernels: the status line and fencectl's
# STATUS are read meanwhile, which under load or on kasan took more than
# the 2 s of reads of 1 s; 15 s reads made a direct write fail there)
dev=$(nullb_create nb1 16 hw_queue_depth=1 submit_queues=1 irqmode=2 \
	completion_nsec=$((3000000000 * (${GUEST_SLOWDOWN:-1} > 1 ? 2 : 1))))
# no request of it may time out meanwhile (the debug kernel failed one)
echo 300000 > "/sys/block/${dev#/dev/}/queue/io_timeout"
fence_create f1 "$dev"
timeout 20 dmsetup suspend f1 || fail "suspend"
pids=()
for b in 10 11; do
	dd if=/dev/mapper/f1 of=/dev/null bs=4k count=1 skip=$b iflag=direct status=none &
	pids+=($!)
	wait_until 10 in_d_state $! || fail "read of block $b not parked"
done
write_block_bg /dev/mapper/f1 3 /tmp/a
w=$!
wait_until 10 in_d_state "$w" || fail "write of A not parked"
dmsetup message f1 0 fence 2
dd if=/tmp/b of="$dev" bs=4k count=1 seek=3 oflag=direct status=none
timeout 20 dmsetup resume f1 || fail "resume"
t0=$SECONDS
# why unfence is refused with nothing stale below: said in the status line
# and STATUS while the parked writes wait behind the reads (about 6 s)
fence_status f1 | has ' replay_pending$' ||
	fail "status does not say replay_pending right after resume: $(fence_status f1)"
expect_eq "$(fencectl --json status f1 | json_field replay_pending)" True \
	"STATUS replay_pending right after resume"
wait_until $((30 * ${GUEST_SLOWDOWN:-1})) unfenced f1 2 ||
	fail "unfence never accepted after resume: $(fence_status f1)"
fence_status f1 | has replay_pending && fail "replay_pending after the unfence: $(fence_status f1)"
expect_eq "$(fencectl --json status f1 | json_field replay_pending)" False \
	"STATUS replay_pending after the unfence"
log "unfence accepted $((SECONDS - t0)) s after resume"
expect_wait "$w" 1 "the write of A, issued while suspended, before the fence"
for p in "${pids[@]}"; do
	expect_wait "$p" 0 "a read parked across the suspend"
done
expect_eq "$(block_sum "$dev" 3)" "$(md5sum < /tmp/b | cut -d' ' -f1)" \
	"block 3 after suspend, A issued, fence, B's write, resume, unfence"
expect_field f1 state open
