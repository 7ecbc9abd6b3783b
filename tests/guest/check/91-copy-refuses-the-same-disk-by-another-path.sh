# fencectl copy must never write onto the disk it copies from (issue 33
# item 7).  The overlap check walked only sysfs (slaves, partitions): the
# same image file behind two loop devices (two paths to one NFS file), or
# one LUN through two iSCSI sessions without multipath, looked like two
# disks, and round 0 wrote the source's old data onto the live disk.  Two
# whole disks are now one when their identity is (a loop device's backing
# file, a SCSI or NVMe WWID).  And a destination whose logical block size
# is larger than the source's is refused before round 0.  Both exit 4,
# nothing copied, the source left as it was.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe loop

truncate -s 64M /tmp/img91
l1=$(losetup --show -f /tmp/img91)
l2=$(losetup --show -f /tmp/img91)
fence_create vm "$l1"
random_file /tmp/w91 64
dd if=/tmp/w91 of=/dev/mapper/vm bs=64k count=1 oflag=direct status=none
expect_exit 4 fencectl copy vm "$l2"
has "same disk by another path" < /tmp/expect_exit.out ||
	fail "no word of the same disk: $(cat /tmp/expect_exit.out)"
expect_field vm state open
expect_eq "$(fencectl --json status vm | json_field clears)" 0 "clears after a refused copy"

big=$(nullb_create nb4k 64 blocksize=4096)
expect_exit 4 fencectl copy vm "$big"
has "larger logical block size" < /tmp/expect_exit.out ||
	fail "no word of the block size: $(cat /tmp/expect_exit.out)"
expect_field vm state open
expect_eq "$(sum_range /dev/mapper/vm 0 128)" "$(file_sum /tmp/w91)" "the source's data"
dmsetup remove vm
losetup -d "$l1" "$l2"
rm -f /tmp/img91
