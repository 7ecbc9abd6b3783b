# Test 92's partition with a hard mount: A's write is never failed by the
# NFS client, it waits in A's TCP send queue for as long as the partition
# lasts, and goes out when it heals.
#
# The target's fence alone: stale_inflight 1, never settled (fence
#    --wait times out, the agent's status says ON) until the write lands
#    on B's data after the heal, where it is counted late and its region
#    dirty: the tools never said "nothing can land" before it did.
# With the storage-side fence (the agent's nfs_server, run by the cluster):
# test 98 part 1.
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
nfs_a_setup
loopdev=$(nfs_a_disk 16 hard,timeo=20,retrans=1)
for f in a1 b1; do random_file /tmp/$f 4; done

agent() {	# <device> <action> [options...]
	local dev=$1 action=$2
	shift 2
	"$REPO/contrib/fence_dmfence" -o "$action" -d "$dev" --fencectl-path="$FENCECTL" \
		--power-timeout=10 "$@"
}

# --- the target's fence alone: not settled until the write has landed ---
fence_create f0 "$loopdev"
nfs_a_queued_write f0 1 /tmp/a1
expect_exit 3 fencectl fence f0 2 --wait --timeout 3000
expect_field f0 stale 1
expect_exit 0 agent f0 status		# ON: a stale write is below
host_b_write 1 /tmp/b1
nfs_heal
wait_until 120 field_is f0 stale 0 || fail "A's write never completed after the heal"
wait $W || fail "A's write failed after the heal"
expect_field f0 late 1
expect_field f0 unknown 0
expect_eq "$(srv_block_sum 1)" "$(file_sum /tmp/a1)" "block 1: A's write landed after the heal"
expect_eq "$(dmsetup message f0 0 get_dirty)" "0" "the late write's region dirty"
fence_status f0 | grep -qw settled || fail "not settled once the write landed: $(fence_status f0)"
log "hard mount: A's write landed on B's data after the heal; counted late, never called settled before"
dmsetup remove f0
