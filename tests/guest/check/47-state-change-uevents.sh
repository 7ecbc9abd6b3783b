# Every state change sends a udev change uevent on the dm device carrying
# DM_FENCE_STATE and DM_FENCE_GENERATION (dm_table_event alone sends
# none): close, closed, reopen, fence, unfence, in that order, read by a
# netlink listener in the guest.  Each carries the state when it is sent,
# and they go out one at a time, so the last one is always the state the
# device is in: the close's own uevent may already say 'closed' when the
# drain beat it (an idle device drains at once).
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
name=dm-$(dmsetup info -c --noheadings -o minor f0 | tr -d ' ')	# no udev: no symlink

python3 "$REPO/tests/guest/tools/uevents.py" 5 20 > /tmp/uevents.out 2>/tmp/uevents.err &
l=$!
wait_until 10 grep -qx ready /tmp/uevents.out || fail "uevent listener not ready"

dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
dmsetup message f0 0 reopen
dmsetup message f0 0 fence 4
dmsetup message f0 0 unfence 4
wait $l || fail "listener: $(cat /tmp/uevents.err); got: $(cat /tmp/uevents.out)"
got=$(sed 1d /tmp/uevents.out | tr '\n' ';')
[[ $got =~ ^$name\ (closing|closed)\ 1\;$name\ closed\ 1\;$name\ open\ 1\;$name\ fenced\ 4\;$name\ open\ 4\;$ ]] ||
	fail "uevents of close, closed, reopen, fence 4, unfence 4: got '$got'"

# a refused change sends none
python3 "$REPO/tests/guest/tools/uevents.py" 1 3 > /tmp/uevents.out 2>/dev/null &
l=$!
wait_until 10 grep -qx ready /tmp/uevents.out || fail "uevent listener not ready"
dmsetup message f0 0 unfence 4 2>/dev/null && fail "unfence of an open device accepted"
dmsetup message f0 0 fence 3 2>/dev/null && fail "fence to a lower generation accepted"
dmsetup message f0 0 reopen		# already open: no change
if wait $l; then
	fail "uevent for a change that did not happen: $(cat /tmp/uevents.out)"
fi
