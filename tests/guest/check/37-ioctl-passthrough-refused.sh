# No way into the disk goes around the fence: a SCSI WRITE sent with SG_IO
# to the fence device (QEMU scsi-block, libvirt device='lun') is refused in
# every state, with a log line (one per state, however many come), and
# nothing reaches the disk; mkfs, e2fsck and mount of ext4 add at most one
# line.  Persistent reservations still work through the fence device: dm
# core sends register, reserve and release to the backing disk through
# pr_ops, and the disk (a LIO target, which implements them) shows the key
# and the reservation.
# PR clear is the one operation dm core routes through the ioctl path: it
# is refused with the passthrough.
. "$REPO/tests/guest/lib.sh"
load_fence

disk=$(lio_disk 16)
trap 'dmsetup remove f0 2>/dev/null; lio_remove' EXIT
fence_create f0 "$disk"
random_file /tmp/a 4
random_file /tmp/b 4
dd if=/tmp/a of=/dev/mapper/f0 bs=4k count=1 oflag=direct status=none

# WRITE(10) of LBA 0, 8 blocks of 512 bytes (4 KiB): the data of /tmp/b
sg_write() {
	sg_raw -s 4096 -i /tmp/b "$1" 2a 00 00 00 00 00 00 00 08 00 >/tmp/sg.out 2>&1
}
# the same command on the disk itself works: the test can see a write
sg_raw -s 4096 -i /tmp/a "$disk" 2a 00 00 00 00 00 00 00 08 00 >/dev/null 2>&1 ||
	fail "sg_raw WRITE(10) fails on the disk itself"

for state in open closed fenced; do
	case $state in
	closed) dmsetup message f0 0 close; wait_state f0 closed 10 || fail "not closed" ;;
	fenced) dmsetup message f0 0 fence 2 ;;
	esac
	mark=$(dmesg | wc -l)
	if sg_write /dev/mapper/f0; then
		cat /tmp/sg.out
		fail "SG_IO WRITE(10) through the fence device succeeded while $state"
	fi
	expect_eq "$(block_sum "$disk" 0)" "$(file_sum /tmp/a)" "block 0 after SG_IO while $state"
	dmesg | tail -n +$((mark + 1)) | has "ioctl passthrough to .* refused" ||
		fail "no log line for the refused passthrough ($state)"
	expect_field f0 inflight 0
	# said once per state: more refusals in it add no line
	sg_write /dev/mapper/f0 && fail "SG_IO WRITE(10) succeeded while $state, the second time"
	sg_write /dev/mapper/f0 && fail "SG_IO WRITE(10) succeeded while $state, the third time"
	expect_eq "$(dmesg | tail -n +$((mark + 1)) | grep -c "ioctl passthrough to .* refused")" 1 \
		"log lines of three refused passthroughs while $state"
done
dmsetup remove f0

# ext4 made, checked, mounted and unmounted on a fence device: the
# passthroughs their probes send are refused with one line, not one each
modprobe ext4
fence_create f1 "$disk"
mark=$(dmesg | wc -l)
mkfs.ext4 -q -F /dev/mapper/f1 || fail "mkfs.ext4"
e2fsck -fn /dev/mapper/f1 > /tmp/fsck.out 2>&1 || fail "e2fsck: $(cat /tmp/fsck.out)"
mkdir -p /tmp/mnt37
mount /dev/mapper/f1 /tmp/mnt37 || fail "mount"
echo data > /tmp/mnt37/f
umount /tmp/mnt37
e2fsck -fn /dev/mapper/f1 > /tmp/fsck.out 2>&1 || fail "e2fsck after mount: $(cat /tmp/fsck.out)"
n=$(dmesg | tail -n +$((mark + 1)) | grep -c "ioctl passthrough to .* refused")
[ "$n" -le 1 ] || fail "$n log lines of refused passthroughs for one mkfs, fsck and mount: $(dmesg | tail -n +$((mark + 1)) | grep refused)"
dmsetup remove f1

# persistent reservations through a fresh (open) fence device
fence_create f0 "$disk"
expect_eq "$("$TOOLS/pr_ioctl" /dev/mapper/f0 register abc123)" 0 "PR register through the fence device"
sg_persist --in --read-keys "$disk" > /tmp/keys 2>&1 || { cat /tmp/keys; fail "sg_persist read keys"; }
cat /tmp/keys
has -i '0xabc123' < /tmp/keys || fail "the key registered through the fence device is not on the disk"
expect_eq "$("$TOOLS/pr_ioctl" /dev/mapper/f0 reserve abc123)" 0 "PR reserve through the fence device"
sg_persist --in --read-reservation "$disk" > /tmp/rsv 2>&1 || { cat /tmp/rsv; fail "sg_persist read reservation"; }
cat /tmp/rsv
has -i 'Key=0xabc123' < /tmp/rsv || fail "no reservation on the disk"
has -i 'Write Exclusive' < /tmp/rsv || fail "reservation of the wrong type"
expect_eq "$("$TOOLS/pr_ioctl" /dev/mapper/f0 release abc123)" 0 "PR release through the fence device"
sg_persist --in --read-reservation "$disk" > /tmp/rsv 2>&1
has -i 'Key=0xabc123' < /tmp/rsv && fail "the reservation was not released"
expect_eq "$("$TOOLS/pr_ioctl" /dev/mapper/f0 clear abc123)" EOPNOTSUPP "PR clear through the fence device"
# the data path is untouched by all this
dd if=/tmp/b of=/dev/mapper/f0 bs=4k count=1 oflag=direct status=none
expect_eq "$(block_sum "$disk" 0)" "$(file_sum /tmp/b)" "a plain write after the PR calls"
