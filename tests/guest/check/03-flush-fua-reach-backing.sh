# Flush (REQ_PREFLUSH) and FUA pass through the target to the backing
# device: seen with the block_bio_queue tracepoint on the backing device.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
[ "$(cat /sys/block/$(dm_sysname f0)/queue/write_cache)" = "write back" ] ||
	fail "dm device does not advertise the backing device's write cache"

trace_start "$dev"
# an empty flush: fsync of the block device
blockdev --flushbufs /dev/mapper/f0
# FUA: O_DIRECT|O_DSYNC writes are sent with REQ_FUA
dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 seek=10 oflag=direct,dsync status=none
trace_stop > /tmp/trace
cat /tmp/trace

grep -Eq '^F[A-Z]* [0-9]+ 0$' /tmp/trace || fail "no empty flush reached the backing device"
grep -Eq '^W[A-Z]*F[A-Z]* 80 8$' /tmp/trace || fail "no FUA write of sector 80 reached the backing device"
