# contrib/libvirt-hook-qemu, called as libvirt calls it (domain XML on
# stdin): an incoming migration closes the domain's fence disks and leaves
# other disks alone; the start that follows keeps them closed; release on
# the source drains its disks; a plain start reopens a closed disk; a start
# on a fenced disk is refused.
. "$REPO/tests/guest/lib.sh"
load_fence
hook=$REPO/contrib/libvirt-hook-qemu
export FENCECTL DMFENCE_HOOK_STATE=/tmp/hook-state DMFENCE_DRAIN_TIMEOUT_MS=10000

disk=$(nullb_create shared 16)
other=$(nullb_create other 16)
delay_create slow "$disk" 1000
fence_create src /dev/mapper/slow
fence_create dst "$disk"
xml() {	# <fence disk name>: a domain with that disk and a plain one
	cat <<XML
<domain type='kvm'><name>vm1</name><devices>
  <disk type='block' device='disk'><source dev='/dev/mapper/$1'/><target dev='vda'/></disk>
  <disk type='block' device='disk'><source dev='$other'/><target dev='vdb'/></disk>
  <disk type='file' device='cdrom'><source file='/tmp/x.iso'/><target dev='sda'/></disk>
</devices></domain>
XML
}

# destination: incoming migration, then the start of the incoming qemu
out=$(xml dst | "$hook" vm1 migrate begin -) || fail "migrate begin"
expect_eq "$out" "" "hook output (libvirt would take it as new XML)"
wait_state dst closed 10 || fail "incoming disk not closed: $(fence_status dst)"
xml dst | "$hook" vm1 prepare begin - || fail "prepare begin (incoming)"
expect_field dst state closed

# source: the VM is gone; its last write (1 s below) completes in the drain
random_file /tmp/s 4
write_in_flight src 3 /tmp/s
w=$INFLIGHT_PID
xml src | "$hook" vm1 release end - || fail "release end"
expect_field src state closed
wait $w || fail "the source's last write failed"
expect_eq "$(block_sum "$disk" 3)" "$(file_sum /tmp/s)" "the source's write landed in the drain"

# a plain start on the source host later: its closed disk is reopened
xml src | "$hook" vm1 prepare begin - || fail "prepare begin (plain start)"
expect_field src state open

# a fenced disk: the start is refused
dmsetup message src 0 fence 2
rc=0
xml src | "$hook" vm1 prepare begin - 2>/tmp/hook.err || rc=$?
expect_eq "$rc" 1 "start on a fenced disk"
grep -q "is fenced" /tmp/hook.err || fail "no reason given: $(cat /tmp/hook.err)"

# operations the hook does not handle change nothing
xml dst | "$hook" vm1 started begin - || fail "started begin"
expect_field dst state closed
