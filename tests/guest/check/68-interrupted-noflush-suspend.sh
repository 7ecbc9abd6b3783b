# A noflush suspend that a signal interrupts must not turn the writes it
# requeued into errors.  dm core clears its noflush flag before it gives
# the requeued writes back (kdmflush maps them again) and only then undoes
# presuspend, target by target, so the target must decide by
# dm_noflush_suspending() at map time, not by what presuspend told it: the
# writes are held again, and land after reopen.
#
# That window is a few instructions wide.  The test opens it: the table's
# first target is dm-slow-undo (tests/modules/), which sleeps in its
# presuspend_undo, so kdmflush maps the requeued write while the fence
# target (the second) has not been told that the suspend is over.
#
#   sectors 0-7   slow_undo  /dev/nb1         (sleeps 1.5 s in presuspend_undo)
#   sectors 8-    fence      gate g0 -> nb0   (block b of f0 is block b-1 of nb0)
. "$REPO/tests/guest/lib.sh"
load_fence
load_test_module dm-slow-undo

nb=$(nullb_create nb0 16)
side=$(nullb_create nb1 1)
gate_create g0 "$nb"
trap "gate_open g0 2>/dev/null || true" EXIT
len=$(sectors_of "$nb")
dmsetup create f0 <<TABLE
0 8 slow_undo $side 0 1500
8 $len fence /dev/mapper/g0 0
TABLE
random_file /tmp/w1 4
random_file /tmp/w2 4

# W1 in flight below, kept there by the shut gate: the suspend waits for it
gate_shut g0
write_in_flight f0 2 /tmp/w1
w1=$INFLIGHT_PID
dmsetup message f0 8 close
# W2 held by the closing device
write_block_bg /dev/mapper/f0 3 /tmp/w2
w2=$!
wait_until 10 field_is f0 held 1 || fail "W2 not held: $(fence_status f0)"

mark=$(dmesg | wc -l)
dmsetup suspend --noflush f0 &
sp=$!
# presuspend gave W2 back to dm core; the suspend now waits for W1
wait_until 10 field_is f0 held 0 || fail "noflush presuspend kept W2: $(fence_status f0)"
kill -TERM $sp
wait $sp && fail "the suspend completed though W1 is still below"
dmesg | tail -n +$((mark + 1)) | has 'slow-undo: presuspend_undo: sleeping' ||
	fail "the interrupted suspend never undid presuspend: the window was not opened"
dmsetup info f0 | has 'State: *ACTIVE' || fail "f0 still suspended after the interrupted suspend"

wait_until 10 field_is f0 held 1 || fail "W2 not held again after the interrupted suspend: $(fence_status f0)"
kill -0 $w2 2>/dev/null || { wait $w2; fail "W2 completed (exit $?) during the interrupted suspend"; }
expect_field f0 failed 0

gate_open g0
expect_wait $w1 0 "W1"
wait_state f0 closed 20 || fail "not closed: $(fence_status f0)"
dmsetup message f0 8 reopen
expect_wait $w2 0 "W2 after reopen"
expect_eq "$(block_sum "$nb" 2)" "$(file_sum /tmp/w2)" "block 2 of nb0 holds W2"
expect_eq "$(block_sum "$nb" 1)" "$(file_sum /tmp/w1)" "block 1 of nb0 holds W1"
