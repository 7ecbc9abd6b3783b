# The storage-side fence of a SCSI LUN (issue 34), against LIO's iSCSI
# target: host A and host B log in to one LUN with open-iscsi, each with
# its own initiator name (lib-iscsi.sh: LIO keeps their reservations
# apart, as for two hosts).  A writes through a fence device over a gate that holds its
# write below the target (as an initiator's queue or the fabric does).
# Keys as fence_scsi keeps them: one per node, a write-exclusive
# registrants-only reservation.
#
# 1. The target's fence alone: A's held write is counted (stale 1); B
#    writes; the gate opens: A's write lands on B's data (counted late).
# 2. fence_dmfence off from B (scsi_luns = B's path, scsi_keys): A's key
#    preempted (PREEMPT AND ABORT) and read back gone, A's device fenced
#    and confirmed (settled at once, the write still held); status OFF; B
#    writes; the gate opens: A's write is refused by the LUN (reservation
#    conflict: unknown fate), B's data stays; A's own path is refused too;
#    the host-side step (fencectl cut) has nothing to cut here: refused.
# 3. on, for A (its own path, over ssh as for another node): A's key
#    registered again, A's device unfenced, A's next write lands.
# Part 2 under a real partition of A's path, the agent run by the cluster:
# test 98 part 3.
# test-timeout: 300
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-iscsi.sh"
load_fence
iscsi_setup 16
lun_a=$LUN_A lun_b=$LUN_B
[ "$lun_a" != "$lun_b" ] || fail "one path for both ($lun_a)"
gated_fence fa gate "$lun_a"
trap 'gate_open gate 2>/dev/null; dmsetup remove fa gate 2>/dev/null; iscsi_teardown' EXIT
for f in a1 a2 a3 b1 b2; do random_file /tmp/$f 4; done
me=$(hostname)

agent() {	# <action> <lun> [options...]: for node hosta, reached over (local) ssh
	local action=$1 lun=$2
	shift 2
	"$REPO/contrib/fence_dmfence" -o "$action" -d fa --plug=hosta \
		--ssh-path="$REPO/tests/guest/tools/local-ssh" --fencectl-path="$FENCECTL" \
		--scsi-luns="$lun" --scsi-keys="hosta=0xa1,$me=0xb1" --power-timeout=10 "$@"
}
keys() { sg_persist --no-inquiry --in --read-keys "$lun_b" 2>&1; }
reservation() { sg_persist --no-inquiry --in --read-reservation "$lun_b" 2>&1; }
b_write() {	# <block> <file>: host B, through its own path
	dd if="$2" of="$lun_b" bs=4k seek="$1" count=1 oflag=direct status=none ||
		fail "B's write of block $1 refused"
}
# A's write of <file> to block <n>, held in the gate below its fence device
held_write() {	# <block> <file>
	dd if=/dev/zero of=/dev/mapper/fa bs=4k count=16 oflag=direct status=none
	gate_shut gate
	write_block_bg /dev/mapper/fa "$1" "$2"
	W=$!
	wait_until 20 field_is fa inflight 1 || fail "A's write not in flight"
}

# A joins: its key registered through its own path, and the reservation
expect_exit 0 agent on "$lun_a"
keys | has -i 0xa1 || fail "A's key not registered: $(keys)"
reservation | has -i 'Key=0xa1' || fail "no reservation: $(reservation)"
reservation | has -i 'registrants only' || fail "not registrants-only: $(reservation)"
# B, the survivor-to-be, is a registrant too (a registrant may write)
sg_persist --no-inquiry --out --register-ignore --param-sark=0xb1 "$lun_b" > /dev/null

# --- 1. the target's fence alone ----------------------------------------------
held_write 1 /tmp/a1
dmsetup message fa 0 fence 2
expect_field fa stale 1
b_write 1 /tmp/b1
gate_open gate
wait $W || fail "A's held write failed below"
expect_field fa late 1
expect_eq "$(block_sum "$lun_b" 1)" "$(file_sum /tmp/a1)" "block 1: A's held write landed on B's data"
dmsetup message fa 0 unfence 2

# --- 2. the agent's storage-side fence: A's key preempted ----------------------
held_write 2 /tmp/a2
expect_exit 0 agent off "$lun_b"
keys | has -i 0xa1 && fail "A's key still registered: $(keys)"
reservation | has -i 'Key=0xb1' || fail "B does not hold the reservation: $(reservation)"
expect_field fa state fenced
expect_field fa stale 1
fence_status fa | grep -q "settled storage_fenced" || fail "not settled: $(fence_status fa)"
expect_exit 2 agent status "$lun_b"		# OFF
# no host-side step for a SCSI path: cut refuses, before it does anything
expect_exit 4 "$FENCECTL" cut fa "$(field fa generation)"
grep -q "is below it, not a loop device on NFS" /tmp/expect_exit.out ||
	fail "cut on iSCSI: $(cat /tmp/expect_exit.out)"
b_write 2 /tmp/b2
gate_open gate
wait $W && fail "A's write succeeded after its key was preempted"
expect_field fa stale 0
expect_field fa unknown 1
expect_field fa late 1		# part 1's, no more
expect_eq "$(block_sum "$lun_b" 2)" "$(file_sum /tmp/b2)" "block 2: B's data (the LUN refused A's write)"
dd if=/tmp/a3 of="$lun_a" bs=4k seek=5 count=1 oflag=direct status=none 2>/dev/null &&
	fail "A's own path still writes after the preempt"
log "A's held write refused by the LUN after the preempt; B's data kept"

# --- 3. on: A registered again, unfenced, writes ---------------------------------
expect_exit 0 agent on "$lun_a"
keys | has -i 0xa1 || fail "A's key not registered again: $(keys)"
expect_field fa state open
dd if=/tmp/a3 of=/dev/mapper/fa bs=4k seek=3 count=1 oflag=direct status=none ||
	fail "A cannot write after on"
expect_eq "$(block_sum "$lun_b" 3)" "$(file_sum /tmp/a3)" "block 3: A's write after on"

sg_persist --no-inquiry --out --clear --param-rk=0xb1 "$lun_b" > /dev/null
