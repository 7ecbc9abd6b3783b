# A write in flight below (kept there by a shut gate) keeps the device
# 'closing' for as long as it is below; 'closed' comes after it completes,
# and so does the flush, seen below.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gated_fence f0 g0 "$dev"
random_file /tmp/a 4

gate_shut g0
write_in_flight f0 10 /tmp/a
writer=$INFLIGHT_PID
trace_start "$dev"
dmsetup message f0 0 close
expect_field f0 state closing
expect_field f0 inflight 1
wait_state f0 closed 2 && fail "closed while the write is still below"
expect_field f0 inflight 1
gate_open g0
wait_state f0 closed 15 || fail "never closed: $(fence_status f0)"
trace_stop > /tmp/trace
cat /tmp/trace
wait $writer || fail "the in-flight write failed"
expect_eq "$(block_sum "$dev" 10)" "$(file_sum /tmp/a)" "the in-flight write landed"
# below: the write (sector 80), then the flush after it
w=$(grep -m 1 -n -E '^W[A-Z]* 80 8$' /tmp/trace | cut -d: -f1)
f=$(grep -n -E '^F[A-Z]* [0-9]+ 0$' /tmp/trace | tail -n 1 | cut -d: -f1)
[ -n "$w" ] || fail "the write was not seen below"
[ -n "$f" ] || fail "no flush seen below"
[ "$f" -gt "$w" ] || fail "the flush (line $f) came before the write (line $w)"
expect_field f0 inflight 0
