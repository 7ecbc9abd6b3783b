# A write already below at fence time (kept there by a shut gate) is counted in
# stale_inflight; unfence is refused while it is below; when it completes it
# counts as a late completion and its region is dirty; then unfence works.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gated_fence f0 g0 "$dev"
random_file /tmp/a 4
gate_shut g0

write_in_flight f0 40 /tmp/a	# region 2 (16 blocks a region)
w=$INFLIGHT_PID
dmsetup message f0 0 get_dirty clear >/dev/null	# a copy tool's fetch
dmsetup message f0 0 fence 7
expect_field f0 state fenced
expect_field f0 stale 1
before=$(dmesg | wc -l)
if dmsetup message f0 0 unfence 7 2>/dev/null; then
	fail "unfence accepted while a stale write is below"
fi
expect_field f0 stale 1
dmesg | tail -n +$((before + 1)) | has "unfence refused: 1 write(s) of an older generation still below" ||
	fail "no log line for the refused unfence"
expect_field f0 state fenced

gate_open g0
wait $w || fail "the write already below failed"
wait_until 15 field_is f0 stale 0 || fail "stale write never completed"
expect_field f0 late 1
expect_field f0 inflight 0
expect_eq "$(dmsetup message f0 0 get_dirty)" "2" "the late completion's region is dirty"
expect_eq "$(block_sum "$dev" 40)" "$(file_sum /tmp/a)" "the write already below landed"

dmsetup message f0 0 unfence 7
expect_field f0 state open
expect_field f0 generation 7
