# NFS on one guest, for the seed scenario: nfsd exports an ext4 on brd,
# the same guest mounts it over loopback (NFSv3, hard, TCP) as "host A",
# and a loop device with direct I/O on a file in the mount is the backing
# device of the fence target, so writes below the target really are RPCs in
# flight in the NFS client.  "Host B" writes the exported file directly on
# the server side.  Sourced after lib.sh.

NFS_SRV=/tmp/nfs-srv		# the export (server side)
NFS_MNT=/tmp/nfs-mnt		# host A's mount
NFS_THREADS=4

nfs_server_start() {
	modprobe -a nfsd ext4 nfs nfsv3 loop brd
	ip link set lo up
	mountpoint -q /var/lib/nfs || mount -t tmpfs nfs-state /var/lib/nfs
	mkdir -p /var/lib/nfs/sm /var/lib/nfs/sm.bak /var/lib/nfs/v4recovery
	touch /var/lib/nfs/etab /var/lib/nfs/rmtab /var/lib/nfs/state
	mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
	[ -b /dev/ram0 ] || modprobe brd rd_nr=1 rd_size=262144
	mkfs.ext4 -q -F /dev/ram0
	mkdir -p "$NFS_SRV" "$NFS_MNT"
	mount /dev/ram0 "$NFS_SRV"
	pgrep -x rpcbind >/dev/null || rpcbind -w
	exportfs -o rw,no_root_squash,insecure,fsid=1,sync "127.0.0.1:$NFS_SRV"
	pgrep -x rpc.mountd >/dev/null || rpc.mountd
	rpc.nfsd "$NFS_THREADS"
}

# host A: mount, create the disk file, loop device with direct I/O
nfs_client_disk() {	# <size_MiB>: prints the loop device
	timeout 60 mount -t nfs -o vers=3,nolock,hard,tcp,timeo=10,retrans=2 \
		"127.0.0.1:$NFS_SRV" "$NFS_MNT" || fail "NFS mount failed"
	# its device number, now: later the server may not answer, and a
	# stat of the mount point then waits for it for ever (hard mount)
	mountpoint -d "$NFS_MNT" > /tmp/nfs-mnt.dev
	truncate -s "${1}M" "$NFS_MNT/disk.img"
	losetup -f --show --direct-io=on "$NFS_MNT/disk.img"
}

# The server stops answering: no nfsd thread serves the client any more.
nfs_server_stop_answering() {
	rpc.nfsd 0
}

nfs_server_answer_again() {
	rpc.nfsd "$NFS_THREADS"
}

# The NFS client's forced shutdown (6.12 and later): every RPC of the mount
# fails at once.  Prints nothing and fails where the kernel lacks it.
nfs_client_shutdown() {
	local mm
	mm=$(cat /tmp/nfs-mnt.dev)
	[ -w "/sys/fs/nfs/$mm/shutdown" ] || return 1
	echo 1 > "/sys/fs/nfs/$mm/shutdown"
}

nfs_teardown() {
	local l
	# the server answers first: losetup -j stats the file on the mount
	rpc.nfsd "$NFS_THREADS" 2>/dev/null || true
	for l in $(losetup -n -O NAME -j "$NFS_MNT/disk.img" 2>/dev/null); do
		losetup -d "$l" 2>/dev/null || true
	done
	umount -f -l "$NFS_MNT" 2>/dev/null || true
	exportfs -ua 2>/dev/null || true
	rpc.nfsd 0 2>/dev/null || true
	umount "$NFS_SRV" 2>/dev/null || true
	pkill -x rpc.mountd 2>/dev/null || true
	true
}

# the server-side view of block <n> of the disk file
srv_block_sum() {
	dd if="$NFS_SRV/disk.img" bs=4k skip="$1" count=1 iflag=direct status=none |
		md5sum | cut -d' ' -f1
}

# host B writes block <n> of the disk file directly on the server
host_b_write() {	# <block> <file>
	dd if="$2" of="$NFS_SRV/disk.img" bs=4k seek="$1" count=1 conv=notrunc \
		oflag=direct status=none
}

# --- a real partition (TESTING.md's NFS scenario) --------------------------
# Host A is a network namespace with its own address on a veth pair to the
# server (the guest's own namespace); A's mount, made with A's network,
# lives in the guest's mount namespace, so the loop device on it and the
# fence device above are the guest's.  A partition drops A's packets at both
# receivers (nft, input hook), as a failed switch does: neither TCP stack
# notices, and whatever sits in A's send queue is retransmitted when the
# drops stop.  `rpc.nfsd 0` would close the connections and hide that.
NFS_A_NS=hosta
NFS_A_ADDR=10.99.0.2
NFS_SRV_ADDR=10.99.0.1

# The server and host A, torn down when the test ends.
nfs_a_setup() {
	trap nfs_a_teardown EXIT
	nfs_server_start
	nfs_a_start
}

nfs_a_start() {	# the server (nfs_server_start first) and host A's network
	# tcp_diag: ss lists and destroys (-K) sockets through it; a booted
	# host loads it on demand, this guest's kernel cannot (its module
	# helper runs in the initramfs), and ss then reads /proc/net/tcp,
	# where it can list but not destroy
	modprobe -a veth nf_tables tcp_diag
	mkdir -p /run/netns
	ip netns add "$NFS_A_NS"
	ip link add veth-srv type veth peer name veth-a
	ip link set veth-a netns "$NFS_A_NS"
	ip addr add "$NFS_SRV_ADDR/24" dev veth-srv
	ip link set veth-srv up
	ip -n "$NFS_A_NS" addr add "$NFS_A_ADDR/24" dev veth-a
	ip -n "$NFS_A_NS" link set veth-a up
	ip -n "$NFS_A_NS" link set lo up
	exportfs -o rw,no_root_squash,insecure,fsid=1,sync "$NFS_A_ADDR:$NFS_SRV"
}

# Host A mounts (with its own network; <options> after vers=3,tcp) and makes
# its disk: prints the loop device
nfs_a_disk() {	# <size_MiB> <mount options>
	timeout 60 nsenter --net="/run/netns/$NFS_A_NS" mount -t nfs \
		-o "vers=3,nolock,tcp,$2" "$NFS_SRV_ADDR:$NFS_SRV" "$NFS_MNT" ||
		fail "host A's NFS mount failed"
	mountpoint -d "$NFS_MNT" > /tmp/nfs-mnt.dev
	truncate -s "${1}M" "$NFS_MNT/disk.img"
	losetup -f --show --direct-io=on "$NFS_MNT/disk.img"
}

nfs_partition() {	# drop A's packets, both ways, at both receivers
	nft -f - <<-NFT
	table inet partition {
		chain input { type filter hook input priority 0; ip saddr $NFS_A_ADDR drop; }
	}
	NFT
	ip netns exec "$NFS_A_NS" nft -f - <<-NFT
	table inet partition {
		chain input { type filter hook input priority 0; ip saddr $NFS_SRV_ADDR drop; }
	}
	NFT
}

nfs_heal() {	# (also from teardown, when there is no partition)
	nft delete table inet partition 2>/dev/null || true
	ip netns exec "$NFS_A_NS" nft delete table inet partition 2>/dev/null || true
}

# Bytes host A's TCP stack still has to deliver to the server's nfsd.
nfs_a_sendq() {
	ip netns exec "$NFS_A_NS" ss -Htn "dst $NFS_SRV_ADDR:2049" |
		awk '{ n += $3 } END { print n + 0 }'
}

nfs_a_sendq_is_zero() { [ "$(nfs_a_sendq)" = 0 ]; }
# A command run on host A: its network, and a /sys of that network (an NFS
# mount's /sys/fs/nfs entry is in the namespace the mount was made in)
nfs_on_a() { ip netns exec "$NFS_A_NS" "$@"; }
# Host A's connections to the server's nfsd
nfs_a_connections() { nfs_on_a ss -Htn "dst $NFS_SRV_ADDR:2049"; }
# After the heal A's queued bytes reach the server, which answers them
nfs_server_answered_a() {
	wait_until 120 nfs_a_sendq_is_zero || fail "A's send queue never drained after the heal"
	wait_until 30 eval '[ -z "$(ss -Htn "src $NFS_SRV_ADDR:2049" | awk "\$2 || \$3")" ]' ||
		fail "the server never answered A's queued bytes"
}
# A partition while A's write of <file> to block <n> of fence device <name>
# is in flight: the write waits in A's TCP send queue; its pid in $W.
nfs_a_queued_write() {	# <name> <block> <file>
	dd if=/dev/zero of="/dev/mapper/$1" bs=4k count=16 oflag=direct status=none
	nfs_partition
	write_block_bg "/dev/mapper/$1" "$2" "$3"
	W=$!
	wait_until 20 field_is "$1" inflight 1 || fail "A's write not in flight"
	wait_until 20 nfs_a_sendq_not_zero || fail "A's write not in its TCP send queue"
}
nfs_a_sendq_not_zero() { [ "$(nfs_a_sendq)" != 0 ]; }

# The storage-side fence of a Linux NFS server: A's address loses the
# export, and the kernel's export caches forget it, so that every WRITE of
# A's that arrives later (a retransmission) is refused.
nfs_revoke_a() {
	exportfs -u "$NFS_A_ADDR:$NFS_SRV"
	exportfs -f
}

nfs_a_teardown() {
	nfs_heal
	nfs_teardown
	ip netns del "$NFS_A_NS" 2>/dev/null || true
	ip link del veth-srv 2>/dev/null || true
}
