# dmsetup remove of a closing device whose closing flush is stuck (the disk
# below does not answer) returns at once instead of hanging in D state
# (issue 32 item 7): the flush holds the device's state, and the module,
# until it ends; the state is freed then, from a work of the module's own.
# Meanwhile the module cannot be unloaded; once the disk answers the state
# goes (the dm_fence_dev slab count falls back) and it can.  A name of the
# removed device can be used again at once.
. "$REPO/tests/guest/lib.sh"
load_fence

devs() {	# fence devices' states in the slab (as test 63 counts them)
	echo 1 > /sys/kernel/slab/dm_fence_dev/shrink
	cut -d' ' -f1 /sys/kernel/slab/dm_fence_dev/objects
}
below_base() { [ "$(devs)" -lt "$base" ]; }
dev=$(nullb_create nb0 16)
gated_fence f0 gate "$dev"
base=$(devs)
gate_shut gate
dmsetup message f0 0 close
expect_field f0 state closing
dmsetup remove f0 &
rm_pid=$!
if ! wait_until 10 exited "$rm_pid"; then
	gate_open gate
	fail "dmsetup remove waited for the stuck closing flush"
fi
expect_wait "$rm_pid" 0 "remove with the closing flush stuck"
expect_eq "$(devs)" "$base" "fence device states while the flush is stuck (kept)"
rmmod dm_fence 2>/dev/null && fail "module unloaded while a closing flush runs"
# the name again, on another disk, while the old state waits
other=$(nullb_create nb1 16)
fence_create f0 "$other"
dmsetup remove f0
gate_open gate
wait_until 20 below_base ||
	fail "the removed device's state was not freed once the disk answered ($(devs) objects)"
dmsetup remove gate
rmmod dm_fence || fail "module does not unload once the flush ended"
