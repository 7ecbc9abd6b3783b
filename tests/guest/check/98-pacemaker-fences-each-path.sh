# The seed scenario on each storage path, fenced by the cluster (issue
# 34): the real corosync and pacemaker (one node, node1, the survivor:
# "host B"; tests/guest/lib-pacemaker.sh), stonith_admin --fence has
# pacemaker-fenced run fence_dmfence against a host partitioned (nft drops)
# with its write queued in TCP; host B writes; the partition heals; the
# stale write is refused, B's data stays; unfencing gives the host its
# storage back (the agent's on, as the fencer runs it on a node that joins:
# these hosts are no members of the cluster, lib-pacemaker.sh).  The other hosts are reached through
# tools/host-ssh: "nfs-hard", "nfs-soft" and "nfs-cut" are host A's network
# namespace (lib-nfs.sh), "iscsia" is host A's iSCSI initiator
# (lib-iscsi.sh), which names the LUN /tmp/paths/lun0 as node1 does, each
# its own path to it.
#
# 1. NFS, hard mount, the storage-side fence (nfs_server...): the cluster
#    fences A: unexported and confirmed, A's device settled at once though
#    the write is still queued; after the heal A's write is refused (of
#    unknown fate); unfencing exports to A again.
# 2. NFS, soft mount, the storage-side fence: the cluster fences A
#    (unexported, settled); A's write fails with EIO under the partition
#    and is still queued; after the heal it is refused; unfencing exports
#    to A again and A's next write lands.
# 3. NFS, hard mount, the host-side step only (host_cut, no NFS server):
#    6.12: the cluster fences A: its mount shut down, its connections
#    destroyed, settled; nothing lands after the heal.  6.1 (no forced
#    shutdown): the cut is refused and the fence fails, as it must: the
#    write lands after the heal, counted late.
# 4. iSCSI, SCSI persistent reservations (scsi_luns, scsi_keys): unfencing
#    registers A's key through A's path; a partition of A's path with A's
#    write queued; the cluster fences A: A's key preempted from node1,
#    settled; after the heal A's initiator logs in again and resends, the
#    LUN refuses it; unfencing registers A's key again, A writes.
# test-timeout: 900
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-pacemaker.sh"
. "$REPO/tests/guest/lib-nfs.sh"
. "$REPO/tests/guest/lib-iscsi.sh"
load_fence
for f in a1 a2 a3 a4 a5 a6 b1 b2 b3 b4; do random_file /tmp/$f 4; done

pcmk_setup
nfs_server_start
nfs_a_start
iscsi_setup 16
trap 'nfs_a_teardown; iscsi_teardown; pcmk_cleanup' EXIT
pcmk_start
crm_attribute -t crm_config -n stonith-enabled -v true
SSH=$REPO/tests/guest/tools/host-ssh
mkdir -p /tmp/hosts/nfs-hard /tmp/hosts/nfs-soft /tmp/hosts/nfs-cut /tmp/hosts/iscsia/paths /tmp/paths
echo "$NFS_A_NS" > /tmp/hosts/nfs-hard/netns
echo "$NFS_A_NS" > /tmp/hosts/nfs-soft/netns
echo "$NFS_A_NS" > /tmp/hosts/nfs-cut/netns
ln -s "$LUN_B" /tmp/paths/lun0
ln -s "$LUN_A" /tmp/hosts/iscsia/paths/lun0
[ "$("$SSH" iscsia readlink /tmp/paths/lun0)" = "$LUN_A" ] || fail "host-ssh: iscsia's path"

a_unmount() {	# <fence device> <loop device>
	dmsetup remove "$1"
	losetup -d "$2"
	umount -f -l "$NFS_MNT"
}

# Host A mounts with <options>, its disk under fence device <dev>; a
# stonith resource fences <node> (A) at the NFS server; A's write of block
# <n> is queued under a partition; the cluster fences A: unexported, its
# device confirmed and settled.
cluster_fences_at_server() {	# <dev> <node> <mount options> <block>
	loopdev=$(nfs_a_disk 16 "$3")
	fence_create "$1" "$loopdev"
	pcmk_stonith "fence-$2" "$1" "$2" ssh_path="$SSH" nfs_server=localhost \
		nfs_export="$NFS_SRV" nfs_clients="$2=$NFS_A_ADDR" \
		nfs_export_options=rw,no_root_squash,insecure,fsid=1,sync
	nfs_a_queued_write "$1" "$4" "/tmp/a$4"
	pcmk_fence "$2"
	exportfs -s | grep -q "$NFS_A_ADDR" && fail "still exported to A: $(exportfs -s)"
	expect_field "$1" state fenced
	fence_status "$1" | grep -q "settled storage_fenced" || fail "not settled: $(fence_status "$1")"
}

# --- 1. NFS hard mount, the storage-side fence: the seed scenario ----------
cluster_fences_at_server vh nfs-hard hard,timeo=20,retrans=1 1
expect_field vh stale 1		# settled all the same: the server refuses A
host_b_write 1 /tmp/b1
nfs_heal
wait_until 120 field_is vh stale 0 || fail "A's write never ended after the heal"
wait $W && fail "A's write succeeded on a server that refuses A"
expect_field vh unknown 1
expect_eq "$(srv_block_sum 1)" "$(file_sum /tmp/b1)" "block 1: host B's data (the cluster fenced A at the server)"
pcmk_agent_on fence-nfs-hard nfs-hard
exportfs -s | grep -q "$NFS_A_ADDR" || fail "unfencing did not export to A again: $(exportfs -s)"
expect_field vh state open
a_unmount vh "$loopdev"
log "hard mount: the cluster fenced A at the NFS server; A's queued write refused after the heal"

# --- 2. NFS soft mount, the storage-side fence -------------------------------
cluster_fences_at_server va nfs-soft "soft,timeo=$((20 * ${GUEST_SLOWDOWN:-1})),retrans=1" 2
wait_until 120 field_is va stale 0 || fail "the soft mount never failed the write"
wait $W && fail "A's write succeeded across the partition"
expect_field va unknown 1
nfs_a_sendq_not_zero || fail "A's send queue is empty: the scenario does not reproduce"
log "soft mount: A's write failed with EIO, $(nfs_a_sendq) bytes still queued in A's TCP"
host_b_write 2 /tmp/b2
nfs_heal
nfs_server_answered_a
expect_eq "$(srv_block_sum 2)" "$(file_sum /tmp/b2)" "block 2: host B's data (the cluster fenced A at the server)"
pcmk_agent_on fence-nfs-soft nfs-soft
exportfs -s | grep -q "$NFS_A_ADDR" || fail "unfencing did not export to A again: $(exportfs -s)"
expect_field va state open
# the client may take a while to see the export again
wait_until 60 dd if=/tmp/a4 of=/dev/mapper/va bs=4k seek=4 count=1 oflag=direct status=none ||
	fail "A cannot write after unfencing"
expect_eq "$(srv_block_sum 4)" "$(file_sum /tmp/a4)" "block 4: A's write after unfencing"
a_unmount va "$loopdev"
log "soft mount: the cluster fenced A at the NFS server; A's queued write refused after the heal"

# --- 3. NFS hard mount, the host-side step only ------------------------------
loopdev=$(nfs_a_disk 16 hard,timeo=20,retrans=1)
mm=$(cat /tmp/nfs-mnt.dev)
fence_create vb "$loopdev"
# one attempt (the fencer retries twice by default): on 6.1 it fails, and
# the shorter the partition the sooner TCP resends after the heal
pcmk_stonith fence-cut vb nfs-cut ssh_path="$SSH" host_cut=1 power_timeout=5 pcmk_off_retries=0
nfs_a_queued_write vb 3 /tmp/a3
if nfs_on_a test -e "/sys/fs/nfs/$mm/shutdown"; then
	pcmk_fence nfs-cut
	expect_field vb state fenced
	fence_status vb | grep -q "settled storage_fenced" || fail "not settled: $(fence_status vb)"
	expect_eq "$(nfs_on_a cat "/sys/fs/nfs/$mm/shutdown")" 1 "A's mount after the cluster's fence: shut down"
	wait $W && fail "A's write succeeded on a shut-down mount"
	expect_field vb unknown 1
	expect_eq "$(nfs_a_connections)" "" "A's connections to the server after the cut"
	host_b_write 3 /tmp/b3
	nfs_heal
	# the write would land within about 20 s (tests 92, 93): watch longer,
	# on the clock (TCP's timers do not scale with the debug kernels)
	want=$(file_sum /tmp/b3)
	wait_until 45 eval '[ "$(srv_block_sum 3)" != $want ] || [ -n "$(nfs_a_connections)" ]' &&
		fail "after the cut: block 3 is $(srv_block_sum 3), A's connections: $(nfs_a_connections)"
	expect_eq "$(srv_block_sum 3)" "$want" "block 3: host B's data, 45 s after the heal"
	log "hard mount: the cluster cut A's path on A; nothing landed after the heal"
else
	# this kernel cannot cut: the fence must fail, not report A off
	rc=0
	timeout 180 stonith_admin --fence nfs-cut --timeout 30 > /tmp/fence.out 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "the cluster fenced nfs-cut with its write still queued: $(cat /tmp/fence.out)"
	expect_field vb state fenced
	fence_status vb | grep -qw settled && fail "settled with the write queued: $(fence_status vb)"
	nfs_a_sendq_not_zero || fail "A's send queue emptied during the partition"
	nfs_heal
	wait_until 120 field_is vb stale 0 || fail "A's write never completed after the heal"
	wait $W || fail "A's write failed after the heal"
	expect_field vb late 1
	log "hard mount, no forced shutdown here: the cluster's fence failed; A's write landed, counted late"
fi
a_unmount vb "$loopdev"

# --- 4. iSCSI, persistent reservations ---------------------------------------
keys() { sg_persist --no-inquiry --in --read-keys "$LUN_B" 2>&1; }
reservation() { sg_persist --no-inquiry --in --read-reservation "$LUN_B" 2>&1; }
fence_create vc "$LUN_A"
pcmk_stonith fence-iscsi vc iscsia ssh_path="$SSH" \
	scsi_luns=/tmp/paths/lun0 scsi_keys="iscsia=0xa1,$(hostname)=0xb1"
# A joins: unfencing registers its key through its own path, and reserves
pcmk_agent_on fence-iscsi iscsia
keys | has -i 0xa1 || fail "A's key not registered: $(keys)"
reservation | has -i 'registrants only' || fail "not registrants-only: $(reservation)"
dd if=/dev/zero of=/dev/mapper/vc bs=4k count=16 oflag=direct status=none ||
	fail "A cannot write after unfencing"
iscsi_partition_a
write_block_bg /dev/mapper/vc 6 /tmp/a5
W=$!
wait_until 20 field_is vc inflight 1 || fail "A's write not in flight"
if wait_until 10 eval '[ "$(iscsi_a_sendq)" != 0 ]'; then
	log "A's write in its TCP send queue: $(iscsi_a_sendq) bytes"
fi
pcmk_fence iscsia
expect_field vc state fenced
keys | has -i 0xa1 && fail "A's key still registered: $(keys)"
reservation | has -i 'Key=0xb1' || fail "node1 does not hold the reservation: $(reservation)"
fence_status vc | grep -q "settled storage_fenced" || fail "not settled: $(fence_status vc)"
dd if=/tmp/b4 of="$LUN_B" bs=4k seek=6 count=1 oflag=direct status=none || fail "B's write refused"
iscsi_heal
wait_until 180 field_is vc stale 0 || fail "A's write never ended after the heal"
wait $W && fail "A's write succeeded after its key was preempted"
expect_field vc unknown 1
expect_field vc late 0
expect_eq "$(block_sum "$LUN_B" 6)" "$(file_sum /tmp/b4)" "block 6: B's data (A's write, resent after the heal, refused)"
pcmk_agent_on fence-iscsi iscsia
keys | has -i 0xa1 || fail "A's key not registered again: $(keys)"
expect_field vc state open
wait_until 60 dd if=/tmp/a6 of=/dev/mapper/vc bs=4k seek=7 count=1 oflag=direct status=none ||
	fail "A cannot write after unfencing"
expect_eq "$(block_sum "$LUN_B" 7)" "$(file_sum /tmp/a6)" "block 7: A's write after unfencing"
log "iSCSI: the cluster preempted A's key under a partition; A's resent write refused"
sg_persist --no-inquiry --out --clear --param-rk=0xb1 "$LUN_B" > /dev/null
dmsetup remove vc
