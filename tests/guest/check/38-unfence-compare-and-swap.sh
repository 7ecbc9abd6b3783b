# Opening a fenced device is compare-and-swap: 'reopen' never opens a
# fenced device (it only leaves closing/closed), and 'unfence <G>' only
# opens one still fenced at G.  A tool that read "fenced at 5" and unfences
# after a fence to 6 landed is refused: the second fence is never undone.
# fencectl unfence and the REOPEN ioctl (UNFENCE flag, FORCE with a stale
# write below) agree; every refusal changes nothing.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
gated_fence f0 g0 "$dev"
random_file /tmp/a 4
before=$(block_sum "$dev" 3)

refused() {	# <log line> <message...>: refused with that log line, nothing changes
	local want=$1 st n
	shift
	st=$(fence_status f0)
	n=$(dmesg | wc -l)
	dmsetup message f0 0 "$@" 2>/dev/null && fail "'$*' accepted: $(fence_status f0)"
	dmesg | tail -n +$((n + 1)) | has -F "$want" || fail "'$*': log lacks '$want'"
	expect_eq "$(fence_status f0)" "$st" "status after refused '$*'"
}

# unfence of a device that is not fenced
refused "unfence refused: the device is open, not fenced" unfence 1
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
refused "unfence refused: the device is closed, not fenced" unfence 1

# a held write, then two fences: the tool saw 5, the cluster fenced again
write_block_bg /dev/mapper/f0 3 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held"
dmsetup message f0 0 fence 5
wait $w && fail "held write succeeded after fence"
seen=$(field f0 generation)
dmsetup message f0 0 fence 6
refused "unfence 5 refused: the device is fenced at generation 6" unfence "$seen"
refused "reopen refused: fenced at generation 6 (unfence 6 opens it)" reopen
expect_exit 4 "$FENCECTL" unfence f0 5
expect_exit 4 "$FENCECTL" reopen f0
expect_field f0 state fenced
if dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=3 oflag=direct status=none 2>/dev/null; then
	fail "a write passed after a refused unfence"
fi
expect_eq "$(block_sum "$dev" 3)" "$before" "backing device while fenced"

# a stale write below: unfence refused, unless forced (ioctl flag only)
dmsetup message f0 0 unfence 6
gate_shut g0
write_in_flight f0 4 /tmp/a
w=$INFLIGHT_PID
dmsetup message f0 0 fence 7
expect_field f0 stale 1
refused "unfence refused: 1 write(s) of an older generation still below" unfence 7
# (the writer below still holds f0 open: --allow-open, so that the
# refusal seen is the kernel's)
expect_exit 4 "$FENCECTL" unfence f0 7 --allow-open
has "older generation\|Device or resource busy" < /tmp/expect_exit.out ||
	fail "fencectl's refusal: $(cat /tmp/expect_exit.out)"
expect_exit 0 "$FENCECTL" --json unfence f0 7 --force --allow-open
expect_field f0 state open
expect_field f0 generation 7
gate_open g0
wait $w || fail "the stale write below failed"
wait_until 10 field_is f0 stale 0 || fail "stale write never completed"
expect_field f0 late 1

# unfence at the right generation opens, and writes pass
dmsetup message f0 0 fence 8
expect_exit 0 "$FENCECTL" unfence f0 8
expect_field f0 state open
dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=3 oflag=direct status=none || fail "write after unfence"
expect_eq "$(block_sum "$dev" 3)" "$(file_sum /tmp/a)" "write after unfence"
# reopen of an open device changes nothing, unfence of it is refused
dmsetup message f0 0 reopen
refused "unfence refused: the device is open, not fenced" unfence 8
expect_exit 1 "$FENCECTL" unfence f0
expect_exit 1 "$FENCECTL" unfence f0 0
expect_exit 1 "$FENCECTL" reopen f0 --force
