# A control call names its device by major:minor, which the next device
# created after a remove reuses (issue 32 item 10).  Since 1.5 every call
# can name the disk too (its diskseq, as /sys/block/dm-N/diskseq): a call
# for a device that was removed and created again answers ENXIO and does
# nothing to the new one.  fencectl binds every call to the disk it
# resolved at its start: a copy running while its source is removed and
# another device created under the same name (a second tool, a cluster
# agent re-creating it) must not fetch-and-clear, drain or reopen that
# other device.
. "$REPO/tests/guest/lib.sh"
load_fence

a=$(nullb_create nba 64)
b=$(nullb_create nbb 64)
dst=$(nullb_create nbd 64)
fence_create vm "$a"
devt=$(dm_devt vm)
seq1=$(cat "/sys/block/$(dm_sysname vm)/diskseq")

# the copy's round 0 (64 MiB at 8 MiB/s) reads vm's backing device, not
# vm: vm can be removed meanwhile
# (fencectl itself in the background, not the function: $! must be it)
# a dirty region, so that "dirty 0" below means the copy fetched the bitmap
# (it has resolved the device and learnt its diskseq): a new device's
# bitmap is clean before any copy ran (the test raced that on 6.1 once)
dd if=/dev/urandom of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none
expect_eq "$(dirty_regions vm)" 1 "dirty regions before the copy"
"$FENCECTL" copy vm "$dst" --rate 8 2> /tmp/copy.err &
c=$!
wait_until 10 dirty_is vm 0 || fail "copy did not fetch the bitmap"
# the copy stopped meanwhile, so that its next call finds the new device
# (not the gap between the two)
kill -STOP $c
dmsetup remove vm
fence_create vm "$b"
expect_eq "$(dm_devt vm)" "$devt" "the new device's major:minor (reused)"
seq2=$(cat "/sys/block/$(dm_sysname vm)/diskseq")
[ "$seq2" != "$seq1" ] || fail "the new device has the old diskseq $seq1"
dd if=/dev/urandom of=/dev/mapper/vm bs=4k count=1 seek=100 oflag=direct status=none
kill -CONT $c
expect_wait $c 2 "exit code of a copy whose device was replaced"
has "removed and created again" < /tmp/copy.err || fail "no word of the replaced device: $(cat /tmp/copy.err)"
# nothing done to the new device: not drained, its bitmap not taken
expect_field vm state open
expect_eq "$(fencectl --json status vm | json_field closes)" 0 "closes of the new device"
expect_eq "$(fencectl --json status vm | json_field clears)" 0 "clears of the new device"
expect_eq "$(dirty_regions vm)" 1 "dirty regions of the new device"

expect_eq "$(fencectl --json status vm | json_field diskseq)" "$seq2" "STATUS's diskseq, against sysfs"

# the raw calls: the old diskseq is refused (ENXIO) and changes nothing,
# the new one is accepted; the flag without a diskseq and a diskseq
# without the flag are refused (EINVAL)
"$TOOLS/ioctl_refusals" --diskseq "$devt" "$seq1" "$seq2" || fail "diskseq refusals"
expect_field vm state open
dmsetup remove vm
