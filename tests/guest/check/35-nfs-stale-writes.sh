# The seed scenario with a real NFS client.  Host A's disk is a loop device
# (direct I/O) on a file in an NFS mount; the server stops answering while
# A has one write in flight in the NFS client and issues another after it
# closed the device.  The VM moves: A is fenced, host B writes the same
# blocks on the server.  Then the server answers again.
#
# First without dm-fence doing anything (plain passthrough): both of A's
# writes land after B's and destroy B's data, the corruption this project
# exists for.  Then with close + fence: the held write fails and never
# lands; the write already in the NFS client cannot be stopped from above,
# but it is counted (stale_inflight, then late_completions) and its region
# marked dirty.  On kernels with the NFS client's forced shutdown, shutting
# the mount down after the fence fails that write too: an error from below
# is no proof that it will not land (test 92: under a partition it does),
# so it is counted of unknown fate and the device is not settled.
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-nfs.sh"
load_fence
trap nfs_teardown EXIT

nfs_server_start
loopdev=$(nfs_client_disk 16)
for f in a1 a2 b1 b2; do random_file /tmp/$f 4; done

# A stale write on its way: it has passed the target and waits in the NFS
# client for a server that does not answer.
stale_write_in_client() {	# <name> <block> <file>
	write_block_bg /dev/mapper/$1 "$2" "$3"
	wait_until 20 field_is "$1" inflight 1 || fail "write not in flight"
}

# --- 1. passthrough: the corruption happens ---------------------------------
fence_create pass "$loopdev"
dd if=/dev/zero of=/dev/mapper/pass bs=4k count=16 oflag=direct status=none
nfs_server_stop_answering
stale_write_in_client pass 1 /tmp/a1
write_block_bg /dev/mapper/pass 2 /tmp/a2
w2=$!
wait_until 20 field_is pass inflight 2 || fail "second write not in flight"
host_b_write 1 /tmp/b1
host_b_write 2 /tmp/b2
nfs_server_answer_again
wait_until 120 field_is pass inflight 0 || fail "A's writes never completed"
[ "$(srv_block_sum 1)" = "$(file_sum /tmp/a1)" ] ||
	fail "passthrough: A's stale write to block 1 did not overwrite B's data: the scenario does not reproduce"
[ "$(srv_block_sum 2)" = "$(file_sum /tmp/a2)" ] ||
	fail "passthrough: A's write to block 2 did not overwrite B's data"
log "passthrough: A's stale writes overwrote host B's blocks 1 and 2 (the seed's corruption)"
dmsetup remove pass

# --- 2. close + fence: held writes never land, writes below are counted ----
fence_create f0 "$loopdev"
dd if=/dev/zero of=/dev/mapper/f0 bs=4k count=16 oflag=direct status=none
dmsetup message f0 0 get_dirty clear >/dev/null
nfs_server_stop_answering
stale_write_in_client f0 1 /tmp/a1
w1=$!
dmsetup message f0 0 close
expect_field f0 state closing		# the write below keeps it closing
write_block_bg /dev/mapper/f0 2 /tmp/a2
w2=$!
wait_until 20 field_is f0 held 1 || fail "write after close not held"
dmsetup message f0 0 fence 2
wait $w2 && fail "held write succeeded after fence"
expect_field f0 stale 1
expect_field f0 failed 1
host_b_write 1 /tmp/b1
host_b_write 2 /tmp/b2
nfs_server_answer_again
wait_until 120 field_is f0 stale 0 || fail "the stale write never completed"
wait $w1 || true
expect_field f0 late 1
expect_eq "$(dmsetup message f0 0 get_dirty)" "0" "region of the late completion dirty"
expect_eq "$(srv_block_sum 2)" "$(file_sum /tmp/b2)" "block 2: host B's data (the held write never landed)"
# the limit of a fence above the NFS client, counted rather than hidden
if [ "$(srv_block_sum 1)" = "$(file_sum /tmp/a1)" ]; then
	log "block 1: A's write already in the NFS client landed after B's: counted as stale, then late"
fi
dmsetup remove f0

# --- 3. the remedy for writes already below: NFS client forced shutdown ----
fence_create f1 "$loopdev"
nfs_server_stop_answering
stale_write_in_client f1 3 /tmp/a1
w1=$!
dmsetup message f1 0 fence 2
expect_field f1 stale 1
host_b_write 3 /tmp/b1
if nfs_client_shutdown; then
	wait_until 60 field_is f1 stale 0 || fail "shutdown did not end the stale write"
	wait $w1 && fail "the stale write succeeded despite the client shutdown"
	expect_field f1 unknown 1
	expect_field f1 late 0
	fence_status f1 | grep -qw settled && fail "settled on an error from below: $(fence_status f1)"
	nfs_server_answer_again
	log "forced shutdown failed the write already below: of unknown fate, not settled"
else
	log "this kernel has no NFS client forced shutdown (/sys/fs/nfs/*/shutdown)"
	nfs_server_answer_again
	wait_until 120 field_is f1 stale 0 || fail "the stale write never completed"
fi
