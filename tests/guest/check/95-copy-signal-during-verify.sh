# A signal at the end of a copy (issue 33 item 5): during --verify, after
# the final round.  A plain copy is cancelled: the source it closed is
# reopened, exit 5, the last JSON line says ECANCELED and switched false.
# A copy --switch is past the point of no return: the device runs on DST
# and stays there, exit 7 (not 5, "source open"), the last JSON line says
# switched true.  DST's reads wait 200 ms each (dm-delay), so the verify
# lasts seconds and the signal lands in it.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe dm-delay

slow_dst() {	# <name> <nullb name>: reads of 200 ms, writes at once
	local d
	d=$(nullb_create "$2" 64)
	dmsetup create "$1" --table "0 $(sectors_of "$d") delay $d 0 200 $d 0 0"
}
last_json() {	# <file> <python expression on the last line, j>
	python3 - "$1" "$2" <<'PY'
import json, sys
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
if not eval(sys.argv[2]):
    print(j, file=sys.stderr)
    sys.exit(1)
PY
}
copy_and_signal() {	# <name> <dst> [copy args...]: TERM once the final round is done
	local name=$1 dst=$2
	shift 2
	"$FENCECTL" --json copy "$name" "$dst" --verify "$@" > /tmp/copy.json 2> /tmp/copy.err &
	COPY_PID=$!
	wait_until 120 grep -q '"event":"final"' /tmp/copy.json ||
		fail "no final round: $(cat /tmp/copy.err)"
	kill -TERM $COPY_PID
}

# --- a plain copy: cancelled, the source reopened -------------------------
fence_create vm "$(nullb_create nbs 64)"
dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=8 oflag=direct status=none
slow_dst slow1 nbd
copy_and_signal vm /dev/mapper/slow1
expect_wait $COPY_PID 5 "plain copy, a signal during its verify"
expect_field vm state open
last_json /tmp/copy.json 'j["event"] == "error" and j["error"] == "ECANCELED" and j["switched"] is False' ||
	fail "the last JSON line of the cancelled copy"

# --- copy --switch: past the switch, exit 7 and the device stays on DST ----
slow_dst slow2 nbe
copy_and_signal vm /dev/mapper/slow2 --switch
expect_wait $COPY_PID 7 "copy --switch, a signal during its verify"
expect_field vm state open
expect_eq "$(dmsetup table vm | awk '{ print $4 }')" "$(devt_of /dev/mapper/slow2)" \
	"the device runs on DST"
last_json /tmp/copy.json 'j["event"] == "error" and j["switched"] is True and j["exit"] == 7' ||
	fail "the last JSON line of the switched copy"
dd if=/dev/urandom of=/dev/mapper/vm bs=4k count=1 oflag=direct status=none ||
	fail "a write after the switch failed"
dmsetup remove vm
