#!/bin/bash
# tests/guest/tools/kcsan_split.awk, which decides which KCSAN reports fail
# a test: a race whose access (or its caller) is in dm, dm-fence or a test
# target stays in the log the runner checks, whatever else the report
# names; the kernel's own races, even on a path under dm, go aside.  The
# sample is a report the kcsan kernel gave (test 45, timekeeping's latch
# under dm's dev_remove); the other cases are it with frames swapped.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
awkf=$REPO/tests/guest/tools/kcsan_split.awk
sample=$REPO/tests/host/kcsan-split/timekeeping-under-dm-remove.dmesg
work=$BUILD/kcsan-split
rm -rf "$work"
mkdir -p "$work"
failed=0

# <name> <kept: 1 if the report must stay in, 0 if set aside> < log
# (the report's first line matches $pat, by default a KCSAN report's)
check() {
	local name=$1 kept=$2 in=$work/$1.dmesg a n_in n_out p=${pat:-BUG: KCSAN:}
	cat > "$in"
	for a in mawk gawk; do
		command -v $a > /dev/null || continue
		rm -f "$work/$name.outside"
		touch "$work/$name.outside"
		$a -v outside="$work/$name.outside" -f "$awkf" "$in" > "$work/$name.kept"
		n_in=$(grep -c "$p" "$work/$name.kept" || true)
		n_out=$(grep -c "$p" "$work/$name.outside" || true)
		# and no line lost or made up, whichever way it went
		if [ "$n_in" != "$kept" ] || [ "$((n_in + n_out))" != 1 ] ||
		   ! cmp -s <(sort "$in") <(sort "$work/$name.kept" "$work/$name.outside"); then
			echo "not ok $name-$a: kept $n_in, set aside $n_out, expected kept $kept"
			failed=1
		else
			echo "ok $name-$a"
		fi
	done
}

# what the kcsan kernel printed: both accesses in timekeeping, dm_mod three
# frames below the read
check timekeeping-latch-under-dm 0 < "$sample"
# the read made by dm-fence itself (an inlined helper counts as its caller)
sed 's/ktime_get_mono_fast_ns+0xc1\/0x160/fence_status+0x41\/0x300 [dm_fence]/' "$sample" |
	check read-in-dm-fence 1
# the write made by an out-of-line helper that dm core called
sed 's/timekeeping_advance+0x6b6\/0xb30/dm_table_event+0x20\/0x40 [dm_mod]/' "$sample" |
	check write-under-dm-helper 1
# a race at unknown origin (one stack): ours one frame down
{
	sed -n '1,3p' "$sample"
	echo '[ 1217.040837] race at unknown origin, with read to 0xffff888004b1c0a8 of 8 bytes by task 4981 on cpu 1:'
	echo '[ 1217.040984]  blk_update_request+0x52/0x210'
	echo '[ 1217.041106]  clone_endio+0x64/0x150 [dm_mod]'
	echo
	sed -n '/value changed/,$p' "$sample"
} | check unknown-origin-under-dm 1
{
	sed -n '1,3p' "$sample"
	echo '[ 1217.040837] race at unknown origin, with read to 0xffff888004b1c0a8 of 8 bytes by kworker on cpu 1:'
	echo '[ 1217.040984]  process_one_work+0x52/0x210'
	echo '[ 1217.041106]  worker_thread+0x64/0x150'
	echo '[ 1217.041219]  kthread+0x1bd/0x350'
	echo
	sed -n '/value changed/,$p' "$sample"
} | check unknown-origin-in-workqueue 0
# anything else between rules (a KASAN report) is never set aside
{
	sed -n 1p "$sample"
	echo '[ 1217.033159] BUG: KASAN: slab-use-after-free in fence_map+0x1a/0x90 [dm_fence]'
	echo '[ 1217.033453] Read of size 8 at addr ffff888004b1c0a8 by task fio/123'
	sed -n 1p "$sample"
} | pat='BUG: KASAN:' check kasan-report-kept 1
exit $failed
