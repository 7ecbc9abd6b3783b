# After `apt install ./dm-fence-*.deb` on the host (tests/host/deb-install.sh):
# dkms built dm-fence.ko for this kernel under updates/dkms, modprobe loads
# it by name, and the packaged fencectl drives a device over it.
. "$REPO/tests/guest/lib.sh"
path=$(modinfo -n dm-fence) || fail "modinfo finds no dm-fence for $(uname -r)"
case $path in
*/updates/dkms/dm-fence.ko*) ;;
*) fail "dm-fence is $path, not dkms's" ;;
esac
modprobe dm-fence || fail "modprobe dm-fence"
grep -q '^dm_fence ' /proc/modules || fail "dm_fence not loaded"
dev=$(nullb_create pkg 16)
fence_create pkg "$dev"
/usr/sbin/fencectl fence pkg 2 > /dev/null || fail "the packaged fencectl: fence"
[ "$(/usr/sbin/fencectl --json status pkg | json_field state)" = fenced ] || fail "not fenced"
dmsetup remove pkg
nullb_remove pkg
rmmod dm_fence || fail "rmmod dm_fence"
