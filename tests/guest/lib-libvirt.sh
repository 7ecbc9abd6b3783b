# The real libvirtd (Debian's libvirt 9, the qemu driver) in the guest,
# for the hook's tests: domains are tiny (32 MiB, no OS: the firmware
# looks for something to boot, which is enough to start and stop them,
# under TCG).  The guest's root is the host's, read-only: libvirt's state
# goes to tmpfs mounts, /etc/libvirt gets an overlay with the hook
# installed as make install installs it (qemu.d/dm-fence, this checkout's
# fencectl as its default) and a qemu.conf for a guest without cgroups or
# a libvirt-qemu user to spare.  Sourced after lib.sh; lv_cleanup undoes it.

LV_DIR=${LV_DIR:-/tmp/lv}

# libvirtd in the current namespaces, with host UUID <uuid> (two daemons
# that migrate between them must differ), listening on TCP at <address>
# without authentication if one is given.
lv_setup() {	# [<uuid> [<address>]]
	local d uuid=${1:-00000000-0000-4000-8000-00000000000a} addr=${2:-}
	modprobe overlay
	# from scratch: an earlier test's domains live in its upper layer
	rm -rf "$LV_DIR"
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
	echo "host_uuid = \"$uuid\"" >> /etc/libvirt/libvirtd.conf
	if [ -n "$addr" ]; then
		printf '%s\n' 'listen_tls = 0' 'listen_tcp = 1' 'auth_tcp = "none"' \
			"listen_addr = \"$addr\"" >> /etc/libvirt/libvirtd.conf
	fi
	# as make install puts it: the script elsewhere, a link to it in qemu.d
	mkdir -p /etc/libvirt/hooks/qemu.d
	sed "s|/usr/local/sbin/fencectl|$FENCECTL|" "$REPO/contrib/libvirt-hook-qemu" \
		> "$LV_DIR/libvirt-hook-qemu"
	chmod 755 "$LV_DIR/libvirt-hook-qemu"
	ln -sf "$LV_DIR/libvirt-hook-qemu" /etc/libvirt/hooks/qemu.d/dm-fence
	# in a session of its own: on shutdown it signals its process group,
	# which would otherwise be the test's
	# (its pid file under $LV_DIR: /run/libvirtd.pid would be the
	# same file for a second libvirtd, hostb's)
	setsid libvirtd ${addr:+--listen} --pid-file "$LV_DIR/libvirtd.run.pid" \
		> "$LV_DIR/libvirtd.log" 2>&1 &
	echo $! > "$LV_DIR/libvirtd.pid"
	wait_until 120 virsh -c qemu:///system version > /dev/null ||
		fail "libvirtd did not start: $(tail -20 "$LV_DIR/libvirtd.log")"
}

lv() { virsh -q -c qemu:///system "$@"; }

# The XML of a domain <name> with the block devices given as its disks.
lv_xml() {	# <name> <block device>...
	local name=$1 i=0 dev
	shift
	echo "<domain type='qemu'><name>$name</name><memory unit='MiB'>32</memory>"
	echo "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>"
	echo "<emulator>/usr/bin/qemu-system-x86_64</emulator>"
	for dev in "$@"; do
		# cache unsafe: qemu never flushes, so a test that keeps I/O
		# stuck below a disk does not keep qemu from exiting
		echo "<disk type='block' device='disk'><driver name='qemu' type='raw' cache='unsafe'/>"
		echo "<source dev='$dev'/><target dev='vd$(printf "\\x$(printf %x $((97 + i)))")' bus='virtio'/></disk>"
		i=$((i + 1))
	done
	echo "<memballoon model='none'/></devices></domain>"
}

lv_define() {	# <name> <block device>...
	lv_xml "$@" > "$LV_DIR/$1.xml"
	lv define "$LV_DIR/$1.xml" > /dev/null || fail "cannot define $1"
}

# A second host, hostb, for migrations: its own mount, UTS and network
# namespaces (held by a sleeping process, $LV_B_PID), its own libvirtd
# (state under /tmp/lv-b, its own /run/libvirt and hook state), reached at
# 10.99.0.2 over a veth
# pair from 10.99.0.1.  lvb runs virsh against it.
LV_B=qemu+tcp://10.99.0.2/system
lv_dest_setup() {
	modprobe veth
	ip link set lo up
	ip link add lv-a type veth peer name lv-b
	unshare --mount --uts --net --propagation private sleep infinity &
	LV_B_PID=$!
	echo "$LV_B_PID" > /tmp/lv-b.pid
	wait_until 10 lv_ns_ready || fail "hostb's namespaces did not come up"
	ip link set lv-b netns "$LV_B_PID"
	ip addr add 10.99.0.1/24 dev lv-a
	ip link set lv-a up
	nsenter -t "$LV_B_PID" -m -u -n -r -w env LV_DIR=/tmp/lv-b bash -c '
		hostname hostb
		# its own runtime state; not a new /run, which would hide
		# /run/host-tmp (where a checkout in the host'"'"'s /tmp is)
		mkdir -p /run/libvirt /run/dm-fence-hook
		mount -t tmpfs run-libvirt /run/libvirt
		mount -t tmpfs run-hook /run/dm-fence-hook
		ip link set lo up
		ip addr add 10.99.0.2/24 dev lv-b
		ip link set lv-b up
		. "$REPO/tests/guest/lib.sh"
		. "$REPO/tests/guest/lib-libvirt.sh"
		lv_setup 00000000-0000-4000-8000-00000000000b 10.99.0.2' ||
		fail "hostb's libvirtd did not start: $(tail -20 /tmp/lv-b/libvirtd.log)"
}

lv_ns_ready() {
	[ "$(readlink "/proc/$LV_B_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

lvb() { virsh -q -c "$LV_B" "$@"; }

# Run a command in hostb's mount namespace (its /run: the hook's state).
# Entering a mount namespace takes its root, the guest's initramfs: -r
# takes the root of hostb's process instead, the chroot the tests run in.
on_hostb() {	# <cmd...>
	nsenter -t "$LV_B_PID" -m -r -w "$@"
}

lv_dest_cleanup() {
	local d pid
	set +e
	pid=$(cat /tmp/lv-b.pid 2>/dev/null)
	[ -n "$pid" ] || return 0
	for d in $(virsh -q -c "$LV_B" list --name 2>/dev/null); do
		virsh -q -c "$LV_B" destroy "$d" > /dev/null 2>&1
	done
	if [ -s /tmp/lv-b/libvirtd.pid ]; then
		kill -TERM "$(cat /tmp/lv-b/libvirtd.pid)" 2>/dev/null
		wait_until 30 lv_gone "$(cat /tmp/lv-b/libvirtd.pid)" ||
			kill -KILL "$(cat /tmp/lv-b/libvirtd.pid)" 2>/dev/null
	fi
	kill "$pid" 2>/dev/null
	ip link del lv-a 2>/dev/null
	rm -f /tmp/lv-b.pid
	return 0
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
