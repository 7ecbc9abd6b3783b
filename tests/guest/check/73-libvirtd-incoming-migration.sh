# The libvirt hook through a real live migration between two libvirtds
# (this guest as host A, and hostb in namespaces of its own, over a veth
# pair), the domain's disk a fence device on each side over one shared
# disk.  With the destination's disk fenced (hostb lost it) its close
# fails: the migration is refused, the domain runs on in A, hostb keeps no
# incoming marker and its disk stays fenced.  Then the migration goes
# through: hostb closes its disk before the domain arrives and keeps it
# closed as the domain starts there; A's release drains the source disk;
# and the destination's disk opens only when told to (dest-go).
# test-timeout: 900
# kernels: newest
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-libvirt.sh"
load_fence
trap 'lv_dest_cleanup; lv_cleanup' EXIT

shared=$(nullb_create lvshared 16)
fence_create vm1-src "$shared"
fence_create vm1-dst "$shared"
# hostb first: its namespace is a copy of this one's mounts, and must not
# start from A's libvirt configuration
lv_dest_setup
lv_setup
lv_define vm1 /dev/mapper/vm1-src
lv start vm1 > /dev/null || fail "vm1 did not start on A: $(tail -5 "$LV_DIR/libvirtd.log")"
# on hostb the domain's disk is hostb's own fence device
lv dumpxml --migratable vm1 | sed 's|/dev/mapper/vm1-src|/dev/mapper/vm1-dst|' > "$LV_DIR/vm1-dst.xml"

migrate() {	# cache=unsafe asks for --unsafe; the destination names its own disk
	timeout 300 virsh -q -c qemu:///system migrate --live --unsafe \
		--xml "$LV_DIR/vm1-dst.xml" vm1 "$LV_B" tcp://10.99.0.2 > /tmp/migrate.out 2>&1
}

# hostb's disk fenced: its close fails, the migration is refused
dmsetup message vm1-dst 0 fence 2
migrate && fail "the migration went through to a fenced destination disk"
has -i "hook" < /tmp/migrate.out || fail "the refusal does not name the hook: $(cat /tmp/migrate.out)"
expect_eq "$(lv_state vm1)" running "vm1 on A after a refused migration"
lvb domstate vm1 > /dev/null 2>&1 && fail "vm1 exists on hostb after a refused migration"
on_hostb test -e /run/dm-fence-hook/vm1.incoming && fail "hostb kept an incoming marker"
expect_field vm1-dst state fenced
expect_field vm1-src state open
"$FENCECTL" unfence vm1-dst 2 > /dev/null

# the migration: hostb's disk closed before the domain arrives, and kept so
migrate || fail "the migration failed: $(cat /tmp/migrate.out)"
expect_eq "$(lvb domstate vm1)" running "vm1 on hostb after the migration"
expect_field vm1-dst state closed
# (still defined on A, shut off: it was not undefined there)
expect_eq "$(lv_state vm1)" "shut off" "vm1 on A after the migration"
# A's release drains the source disk (in the background)
wait_state vm1-src closed 60 || fail "A's release did not drain the source disk"
expect_field vm1-dst state closed
# dest-go: only now may hostb's writes pass
"$REPO/contrib/dm-fence-migrate" dest-go vm1-dst > /dev/null || fail "dest-go"
expect_field vm1-dst state open
expect_eq "$(lvb domstate vm1)" running "vm1 on hostb after dest-go"
