# The kernel side of copy --switch: a table's 'standby <dev> <offset>'
# holds a second device that nothing writes to, until REOPEN with
# DM_FENCE_REOPEN_SWITCH switches the device to it and reopens there in
# one step.  Refused unless closed (open, closing, fenced, suspended), or
# when the device was reopened since the caller read its reopens count,
# or when there is no standby (and so a second time).  The writes held
# while closed, and every later one, land on the standby at its offset,
# none on the old device; the line then names the standby, and a reload
# of it lets the old device go.
. "$REPO/tests/guest/lib.sh"
load_fence
SWITCH=$REPO/tests/guest/tools/fence_switch.py

src=$(nullb_create nbs 16)
dst=$(nullb_create nbd 32)
len=$(sectors_of "$src")
off=8192	# 4 MiB into DST: the remap must add it
line="0 $len fence $src 0"

# bad standby features
for bad in "1 standby" "2 standby $dst" "3 standby $dst x" \
	   "3 standby /dev/nonexistent 0" "3 standby $dst $(sectors_of "$dst")" \
	   "3 standby $dst $(( $(sectors_of "$dst") - len + 1 ))" \
	   "6 standby $dst 0 standby $dst 0"; do
	dmsetup create bad --table "$line $bad" 2>/dev/null && fail "table accepted: $bad"
done
dmesg | has "Length beyond end of standby device" || fail "no error named the standby's size"
dmesg | has "Feature standby duplicated" || fail "no error named the duplicated standby"

dmsetup create vm --table "$line 3 standby $dst $off"
vm=$(dm_devt vm)
holds() {	# <dm name> <device>: in the table's dependencies ("(MAJ, MIN)")
	dmsetup deps "$1" | grep -qF "($(devt_of "$2" | sed 's/:/, /'))"
}
holds vm "$dst" || fail "the standby is not held by the table: $(dmsetup deps vm)"
expect_eq "$(dmsetup table vm)" "0 $len fence $(devt_of "$src") 0 2 generation 1" "line with a standby (not printed)"
"$FENCECTL" --json status vm | has '"standby":true' || fail "status does not report the standby: $("$FENCECTL" --json status vm)"

refused() {	# <errno name> <what> [reopens]
	local got
	got=$("$SWITCH" "$vm" ${3:+"$3"}) && fail "switch succeeded: $2"
	expect_eq "$got" "$1" "switch: $2"
}

# open: refused, and every write goes to SRC
random_file /tmp/a 4
dd if=/tmp/a of=/dev/mapper/vm bs=4k seek=1 oflag=direct status=none
refused ESTALE "an open device"
expect_eq "$(block_sum "$src" 1)" "$(file_sum /tmp/a)" "write while open, on SRC"

# closing (a write stuck below, behind a shut gate): EBUSY
other=$(nullb_create nbo 16)
gate_create gate "$other"
trap 'gate_open gate 2>/dev/null || true' EXIT
dmsetup create vm3 --table "0 $len fence /dev/mapper/gate 0 3 standby $dst 0"
gate_shut gate
random_file /tmp/s 4
write_in_flight vm3 2 /tmp/s
dmsetup message vm3 0 close
expect_field vm3 state closing
got=$("$SWITCH" "$(dm_devt vm3)") && fail "switch of a closing device succeeded"
expect_eq "$got" EBUSY "switch: a closing device"
gate_open gate
wait "$INFLIGHT_PID" || fail "the write stuck below failed"
wait_state vm3 closed 10 || fail "vm3 not closed once the gate opened"
dmsetup remove vm3

# reopened since the caller looked: ESTALE
dmsetup message vm 0 close
wait_state vm closed 10 || fail "not closed"
reopens=$("$FENCECTL" --json status vm | json_field reopens)
dmsetup message vm 0 reopen
dmsetup message vm 0 close
wait_state vm closed 10 || fail "not closed again"
refused ESTALE "a device reopened since" "$reopens"

# suspended: EBUSY
dmsetup suspend --noflush vm
refused EBUSY "a suspended device"
dmsetup resume vm

# fenced: ESTALE (a fence always wins)
dmsetup create vm2 --table "$line 3 standby $dst 0"
dmsetup message vm2 0 close
wait_state vm2 closed 10 || fail "vm2 not closed"
dmsetup message vm2 0 fence 2
got=$("$SWITCH" "$(dm_devt vm2)") && fail "switch of a fenced device succeeded"
expect_eq "$got" ESTALE "switch: a fenced device"
dmsetup remove vm2

# closed, with writes held (one of them requeued by a --noflush suspend
# and held again): the switch sends them all to DST at its offset
srcsum=$(sum_range "$src" 0 "$len")
random_file /tmp/h1 4
random_file /tmp/h2 4
random_file /tmp/h3 4
write_block_bg /dev/mapper/vm 7 /tmp/h1
p1=$!
wait_until 10 field_is vm held 1 || fail "write 1 not held"
dmsetup suspend --noflush vm
dmsetup resume vm
write_block_bg /dev/mapper/vm 7 /tmp/h2
p2=$!
wait_until 10 field_is vm held 2 || fail "write 2 not held"
write_block_bg /dev/mapper/vm 9 /tmp/h3
p3=$!
wait_until 10 field_is vm held 3 || fail "write 3 not held"
expect_eq "$("$SWITCH" "$vm")" ok "switch of the closed device"
for p in $p1 $p2 $p3; do
	wait $p || fail "a held write failed after the switch"
done
expect_field vm state open
expect_eq "$(sum_range "$dst" $((off + 7 * 8)) 8)" "$(file_sum /tmp/h2)" "block 7 on DST: the last held write"
expect_eq "$(sum_range "$dst" $((off + 9 * 8)) 8)" "$(file_sum /tmp/h3)" "block 9 on DST"
expect_eq "$(sum_range "$src" 0 "$len")" "$srcsum" "SRC after the switch: no held write there"

# after it: writes and reads are DST's, the line names DST, no second switch
random_file /tmp/b 4
dd if=/tmp/b of=/dev/mapper/vm bs=4k seek=11 oflag=direct status=none
expect_eq "$(sum_range "$dst" $((off + 11 * 8)) 8)" "$(file_sum /tmp/b)" "a write after the switch, on DST"
expect_eq "$(block_sum /dev/mapper/vm 9)" "$(file_sum /tmp/h3)" "read after the switch, from DST"
expect_eq "$(sum_range "$src" 0 "$len")" "$srcsum" "SRC untouched after the switch"
expect_eq "$(dmsetup table vm)" "0 $len fence $(devt_of "$dst") $off 2 generation 1" "line after the switch"
"$FENCECTL" --json status vm | has '"standby":false' || fail "status still reports a standby"
dmsetup message vm 0 close
wait_state vm closed 10 || fail "not closed after the switch"
refused ENODEV "a second switch"
dmsetup message vm 0 reopen

# the line the kernel prints, reloaded, lets go of SRC
dmsetup table vm | dmsetup reload vm
dmsetup suspend --noflush vm
dmsetup resume vm
holds vm "$src" && fail "SRC still held after the reload: $(dmsetup deps vm)"
holds vm "$dst" || fail "DST not held after the reload: $(dmsetup deps vm)"
dmsetup remove vm
