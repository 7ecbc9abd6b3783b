# Each fence device has its own reclaim-safe workqueue for its drain,
# flush and submit work (WQ_MEM_RECLAIM, as dm-delay's and dm-mpath's
# queues): the writes a reopen releases may be the writeback that frees
# memory, and a queue without a rescuer may not get a worker under memory
# pressure (issue 32 item 7: they ran on system_long_wq).  The rescuer
# thread is named after the device (dm-fence-MAJ:MIN, on 6.12
# kworker/R-dm-fence-MAJ:MIN); it goes with the device.  The works
# run there: a close, reopen and close again end closed.
. "$REPO/tests/guest/lib.sh"
load_fence

# the rescuer's name: the queue's, with kworker/R- in front since 6.9
rescuers() {	# <MAJ:MIN>: how many threads are that device's rescuer
	cat /proc/[0-9]*/comm 2>/dev/null | grep -Ecx "(kworker/R-)?dm-fence-$1" || true
}
dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
devt=$(dm_devt f0)
expect_eq "$(rescuers "$devt")" 1 "rescuer threads of f0's workqueue"
fence_create f1 "$dev"
expect_eq "$(rescuers "$(dm_devt f1)")" 1 "rescuer threads of f1's workqueue"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "f0 not closed"
dmsetup message f0 0 reopen
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "f0 not closed the second time"
dmsetup remove f1
dmsetup remove f0
expect_eq "$(rescuers "$devt")" 0 "rescuer threads after remove"
nullb_remove nb0
