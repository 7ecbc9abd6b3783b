# fencectl drives every ioctl's success path, and what it reports matches
# `dmsetup status`; --json objects parse and carry every status field; the
# exit codes are the contract's.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
dmsetup create lin --table "0 8 linear $dev 0"
mm=$(dm_devt f0)
[ -c /dev/dm-fence ] || fail "no /dev/dm-fence"
expect_eq "$(stat -c %a /dev/dm-fence)" 600 "mode of /dev/dm-fence"

# the same device by its three names
for name in f0 /dev/mapper/f0 "$mm"; do
	fencectl status "$name" | has "^f0: open generation 1, 0 in flight" ||
		fail "status $name: $(fencectl status "$name")"
done

check_json() {	# <state> <generation>: fencectl --json status vs dmsetup status
	fencectl --json status f0 | python3 -c '
import json, sys
want_state, want_gen, dm, devt = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
j = json.load(sys.stdin)
keys = ("device devt state generation inflight held stale_inflight late_completions "
        "failed_writes dirty regions flush_errors region_size length fence_reads close_fail").split()
missing = [k for k in keys if k not in j]
assert not missing, f"JSON lacks {missing}: {j}"
assert j["state"] == want_state == dm[0], (j["state"], want_state, dm)
assert j["generation"] == want_gen == int(dm[1]), (j["generation"], want_gen, dm)
for i, k in enumerate(("inflight", "held", "stale_inflight", "late_completions", "failed_writes"), 2):
    assert j[k] == int(dm[i]), (k, j[k], dm)
assert "%d/%d" % (j["dirty"], j["regions"]) == dm[7], (j, dm)
assert j["devt"] == devt and j["device"] == "f0", j
' "$1" "$2" "$(fence_status f0)" "$mm" || fail "fencectl --json status disagrees with dmsetup status"
}

check_json open 1

dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=1 seek=32 oflag=direct status=none
expect_eq "$(fencectl dirty f0)" "2" "fencectl dirty"
expect_eq "$(fencectl --json dirty f0 --clear | json_field ranges)" "[[2, 2]]" "fencectl dirty --clear"
# an error of dirty is reported as every command's: under --json, a JSON
# line with the error and the exit code (it was a plain line on stderr)
expect_exit 4 env LD_PRELOAD="$TOOLS/dm_ioctl_fault.so" DM_IOCTL_FAULT=fail-get-dirty \
	"$FENCECTL" --json dirty f0
expect_eq "$(json_field error < /tmp/expect_exit.out)" "EIO" "fencectl --json dirty's error"
expect_eq "$(json_field exit < /tmp/expect_exit.out)" "4" "fencectl --json dirty's exit"
expect_field f0 dirty 0/256

fencectl close f0 > /dev/null
wait_state f0 closed 10 || fail "not closed after fencectl close"
check_json closed 1
fencectl reopen f0 > /dev/null
check_json open 1
fencectl drain f0 --timeout 10000 > /dev/null || fail "drain"
check_json closed 1
fencectl reopen f0 > /dev/null
fencectl close f0 --fail > /dev/null
expect_eq "$(fencectl --json status f0 | json_field close_fail)" True "close_fail flag"
fencectl reopen f0 > /dev/null
fencectl fence f0 5 > /dev/null
check_json fenced 5
fencectl --json fence f0 6 --wait --timeout 5000 | json_field stale_inflight | has -x 0 || fail "fence --wait"
check_json fenced 6
expect_exit 4 fencectl reopen f0
rc=0
out=$(fencectl --json unfence f0 5) || rc=$?
expect_eq "$rc" 4 "exit code of an unfence at a past generation"
expect_eq "$(json_field result <<< "$out")" "Stale file handle" "result of an unfence at a past generation"
check_json fenced 6
# not while anything here holds the device open (a VM left running on a
# host fenced at the storage would write again at once): exit 4, nothing
# changes; --allow-open overrides, and with it closed again it goes through
expect_eq "$(fencectl --json status f0 | json_field open_count)" 0 "open_count, nobody"
exec 7< /dev/mapper/f0
expect_eq "$(fencectl --json status f0 | json_field open_count)" 1 "open_count, one opener"
expect_exit 4 fencectl unfence f0 6
has "the device is open (1 opener)" < /tmp/expect_exit.out ||
	fail "unfence while open: $(cat /tmp/expect_exit.out)"
expect_exit 4 fencectl --json unfence f0 6
expect_eq "$(json_field error < /tmp/expect_exit.out)" EBUSY "JSON error of an unfence while open"
check_json fenced 6
exec 7<&-
fencectl unfence f0 6 > /dev/null
check_json open 6
fencectl fence f0 7 > /dev/null
exec 7< /dev/mapper/f0
fencectl unfence f0 7 --allow-open > /dev/null || fail "unfence --allow-open"
exec 7<&-
check_json open 7

# exit codes
expect_exit 1 fencectl
expect_exit 1 fencectl frobnicate f0
expect_exit 1 fencectl status
expect_exit 1 fencectl status f0 extra
expect_exit 1 fencectl fence f0
expect_exit 1 fencectl fence f0 abc
expect_exit 1 fencectl fence f0 0
expect_exit 1 fencectl fence f0 9223372036854775808
expect_exit 1 fencectl drain f0 --timeout soon
expect_exit 1 fencectl status f0 --fail
expect_exit 1 fencectl watch f0 --until sideways
grep -q '^usage: fencectl' /tmp/expect_exit.out || fail "no usage line on a usage error"
expect_exit 0 fencectl --help
expect_exit 2 fencectl status nosuchdevice
expect_exit 2 fencectl status 253:999
expect_exit 2 fencectl status /dev/null
expect_exit 2 fencectl status lin
expect_exit 4 fencectl fence f0 7
expect_exit 4 fencectl fence f0 3
check_json open 7

# errors scripts can act on: with --json every failure is one object on
# standard output naming the errno ("error"), also usage errors and unknown
# devices; a refusal says it once in text mode (standard error)
expect_exit 4 fencectl --json unfence f0 5
expect_eq "$(json_field error < /tmp/expect_exit.out)" ESTALE "JSON error of an unfence at a past generation"
out=$(fencectl unfence f0 5 2> /tmp/err.txt) || true
expect_eq "$(grep -c 'Stale file handle' /tmp/err.txt)" 1 "the refusal said on standard error, once"
has -v 'Stale file handle' <<< "$out" || fail "the refusal repeated on standard output: $out"
fencectl --json fence f0 abc > /tmp/out.json 2> /dev/null || true
expect_eq "$(json_field error < /tmp/out.json)" EINVAL "JSON error of a usage error"
expect_eq "$(json_field exit < /tmp/out.json)" 1 "JSON exit of a usage error"
fencectl --json status nosuchdevice > /tmp/out.json 2> /dev/null || true
expect_eq "$(json_field error < /tmp/out.json)" ENXIO "JSON error of an unknown device"
expect_eq "$(json_field exit < /tmp/out.json)" 2 "JSON exit of an unknown device"

# not root: refused (4, "permission denied"), not "no such device"
expect_exit 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$FENCECTL" status f0
has 'permission denied' < /tmp/expect_exit.out || fail "non-root: $(cat /tmp/expect_exit.out)"
expect_exit 4 setpriv --reuid=65534 --regid=65534 --clear-groups "$FENCECTL" --json status f0
expect_eq "$(json_field error < /tmp/expect_exit.out)" EACCES "JSON error of a non-root caller"

# copy: a DST that does not exist is "no such device" (2), one too small
# is refused (4)
expect_exit 2 fencectl copy f0 /dev/nosuchdisk
small=$(nullb_create nbsmall 8)
expect_exit 4 fencectl copy f0 "$small"
has 'smaller' < /tmp/expect_exit.out || fail "copy to a small DST: $(cat /tmp/expect_exit.out)"
