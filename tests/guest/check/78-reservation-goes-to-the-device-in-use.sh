# A persistent reservation made through the fence device reaches the
# device the writes go to.  dm core sends reserve and release to the
# devices the target names until one takes them: before a switch that is
# the source (a key registered through the device is on the standby too),
# after a switch the standby now in use, never the old device, which
# another host may own by then (issue 32 item 8: the source was named
# first, and a reservation after the switch went there).  Two LIO disks,
# which answer PERSISTENT RESERVE IN/OUT as an array does.
. "$REPO/tests/guest/lib.sh"
load_fence
SWITCH=$REPO/tests/guest/tools/fence_switch.py

src=$(lio_disk 16 0)
dst=$(lio_disk 16 1)
trap 'dmsetup remove vm 2>/dev/null || true; lio_remove 0; lio_remove 1' EXIT
[ "$src" != "$dst" ] || fail "one LIO disk for both ($src)"
len=$(sectors_of "$src")
dmsetup create vm --table "0 $len fence $src 0 3 standby $dst 0"

pr() {	# <op> <key>: through the fence device, expect success
	expect_eq "$("$TOOLS/pr_ioctl" /dev/mapper/vm "$1" "$2")" 0 "PR $1 through the fence device"
}
keys() { sg_persist --in --read-keys "$1" 2>&1; }
reservation() { sg_persist --in --read-reservation "$1" 2>&1; }

pr register abc123
keys "$src" | has -i '0xabc123' || fail "key not on the source: $(keys "$src")"
keys "$dst" | has -i '0xabc123' || fail "key not on the standby: $(keys "$dst")"
pr reserve abc123
reservation "$src" | has -i 'Key=0xabc123' || fail "no reservation on the source before the switch: $(reservation "$src")"
reservation "$dst" | has -i 'Key=' && fail "a reservation on the standby before the switch: $(reservation "$dst")"
pr release abc123
reservation "$src" | has -i 'Key=' && fail "the source's reservation was not released"

dmsetup message vm 0 close
wait_state vm closed 10 || fail "not closed"
expect_eq "$("$SWITCH" "$(dm_devt vm)")" ok "switch to the standby"

pr reserve abc123
reservation "$dst" | has -i 'Key=0xabc123' ||
	fail "no reservation on the device in use after the switch: $(reservation "$dst")"
reservation "$src" | has -i 'Key=' &&
	fail "the reservation after the switch went to the old device: $(reservation "$src")"
pr release abc123
reservation "$dst" | has -i 'Key=' && fail "the reservation on the device in use was not released"

# the data path agrees: a write lands on the device in use
random_file /tmp/w78 4
dd if=/tmp/w78 of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none
expect_eq "$(block_sum "$dst" 0)" "$(file_sum /tmp/w78)" "a write after the switch, on the standby"
dmsetup remove vm
