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
	rpc.nfsd "$NFS_THREADS" 2>/dev/null
	for l in $(losetup -n -O NAME -j "$NFS_MNT/disk.img" 2>/dev/null); do
		losetup -d "$l" 2>/dev/null
	done
	umount -f -l "$NFS_MNT" 2>/dev/null
	exportfs -ua 2>/dev/null
	rpc.nfsd 0 2>/dev/null
	umount "$NFS_SRV" 2>/dev/null
	pkill -x rpc.mountd 2>/dev/null
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
