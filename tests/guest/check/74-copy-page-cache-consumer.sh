# fencectl copy never waits on the writes the closed source holds (issue
# 35).  The consumer writes through the device's page cache (buffered 4 KiB
# writes at random in the first MiB, an fsync every 500: QEMU's
# cache=writeback on a raw block device).  An O_DIRECT read of the fence
# device writes back and waits on those dirty pages, whose writes the closed
# device holds: the copy that read through the device waited for ever, in D
# state, and SIGINT could not end it.  Each copy here must end by itself;
# one that does not is freed by another tool's reopen and fails the test.
# --switch and a plain copy each end with what the consumer wrote where it
# belongs; a SIGINT in the pre-copy, the drain and the final round ends
# the copy with the source open (exit 5).
# test-timeout: 600
. "$REPO/tests/guest/lib.sh"
load_fence
writer=$REPO/tests/guest/tools/pagecache_writer.py
BOUND=90	# s (times GUEST_SLOWDOWN): a 64 MiB copy takes 5-20 s

consumer_start() {	# [MiB]: where its MiB is (the first)
	rm -f /tmp/stop /tmp/image /tmp/progress
	python3 "$writer" /dev/mapper/vm /tmp/image /tmp/stop /tmp/progress "${1:-0}" 2> /tmp/consumer.err &
	CONSUMER=$!
	wait_until 30 test -s /tmp/progress || fail "the consumer made no fsync: $(cat /tmp/consumer.err)"
}

consumer_stop() {
	touch /tmp/stop
	expect_wait $CONSUMER 0 "the page-cache consumer: $(cat /tmp/consumer.err)"
}

progress_above() { [ "$(cat /tmp/progress)" -gt "$1" ]; }

# the consumer goes on: another 500 writes fsynced
consumer_goes_on() {
	local n
	n=$(cat /tmp/progress)
	wait_until 30 progress_above "$n" ||
		fail "the consumer is stuck after $n writes: $(fence_status vm); $(copy_stacks)"
}

md5_first() {	# <dev> <MiB> [skip MiB]: of the first MiBs, read directly
	dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct status=none | md5sum | cut -d' ' -f1
}

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
fence_create vm "$src"

log "copy --switch --max-rounds 0 under the page-cache consumer"
consumer_start
"$FENCECTL" --json copy vm "$dst" --switch --max-rounds 0 > /tmp/copy.json 2> /tmp/copy.err &
copy_ends vm $BOUND $! 0 "copy --switch"
expect_eq "$(tail -n 1 /tmp/copy.json | json_field switched)" True "switched, in the copy's last line"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"
consumer_goes_on
consumer_stop
expect_eq "$(md5_first "$dst" 1)" "$(file_sum /tmp/image)" "what the consumer wrote, read from DST"
expect_eq "$(md5_first /dev/mapper/vm 1)" "$(file_sum /tmp/image)" "what the consumer wrote, read through the device"

# Deterministic on both kernels: the consumer's MiB is the last one the
# final round reads, 6 s after the close (48 MiB at 8 MiB/s before it), and
# it dirties pages there meanwhile.  (Above, whether the final round met
# dirty pages was a race that 6.1 lost, the old copy passing there.)
log "copy --switch whose final round reads where the consumer writes, 6 s after the close"
consumer_start 60
kill -STOP $CONSUMER
copy_into_long_final_round vm "$src" --switch
kill -CONT $CONSUMER
copy_ends vm $BOUND $COPY_PID 0 "copy --switch, the final round meeting the consumer"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$src")" "backing device after the switch back"
consumer_goes_on
consumer_stop
expect_eq "$(md5_first "$src" 1 60)" "$(file_sum /tmp/image)" "what the consumer wrote, read from the new DST"

log "plain copy (the source left closed) under the page-cache consumer"
consumer_start
# (the device is on SRC again: DST is free)
"$FENCECTL" --json copy vm "$dst" --max-rounds 0 > /tmp/copy.json 2> /tmp/copy.err &
copy_ends vm $BOUND $! 0 "plain copy"
expect_eq "$(tail -n 1 /tmp/copy.json | json_field source_state)" closed "source_state, in the copy's last line"
expect_field vm state closed
# closed: what completed on the source before the close is all DST has
expect_eq "$(md5_first "$dst" 64)" "$(md5_first "$src" 64)" "DST after a plain copy, against the closed source's disk"
"$FENCECTL" reopen vm
consumer_goes_on
consumer_stop
expect_eq "$(md5_first "$src" 1)" "$(file_sum /tmp/image)" "the consumer's writes held by the close, landed after the reopen"
dmsetup remove vm

log "SIGINT in the pre-copy"
fence_create vm "$src"
consumer_start
"$FENCECTL" --json copy vm "$dst" --switch --rate 4 > /tmp/copy.json 2> /tmp/copy.err &
c=$!
wait_until 20 grep -q '"event":"progress","round":0,' /tmp/copy.json ||
	fail "no progress in the pre-copy: $(cat /tmp/copy.err /tmp/copy.json)"
kill -INT $c
copy_ends vm $BOUND $c 5 "SIGINT in the pre-copy"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$src")" "backing device after the cancel"
consumer_goes_on
consumer_stop

log "SIGINT in the final round (48 MiB to copy at 8 MiB/s after the close)"
# paused while the helper waits for a clean bitmap, with its dirty pages
# not written back (30 s before the flusher would), writing on after the close
consumer_start
kill -STOP $CONSUMER
copy_into_long_final_round vm "$dst" --switch
c=$COPY_PID
kill -CONT $CONSUMER
kill -INT $c
copy_ends vm $BOUND $c 5 "SIGINT in the final round"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$src")" "backing device after the cancel"
consumer_goes_on
consumer_stop
dmsetup remove vm

log "SIGINT while draining (a write held below by a shut gate)"
write_gate_create dly g0 "$src"
fence_create vm /dev/mapper/dly
consumer_start
gate_shut g0
# (the consumer's writes back get stuck there too: more than one in flight)
write_block_bg /dev/mapper/vm 1000 /dev/urandom
w=$!
inflight_some() { [ "$(field vm inflight)" -gt 0 ]; }
wait_until 20 inflight_some || fail "nothing in flight below the shut gate: $(fence_status vm)"
# (a plain copy: --switch's standby load suspends the device, which waits
# for the writes below)
"$FENCECTL" copy vm "$dst" 2> /tmp/copy.err &
c=$!
wait_until 60 field_is vm state closing ||
	fail "the copy never drained: $(fence_status vm) $(cat /tmp/copy.err); $(copy_stacks)"
kill -INT $c
copy_ends vm $BOUND $c 5 "SIGINT while draining"
expect_field vm state open
gate_open g0
expect_wait $w 0 "the write that was below while draining"
consumer_goes_on
consumer_stop
dmsetup remove vm
dmsetup remove dly
dmsetup remove g0
nullb_remove nbs
nullb_remove nbd
