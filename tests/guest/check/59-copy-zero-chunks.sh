# fencectl copy does not write the chunks it reads as zeros: it zeroes
# them on DST (fallocate ZERO_RANGE, or with --sparse PUNCH_HOLE where the
# device can).  DST filled with random data beforehand must read back as
# the source, zeros included, both ways; the done object counts the bytes
# zeroed (48 of the 64 MiB here).  Where io_uring_setup fails (a seccomp
# filter), the copy falls back to one pread/pwrite at a time and gives the
# same DST.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64 discard=1)
fence_create vm "$src"
dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=16 oflag=direct status=none
dd if=/dev/zero of=/dev/mapper/vm bs=1M count=48 seek=16 oflag=direct status=none

for mode in "" --sparse no-io-uring; do
	dd if=/dev/urandom of="$dst" bs=1M count=64 oflag=direct status=none
	wrap= depth=16 flag=$mode
	[ "$mode" = no-io-uring ] && wrap=$TOOLS/no_io_uring depth=1 flag=
	# shellcheck disable=SC2086 # $wrap and $flag are one word or none
	$wrap "$FENCECTL" --json copy vm "$dst" --reopen $flag > /tmp/copy.json ||
		fail "copy $mode: $(cat /tmp/copy.json)"
	expect_eq "$(tail -n 1 /tmp/copy.json | json_field queue_depth)" $depth "requests in flight, copy $mode"
	expect_eq "$(sum_range "$dst" 0 131072)" "$(sum_range /dev/mapper/vm 0 131072)" "DST after copy $mode"
	zeroed=$(tail -n 1 /tmp/copy.json | json_field bytes_zeroed)
	[ "$zeroed" -ge $((48 << 20)) ] || fail "copy $mode zeroed $zeroed bytes, expected 48 MiB at least"
	log "copy $mode: $(tail -n 1 /tmp/copy.json)"
done
expect_field vm state open
dmsetup remove vm
