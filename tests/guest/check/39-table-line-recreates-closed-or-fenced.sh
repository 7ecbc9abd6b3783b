# The table line of a closed or fenced device re-creates one that writes
# nothing until someone with authority says so: a closed device's line
# carries 'closed' ('close_fail' after 'close fail'), a fenced one's
# 'fenced' at its generation, opened only by 'unfence <G>' -- how a host
# re-creates its devices after a reboot.  A reload that claims a state
# the device is not in (closed on an open device, fenced on one that is
# not, close_fail on one that holds writes) is refused, never ignored.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
len=$(sectors_of "$dev")
mm=$(devt_of "$dev")
random_file /tmp/a 4

recreate() {	# <name>: remove it and create it again from its own table line
	local t
	t=$(dmsetup table "$1")
	dmsetup remove "$1"
	dmsetup create "$1" --table "$t"
	expect_eq "$(dmsetup table "$1")" "$t" "$1: table after re-creating it from its line"
}
write_fails() {	# <name>
	if dd if=/tmp/a of="/dev/mapper/$1" bs=4k seek=5 oflag=direct status=none 2>/dev/null; then
		fail "a write passed $1: $(fence_status "$1")"
	fi
}

# fenced at 5: the line says so, the re-created device is fenced at 5
fence_create f0 "$dev"
dmsetup message f0 0 fence 5
expect_eq "$(dmsetup table f0)" "0 $len fence $mm 0 3 generation 5 fenced" "line of a fenced device"
recreate f0
expect_field f0 state fenced
expect_field f0 generation 5
write_fails f0
dmsetup message f0 0 reopen 2>/dev/null && fail "reopen opened a re-created fenced device"
dmsetup message f0 0 unfence 5
expect_field f0 state open
expect_eq "$(dmsetup table f0)" "0 $len fence $mm 0 2 generation 5" "line once unfenced"

# closed (holding): 'closed'; re-created, writes are held
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
expect_eq "$(dmsetup table f0)" "0 $len fence $mm 0 3 generation 5 closed" "line of a closed device"
recreate f0
expect_field f0 state closed
write_block_bg /dev/mapper/f0 5 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held on a re-created closed device"
# a reload claiming close_fail on a device that holds: refused
refused_load() {	# <name> <log line> <features...>
	local name=$1 want=$2 n
	shift 2
	n=$(dmesg | wc -l)
	if dmsetup load "$name" --table "0 $len fence $dev 0 $(($# + 2)) generation $(field "$name" generation) $*" 2>/dev/null; then
		fail "$name: reload with '$*' accepted in state $(field "$name" state)"
	fi
	dmesg | tail -n +$((n + 1)) | has -F "$want" || fail "$name: reload '$*': log lacks '$want'"
	dmsetup info "$name" | has 'Tables present: *LIVE$' || fail "an inactive table was left behind"
}
refused_load f0 "Feature close_fail on a device that holds writes: close fail first" close_fail
refused_load f0 "Feature fenced on a device that is not fenced" fenced
dmsetup message f0 0 reopen
wait $w || fail "held write failed after reopen"

# close fail: 'close_fail'; re-created, writes fail at once
dmsetup message f0 0 close fail
wait_state f0 closed 10 || fail "not closed"
expect_eq "$(dmsetup table f0)" "0 $len fence $mm 0 3 generation 5 close_fail" "line after close fail"
recreate f0
expect_field f0 state closed
write_fails f0
expect_field f0 held 0
dmsetup message f0 0 reopen
expect_field f0 state open

# an open device: a reload claiming closed or fenced is refused
refused_load f0 "Feature closed on an open device: close it first" closed
refused_load f0 "Feature fenced on a device that is not fenced" fenced
refused_load f0 "Feature closed on an open device: close it first" close_fail
expect_field f0 state open
# the two together never make sense
n=$(dmesg | wc -l)
dmsetup create bad --table "0 $len fence $dev 0 2 closed fenced" 2>/dev/null && fail "closed + fenced accepted"
dmesg | tail -n +$((n + 1)) | has -F "Features closed and fenced are exclusive" || fail "no reason for closed + fenced"
# a fenced device's line reloaded into it is accepted and keeps it fenced
dmsetup message f0 0 fence 6
dmsetup table f0 | dmsetup load f0
dmsetup resume f0
expect_field f0 state fenced
expect_field f0 generation 6
dmsetup remove f0
