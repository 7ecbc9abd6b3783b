# A DRAIN retried while the closing flush is under way does not throw that
# flush away: fencectl copy (and any tool with a short time-out) repeats
# DRAIN every 200 ms, and a flush that takes longer (an NFS COMMIT, a WAN
# iSCSI link, a big cache) must still count once it succeeds.  Issue 32
# item 5: each DRAIN on a closing device asked for another flush and the
# one under way was discarded, so the device never became closed while
# the retries went on.  A null_blk with a write cache under a dm-delay that
# holds each flush 1 s; DRAIN calls of 200 ms in a loop.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
modprobe dm-delay
dmsetup create d0 --table "0 $len delay $dev 0 0 $dev 0 0 $dev 0 1000"
trap 'dmsetup remove f0 2>/dev/null || true; dmsetup remove d0 2>/dev/null || true' EXIT
fence_create f0 /dev/mapper/d0
random_file /tmp/w80 4
dd if=/tmp/w80 of=/dev/mapper/f0 bs=4k count=1 oflag=direct status=none
dmsetup message f0 0 close

calls=0
while :; do
	rc=0
	fencectl drain f0 --timeout 200 > /dev/null || rc=$?
	calls=$((calls + 1))
	[ $rc = 0 ] && break
	[ $rc = 3 ] || fail "fencectl drain exited $rc"
	[ $calls -lt 40 ] ||
		fail "not closed after $calls DRAIN calls of 200 ms while each flush takes 1 s (state $(field f0 state))"
done
log "closed after $calls DRAIN calls"
expect_field f0 state closed
expect_field f0 flush_errors 0
dmsetup remove f0
dmsetup remove d0
