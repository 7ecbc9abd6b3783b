# A write in flight below (dm-delay, 5 s) keeps the device 'closing' until it
# completes; 'closed' comes after it, and so does the flush, seen below.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
delay_create dly "$dev" 5000
fence_create f0 /dev/mapper/dly
random_file /tmp/a 4

write_in_flight f0 10 /tmp/a
writer=$INFLIGHT_PID
trace_start "$dev"
start=$(date +%s%N)
dmsetup message f0 0 close
expect_field f0 state closing
expect_field f0 inflight 1
wait_state f0 closed 15 || fail "never closed: $(fence_status f0)"
ms=$((($(date +%s%N) - start) / 1000000))
trace_stop > /tmp/trace
cat /tmp/trace
wait $writer || fail "the in-flight write failed"
log "close -> closed in $ms ms"
[ $ms -ge 2000 ] || fail "closed after $ms ms, before the delayed (5 s) write could complete"
expect_eq "$(block_sum "$dev" 10)" "$(file_sum /tmp/a)" "the in-flight write landed"
# below: the write (sector 80), then the flush after it
w=$(grep -m 1 -n -E '^W[A-Z]* 80 8$' /tmp/trace | cut -d: -f1)
f=$(grep -n -E '^F[A-Z]* [0-9]+ 0$' /tmp/trace | tail -n 1 | cut -d: -f1)
[ -n "$w" ] || fail "the delayed write was not seen below"
[ -n "$f" ] || fail "no flush seen below"
[ "$f" -gt "$w" ] || fail "the flush (line $f) came before the write (line $w)"
expect_field f0 inflight 0
