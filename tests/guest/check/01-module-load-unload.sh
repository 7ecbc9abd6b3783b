# The module loads, registers the 'fence' target, refuses to unload while a
# fence device exists, and unloads cleanly after.
. "$REPO/tests/guest/lib.sh"

modprobe dm-mod
grep -qw '^dm_fence' /proc/modules && rmmod dm_fence
insmod "$FENCE_KO"
dmsetup targets | has '^fence ' || fail "target 'fence' not registered"

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
if rmmod dm_fence 2>/dev/null; then
	fail "rmmod succeeded while a fence device exists"
fi
grep -qw '^dm_fence' /proc/modules || fail "module gone while in use"

dmsetup remove f0
rmmod dm_fence || fail "rmmod failed after the device was removed"
dmsetup targets | has '^fence ' && fail "target still registered after rmmod"
insmod "$FENCE_KO"
fence_create f0 "$dev"
dmsetup remove f0
