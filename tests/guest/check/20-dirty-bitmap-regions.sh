# Every region a write touches is marked dirty, and only those: distinct
# regions, one region, a write spanning a boundary, a discard; reads mark
# nothing; get_dirty reports them and 'get_dirty clear' clears them.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16 discard=1)	# 32768 sectors
fence_create f0 "$dev"			# 64 KiB regions: 256 of them
expect_field f0 dirty 0/256

dd if=/dev/mapper/f0 of=/dev/null bs=1M count=16 iflag=direct status=none
expect_field f0 dirty 0/256

# 5 writes to 5 distinct regions (4 KiB at region r: block r * 16)
for r in 3 7 50 100 255; do
	dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 seek=$((r * 16)) oflag=direct status=none
done
expect_field f0 dirty 5/256
expect_eq "$(dmsetup message f0 0 get_dirty)" "3 7 50 100 255" "get_dirty"
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "3 7 50 100 255" "get_dirty clear"
expect_field f0 dirty 0/256
expect_eq "$(dmsetup message f0 0 get_dirty)" "" "get_dirty after clear"

# several writes within one region
for b in 0 1 5 15; do
	dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 seek=$((20 * 16 + b)) oflag=direct status=none
done
expect_field f0 dirty 1/256
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "20" "writes within region 20"

# one 8 KiB write across the boundary of regions 9 and 10
dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=2 seek=$((10 * 16 - 1)) oflag=direct status=none
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "9-10" "write spanning regions 9 and 10"

# a 1 MiB write covers 16 regions, ranges across bitmap words too
dd if=/dev/urandom of=/dev/mapper/f0 bs=1M count=1 seek=4 oflag=direct status=none
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "64-79" "1 MiB at 4 MiB"
dd if=/dev/urandom of=/dev/mapper/f0 bs=64k count=4 seek=62 oflag=direct status=none
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "62-65" "write across a bitmap word: one run"

# a discard marks its regions
blkdiscard -o $((200 * 65536)) -l $((3 * 65536)) /dev/mapper/f0
expect_eq "$(dmsetup message f0 0 get_dirty clear)" "200-202" "discard of regions 200-202"
expect_field f0 dirty 0/256
expect_field f0 inflight 0

# bad words are refused
dmsetup message f0 0 get_dirty now 2>/dev/null && fail "get_dirty now accepted"
true
