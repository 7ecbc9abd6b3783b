# Discard and write-zeroes pass through as such (scsi_debug with logical
# block provisioning: UNMAP and WRITE SAME), and read back as zeroes.
. "$REPO/tests/guest/lib.sh"
load_fence

sd=$(scsi_debug_disk dev_size_mb=64 lbpu=1 lbpws=1 lbprz=1)
fence_create f0 "$sd"
dm=$(dm_sysname f0)
[ "$(cat /sys/block/$dm/queue/discard_max_bytes)" -gt 0 ] || fail "no discard on the fence device"
[ "$(cat /sys/block/$dm/queue/write_zeroes_max_bytes)" -gt 0 ] || fail "no write-zeroes on the fence device"

zero1m=$(head -c 1048576 /dev/zero | md5sum | cut -d' ' -f1)
dd if=/dev/urandom of=/dev/mapper/f0 bs=1M count=4 oflag=direct status=none

trace_start "$sd"
blkdiscard -o 0 -l 1048576 /dev/mapper/f0
blkdiscard -z -o 2097152 -l 1048576 /dev/mapper/f0
trace_stop > /tmp/trace
cat /tmp/trace
grep -Eq '^D[A-Z]* 0 ' /tmp/trace || fail "no discard at sector 0 reached the backing device"
# write-zeroes has no letter of its own in rwbs: 'N'
grep -Eq '^N[A-Z]* 4096 ' /tmp/trace || fail "no write-zeroes at sector 4096 reached the backing device"
grep -Eq '^W[A-Z]* 4096 ' /tmp/trace && fail "write-zeroes was emulated with plain writes"

expect_eq "$(sum_range /dev/mapper/f0 0 2048)" "$zero1m" "discarded range reads zeroes"
expect_eq "$(sum_range /dev/mapper/f0 4096 2048)" "$zero1m" "write-zeroed range reads zeroes"
[ "$(sum_range /dev/mapper/f0 2048 2048)" != "$zero1m" ] || fail "data between the ranges lost"
dmsetup remove f0
modprobe -r scsi_debug
