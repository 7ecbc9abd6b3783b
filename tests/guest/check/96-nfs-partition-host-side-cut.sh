# The host-side step (issue 34), for a host that still answers: test 93's
# partition (hard mount: the NFS client never fails A's write by itself),
# A's write in flight and in A's TCP send queue, A fenced.  `fencectl cut`,
# run on A (in A's network namespace), shuts A's mount down and destroys
# its connections to the server, and only then confirms the fence
# (storage_fenced, settled).  Without it the write lands after the heal
# (test 93 part 1, test 92 part 1).
#
# 1. Refused before anything is done, on both kernels: a device not fenced
#    at that generation; one over a disk that is no loop device on NFS;
#    a mount that also holds another loop device not under a fenced device
#    (the shutdown would fail that one's I/O too): the mount is left as it
#    was, and A still writes.
# 2. 6.1 (no forced shutdown): refused, saying only a storage-side fence
#    can settle it (A's write lands after the heal, counted late).
#    6.12: the cut fails the write (EIO, unknown fate), leaves no
#    connection, and settles the device.
# That nothing lands after the heal, and the agent's host_cut run by the
# cluster (on 6.1 its fence fails): test 98 part 3.
# test-timeout: 300
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
nfs_a_setup
opts=hard,timeo=20,retrans=1
loopdev=$(nfs_a_disk 16 $opts)
mm=$(cat /tmp/nfs-mnt.dev)
for f in a1 a3; do random_file /tmp/$f 4; done

shutdown_of_a() { nfs_on_a cat "/sys/fs/nfs/$mm/shutdown"; }
can_shut_down() { nfs_on_a test -e "/sys/fs/nfs/$mm/shutdown"; }

# --- 1. refusals, before anything is done -----------------------------------
fence_create f0 "$loopdev"
expect_exit 4 nfs_on_a "$FENCECTL" cut f0 2
grep -q "not fenced at 2" /tmp/expect_exit.out || fail "why: $(cat /tmp/expect_exit.out)"
nb=$(nullb_create nb0 16)
fence_create fb "$nb"
dmsetup message fb 0 fence 2
expect_exit 4 nfs_on_a "$FENCECTL" cut fb 2
grep -q "nb0 is below it, not a loop device on NFS" /tmp/expect_exit.out ||
	fail "why: $(cat /tmp/expect_exit.out)"
fence_status fb | grep -qw storage_fenced && fail "a refused cut confirmed the fence: $(fence_status fb)"
dmsetup remove fb
nullb_remove nb0
truncate -s 1M "$NFS_MNT/other.img"
other=$(losetup -f --show --direct-io=on "$NFS_MNT/other.img")
dmsetup message f0 0 fence 2
if can_shut_down; then
	expect_exit 4 nfs_on_a "$FENCECTL" cut f0 2
	grep -q "${other#/dev/} is also on $NFS_MNT and not under a fenced device" /tmp/expect_exit.out ||
		fail "why: $(cat /tmp/expect_exit.out)"
	expect_eq "$(shutdown_of_a)" 0 "the mount after a refused cut: not shut down"
fi
fence_status f0 | grep -qw storage_fenced && fail "a refused cut confirmed the fence: $(fence_status f0)"
dd if=/tmp/a3 of="$other" bs=4k count=1 oflag=direct status=none || fail "A cannot write after a refused cut"
losetup -d "$other"
dmsetup message f0 0 unfence 2

# --- 2. the cut ---------------------------------------------------------------
nfs_a_queued_write f0 1 /tmp/a1
dmsetup message f0 0 fence 3
expect_field f0 stale 1
if ! can_shut_down; then
	log "this kernel has no NFS client forced shutdown: the cut is refused"
	expect_exit 4 nfs_on_a "$FENCECTL" cut f0 3
	grep -q "no forced shutdown of an NFS mount" /tmp/expect_exit.out ||
		fail "why: $(cat /tmp/expect_exit.out)"
	fence_status f0 | grep -qw settled && fail "settled with the write queued: $(fence_status f0)"
	nfs_a_sendq_not_zero || fail "A's send queue emptied during the partition"
	# what lands is counted: the write completes after the heal (A's
	# connection destroyed: its RPC goes out again at once on a new one,
	# rather than at TCP's next retransmission)
	nfs_heal
	nfs_on_a ss -K dst "$NFS_SRV_ADDR:2049" > /dev/null
	wait_until 120 field_is f0 stale 0 || fail "A's write never completed after the heal"
	expect_field f0 late 1
	dmsetup remove f0
	exit 0
fi
expect_exit 0 nfs_on_a "$FENCECTL" --json cut f0 3
json_field settled < /tmp/expect_exit.out | grep -qx True || fail "not settled: $(cat /tmp/expect_exit.out)"
json_field storage_fenced < /tmp/expect_exit.out | grep -qx True || fail "$(cat /tmp/expect_exit.out)"
expect_eq "$(shutdown_of_a)" 1 "A's mount after the cut: shut down"
wait $W && fail "A's write succeeded on a shut-down mount"
expect_field f0 stale 0
expect_field f0 unknown 1
expect_eq "$(nfs_a_connections)" "" "A's connections to the server after the cut"
nfs_heal
log "host-side cut: A's queued write failed, its connection gone, the device settled"
dmsetup remove f0
