# No held write lands after a fence, whatever happens in between: a write
# requeued by a noflush suspend and fenced while suspended fails when dm
# core maps it again; a held write across a table reload fails at fence.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
fence_create f0 "$dev"
before=$(block_sum "$dev" 3)
random_file /tmp/a 4

hold_one_write f0 3 /tmp/a
w=$HELD_PID
timeout 20 dmsetup suspend --noflush f0 || fail "noflush suspend"
dmsetup message f0 0 fence 2
timeout 20 dmsetup resume f0 || fail "resume"
wait $w && fail "the requeued write succeeded after fence"
expect_field f0 state fenced
expect_eq "$(block_sum "$dev" 3)" "$before" "backing device after suspend + fence + resume"

# held write, table reload (noflush), then fence
dmsetup message f0 0 unfence 2
hold_one_write f0 3 /tmp/a
w=$HELD_PID
dmsetup table f0 | dmsetup load f0
timeout 20 dmsetup resume --noflush f0 || fail "resume after reload"
wait_until 10 field_is f0 held 1 || fail "write not held after reload"
dmsetup message f0 0 fence 3
wait $w && fail "the held write succeeded after fence"
dmsetup suspend f0
dmsetup resume f0
expect_eq "$(block_sum "$dev" 3)" "$before" "backing device after reload + fence"
expect_eq "$(fence_status f0)" "fenced 3 0 0 0 0 2 0/256 0 0 settled" "status"
