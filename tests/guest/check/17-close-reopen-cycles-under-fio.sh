# Under fio load (QD32, 2 jobs, verified data) repeated close / wait for
# closed / reopen cycles end with nothing in flight, nothing held, every
# block verified, and the device and its backing device identical.
. "$REPO/tests/guest/lib.sh"
load_fence

FIO_S=${FIO_S:-15}
dev=$(nullb_create nb0 64)
fence_create f0 "$dev"

fio --name=cycles --filename=/dev/mapper/f0 --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=16m \
	--offset_increment=16m --time_based --runtime="$FIO_S" \
	--verify=crc32c --do_verify=1 --verify_state_save=0 \
	--randrepeat=1 --group_reporting --output=/tmp/fio.out &
fio_pid=$!

i=0
while kill -0 $fio_pid 2>/dev/null; do
	i=$((i + 1))
	dmsetup message f0 0 close
	wait_state f0 closed 30 || fail "cycle $i: never closed: $(fence_status f0)"
	expect_field f0 inflight 0
	dmsetup message f0 0 reopen
	log "cycle $i done"
done
log "$i cycles under load"
wait $fio_pid || { cat /tmp/fio.out; fail "fio failed (verify error?)"; }
grep -q 'err= 0' /tmp/fio.out || { cat /tmp/fio.out; fail "fio reported errors"; }
[ "$i" -ge 3 ] || fail "only $i cycles ran before fio finished"
expect_field f0 inflight 0
expect_field f0 held 0
expect_field f0 failed 0
expect_field f0 state open
expect_eq "$(sum_range /dev/mapper/f0 0 65536)" "$(sum_range "$dev" 0 65536)" "device vs backing device"
