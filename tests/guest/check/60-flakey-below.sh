# dm-flakey under the target.  error_writes: the errors reach the writer,
# the counters stay exact (inflight back to 0), and a close whose flush
# fails stays closing with flush_errors counted until a later close, once
# the device is up, reaches closed.  drop_writes: writes "succeed" and do
# not land, the drain completes.  Up/down intervals under fio with close /
# reopen cycles: every close ends closed, nothing hangs.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe dm-flakey

dev=$(nullb_create nb0 64)
len=$(sectors_of "$dev")
flakey() {	# <up_s> <down_s> [features...]: (re)load the flakey table
	local t="0 $len flakey $dev 0 $1 $2"
	shift 2
	[ $# -gt 0 ] && t+=" $# $*"
	if dmsetup info fl >/dev/null 2>&1; then
		dmsetup suspend fl && dmsetup load fl --table "$t" && dmsetup resume fl
	else
		dmsetup create fl --table "$t"
	fi
}
flakey 3600 0
fence_create vm /dev/mapper/fl

# error_writes under fio: fio sees errors, our counters return to 0
fio --name=w --filename=/dev/mapper/vm --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=16 --size=32m --time_based --runtime=$((4 * ${GUEST_SLOWDOWN:-1})) --continue_on_error=all \
	--output-format=json --output=/tmp/fio.json &
f=$!
wait_until 10 dirty_above vm 0 || fail "fio is not writing"
flakey 0 3600 error_writes
dmsetup message vm 0 close
wait_until 20 field_is vm flush_errors 1 || fail "failed flush not reported: $(fence_status vm)"
expect_field vm state closing
flakey 3600 0
dmsetup message vm 0 close		# retries the flush
wait_state vm closed 20 || fail "not closed after the device came back: $(fence_status vm)"
dmsetup message vm 0 reopen
wait $f || true
errs=$(python3 -c 'import json,sys; print(sum(j["total_err"] for j in json.load(open(sys.argv[1]))["jobs"]))' /tmp/fio.json)
[ "$errs" -gt 0 ] || fail "fio saw no write error from below"
log "fio saw $errs write errors from below"
expect_field vm inflight 0
expect_field vm held 0
expect_field vm failed 0		# the errors were flakey's, not ours

# drop_writes: the write completes and does not land; close drains
random_file /tmp/a 4
before=$(block_sum "$dev" 9)
flakey 0 3600 drop_writes
dd if=/tmp/a of=/dev/mapper/vm bs=4k seek=9 count=1 oflag=direct status=none || fail "dropped write failed"
expect_eq "$(block_sum "$dev" 9)" "$before" "block under a dropped write"
dmsetup message vm 0 close
wait_state vm closed 20 || fail "drain with drop_writes: $(fence_status vm)"
dmsetup message vm 0 reopen

# up 1 s / down 1 s with error_writes, fio, and close/reopen cycles
flakey 1 1 error_writes
fio --name=w --filename=/dev/mapper/vm --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=16 --size=32m --time_based --runtime="${FIO_S:-6}" \
	--continue_on_error=all --output=/dev/null &
f=$!
cycles=0 retries=0
while kill -0 $f 2>/dev/null; do
	dmsetup message vm 0 close
	# a flush during a down interval fails: close again until closed
	until wait_state vm closed 3; do
		retries=$((retries + 1))
		[ $retries -lt 100 ] || fail "never closed: $(fence_status vm)"
		dmsetup message vm 0 close
	done
	dmsetup message vm 0 reopen
	cycles=$((cycles + 1))
done
wait $f || true
log "$cycles close/reopen cycles, $retries closes retried after a failed flush"
expect_field vm inflight 0
expect_field vm held 0
