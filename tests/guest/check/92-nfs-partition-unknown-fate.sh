# The seed scenario under a real partition (TESTING.md): host A, a network
# namespace with its own address, mounts the export soft over TCP; its disk
# is a loop device (direct I/O) on a file there, under a fence device.  A's
# packets are dropped at both ends while A's write is in flight; A is fenced
# (stale_inflight 1); the soft time-out fails the write (EIO), which leaves
# stale_inflight 0, but the WRITE stays in A's TCP send queue.
#
# 1. Only the target's fence: the write's fate is unknown (unknown_fate 1),
#    and nothing may say "settled" (status, fence --wait exit 8, JSON);
#    host B writes the block; the partition heals: A's write lands on B's
#    data.  That is the corruption, shown to happen here.
# 2. With the storage-side fence (A's address unexported, the server's
#    export caches flushed) confirmed by `fencectl storage-fenced`: settled;
#    the partition heals, A's queued bytes reach the server and are refused:
#    B's data stays.
# The same through the fence agent, run by the cluster: test 98 part 1.
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
nfs_a_setup
# the soft time-out (2 s, times GUEST_SLOWDOWN on the debug kernels) must
# not end A's write before the fence counts it
loopdev=$(nfs_a_disk 16 "soft,timeo=$((20 * ${GUEST_SLOWDOWN:-1})),retrans=1")
for f in a1 a2 b1 b2; do random_file /tmp/$f 4; done

# A's write of <file> to block <n> through fence device <name> is in flight
# below and in A's send queue; the partition holds it; fenced at 2; then the
# soft time-out fails it: stale_inflight 0, one write of unknown fate.
stale_write_fails_below() {	# <name> <block> <file>
	nfs_a_queued_write "$@"
	dmsetup message "$1" 0 fence 2
	expect_field "$1" stale 1
	wait_until 120 field_is "$1" stale 0 || fail "the soft mount never failed the write"
	wait $W && fail "A's write succeeded across the partition"
	expect_field "$1" unknown 1
	expect_field "$1" late 0
	nfs_a_sendq_not_zero || fail "A's send queue is empty: the scenario does not reproduce"
	log "$1: A's write failed with EIO, $(nfs_a_sendq) bytes still queued in A's TCP"
}

# --- 1. the fence above the NFS client alone: not settled, and it lands ----
fence_create f0 "$loopdev"
stale_write_fails_below f0 1 /tmp/a1
fence_status f0 | grep -qw settled && fail "status says settled: $(fence_status f0)"
expect_exit 8 fencectl fence f0 3 --wait --timeout 2000
grep -q "not settled" /tmp/expect_exit.out ||
	fail "fence --wait did not say why: $(cat /tmp/expect_exit.out)"
fencectl --json status f0 > /tmp/st.json
python3 - /tmp/st.json <<'PY' || fail "JSON status: $(cat /tmp/st.json)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["unknown_fate"] == 1 and s["settled"] is False and s["storage_fenced"] is False, s
PY
host_b_write 1 /tmp/b1
nfs_heal
wait_until 120 eval '[ "$(srv_block_sum 1)" = "$(file_sum /tmp/a1)" ]' ||
	fail "A's write of unknown fate never landed: the scenario does not reproduce"
log "block 1: A's write, failed with EIO before B wrote, landed after the heal (the seed's corruption)"
dmsetup remove f0

# --- 2. the storage-side fence: settled, and nothing lands -----------------
fence_create f1 "$loopdev"
stale_write_fails_below f1 2 /tmp/a2
nfs_revoke_a
expect_exit 4 fencectl storage-fenced f1 1	# not the generation it is fenced at
expect_exit 0 fencectl storage-fenced f1 2 --wait --timeout 2000
fence_status f1 | grep -q "settled storage_fenced" ||
	fail "not settled after the storage-side fence: $(fence_status f1)"
host_b_write 2 /tmp/b2
nfs_heal
# A's queued WRITE reaches the server and is answered (refused)
nfs_server_answered_a
expect_eq "$(srv_block_sum 2)" "$(file_sum /tmp/b2)" \
	"block 2: host B's data after A's queued write was retransmitted to a server that refuses A"
# the next fence needs a new confirmation; unfence forgets it all
dmsetup message f1 0 fence 3
fence_status f1 | grep -qw storage_fenced && fail "confirmation outlived its fence: $(fence_status f1)"
expect_field f1 unknown 1
dmsetup message f1 0 unfence 3
expect_field f1 unknown 0
dmsetup remove f1
