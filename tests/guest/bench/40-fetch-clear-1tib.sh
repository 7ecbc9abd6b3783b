# Time to fetch-and-clear the whole dirty bitmap of a 1 TiB device through
# the GET_DIRTY ioctl (fencectl dirty --clear), all regions dirty and all
# clean, at 4 KiB and 64 KiB regions.  The device is a loop device on a
# sparse 1 TiB file in tmpfs; one discard of the whole device marks every
# region.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe loop
truncate -s 1T /tmp/big.img
lo=$(losetup -f --show /tmp/big.img)
len=$(sectors_of "$lo")
for rs in 8 128; do
	dmsetup create big --table "0 $len fence $lo 0 2 region_size $rs"
	blkdiscard /dev/mapper/big
	regions=$(field big dirty)
	t0=$(date +%s%N)
	"$FENCECTL" --json dirty big --clear > /tmp/d.json
	t1=$(date +%s%N)
	"$FENCECTL" --json dirty big --clear > /dev/null
	t2=$(date +%s%N)
	echo "BENCH $KVER fetch-and-clear 1TiB region_size=$((rs * 512)) dirty=$regions" \
		"all-dirty=$(((t1 - t0) / 1000000))ms all-clean=$(((t2 - t1) / 1000000))ms" \
		"(fencectl end to end: process start, $(((${regions#*/} + 7) / 8 / 1024)) KiB buffer)"
	expect_field big dirty "0/${regions#*/}"
	dmsetup remove big
done
losetup -d "$lo"
