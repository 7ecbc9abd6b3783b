# DRAIN waits for the write below (kept there by a shut gate): with a
# time-out it exits 3 with the counts filled (the device stays closing,
# nothing lost); once the write completes a drain succeeds.  A signal ends the wait (exit 3); the
# device stays closing and reaches closed when the write completes.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gated_fence f0 g0 "$dev"
random_file /tmp/a 4

gate_shut g0
write_in_flight f0 1 /tmp/a
w=$INFLIGHT_PID
rc=0
fencectl --json drain f0 --timeout 300 > /tmp/out.json || rc=$?
expect_eq "$rc" 3 "exit code of a drain that timed out"
expect_eq "$(json_field inflight < /tmp/out.json)" 1 "inflight reported on time-out"
expect_eq "$(json_field state < /tmp/out.json)" closing "state reported on time-out"
expect_eq "$(json_field result < /tmp/out.json)" "Connection timed out" "result"
"$FENCECTL" drain f0 --timeout 20000 > /tmp/drain.out 2>&1 &
d=$!
gate_open g0
expect_wait $d 0 "drain with a long time-out, the write released"
expect_field f0 state closed
wait $w || fail "the write failed"
expect_eq "$(block_sum "$dev" 1)" "$(file_sum /tmp/a)" "the write landed"

# interrupted by a signal
fencectl reopen f0 > /dev/null
gate_shut g0
write_in_flight f0 2 /tmp/a
w=$INFLIGHT_PID
"$FENCECTL" drain f0 > /tmp/drain.out 2>&1 &	# the binary itself: a function would run in a subshell that ignores SIGINT
d=$!
wait_until 10 field_is f0 state closing || fail "drain did not close"
kill -INT $d
expect_wait $d 3 "exit code of an interrupted drain"
expect_field f0 state closing
gate_open g0
wait $w || fail "the write failed after the interrupted drain"
wait_state f0 closed 10 || fail "never closed after the write completed"
expect_eq "$(block_sum "$dev" 2)" "$(file_sum /tmp/a)" "the write landed"
