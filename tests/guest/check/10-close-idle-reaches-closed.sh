# close with nothing in flight reaches 'closed' at once: the flush after the
# close reaches the backing device, and `dmsetup wait` returns on the event.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
nr=$(dmsetup info -c --noheadings -o events f0)
trace_start "$dev"
dmsetup message f0 0 close
timeout 10 dmsetup wait f0 "$nr" || fail "no event after close"
wait_state f0 closed 10 || fail "not closed: $(fence_status f0)"
trace_stop > /tmp/trace
grep -Eq '^F[A-Z]* [0-9]+ 0$' /tmp/trace || fail "no flush reached the backing device after close"
expect_eq "$(fence_status f0)" "closed 1 0 0 0 0 0 0/256 0 0" "status when closed"
case "$(dmsetup table f0)" in
*" closed"*) ;;
*) fail "table of a closed device lacks 'closed': $(dmsetup table f0)" ;;
esac
# closing again is harmless; reads pass while closed
dmsetup message f0 0 close
dd if=/dev/mapper/f0 of=/dev/null bs=4k count=4 iflag=direct status=none
expect_field f0 state closed
dmsetup message f0 0 reopen
expect_field f0 state open
