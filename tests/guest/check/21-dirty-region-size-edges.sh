# Region sizes at both ends of the range (8 sectors, 2097152 sectors), and a
# length that is not a multiple of the region size: the partial last region
# is counted and marked.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)	# 32768 sectors

dmsetup create s8 --table "0 32768 fence $dev 0 2 region_size 8"
expect_field s8 dirty 0/4096
dd if=/dev/urandom of=/dev/mapper/s8 bs=4k count=3 seek=100 oflag=direct status=none
expect_eq "$(dmsetup message s8 0 get_dirty clear)" "100-102" "4 KiB regions"
dd if=/dev/urandom of=/dev/mapper/s8 bs=512 count=1 seek=32767 oflag=direct status=none
expect_eq "$(dmsetup message s8 0 get_dirty clear)" "4095" "last sector, 4 KiB regions"
dmsetup remove s8

dmsetup create s1g --table "0 32768 fence $dev 0 2 region_size 2097152"
expect_field s1g dirty 0/1
dd if=/dev/urandom of=/dev/mapper/s1g bs=4k count=1 seek=1000 oflag=direct status=none
expect_field s1g dirty 1/1
expect_eq "$(dmsetup message s1g 0 get_dirty clear)" "0" "one 1 GiB region"
dmsetup remove s1g

# 1001 sectors in 8-sector regions: 126 regions, the last one 1 sector long
dmsetup create odd --table "0 1001 fence $dev 0 2 region_size 8"
expect_field odd dirty 0/126
dd if=/dev/urandom of=/dev/mapper/odd bs=512 count=1 seek=1000 oflag=direct status=none
expect_eq "$(dmsetup message odd 0 get_dirty clear)" "125" "the partial last region"
dd if=/dev/urandom of=/dev/mapper/odd bs=512 count=2 seek=999 oflag=direct status=none
expect_eq "$(dmsetup message odd 0 get_dirty clear)" "124-125" "write into the partial last region"
