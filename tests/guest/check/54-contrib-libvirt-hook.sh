# contrib/libvirt-hook-qemu, run as libvirt runs a qemu.d hook: domain XML on
# stdin, and only PATH, HOME, USER, LOGNAME, LC_ALL in the environment
# (settings from its configuration file).  An incoming migration closes the
# domain's fence disks and leaves other disks alone, and the start that
# follows keeps them closed; a close that fails reopens what was closed and
# leaves no incoming marker behind; release on the source returns at once
# and drains its disks in the background; a plain start reopens a disk this
# host's release drained, and refuses one closed otherwise (an aborted
# incoming migration: the VM runs elsewhere) or fenced; without fencectl a
# domain with no device-mapper disk starts, one with a fence disk is
# refused, and no traceback.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
hook=$REPO/contrib/libvirt-hook-qemu
state=/tmp/hook-state
cat > /tmp/hook.conf <<EOF
[libvirt-hook]
fencectl = $FENCECTL
drain_timeout_ms = 10000
state_dir = $state
EOF
run_hook() {	# <hook args...>: XML on stdin, libvirt's environment, 20 s at most
	timeout 20 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LOGNAME=root \
		LC_ALL=C DMFENCE_HOOK_CONF="${HOOK_CONF:-/tmp/hook.conf}" "$hook" "$@"
}

disk=$(nullb_create shared 16)
other=$(nullb_create other 16)
gate_create below "$disk"
fence_create src /dev/mapper/below
fence_create dst "$disk"
xml() {	# <fence disk name>...: a domain with those disks and a plain one
	echo "<domain type='kvm'><name>vm1</name><devices>"
	for d in "$@"; do
		echo "<disk type='block' device='disk'><source dev='/dev/mapper/$d'/><target dev='vd$d'/></disk>"
	done
	echo "<disk type='block' device='disk'><source dev='$other'/><target dev='vdz'/></disk>"
	echo "<disk type='file' device='cdrom'><source file='/tmp/x.iso'/><target dev='sda'/></disk>"
	echo "</devices></domain>"
}
expect_refused() {	# <what> <hook args...>: exit 1 with a reason, no traceback
	local what=$1 rc=0
	shift
	run_hook "$@" 2> /tmp/hook.err || rc=$?
	expect_eq "$rc" 1 "$what"
	[ -s /tmp/hook.err ] || fail "$what: no reason given"
	if has Traceback < /tmp/hook.err; then fail "$what: $(cat /tmp/hook.err)"; fi
}

# destination: incoming migration, then the start of the incoming qemu
out=$(xml dst | run_hook vm1 migrate begin -) || fail "migrate begin"
expect_eq "$out" "" "hook output (libvirt would take it as new XML)"
wait_state dst closed 10 || fail "incoming disk not closed: $(fence_status dst)"
[ -e $state/vm1.incoming ] || fail "no incoming marker"
xml dst | run_hook vm1 prepare begin - || fail "prepare begin (incoming)"
expect_field dst state closed
# the migration is aborted: release on the destination leaves dst closed,
# and a plain start there is refused (the VM still runs on the source)
xml dst | run_hook vm1 release end - || fail "release end (aborted incoming)"
[ ! -e $state/vm1.incoming ] || fail "incoming marker left after release"
expect_field dst state closed
xml dst | expect_refused "plain start on a disk closed by an incoming migration" vm1 prepare begin -
has "not by this host's release" < /tmp/hook.err || fail "reason: $(cat /tmp/hook.err)"
expect_field dst state closed

# a close that fails (dst2 fenced): dst3, closed first, is reopened, no marker
fence_create dst2 "$(nullb_create d2 16)"
fence_create dst3 "$(nullb_create d3 16)"
dmsetup message dst2 0 fence 2
xml dst3 dst2 | expect_refused "migrate begin with a close that fails" vm1 migrate begin -
expect_field dst3 state open
[ ! -e $state/vm1.incoming ] || fail "incoming marker left by a failed migrate begin"

# source: the VM is gone; its last write, held below, completes in the drain,
# which runs after the hook has returned
random_file /tmp/s 4
gate_shut below
write_in_flight src 3 /tmp/s
w=$INFLIGHT_PID
xml src | run_hook vm1 release end - || fail "release end (or it waited for the drain)"
kill -0 $w 2>/dev/null || fail "release end waited for the drain"
gate_open below
wait $w || fail "the source's last write failed"
drained() { [ -e $state/src.released ]; }
wait_until 20 drained || fail "the release drain did not finish: $(fence_status src)"
expect_field src state closed
expect_eq "$(block_sum "$disk" 3)" "$(file_sum /tmp/s)" "the source's write landed in the drain"

# a plain start on the source host later: the disk its release drained is reopened
xml src | run_hook vm1 prepare begin - || fail "prepare begin (plain start)"
expect_field src state open
[ ! -e $state/src.released ] || fail "released marker kept after the reopen"

# a fenced disk: the start is refused
dmsetup message src 0 fence 2
xml src | expect_refused "start on a fenced disk" vm1 prepare begin -
has "is fenced" < /tmp/hook.err || fail "reason: $(cat /tmp/hook.err)"

# operations the hook does not handle change nothing
xml dst | run_hook vm1 started begin - || fail "started begin"
expect_field dst state closed

# no fencectl: a domain without device-mapper disks starts, one with is refused
printf '[libvirt-hook]\nfencectl = /nonexistent/fencectl\nstate_dir = %s\n' $state > /tmp/nofc.conf
echo "<domain><name>vm2</name><devices><disk type='block'><source dev='$other'/></disk></devices></domain>" |
	HOOK_CONF=/tmp/nofc.conf run_hook vm2 prepare begin - || fail "start without dm disks, no fencectl"
xml dst | HOOK_CONF=/tmp/nofc.conf expect_refused "start with a fence disk, no fencectl" vm1 prepare begin -
has "not found" < /tmp/hook.err || fail "reason: $(cat /tmp/hook.err)"
