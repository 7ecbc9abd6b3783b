# A reopen undoes only the close its caller made (issue 32 item 3).  CLOSE
# and DRAIN say whether this call closed the device (closed_by_call) and
# the device's close number (closes); REOPEN naming that number is a
# compare-and-swap on it: after someone else reopened and closed again,
# it is refused (ESTALE, fencectl exit 4) and the other close stands.  A
# copy with --reopen or --switch reopens or switches only a source its own
# DRAIN closed (issue 33 item 1): one closed before it started (fencectl
# create at boot, a migration's destination, the libvirt hook's release)
# stays closed, exit 4; since 6218b83+ such a copy does not even start
# (nothing copied, the bitmap left alone) unless --allow-closed.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
dst=$(nullb_create nb1 16)
fence_create f0 "$dev"
j() {	# <field> <fencectl args...>: that field of the JSON answer
	local f=$1
	shift
	fencectl --json "$@" | json_field "$f"
}

expect_eq "$(j closes status f0)" 0 "closes of a new device"
expect_eq "$(j closed_by_call close f0)" True "first close: this call closed it"
expect_eq "$(j closes status f0)" 1 "closes after one close"
expect_eq "$(j closed_by_call close f0)" False "second close: someone else's close (ours)"
expect_eq "$(j closes status f0)" 1 "closes after a close of a closing device"
fencectl reopen f0 --closes 1 > /dev/null || fail "reopen --closes 1 after close 1"
expect_field f0 state open

# tool A closes; tool B reopens and closes again; A's reopen is refused
expect_eq "$(j closes close f0)" 2 "A's close"
fencectl reopen f0 > /dev/null
expect_eq "$(j closed_by_call drain f0 --timeout 10000)" True "B's drain closed it"
expect_exit 4 fencectl reopen f0 --closes 2
dmesg | tail -n 5 | has "reopen refused: reopened and closed again" || fail "no log line for the refused reopen"
expect_field f0 state closed
expect_eq "$(j closed_by_call drain f0 --timeout 10000)" False "a drain of a closed device"
fencectl reopen f0 --closes 3 > /dev/null || fail "B's reopen --closes 3"
expect_field f0 state open
expect_exit 1 fencectl reopen f0 --closes x

# copy --reopen / --switch of a source someone else closed: left closed
random_file /tmp/w82 64
dd if=/tmp/w82 of=/dev/mapper/f0 bs=64k count=1 oflag=direct status=none
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
# not started at all (nothing copied, no bitmap taken), unless told so
dd if=/dev/zero of="$dst" bs=64k count=1 oflag=direct status=none
d0=$(fencectl --json status f0 | json_field dirty)
expect_exit 4 fencectl copy f0 "$dst" --reopen
has "closed by someone else: not started" < /tmp/expect_exit.out ||
	fail "no word of the refusal: $(cat /tmp/expect_exit.out)"
expect_field f0 state closed
expect_eq "$(fencectl --json status f0 | json_field dirty)" "$d0" "dirty regions after a refused copy"
expect_eq "$(fencectl --json status f0 | json_field clears)" 0 "clears after a refused copy"
[ "$(sum_range "$dst" 0 128)" != "$(file_sum /tmp/w82)" ] || fail "a refused copy copied"
# --allow-closed copies it, and still never reopens or switches it
expect_exit 4 fencectl copy f0 "$dst" --reopen --allow-closed
expect_field f0 state closed
expect_exit 4 fencectl copy f0 "$dst" --switch --allow-closed
expect_field f0 state closed
expect_eq "$(sum_range "$dst" 0 128)" "$(file_sum /tmp/w82)" "the copy itself, complete"
# a copy of an open source closes it itself: reopened after
dmsetup message f0 0 reopen
fencectl copy f0 "$dst" --reopen > /dev/null 2>&1 || fail "copy --reopen of an open source"
expect_field f0 state open
dmsetup remove f0
