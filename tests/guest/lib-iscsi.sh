# iSCSI on one guest: LIO's iSCSI target exports one LUN (a RAM
# backstore) at 127.0.0.1:3260, and open-iscsi's initiator logs in to it
# twice, as host A and as host B: two ifaces of one iscsid, each with its
# own initiator name, so the target sees two I_T nexuses and keeps their
# persistent reservations apart, as it does for two hosts.  (LIO's
# loopback fabric cannot serve here: a PREEMPT AND ABORT through it waits
# for its own submission work, in 6.1 and 6.12.)  Sourced after lib.sh.
ISCSI_IQN=iqn.2026-12.org.dm-fence:lun0
ISCSI_PORTAL=127.0.0.1:3260
ISCSI_A=iqn.2026-12.org.dm-fence:hosta
ISCSI_B=iqn.2026-12.org.dm-fence:hostb
ISCSI_T=/sys/kernel/config/target

# The target, the initiator, both sessions: sets LUN_A and LUN_B (A's and
# B's sd device of the one LUN); torn down when the test ends.
iscsi_setup() {	# <size_MiB>
	local t=$ISCSI_T/iscsi/$ISCSI_IQN/tpgt_1 who
	trap iscsi_teardown EXIT
	# crc32c: the target sets up its digests at login (this guest cannot
	# load a module on demand)
	modprobe -a target_core_mod iscsi_target_mod iscsi_tcp sd_mod crc32c
	ip link set lo up
	mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
	# LIO keeps registrations made with APTPL under its dbroot
	mkdir -p /tmp/lio/pr
	[ "$(cat $ISCSI_T/dbroot)" = /tmp/lio ] || echo /tmp/lio > $ISCSI_T/dbroot
	mkdir -p $ISCSI_T/core/rd_mcp_0/rdi
	echo "rd_pages=$(($1 * 256))" > $ISCSI_T/core/rd_mcp_0/rdi/control
	echo 1 > $ISCSI_T/core/rd_mcp_0/rdi/enable
	mkdir -p "$t/lun/lun_0" "$t/np/$ISCSI_PORTAL"
	ln -s $ISCSI_T/core/rd_mcp_0/rdi "$t/lun/lun_0/rdi"
	# any initiator, no authentication (demo mode)
	echo 1 > "$t/attrib/generate_node_acls"
	echo 1 > "$t/attrib/cache_dynamic_acls"
	echo 0 > "$t/attrib/demo_mode_write_protect"
	echo 0 > "$t/attrib/authentication"
	echo 1 > "$t/enable"
	# the host's /etc is read-only here: open-iscsi's records in a tmpfs
	cp /etc/iscsi/iscsid.conf /tmp/iscsid.conf
	mount -t tmpfs iscsi-etc /etc/iscsi
	cp /tmp/iscsid.conf /etc/iscsi/iscsid.conf
	echo "InitiatorName=$ISCSI_B" > /etc/iscsi/initiatorname.iscsi
	mkdir -p /run/lock/iscsi
	iscsid -c /etc/iscsi/iscsid.conf -i /etc/iscsi/initiatorname.iscsi
	wait_until 10 iscsid_answers || fail "iscsid does not answer"
	for who in hosta hostb; do
		iscsiadm -m iface -I $who -o new > /dev/null
		iscsiadm -m iface -I $who -o update -n iface.initiatorname \
			-v "iqn.2026-12.org.dm-fence:$who" > /dev/null
	done
	iscsiadm -m discovery -t sendtargets -p $ISCSI_PORTAL -I hosta -I hostb > /dev/null ||
		fail "iSCSI discovery failed"
	for who in hosta hostb; do
		iscsiadm -m node -T $ISCSI_IQN -p $ISCSI_PORTAL -I $who --login > /dev/null ||
			fail "iSCSI login as $who failed"
	done
	wait_until 20 iscsi_disk_of "$ISCSI_A" > /dev/null || fail "host A's iSCSI disk did not appear"
	wait_until 20 iscsi_disk_of "$ISCSI_B" > /dev/null || fail "host B's iSCSI disk did not appear"
	LUN_A=$(iscsi_disk_of "$ISCSI_A")
	LUN_B=$(iscsi_disk_of "$ISCSI_B")
}

# iscsiadm reached iscsid (exit 21: it did, and there is no session yet)
iscsid_answers() {
	local rc=0
	iscsiadm -m session > /dev/null 2>&1 || rc=$?
	[ $rc = 0 ] || [ $rc = 21 ]
}

# The sd device of <initiator name>'s session, once it can be opened
iscsi_disk_of() {	# <initiator name>
	local s b
	for s in /sys/class/iscsi_session/session*; do
		[ "$(cat "$s/initiatorname" 2>/dev/null)" = "$1" ] || continue
		for b in "$s"/device/target*/*/block/*; do
			[ -e "$b" ] || continue
			blockdev --getsz "/dev/${b##*/}" > /dev/null 2>&1 || continue
			echo "/dev/${b##*/}"
			return 0
		done
	done
	return 1
}

# The local TCP port of <initiator name>'s connection
iscsi_local_port() {	# <initiator name>
	local s
	for s in /sys/class/iscsi_session/session*; do
		[ "$(cat "$s/initiatorname" 2>/dev/null)" = "$1" ] || continue
		cat /sys/class/iscsi_connection/connection"${s##*session}":0/local_port
		return
	done
	return 1
}

# A partition of one initiator's path: its connection's packets dropped
# both ways (nft, input hook), as a failed switch port does; the other
# initiator's path stays.  What sits in its TCP send queue stays there.
iscsi_partition() {	# <initiator name>
	local port
	port=$(iscsi_local_port "$1") || fail "no iSCSI connection of $1"
	modprobe nf_tables
	nft -f - <<-NFT
	table inet iscsi_partition {
		chain input { type filter hook input priority 0; tcp sport $port drop; tcp dport $port drop; }
	}
	NFT
	echo "$port"
}
iscsi_heal() { nft delete table inet iscsi_partition 2>/dev/null || true; }
# Bytes the connection from local port <port> still has to deliver
iscsi_sendq() {	# <port>
	ss -Htn "sport = :$1" | awk '{ n += $3 } END { print n + 0 }'
}

iscsi_teardown() {	# best effort: the next test starts clean
	local t=$ISCSI_T/iscsi/$ISCSI_IQN/tpgt_1
	iscsi_heal
	iscsiadm -m node -u > /dev/null 2>&1 || true
	pkill -x iscsid 2>/dev/null || true
	umount /etc/iscsi 2>/dev/null || true
	echo 0 > "$t/enable" 2>/dev/null || true
	rmdir "$t/np/$ISCSI_PORTAL" 2>/dev/null || true
	rm -f "$t/lun/lun_0/rdi"
	rmdir "$t/lun/lun_0" "$t" "$ISCSI_T/iscsi/$ISCSI_IQN" 2>/dev/null || true
	rmdir $ISCSI_T/core/rd_mcp_0/rdi $ISCSI_T/core/rd_mcp_0 2>/dev/null || true
}
