# fencetab and the records of what fencectl did: `fencectl create` makes
# each fencetab device closed, or fenced at the generation it was last
# fenced at on this host (recorded durably by every fence and unfence), so
# a host that reboots (here: its devices removed and created again) never
# comes back writable by itself; an unfenced device comes back closed at its
# generation.  A device that exists is left alone (exit 4 if it is not the
# line's fence device); a bad line is said and skipped, the others still
# created (as crypttab at boot); a NAME not in fencetab is refused.  Every
# state change fencectl causes goes, where no journal runs (test 94 has
# one), to syslog with the device, the old and new state and generation,
# and who.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
export FENCECTL_FENCETAB=/tmp/fencetab FENCECTL_STATE_DIR=/tmp/dm-fence-state
rm -rf "$FENCECTL_STATE_DIR"

# syslog: a listener on /dev/log, as journald or rsyslog would be
rm -f /dev/log /tmp/syslog.txt
python3 - <<'PY' &
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
with open("/tmp/syslog.txt", "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace") + "\n")
PY
syslogd=$!
trap 'kill $syslogd 2>/dev/null; rm -f /dev/log' EXIT
listening() { [ -S /dev/log ]; }
wait_until 10 listening || fail "no syslog listener"
logged() { grep -q -- "$1" /tmp/syslog.txt 2>/dev/null; }

da=$(nullb_create fta 16)
db=$(nullb_create ftb 16)
cat > "$FENCECTL_FENCETAB" <<EOF
# name  backing  options
a  $da  -
b  $db  generation=3,region_size=256   # a comment
EOF

reboot_host() {	# the devices go away and the boot recreates them
	dmsetup remove a
	dmsetup remove b
	"$FENCECTL" create > /tmp/create.out || fail "create: $(cat /tmp/create.out)"
}

"$FENCECTL" create > /tmp/create.out || fail "create: $(cat /tmp/create.out)"
expect_field a state closed
expect_field a generation 1
expect_field b state closed
expect_field b generation 3
dmsetup table b | grep -q "region_size 256" || fail "b's options: $(dmsetup table b)"
wait_until 10 logged "a: created from fencetab" || fail "create not logged: $(cat /tmp/syslog.txt)"
# again: both exist, left as they are
"$FENCECTL" reopen a > /dev/null
expect_exit 0 "$FENCECTL" create
has "exists" < /tmp/expect_exit.out || fail "create of an existing device: $(cat /tmp/expect_exit.out)"
expect_field a state open

# fenced at 5, the host reboots: a comes back fenced at 5, b closed at 3
"$FENCECTL" fence a 5 > /dev/null || fail "fence a 5"
expect_eq "$(cat "$FENCECTL_STATE_DIR/a")" "generation 5 fenced" "a's record"
wait_until 10 logged "a: fence: open -> fenced, generation 1 -> 5 UID=0 CALLER=" ||
	fail "fence not logged: $(cat /tmp/syslog.txt)"
reboot_host
expect_field a state fenced
expect_field a generation 5
expect_field b state closed
expect_field b generation 3
random_file /tmp/w 4
if dd if=/tmp/w of=/dev/mapper/a bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write passed a device recreated fenced"
fi
# the old generation's writes stay fenced; unfence at 5, then reboot: closed at 5
expect_exit 4 "$FENCECTL" unfence a 4
"$FENCECTL" unfence a 5 > /dev/null || fail "unfence a 5"
expect_eq "$(cat "$FENCECTL_STATE_DIR/a")" "generation 5 open" "a's record after unfence"
wait_until 10 logged "a: unfence: fenced -> open, generation 5 -> 5" || fail "unfence not logged"
reboot_host
expect_field a state closed
expect_field a generation 5

# remove NAME, create NAME: one device only
"$FENCECTL" remove b > /dev/null || fail "remove b"
dmsetup info b > /dev/null 2>&1 && fail "b still there after remove"
expect_field a state closed
"$FENCECTL" create b > /dev/null || fail "create b"
expect_field b generation 3

# refusals
expect_exit 2 "$FENCECTL" create nosuch
printf 'c\n' > /tmp/bad-fencetab
expect_exit 1 env FENCECTL_FENCETAB=/tmp/bad-fencetab "$FENCECTL" create
has ":1: want NAME BACKING" < /tmp/expect_exit.out || fail "bad line: $(cat /tmp/expect_exit.out)"
printf 'c %s generation=x\n' "$da" > /tmp/bad-fencetab
expect_exit 1 env FENCECTL_FENCETAB=/tmp/bad-fencetab "$FENCECTL" create
dmsetup remove a
dmsetup remove b
# a device of that name that is not the line's: said, left as it is, exit 4
dmsetup create a --table "0 $(sectors_of "$da") linear $da 0"
expect_exit 4 "$FENCECTL" create a
has "a: .*exists and is not a fence device" < /tmp/expect_exit.out ||
	fail "a linear a: $(cat /tmp/expect_exit.out)"
dmsetup remove a
dmsetup create a --table "0 $(sectors_of "$db") fence $db 0"
expect_exit 4 "$FENCECTL" create a
has "a: .*exists on another backing device" < /tmp/expect_exit.out ||
	fail "a fence a on b's disk: $(cat /tmp/expect_exit.out)"
dmsetup remove a
# a bad line is skipped, said with its number, and the others are still
# created (as crypttab at boot): out-of-range options, a second line for a
# name or for a backing device never reach the kernel
cat > /tmp/bad-fencetab <<TAB
c $da generation=-1
c $da region_size=3
a $da generation=+5
a $da
d $da
a $db
b $db
TAB
expect_exit 1 env FENCECTL_FENCETAB=/tmp/bad-fencetab "$FENCECTL" create
for n in 1 2 3 5 6; do
	has "bad-fencetab:$n: " < /tmp/expect_exit.out ||
		fail "line $n not reported: $(cat /tmp/expect_exit.out)"
done
has "bad-fencetab:[47]: " < /tmp/expect_exit.out && fail "a good line reported: $(cat /tmp/expect_exit.out)"
on() {	# <dm name> <block device>: is the first on the second?
	[ "$(dmsetup table "$1" | awk '{ print $4 }')" = \
	  "$((0x$(stat -c %t "$2"))):$((0x$(stat -c %T "$2")))" ]
}
expect_field a state closed
expect_field b state closed
on a "$da" || fail "a is not on $da: $(dmsetup table a)"
on b "$db" || fail "b is not on $db: $(dmsetup table b)"
for n in c d; do
	dmsetup info "$n" > /dev/null 2>&1 && fail "$n created from a bad line"
done
dmsetup remove a
dmsetup remove b

# two fencectl runs at once (an agent's fence beside another's), the
# second's whole run between the first's kernel change and its record
# (tools/record_delay.so holds the first there): the record never falls
# behind the kernel, nor holds a mix of the two, and no temporary file stays
"$FENCECTL" create a > /dev/null || fail "create a"
rm -f /tmp/record.mark
LD_PRELOAD=$TOOLS/record_delay.so RECORD_DELAY_MARK=/tmp/record.mark RECORD_DELAY_MS=2000 \
	"$FENCECTL" fence a 10 > /tmp/fence10.out 2>&1 &
first=$!
marked() { [ -e /tmp/record.mark ]; }
wait_until 30 marked || fail "fence a 10 did not reach its record"
"$FENCECTL" fence a 11 > /dev/null || fail "fence a 11"
wait $first || true
expect_field a generation 11
expect_eq "$(cat "$FENCECTL_STATE_DIR/a")" "generation 11 fenced" "a's record after two fences at once"
left=$(ls "$FENCECTL_STATE_DIR" | grep -v -x -e a -e b) && fail "left in the state directory: $left"
dmsetup remove a
