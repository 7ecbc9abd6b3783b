# Suspend never hangs on held writes and never lets one reach the disk while
# closed.  --noflush hands them back to dm core, which maps them again after
# resume (held again); a flushing suspend fails them, like multipath's
# queue_if_no_path.  Resume keeps the device closed.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
before=$(block_sum "$dev" 5)
random_file /tmp/a 4

write_block_bg /dev/mapper/f0 5 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held"

timeout 20 dmsetup suspend --noflush f0 || fail "noflush suspend hung or failed"
expect_field f0 held 0
expect_eq "$(block_sum "$dev" 5)" "$before" "backing device while suspended"
timeout 20 dmsetup resume f0 || fail "resume failed"
wait_until 10 field_is f0 held 1 || fail "requeued write not held again after resume: $(fence_status f0)"
expect_field f0 state closed
expect_eq "$(block_sum "$dev" 5)" "$before" "backing device after resume"
kill -0 $w 2>/dev/null || fail "the held write completed while closed"

# a write arriving while a suspend is under way must not hang it either
timeout 20 dmsetup suspend f0 || fail "flushing suspend hung or failed"
wait $w && fail "held write succeeded across a flushing suspend of a closed device"
expect_field f0 failed 1
timeout 20 dmsetup resume f0
expect_field f0 state closed
expect_eq "$(block_sum "$dev" 5)" "$before" "backing device after flushing suspend"

dmsetup message f0 0 reopen
dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=5 oflag=direct status=none
expect_eq "$(block_sum "$dev" 5)" "$(file_sum /tmp/a)" "write after reopen"

# removing a device that holds writes: dm refuses to remove an open device,
# and the writer holds it open; --force swaps in an error table, whose
# flushing suspend fails the held write, and the device goes.
dmsetup message f0 0 close
wait_state f0 closed 10
before6=$(block_sum "$dev" 6)
write_block_bg /dev/mapper/f0 6 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held"
timeout 20 dmsetup remove --force --retry f0 || log "first remove attempt: device still open"
wait $w && fail "held write succeeded across remove"
dmsetup info f0 >/dev/null 2>&1 && { timeout 20 dmsetup remove f0 || fail "remove failed"; }
expect_eq "$(block_sum "$dev" 6)" "$before6" "block 6 after remove"
