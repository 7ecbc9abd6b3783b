# The status line carries every field of the contract, in order.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)	# 32768 sectors
dmsetup create f0 --table "0 32768 fence $dev 0"
expect_eq "$(fence_status f0)" "open 1 0 0 0 0 0 0/256 0 0" "status of a new device"
dmsetup create f1 --table "0 1000 fence $dev 0 4 generation 5 region_size 8"
# 1000 sectors in regions of 8: 125 regions; a partial last region counts
expect_eq "$(fence_status f1)" "open 5 0 0 0 0 0 0/125 0 0" "status with generation 5, 8-sector regions"
dmsetup create f2 --table "0 1001 fence $dev 0 2 region_size 8"
expect_field f2 dirty 0/126
dd if=/dev/zero of=/dev/mapper/f0 bs=4k count=16 oflag=direct status=none
expect_field f0 inflight 0
