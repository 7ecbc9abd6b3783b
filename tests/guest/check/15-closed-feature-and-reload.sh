# The 'closed' table feature starts a device closed; a table reload never
# opens a closed device, whatever the new line says: the state belongs to
# the mapped device, not to one table.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev" closed
expect_field f0 state closed
before=$(block_sum "$dev" 2)
random_file /tmp/a 4
write_block_bg /dev/mapper/f0 2 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held on a device created closed"

t=$(dmsetup table f0)
case "$t" in *" 1 closed"* | *" closed"*) ;; *) fail "table lacks closed: $t" ;; esac
dmsetup table f0 | dmsetup load f0
timeout 20 dmsetup resume --noflush f0 || fail "resume after reload"
expect_field f0 state closed
# a line without 'closed' does not open it either
dmsetup load f0 --table "0 $(sectors_of "$dev") fence $dev 0"
timeout 20 dmsetup resume --noflush f0
expect_field f0 state closed
wait_until 10 field_is f0 held 1 || fail "write not held after reloads: $(fence_status f0)"
expect_eq "$(block_sum "$dev" 2)" "$before" "backing device"
kill -0 $w 2>/dev/null || fail "the held write completed while closed"

dmsetup message f0 0 reopen
wait $w || fail "held write failed after reopen"
expect_eq "$(block_sum "$dev" 2)" "$(file_sum /tmp/a)" "held write landed after reopen"
# and a reload of an open device does not close it
dmsetup table f0 | dmsetup load f0
dmsetup resume f0
expect_field f0 state open
