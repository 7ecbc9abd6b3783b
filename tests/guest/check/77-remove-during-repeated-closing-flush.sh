# Removing a device whose closing flush is under way, after a reopen and a
# second close asked for another flush, frees nothing a work item still
# uses: the flush ends and asks the drain for another, the drain would
# start another flush; destroy marks the device dying first, so neither
# queues the other and its cancels leave none behind.  A dm-delay below holds each flush
# 3 s (times GUEST_SLOWDOWN on the debug kernels, where the three calls
# below took longer than 3 s).  Issue 32, item 4.  The race needs the drain to start before
# destroy's last cancel: three rounds on the kasan kernel did not catch it
# on e1e61b5 (no report), so this test guards the path, it does not prove
# the fix; the argument is in fence_dev_destroy().
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
modprobe dm-delay
flush_ms=$((3000 * ${GUEST_SLOWDOWN:-1}))
for i in 1 2 3; do
	dmsetup create d0 --table "0 $len delay $dev 0 0 $dev 0 0 $dev 0 $flush_ms"
	fence_create f0 /dev/mapper/d0
	dmsetup message f0 0 close
	# the flush is under way for 3 s: a reopen and a second close ask
	# for another (a close alone does not: issue 32 item 5, test 80)
	dmsetup message f0 0 reopen
	dmsetup message f0 0 close
	expect_field f0 state closing
	timeout 60 dmsetup remove f0 || fail "remove of the closing device (round $i)"
	timeout 60 dmsetup remove d0 || fail "remove of the delay device (round $i)"
	log "round $i: removed"
done
