# The real libvirtd (Debian's libvirt 9, the qemu driver) in the guest,
# for the hook's tests: domains are tiny (32 MiB, no OS: the firmware
# looks for something to boot, which is enough to start and stop them,
# under TCG).  The guest's root is the host's, read-only: libvirt's state
# goes to tmpfs mounts, /etc/libvirt gets an overlay with the hook
# installed as make install installs it (qemu.d/dm-fence, this checkout's
# fencectl as its default) and a qemu.conf for a guest without cgroups or
# a libvirt-qemu user to spare.  Sourced after lib.sh; lv_cleanup undoes it.

LV_DIR=/tmp/lv

lv_setup() {
	local d
	modprobe overlay
	mkdir -p "$LV_DIR/etc-upper" "$LV_DIR/etc-work"
	for d in /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
		mountpoint -q "$d" || mount -t tmpfs lv-state "$d"
	done
	mount -t overlay lv-etc -o "lowerdir=/etc/libvirt,upperdir=$LV_DIR/etc-upper,workdir=$LV_DIR/etc-work" /etc/libvirt ||
		fail "cannot overlay /etc/libvirt"
	cat >> /etc/libvirt/qemu.conf <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
namespaces = [ ]
stdio_handler = "file"
CONF
	mkdir -p /etc/libvirt/hooks/qemu.d
	sed "s|/usr/local/sbin/fencectl|$FENCECTL|" "$REPO/contrib/libvirt-hook-qemu" \
		> /etc/libvirt/hooks/qemu.d/dm-fence
	chmod 755 /etc/libvirt/hooks/qemu.d/dm-fence
	# in a session of its own: on shutdown it signals its process group,
	# which would otherwise be the test's
	setsid libvirtd > "$LV_DIR/libvirtd.log" 2>&1 &
	echo $! > "$LV_DIR/libvirtd.pid"
	wait_until 120 virsh -c qemu:///system version > /dev/null ||
		fail "libvirtd did not start: $(tail -20 "$LV_DIR/libvirtd.log")"
}

lv() { virsh -q -c qemu:///system "$@"; }

# Define domain <name> with the block devices given as its disks.
lv_define() {	# <name> <block device>...
	local name=$1 i=0 dev
	shift
	{
		echo "<domain type='qemu'><name>$name</name><memory unit='MiB'>32</memory>"
		echo "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
		echo "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
		for dev in "$@"; do
			# cache unsafe: qemu never flushes, so a test that keeps
			# I/O stuck below a disk does not keep qemu from exiting
			echo "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='unsafe'/>"
			echo "<source dev='$dev'/><target dev='vd$(printf "\\x$(printf %x $((97 + i)))")' bus='virtio'/></disk>"
			i=$((i + 1))
		done
		echo "<memballoon model='none'/></devices></domain>"
	} > "$LV_DIR/$name.xml"
	lv define "$LV_DIR/$name.xml" > /dev/null || fail "cannot define $name"
}

lv_state() {	# <name>: running, shut off, ...
	lv domstate "$1" 2>/dev/null
}

lv_state_is() {	# <name> <state>: for wait_until
	[ "$(lv_state "$1")" = "$2" ]
}

lv_cleanup() {
	local d
	set +e		# best effort: what is not there to stop or unmount is fine
	for d in $(virsh -q -c qemu:///system list --name 2>/dev/null); do
		virsh -q -c qemu:///system destroy "$d" > /dev/null 2>&1
	done
	if [ -s "$LV_DIR/libvirtd.pid" ]; then
		kill -TERM "$(cat "$LV_DIR/libvirtd.pid")" 2>/dev/null
		wait_until 30 lv_gone "$(cat "$LV_DIR/libvirtd.pid")" ||
			kill -KILL "$(cat "$LV_DIR/libvirtd.pid")" 2>/dev/null
	fi
	umount /etc/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt 2>/dev/null
	return 0
}

lv_gone() {	# <pid>
	! kill -0 "$1" 2>/dev/null
}
