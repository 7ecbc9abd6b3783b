# FENCE with wait: times out (exit 3) while a stale write is below (kept
# there by a shut gate) and says how many remain; succeeds once it
# completed.  GET_DIRTY with clear racing fio through the ioctl loses no
# region (the mirror oracle).
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gate_create below "$dev"	# shut, it keeps the write below
fence_create f0 /dev/mapper/below
gate_shut below
write_in_flight f0 1 /dev/urandom
w=$INFLIGHT_PID
rc=0
fencectl --json fence f0 2 --wait --timeout 300 > /tmp/out.json || rc=$?
expect_eq "$rc" 3 "exit code of fence --wait that timed out"
expect_eq "$(json_field stale_inflight < /tmp/out.json)" 1 "stale writes reported"
expect_eq "$(json_field state < /tmp/out.json)" fenced "fenced even though the wait timed out"
fencectl --json fence f0 3 --wait --timeout 20000 > /tmp/out.json &
f=$!
wait_until 10 field_is f0 generation 3 || fail "fence 3 not applied: $(fence_status f0)"
gate_open below
expect_wait $f 0 "fence --wait for a stale write that completes"
expect_eq "$(json_field stale_inflight < /tmp/out.json)" 0 "no stale write left"
expect_eq "$(json_field late_completions < /tmp/out.json)" 1 "late completion counted"
wait $w || true
dmsetup remove f0
dmsetup remove below

dev2=$(nullb_create nb1 32)
delay_create dly2 "$dev2" 300
dmsetup create f1 --table "0 $(sectors_of "$dev2") fence /dev/mapper/dly2 0 2 region_size 32"
python3 "$REPO/tests/guest/tools/dirty_mirror.py" --ioctl f1 16384 -- \
	fio --name=race --filename=/dev/mapper/f1 --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=32m \
	--time_based --runtime="${FIO_S:-10}" --refill_buffers --randrepeat=0 \
	--group_reporting --output=/tmp/fio.out ||
	fail "the mirror built from GET_DIRTY differs from the device"
