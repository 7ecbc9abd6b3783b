# Test 92's partition with a hard mount: A's write is never failed by the
# NFS client, it waits in A's TCP send queue for as long as the partition
# lasts, and goes out when it heals.
#
# 1. The target's fence alone: stale_inflight 1, never settled (fence
#    --wait times out, the agent's status says ON) until the write lands
#    on B's data after the heal, where it is counted late and its region
#    dirty: the tools never said "nothing can land" before it did.
# 2. The fence agent with the NFS storage-side fence: OFF at once, though
#    the write is still queued (the storage refuses A); B writes; after the
#    heal A's write reaches the server, is refused, and fails below (of
#    unknown fate, settled all along); B's data stays.
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
nfs_a_setup
loopdev=$(nfs_a_disk 16 hard,timeo=20,retrans=1)
for f in a1 a2 b1 b2; do random_file /tmp/$f 4; done

agent() {	# <device> <action> [options...]
	local dev=$1 action=$2
	shift 2
	"$REPO/contrib/fence_dmfence" -o "$action" -d "$dev" --fencectl-path="$FENCECTL" \
		--power-timeout=10 "$@"
}
nfs_opts=(--nfs-server=localhost --nfs-export="$NFS_SRV" --nfs-clients="$(hostname)=$NFS_A_ADDR"
	--nfs-export-options=rw,no_root_squash,insecure,fsid=1,sync)


# --- 1. the target's fence alone: not settled until the write has landed ---
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

# --- 2. the agent's storage-side fence: OFF at once, nothing lands ---------
fence_create f1 "$loopdev"
nfs_a_queued_write f1 2 /tmp/a2
expect_exit 0 agent f1 off "${nfs_opts[@]}"
expect_field f1 stale 1
fence_status f1 | grep -q "settled storage_fenced" ||
	fail "not settled with the storage-side fence: $(fence_status f1)"
expect_exit 2 agent f1 status "${nfs_opts[@]}"
host_b_write 2 /tmp/b2
nfs_heal
wait_until 120 field_is f1 stale 0 || fail "A's write never ended after the heal"
wait $W && fail "A's write succeeded on a server that refuses A"
expect_field f1 unknown 1
expect_field f1 late 0
expect_eq "$(srv_block_sum 2)" "$(file_sum /tmp/b2)" "block 2: host B's data (the server refused A's write)"
log "hard mount, storage-side fence: A's queued write refused after the heal, B's data kept"
dmsetup remove f1
