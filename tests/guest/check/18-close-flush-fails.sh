# If the flush after a close fails, the device stays 'closing', says so in
# the kernel log and counts it in flush_errors; a write failing below
# reaches the caller and leaves nothing counted in flight; 'close' again
# retries the flush once the storage is back.  The fault is injected the
# lvm2 way: a dm slice below the target gets a dm-flakey table
# (error_writes, always down) and gets its linear table back after.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe dm-flakey

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
dmsetup create slice --table "0 $len linear $dev 0"
fence_create f0 /dev/mapper/slice

break_slice() {
	dmsetup load slice --table "0 $len flakey $dev 0 0 3600 1 error_writes"
	dmsetup resume slice
}
mend_slice() {
	dmsetup load slice --table "0 $len linear $dev 0"
	dmsetup resume slice
}

break_slice
if dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write the storage failed succeeded"
fi
expect_field f0 inflight 0
dd if=/dev/mapper/f0 of=/dev/null bs=4k count=1 iflag=direct status=none || fail "reads pass error_writes"

before=$(dmesg | wc -l)
dmsetup message f0 0 close
wait_until 10 field_is f0 flush_errors 1 || fail "the failed flush was not counted: $(fence_status f0)"
expect_field f0 state closing
dmesg | tail -n +$((before + 1)) | has "flush after close failed (-5), still closing" ||
	fail "no log line for the failed flush"
# it stays closing: no event claims 'closed'
wait_state f0 closed 2 && fail "reported closed after a failed flush"

# DRAIN learns of the failed flush of its own retry at once (EIO, exit 4),
# not at its time-out
start=$SECONDS
rc=0
"$FENCECTL" drain f0 --timeout 60000 > /tmp/drain.out 2>&1 || rc=$?
cat /tmp/drain.out
expect_eq "$rc" 4 "drain while the flush fails"
has "Input/output error" < /tmp/drain.out || fail "drain did not say why"
[ $((SECONDS - start)) -lt 20 ] || fail "drain took $((SECONDS - start)) s to report the failed flush"
expect_field f0 flush_errors 2
expect_field f0 state closing

mend_slice
dmsetup message f0 0 close		# retries the flush
wait_state f0 closed 10 || fail "not closed after the retry: $(fence_status f0)"
expect_field f0 flush_errors 2
dmsetup message f0 0 reopen
dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 oflag=direct status=none || fail "write after mending"
