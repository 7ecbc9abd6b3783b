# iSCSI on one guest: LIO's iSCSI target exports one LUN (a RAM
# backstore) at two portals, and open-iscsi's initiator logs in to it
# twice, as host A (portal 127.0.0.2) and as host B (127.0.0.1): two
# ifaces of one iscsid, each with its own initiator name, so the target
# sees two I_T nexuses and keeps their persistent reservations apart, as it
# does for two hosts.  A partition of A drops A's portal's packets, so a
# connection A's initiator makes again is cut off too.  (LIO's
# loopback fabric cannot serve here: a PREEMPT AND ABORT through it waits
# for its own submission work, in 6.1 and 6.12.)  Sourced after lib.sh.
ISCSI_IQN=iqn.2026-12.org.dm-fence:lun0
ISCSI_PORTAL=127.0.0.1:3260		# host B's, and discovery's
ISCSI_PORTAL_A=127.0.0.2:3260		# host A's
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
	mkdir -p "$t/lun/lun_0" "$t/np/$ISCSI_PORTAL" "$t/np/$ISCSI_PORTAL_A"
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
	iscsiadm -m node -T $ISCSI_IQN -p $ISCSI_PORTAL_A -I hosta --login > /dev/null ||
		fail "iSCSI login as host A failed"
	iscsiadm -m node -T $ISCSI_IQN -p $ISCSI_PORTAL -I hostb --login > /dev/null ||
		fail "iSCSI login as host B failed"
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

# A partition of host A's path: the packets to and from its portal dropped
# (nft, input hook), as a failed switch port does; host B's path stays.
# What sits in A's TCP send queue stays there, and a connection A's
# initiator makes again is dropped as well.
iscsi_partition_a() {
	modprobe nf_tables
	nft -f - <<-NFT
	table inet iscsi_partition {
		chain input {
			type filter hook input priority 0;
			ip daddr ${ISCSI_PORTAL_A%:*} tcp dport 3260 drop;
			ip saddr ${ISCSI_PORTAL_A%:*} tcp sport 3260 drop;
		}
	}
	NFT
}
iscsi_heal() { nft delete table inet iscsi_partition 2>/dev/null || true; }
# Bytes host A's connections still have to deliver to the target
iscsi_a_sendq() {
	ss -Htn "dst $ISCSI_PORTAL_A" | awk '{ n += $3 } END { print n + 0 }'
}

iscsi_teardown() {	# best effort: the next test starts clean
	local t=$ISCSI_T/iscsi/$ISCSI_IQN/tpgt_1
	iscsi_heal
	iscsiadm -m node -u > /dev/null 2>&1 || true
	pkill -x iscsid 2>/dev/null || true
	umount /etc/iscsi 2>/dev/null || true
	echo 0 > "$t/enable" 2>/dev/null || true
	rmdir "$t/np/$ISCSI_PORTAL" "$t/np/$ISCSI_PORTAL_A" 2>/dev/null || true
	rm -f "$t/lun/lun_0/rdi"
	rmdir "$t/lun/lun_0" "$t" "$ISCSI_T/iscsi/$ISCSI_IQN" 2>/dev/null || true
	rmdir $ISCSI_T/core/rd_mcp_0/rdi $ISCSI_T/core/rd_mcp_0 2>/dev/null || true
}
