# SWITCH is bound to what its caller copied (issue 32 item 2).  (a) A table
# loaded beside the live one (from the line before the switch) would, once
# resumed, send the writes to the old device while everything since the
# switch is only on the new one: the switch is refused (EBUSY) while one
# is loaded.  (b) A second copy replaces the first one's standby with its
# own: the first names its standby, and its switch onto the other one is
# refused (ESTALE).  After a switch, a table on the device it left is
# refused with a reason, unless the line says allow_switched_from.
# fencectl copy --switch names its destination.
. "$REPO/tests/guest/lib.sh"
load_fence
SWITCH=$REPO/tests/guest/tools/fence_switch.py

src=$(nullb_create nbs 16)
dst=$(nullb_create nbd 16)
dst2=$(nullb_create nbe 16)
len=$(sectors_of "$src")
line="0 $len fence $src 0"
dmsetup create vm --table "$line 3 standby $dst 0"
vm=$(dm_devt vm)
dmsetup message vm 0 close
wait_state vm closed 10 || fail "not closed"

# (a) the line from before the switch, loaded inactive: refused
dmsetup load vm --table "$line"
got=$("$SWITCH" "$vm") && fail "switch succeeded with another table loaded"
expect_eq "$got" EBUSY "switch with an inactive table loaded"
dmesg | tail -n 5 | has "switch refused: another table of the device is loaded" ||
	fail "no log line for the refusal"
dmsetup clear vm
expect_field vm state closed

# (b) a second copy's standby replaced the first's: the first is refused
dmsetup suspend --noflush vm
dmsetup load vm --table "$line 3 standby $dst2 0"
dmsetup resume vm
got=$("$SWITCH" "$vm" - "$(devt_of "$dst")") && fail "switch onto another copy's standby succeeded"
expect_eq "$got" ESTALE "switch naming a standby that was replaced"
expect_field vm state closed
# the right one, named
expect_eq "$("$SWITCH" "$vm" - "$(devt_of "$dst2")")" ok "switch naming its standby"
expect_field vm state open
random_file /tmp/w83 4
dd if=/tmp/w83 of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none
expect_eq "$(block_sum "$dst2" 0)" "$(file_sum /tmp/w83)" "a write after the switch, on the standby"

# after the switch: a table on the device it left is refused, with a reason
dmsetup load vm --table "$line" 2>/tmp/load83 && fail "a table on the device the switch left was loaded"
dmesg | tail -n 5 | has "Backing device was left by a switch" || fail "no reason for the refused table"
dmsetup load vm --table "$line 1 allow_switched_from" || fail "allow_switched_from refused"
dmsetup clear vm
# resumed there, the move back is the operator's: its printed line (which
# does not carry the feature) reloads again
dmsetup load vm --table "$line 1 allow_switched_from"
dmsetup suspend --noflush vm
dmsetup resume vm
expect_eq "$(dmsetup table vm | awk '{print $4}')" "$(devt_of "$src")" "backing device after the move back"
dmsetup table vm | dmsetup load vm || fail "the printed line refused after a move back"
dmsetup clear vm
dmsetup load vm --table "0 $len fence $dst2 0"
dmsetup suspend --noflush vm
dmsetup resume vm
# the printed line (the standby, now the backing device) reloads fine
dmsetup table vm | dmsetup load vm
dmsetup suspend --noflush vm
dmsetup resume vm
expect_eq "$(dmsetup table vm | awk '{print $4}')" "$(devt_of "$dst2")" "backing device after the reload"
dmsetup remove vm

# fencectl copy --switch names its destination: it switches onto it
random_file /tmp/c83 1024
dmsetup create vm --table "$line"
dd if=/tmp/c83 of=/dev/mapper/vm bs=1M count=1 oflag=direct status=none
fencectl copy vm "$dst" --switch > /dev/null 2>&1 || fail "copy --switch"
expect_eq "$(dmsetup table vm | awk '{print $4}')" "$(devt_of "$dst")" "backing device after copy --switch"
expect_eq "$(sum_range "$dst" 0 2048)" "$(file_sum /tmp/c83)" "the data on DST"
dmsetup remove vm
