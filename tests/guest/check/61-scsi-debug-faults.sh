# scsi_debug under the target with injected faults.  Transport errors on
# every 20th command (retried by the SCSI midlayer) and a delay: fio's
# written data verifies, counters return to 0, a close reaches closed.
# The disk going offline: writes fail to the caller, the close's drain
# completes or reports its failed flush, and after it is back a close
# completes.
. "$REPO/tests/guest/lib.sh"
load_fence

sd=$(scsi_debug_disk dev_size_mb=64 delay=1 every_nth=20 opts=0x10)
fence_create vm "$sd"
fio --name=w --filename=/dev/mapper/vm --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=8 --size=16m --verify=crc32c --do_verify=1 \
	--output=/tmp/fio.out || { cat /tmp/fio.out; fail "fio verify over injected errors"; }
grep -q "err= 0" /tmp/fio.out || { cat /tmp/fio.out; fail "fio reported errors"; }
expect_field vm inflight 0
dmsetup message vm 0 close
wait_state vm closed 30 || fail "not closed: $(fence_status vm)"
dmsetup message vm 0 reopen
echo 0 > /sys/bus/pseudo/drivers/scsi_debug/opts

# the disk goes offline
state=/sys/block/${sd#/dev/}/device/state
echo offline > "$state"
random_file /tmp/a 4
if dd if=/tmp/a of=/dev/mapper/vm bs=4k seek=3 count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write passed to an offline disk"
fi
expect_field vm inflight 0
# the drain completes or reports its failed flush (6.12 fails the flush to
# an offline disk; 6.1 was seen completing it), never hangs
dmsetup message vm 0 close
closed_or_flush_failed() { field_is vm state closed || ! field_is vm flush_errors 0; }
wait_until 20 closed_or_flush_failed || fail "drain neither completed nor failed: $(fence_status vm)"
log "close with the disk offline: $(fence_status vm)"
echo running > "$state"
dmsetup message vm 0 close
wait_state vm closed 20 || fail "not closed once the disk is back: $(fence_status vm)"
dmsetup message vm 0 reopen
dd if=/tmp/a of=/dev/mapper/vm bs=4k seek=3 count=1 oflag=direct status=none || fail "write after recovery"
expect_eq "$(block_sum "$sd" 3)" "$(file_sum /tmp/a)" "write after recovery landed"
expect_field vm inflight 0
expect_field vm failed 0
dmsetup remove vm
rmmod scsi_debug 2>/dev/null || true
