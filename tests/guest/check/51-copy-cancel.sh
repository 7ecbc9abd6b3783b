# A copy cancelled by a signal leaves the source in business: during the
# pre-copy (slowed with --rate), while draining (a write held below by a
# shut gate), and in the final round (the source closed, the last dirty set
# being copied): exit 5, the source open again, the write held meanwhile
# lands, nothing lost.  A drain that times out does the same with exit 3.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

# A write arrives while the copy has the source closed: it is held; the
# signal cancels the copy (exit 5), the source is open again, and the held
# write lands (once [cmd], run after the copy exited, lets it).
cancel_with_held_write() {	# <signal> <block> <phase> [cmd...]
	local w sig=$1 block=$2 phase=$3
	shift 3
	write_block_bg /dev/mapper/vm "$block" /tmp/held
	w=$!
	wait_until 10 field_is vm held 1 || fail "write $phase not held"
	kill -"$sig" $c
	expect_wait $c 5 "exit code of a copy cancelled $phase"
	expect_field vm state open
	[ $# -eq 0 ] || "$@"
	wait $w || fail "the held write failed"
	expect_eq "$(block_sum /dev/mapper/vm "$block")" "$(file_sum /tmp/held)" "held write landed after the cancel $phase"
}

random_file /tmp/held 4
src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
fence_create vm "$src"

# pre-copy: 64 MiB at 4 MiB/s takes 16 s.  Cancel once it reports
# progress in round 0 (once a second, after it copied a little): inside the
# pre-copy, however slow the kernel.  Without a terminal only --json says
# anything before the round ends.
"$FENCECTL" --json copy vm "$dst" --rate 4 > /tmp/copy.json 2> /tmp/copy.err &
c=$!
wait_until 10 grep -q '"event":"progress","round":0,' /tmp/copy.json ||
	fail "no progress in the pre-copy: $(cat /tmp/copy.err /tmp/copy.json)"
kill -INT $c
expect_wait $c 5 "exit code of a cancelled copy"
expect_field vm state open
dmsetup remove vm

# draining: a write held below by a shut gate keeps the source closing
write_gate_create dly g0 "$src"
fence_create vm /dev/mapper/dly
gate_shut g0
write_in_flight vm 3 /dev/urandom
w1=$INFLIGHT_PID
"$FENCECTL" copy vm "$dst" 2>/tmp/copy.err &
c=$!
wait_until 20 field_is vm state closing || fail "copy never started draining"	# round 0 of 64 MiB first
cancel_with_held_write TERM 7 "while draining" gate_open g0
expect_wait $w1 0 "the write that was below while draining"

# a drain that times out: exit 3, source open
gate_shut g0
write_in_flight vm 4 /dev/urandom
rc=0
"$FENCECTL" copy vm "$dst" --drain-timeout 500 2>/dev/null || rc=$?
expect_eq "$rc" 3 "exit code of a copy whose drain timed out"
expect_field vm state open
gate_open g0
expect_wait $INFLIGHT_PID 0 "the write that was below when the drain timed out"
dmsetup remove vm
dmsetup remove dly
dmsetup remove g0

# final round: 48 MiB to copy (6 s) after the source is closed
fence_create vm "$src"
dd if=/dev/zero of=/dev/mapper/vm bs=64k count=1 oflag=direct status=none
copy_into_long_final_round vm "$dst"
c=$COPY_PID
cancel_with_held_write INT 15000 "in the final round"
expect_eq "$(sum_range /dev/mapper/vm 0 $((48 * 2048)))" "$(file_sum /tmp/final)" "data written before the final round"
