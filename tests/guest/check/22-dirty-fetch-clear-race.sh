# The race that must never lose a write: fio writes random blocks while a
# loop fetches-and-clears the bitmap and copies what it reports into a
# mirror.  Writes are slowed below (dm-delay, 300 ms: longer than a round
# of copying) so that many are in flight, and land after their region was
# copied, across every clear.  At the end every region that changed is in the union
# of the fetched sets, and the mirror equals the device.
. "$REPO/tests/guest/lib.sh"
load_fence

FIO_S=${FIO_S:-12}
dev=$(nullb_create nb0 32)
delay_create dly "$dev" 300
dmsetup create f0 --table "0 $(sectors_of "$dev") fence /dev/mapper/dly 0 2 region_size 32"

python3 "$REPO/tests/guest/tools/dirty_mirror.py" f0 16384 -- \
	fio --name=race --filename=/dev/mapper/f0 --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --iodepth=32 --numjobs=2 --size=32m \
	--time_based --runtime="$FIO_S" --refill_buffers --randrepeat=0 \
	--group_reporting --output=/tmp/fio.out ||
	fail "the mirror built from fetched dirty regions differs from the device"
expect_field f0 inflight 0
