# 'close fail': later writes fail at once with EIO and are counted; reads
# pass.  On a closed device holding writes, 'close fail' fails them: the way
# out for processes stuck on a device that will not reopen.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
random_file /tmp/a 4
before=$(block_sum "$dev" 3)

dmsetup message f0 0 close fail
wait_state f0 closed 10 || fail "not closed"
if dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=3 oflag=direct status=none 2>/tmp/err; then
	fail "write passed a device closed with 'fail'"
fi
grep -q 'Input/output error' /tmp/err || fail "write did not fail with EIO: $(cat /tmp/err)"
expect_field f0 failed 1
expect_field f0 held 0
dd if=/dev/mapper/f0 of=/dev/null bs=4k count=1 iflag=direct status=none || fail "read failed"
expect_eq "$(block_sum "$dev" 3)" "$before" "backing device"

# held writes, then give up on them
dmsetup message f0 0 reopen
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
write_block_bg /dev/mapper/f0 3 /tmp/a
w1=$!
write_block_bg /dev/mapper/f0 4 /tmp/a
w2=$!
wait_until 10 field_is f0 held 2 || fail "writes not held"
dmsetup message f0 0 close fail
wait $w1 && fail "held write 1 succeeded after 'close fail'"
wait $w2 && fail "held write 2 succeeded after 'close fail'"
expect_field f0 held 0
expect_field f0 failed 3
expect_eq "$(block_sum "$dev" 3)" "$before" "backing device after failing held writes"
dmsetup message f0 0 reopen
dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=3 oflag=direct status=none
expect_eq "$(block_sum "$dev" 3)" "$(file_sum /tmp/a)" "write after reopen"
