# Drain latency: with one write in flight on a dm-delay of known delay,
# how long after that write reaches the backing device does the flush that
# completes the drain follow it (kernel timestamps of the block_bio_queue
# tracepoint: our own cost), and how long does a script see from 'close'
# to 'closed' (wall clock, including dmsetup's own start-up under TCG).
. "$REPO/tests/guest/lib.sh"
load_fence

DELAY_MS=${BENCH_DELAY_MS:-500}
dev=$(nullb_create nb0 16)
delay_create dly "$dev" "$DELAY_MS"
fence_create f0 /dev/mapper/dly
random_file /tmp/a 4
for i in 1 2 3; do
	dmsetup message f0 0 reopen
	write_in_flight f0 1 /tmp/a
	w=$INFLIGHT_PID
	trace_start "$dev"
	tc=$(date +%s%N)
	dmsetup message f0 0 close
	wait_state f0 closed 10 || fail "not closed"
	t1=$(date +%s%N)
	wait $w
	trace_stop_ts > /tmp/trace
	tw=$(awk '$2 ~ /^W/ && $3 == 8 { print $1; exit }' /tmp/trace)
	tf=$(awk '$2 ~ /^F/ && $4 == 0 { t = $1 } END { print t }' /tmp/trace)
	[ -n "$tw" ] && [ -n "$tf" ] || { cat /tmp/trace; fail "write or flush not traced"; }
	echo "BENCH $KVER drain-latency delay=${DELAY_MS}ms" \
		"write-below-to-flush-below=$(awk -v a="$tw" -v b="$tf" 'BEGIN { printf "%.3f", (b - a) * 1000 }')ms" \
		"close-to-closed-seen-by-script=$(((t1 - tc) / 1000000))ms"
done
