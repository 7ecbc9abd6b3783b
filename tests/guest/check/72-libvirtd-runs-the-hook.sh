# contrib/libvirt-hook-qemu run by the real libvirtd (installed in
# hooks/qemu.d/, as make install does), with tiny domains whose disk is a
# fence device: a start on an open disk starts; shutting the domain down
# (destroy) drains its disk in the background (closed, every write
# durable) while libvirtd goes on; a later start on this host reopens it,
# since this host's own release drained it; a start on a fenced disk is
# refused and the domain stays shut off, the disk fenced; a start on a
# disk closed by anyone else (a migration destination waiting for its
# source) is refused and leaves it closed; and a domain with no fence
# disk starts whatever the hook says of others.
# test-timeout: 600
# kernels: newest
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-libvirt.sh"
load_fence

gate_create below1 "$(nullb_create lv1 16)"
trap 'gate_open below1 2>/dev/null; lv_cleanup' EXIT
fence_create vm1-disk /dev/mapper/below1
fence_create vm2-disk "$(nullb_create lv2 16)" closed
plain=$(nullb_create lv3 16)
lv_setup
lv_define vm1 /dev/mapper/vm1-disk
lv_define vm2 /dev/mapper/vm2-disk
lv_define plain "$plain"

# a start on an open disk; the release drains it without holding libvirtd
# up, even with a write stuck below (behind a shut gate)
lv start vm1 > /dev/null || fail "vm1 did not start: $(tail -5 "$LV_DIR/libvirtd.log")"
expect_eq "$(lv_state vm1)" running "vm1 after start"
expect_field vm1-disk state open
gate_shut below1
random_file /tmp/w 4
write_in_flight vm1-disk 3 /tmp/w
# (a drain in libvirtd's worker would wait for the write: 30 s, the hook's
# drain_timeout_ms; the hook's own start takes seconds under TCG)
expect_exit 0 timeout 20 virsh -q -c qemu:///system destroy vm1
expect_eq "$(lv_state vm1)" "shut off" "vm1 after destroy"
wait_state vm1-disk closing 30 || fail "the release did not start draining vm1's disk"
expect_field vm1-disk inflight 1
gate_open below1
wait "$INFLIGHT_PID" || fail "the write stuck below failed"
wait_state vm1-disk closed 30 || fail "vm1's disk was not drained after the domain stopped"

# this host's release closed it: a local start reopens it
lv start vm1 > /dev/null || fail "vm1 did not start again: $(tail -5 "$LV_DIR/libvirtd.log")"
expect_field vm1-disk state open
lv destroy vm1 > /dev/null
wait_state vm1-disk closed 30 || fail "vm1's disk was not drained the second time"

# fenced (this host lost the disk): the start is refused
dmsetup message vm1-disk 0 fence 2
lv start vm1 > /tmp/start.out 2>&1 && fail "vm1 started on a fenced disk"
has -i "hook" < /tmp/start.out || fail "the refusal does not name the hook: $(cat /tmp/start.out)"
expect_eq "$(lv_state vm1)" "shut off" "vm1 after a refused start"
expect_field vm1-disk state fenced

# closed by someone else (a migration destination): refused, stays closed
lv start vm2 > /tmp/start.out 2>&1 && fail "vm2 started on a disk closed by someone else"
expect_eq "$(lv_state vm2)" "shut off" "vm2 after a refused start"
expect_field vm2-disk state closed

# no fence disk: none of the hook's business
lv start plain > /dev/null || fail "a domain without a fence disk did not start"
lv destroy plain > /dev/null
