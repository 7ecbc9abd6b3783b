# A table whose dirty bitmap would pass what kvmalloc allows (INT_MAX
# bytes; here 64 TiB in 4 KiB regions: 4 GiB of bitmap) is refused with a
# reason of its own, and without the allocator's warning (the runner fails
# the test on any WARNING in the kernel log).  A larger region size works.
. "$REPO/tests/guest/lib.sh"
load_fence

modprobe dm-zero
len=$((64 << 31))	# 64 TiB in sectors
dmsetup create big --table "0 $len zero"
mark=$(dmesg | wc -l)
if dmsetup create f0 --table "0 $len fence /dev/mapper/big 0 2 region_size 8" 2>/tmp/err; then
	fail "a 4 GiB bitmap was accepted"
fi
dmesg | tail -n +$((mark + 1)) | has "Dirty bitmap too large: use a larger region_size" ||
	fail "no reason given: $(dmesg | tail -n 3)"
dmsetup info f0 >/dev/null 2>&1 && dmsetup remove f0
# 64 TiB at the default 64 KiB regions: 128 MiB of bitmap would be accepted
# on a larger guest; 1 MiB regions (8 MiB of bitmap) fit in this one
dmsetup create f0 --table "0 $len fence /dev/mapper/big 0 2 region_size 2048" ||
	fail "64 TiB with 1 MiB regions refused"
expect_field f0 dirty 0/67108864
