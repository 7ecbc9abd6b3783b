# A control-device call racing `dmsetup remove` of its device: the lookup
# holds a reference, so calls either find the device or get ENXIO, and
# nothing in the kernel log complains.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
mm=$(dm_devt f0)
dmsetup remove f0
(
	end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ]; do
		"$FENCECTL" status "$mm" > /dev/null 2>&1 || true
		"$FENCECTL" fence "$mm" $((SECONDS + 10)) > /dev/null 2>&1 || true
	done
	true
) &
hammer=$!
for i in $(seq 20); do
	# the same name gets the same minor back
	fence_create f0 "$dev"
	fencectl close f0 > /dev/null 2>&1 || true
	dmsetup remove f0 || fail "remove $i"
done
wait $hammer || fail "the hammering loop failed"
expect_eq "$(dmsetup ls | grep -c f0 || true)" 0 "no device left"
