# A tool that closes and reopens in a loop while the storage does not
# answer cannot grow the device's list of closed epochs without bound: each
# close whose writes are still below keeps one, summed with interrupts off
# by every status and unfence (issue 32 item 9).  After 32 of them, reopen
# (and unfence, even forced) is refused with EBUSY and a reason until the
# storage answers; close and fence still work, and nothing is lost.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gated_fence f0 gate "$dev"
gate_shut gate
random_file /tmp/w84 4
pids=()
for i in $(seq 1 32); do
	write_block_bg /dev/mapper/f0 "$i" /tmp/w84
	pids+=($!)
	wait_until 20 field_is f0 inflight "$i" || fail "write $i not in flight: $(fence_status f0)"
	dmsetup message f0 0 close
	if [ "$i" -lt 32 ]; then
		dmsetup message f0 0 reopen || fail "reopen $i refused"
	fi
done
expect_field f0 state closing
dmsetup message f0 0 reopen 2>/dev/null && fail "reopen accepted with 32 closes stuck below"
dmesg | tail -n 5 | has "reopen refused: 32 closes still have writes below" ||
	fail "no reason for the refused reopen: $(dmesg | tail -n 3)"
expect_field f0 state closing
# a fence still works; unfence, even forced, is refused the same way
dmsetup message f0 0 fence 2
expect_exit 4 fencectl unfence f0 2 --force --allow-open
expect_field f0 state fenced
# the storage answers: every write completes, unfence works
gate_open gate
for p in "${pids[@]}"; do
	wait "$p" || fail "a write stuck below failed once the storage answered"
done
wait_until 20 field_is f0 inflight 0 || fail "writes still counted: $(fence_status f0)"
fencectl unfence f0 2 > /dev/null || fail "unfence once the storage answered"
expect_field f0 state open
dmsetup remove f0
dmsetup remove gate
