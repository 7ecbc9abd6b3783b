# Data written through the target reads back equal, and lies on the backing
# device at the offset the table gives.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 64)
off=8192	# 4 MiB into the backing device
len=$((32 * 2048))
dmsetup create f0 --table "0 $len fence $dev $off"

random_file /tmp/data 4096	# 4 MiB
dd if=/tmp/data of=/dev/mapper/f0 bs=64k oflag=direct seek=1 status=none
want=$(dd if=/tmp/data bs=64k status=none | md5sum | cut -d' ' -f1)

expect_eq "$(sum_range /dev/mapper/f0 128 8192)" "$want" "read back through the target"
expect_eq "$(sum_range "$dev" $((off + 128)) 8192)" "$want" "data on the backing device at the offset"
# nothing written in front of the mapped range
expect_eq "$(sum_range "$dev" 0 $off)" "$(head -c $((off * 512)) /dev/zero | md5sum | cut -d' ' -f1)" \
	"backing device before the offset untouched"

# a write at the last sector of the target
random_file /tmp/last 4
dd if=/tmp/last of=/dev/mapper/f0 bs=4k oflag=direct seek=$(((len - 8) / 8)) status=none
expect_eq "$(sum_range "$dev" $((off + len - 8)) 8)" "$(md5sum < /tmp/last | cut -d' ' -f1)" "last block"
expect_field f0 inflight 0
expect_field f0 state open
