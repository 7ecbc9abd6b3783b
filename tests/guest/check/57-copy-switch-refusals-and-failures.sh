# fencectl copy --switch refuses a DST that shares sectors with the source
# (its backing device, the fence device itself, a dm device stacked on the
# backing device) or that is in use (mounted), before it touches anything;
# a SIGHUP during the pre-copy cancels like SIGINT (with --json: progress
# every second from the first, and a last line naming ECANCELED), and so
# does a SIGINT in the final round; a failed load of the standby (DST
# added to the table before round 0) leaves the device resumed on SRC.
# Each time the source is open, on its old table, DST no longer held by
# it, and a write issued meanwhile lands on SRC.  fencectl killed between
# the suspend and the resume of a reload leaves a suspended device that
# "dmsetup resume" and "fencectl reopen" finish: on SRC if it died loading
# the standby (a standby left loaded is harmless, and the next copy drops
# it), on DST if it died letting SRC go after the switch.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe ext4

trap 'umount /tmp/mnt 2>/dev/null || true' EXIT

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
other=$(nullb_create nbo 64)
fence_create vm "$src"
table=$(dmsetup table vm)

holds() {	# <dm name> <device>: in the table's dependencies ("(MAJ, MIN)")
	dmsetup deps "$1" | grep -qF "($(devt_of "$2" | sed 's/:/, /'))"
}

still_on_src() {	# <what>
	expect_field vm state open
	expect_eq "$(dmsetup table vm)" "$table" "table after $1"
	holds vm "$dst" && fail "DST still held by the table after $1: $(dmsetup deps vm)"
	dmsetup info vm | has 'State: *ACTIVE' || fail "vm not resumed after $1"
	random_file /tmp/blk 4
	dd if=/tmp/blk of=/dev/mapper/vm bs=4k seek=3 oflag=direct status=none ||
		fail "write after $1 failed"
	expect_eq "$(block_sum "$src" 3)" "$(file_sum /tmp/blk)" "write after $1 on SRC"
}

refused() {	# <dst> <message> <what>
	expect_exit 4 "$FENCECTL" copy vm "$1" --switch
	has "$2" < /tmp/expect_exit.out || fail "$3: $(cat /tmp/expect_exit.out)"
	still_on_src "$3"
}

refused "$src" "shares sectors" "DST = the backing device"
expect_exit 4 "$FENCECTL" --json copy vm "$src" --switch
tail -n 1 /tmp/expect_exit.out | has '"error":"EXDEV"' || fail "JSON of a refused DST: $(cat /tmp/expect_exit.out)"
refused "/dev/$(dm_sysname vm)" "shares sectors" "DST = the fence device"
dmsetup create over --table "0 $(sectors_of "$src") linear $src 0"
refused "/dev/$(dm_sysname over)" "shares sectors" "DST = dm-linear over the backing device"
dmsetup remove over
mkfs.ext4 -q -F "$other"
mkdir -p /tmp/mnt
mount "$other" /tmp/mnt
refused "$other" "in use" "DST mounted"
umount /tmp/mnt

# SIGHUP in the pre-copy (64 MiB at 4 MiB/s: 16 s)
"$FENCECTL" --json copy vm "$dst" --switch --rate 4 > /tmp/copy.json &
c=$!
wait_until 10 grep -q '"event":"progress"' /tmp/copy.json || fail "no progress in the first seconds: $(cat /tmp/copy.json)"
progress_lines_above() { [ "$(grep -c '"event":"progress"' /tmp/copy.json)" -gt "$1" ]; }
wait_until 10 progress_lines_above 2 || fail "progress stopped: $(cat /tmp/copy.json)"
kill -HUP $c
expect_wait $c 5 "exit code of a copy cancelled by SIGHUP"
python3 - /tmp/copy.json <<'PY' || fail "copy report: $(cat /tmp/copy.json)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
p = [e for e in ev if e["event"] == "progress"]
assert p and p[0]["round"] == 0 and p[0]["bytes_total"] == 64 << 20, p
assert all(a["bytes_done"] <= b["bytes_done"] for a, b in zip(p, p[1:])), p
assert ev[-1] == {**ev[-1], "event": "error", "error": "ECANCELED", "exit": 5}, ev[-1]
PY
still_on_src "SIGHUP in the pre-copy"

# SIGINT in the final round (48 MiB, 6 s, the source closed): no switch
copy_into_long_final_round vm "$dst" --switch
kill -INT $COPY_PID
expect_wait $COPY_PID 5 "exit code of a copy --switch cancelled in the final round"
still_on_src "SIGINT in the final round"

# the standby's load fails (after the suspend): resumed on SRC, open, exit 4
rc=0
DM_IOCTL_FAULT=fail-load LD_PRELOAD=$TOOLS/dm_ioctl_fault.so \
	"$FENCECTL" copy vm "$dst" --switch 2> /tmp/copy.err || rc=$?
expect_eq "$rc" 4 "exit code of a copy whose standby failed to load"
has "as its standby" < /tmp/copy.err || fail "no word of the failed load: $(cat /tmp/copy.err)"
still_on_src "a failed load of the standby"

# fencectl killed between the suspend and the resume of a reload: the
# device stays suspended (writes wait in dm core); "dmsetup resume" makes
# whichever table is loaded live and "fencectl reopen" lets the writes go
# on, to that table's device
crash_then_recover() {	# <fault> <nth load> <backing device expected after the resume>
	local rc=0 w
	DM_IOCTL_FAULT=$1 DM_IOCTL_FAULT_LOAD=$2 LD_PRELOAD=$TOOLS/dm_ioctl_fault.so \
		"$FENCECTL" copy vm "$dst" --switch 2> /tmp/copy.err || rc=$?
	expect_eq "$rc" 137 "exit of fencectl killed ($1 $2)"
	dmsetup info vm | has 'State: *SUSPENDED' || fail "vm not suspended after a crash ($1 $2)"
	random_file /tmp/blk 4
	dd if=/tmp/blk of=/dev/mapper/vm bs=4k seek=5 oflag=direct status=none &
	w=$!
	dmsetup resume vm
	"$FENCECTL" reopen vm > /dev/null
	wait $w || fail "the write issued while suspended failed ($1 $2)"
	expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$3")" "backing device after a crash ($1 $2) and resume"
	expect_eq "$(block_sum "$3" 5)" "$(file_sum /tmp/blk)" "the write issued while suspended, on the live backing device ($1 $2)"
	expect_field vm state open
}
# dies loading the standby: the table is SRC's alone
crash_then_recover kill-at-load 1 "$src"
expect_eq "$(dmsetup table vm)" "$table" "table after a crash at the standby's load"
holds vm "$dst" && fail "DST held after a crash before its load"
# dies before the resume that makes the standby live: on SRC, DST held
# and never written (the write went to SRC)
crash_then_recover kill-at-resume 1 "$src"
holds vm "$dst" || fail "the standby loaded before the crash is not in the live table"
"$FENCECTL" --json status vm | has '"standby":true' || fail "status does not report the standby left behind"
# the next copy drops that standby (load 1), loads its own (2), switches
# and dies letting SRC go (3): on DST, SRC still in the table
crash_then_recover kill-at-load 3 "$dst"
has "dropped the standby" < /tmp/copy.err || fail "the leftover standby went unmentioned: $(cat /tmp/copy.err)"
holds vm "$src" || fail "SRC let go although fencectl died before the reload"
# the line the kernel prints lets it go
dmsetup table vm | dmsetup reload vm
dmsetup suspend --noflush vm
dmsetup resume vm
holds vm "$src" && fail "SRC still held after reloading the printed line"
# back to SRC for the last case: a deliberate move back onto the device
# the switch left needs the operator's allow_switched_from (test 83)
dmsetup suspend vm
dmsetup load vm --table "$(sed 's/ 2 generation \([0-9]*\)$/ 3 generation \1 allow_switched_from/' <<< "$table")"
dmsetup resume vm
expect_field vm state open

# and with nothing in the way, the same copy switches and lets SRC go
"$FENCECTL" copy vm "$dst" --switch --verify 2> /tmp/copy.err || fail "copy --switch: $(cat /tmp/copy.err)"
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"
holds vm "$src" && fail "SRC still held after the switch: $(dmsetup deps vm)"
"$FENCECTL" --json status vm | has '"standby":false' || fail "a standby left after the switch"
expect_field vm state open
dmsetup remove vm
