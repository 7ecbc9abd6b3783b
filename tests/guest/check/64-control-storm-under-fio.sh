# Message and ioctl storms while fio writes: four processes closing,
# draining, reopening, fencing, reading status and fetching-and-clearing
# the bitmap, for FIO_S seconds.  Every call must return (each is bounded
# by `timeout`: one that hangs is a deadlock), the runner checks the log
# (hung-task detector at 30 s), and at the end, with fio gone, nothing is
# in flight or held.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 256)
fence_create vm "$dev"
S=${FIO_S:-10}
fio --name=w --filename=/dev/mapper/vm --direct=1 --ioengine=libaio --rw=randrw \
	--bs=4k --iodepth=16 --size=64m --time_based --runtime="$S" \
	--continue_on_error=all --output=/dev/null &
f=$!
end=$((SECONDS + S))
bounded() {	# a call that does not return in 20 s is a deadlock
	local rc=0
	timeout 20 "$@" > /dev/null 2>&1 || rc=$?
	[ $rc != 124 ] || { echo "HUNG: $*" >> /tmp/storm.hung; }
}
storm() {	# <worker>
	local n=0
	while [ $SECONDS -lt $end ]; do
		case $1 in
		0) bounded dmsetup message vm 0 close
		   bounded dmsetup message vm 0 reopen ;;
		1) bounded "$FENCECTL" drain vm --timeout 200
		   bounded "$FENCECTL" reopen vm
		   bounded "$FENCECTL" unfence vm "$(field vm generation)" --force ;;
		2) bounded "$FENCECTL" --json status vm
		   bounded "$FENCECTL" dirty vm --clear
		   bounded dmsetup status vm ;;
		3) bounded "$FENCECTL" fence vm $(($(field vm generation) + 1)) --wait --timeout 300
		   bounded dmsetup message vm 0 get_dirty clear ;;
		esac
		n=$((n + 1))
	done
	echo "worker $1: $n rounds"
}
rm -f /tmp/storm.hung
for w in 0 1 2 3; do storm $w & done
wait $f || true
wait
[ ! -s /tmp/storm.hung ] || fail "calls that never returned: $(cat /tmp/storm.hung)"
open_any vm > /dev/null || fail "final reopen: $(fence_status vm)"
expect_field vm state open
expect_field vm inflight 0
expect_field vm held 0
expect_field vm stale 0
log "final: $(fence_status vm)"
