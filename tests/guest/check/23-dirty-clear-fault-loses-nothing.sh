# GET_DIRTY with clear that fails part way (here: the user buffer faults
# after its first page, so the first 4 KiB chunk was copied and cleared
# before the copy of the second failed) sets every bit it cleared again:
# false positives are allowed, false negatives never.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 256)
# 4 KiB regions: 65536 regions, two chunks of the kernel's 4 KiB buffer
fence_create f0 "$dev" region_size 8
regions=$(field f0 dirty)
regions=${regions#*/}
expect_eq "$regions" 65536 "regions"
dmsetup message f0 0 get_dirty clear >/dev/null

random_file /tmp/a 4
dd if=/tmp/a of=/dev/mapper/f0 bs=4k count=1 seek=0 oflag=direct status=none	# chunk 1
dd if=/tmp/a of=/dev/mapper/f0 bs=4k count=1 seek=40000 oflag=direct status=none	# chunk 2
expect_eq "$(dirty_regions f0)" 2 "dirty before"

expect_eq "$("$TOOLS/dirty_fault" "$(dm_devt f0)" "$regions")" EFAULT "GET_DIRTY into a buffer that faults"
expect_eq "$(dirty_regions f0)" 2 "dirty regions after the failed GET_DIRTY"
expect_eq "$(dmsetup message f0 0 get_dirty)" "0 40000" "dirty regions after the failed GET_DIRTY"
