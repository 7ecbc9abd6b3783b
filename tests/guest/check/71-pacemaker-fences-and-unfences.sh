# fence_dmfence under the real cluster manager: corosync and pacemaker
# (one node, node1) with two stonith resources of the agent, one for
# node1's own devices and one for node2's (reached over ssh, here a local
# stand-in).  Pacemaker reads the agent's metadata (stonith_admin
# --metadata; test 55 checks it against fence-agents' schema) and, since it
# marks 'on' automatic, unfences node1 when node1 joins, before the resource that
# needs it starts: node1's fenced device opens, at the generation it was
# fenced at, and its closed device (a migration destination waiting for
# its source to drain) stays closed.  stonith_admin --fence node2 fences
# node2's device (its writes fail), and --unfence node1 opens node1's
# again and still leaves the closed one alone.  The node leaves (pacemaker
# stops), a peer fences node1 meanwhile, and when node1 joins again it is
# unfenced at the new generation, the destination still closed, node2's
# device still fenced.
#
# Then the seed scenario, driven by the cluster (issue 34): host A
# ("node3", a network namespace that mounts an NFS export, hard) is
# partitioned (nft drops) with a write in flight and in its TCP send
# queue; stonith_admin --fence node3 has the fencer run the agent with the
# NFS storage-side fence: A's address unexported and confirmed, A's device
# fenced and settled at once though the write is still queued; host B
# writes; the partition heals: A's retransmitted write is refused (of
# unknown fate), B's data stays.
# test-timeout: 900
. "$REPO/tests/guest/lib.sh"
. "$REPO/tests/guest/lib-pacemaker.sh"
load_fence
trap pcmk_cleanup EXIT

# vmA as the agent left it when a peer fenced node1 before it rebooted
# (the agent's 'on' opens only what the agent fenced: fencectl's record)
fence_create vmA "$(nullb_create disk1 16)"
"$FENCECTL" fence vmA 2 --by fence_dmfence > /dev/null
fence_create dest "$(nullb_create disk2 16)" closed
fence_create vmB "$(nullb_create disk3 16)"
expect_field vmA state fenced

pcmk_setup
stonith_admin --metadata --agent fence_dmfence > /tmp/meta.xml ||
	fail "stonith_admin refused the agent's metadata: $(cat /tmp/meta.xml)"
python3 - /tmp/meta.xml <<'PY' || fail "stonith_admin's view of the metadata: $(cat /tmp/meta.xml)"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.get("name") == "fence_dmfence", r.attrib
actions = {a.get("name"): a.attrib for a in r.iter("action")}
assert actions["on"].get("automatic") == "1" and actions["on"].get("on_target") == "1", actions
assert {p.get("name") for p in r.iter("parameter")} >= {"devices", "plug", "generation"}
PY

pcmk_start
stonith() {	# <id> <devices> <host list> [nvpair xml...]
	local id=$1 devices=$2 hosts=$3
	shift 3
	cibadmin --create -o resources --xml-text "
<primitive id=\"$id\" class=\"stonith\" type=\"fence_dmfence\">
  <instance_attributes id=\"$id-ia\">
    <nvpair id=\"$id-devices\" name=\"devices\" value=\"$devices\"/>
    <nvpair id=\"$id-fencectl\" name=\"fencectl_path\" value=\"$FENCECTL\"/>
    <nvpair id=\"$id-hosts\" name=\"pcmk_host_list\" value=\"$hosts\"/>
    <nvpair id=\"$id-timeout\" name=\"power_timeout\" value=\"30\"/>
    $*
  </instance_attributes>
  <meta_attributes id=\"$id-meta\">
    <nvpair id=\"$id-provides\" name=\"provides\" value=\"unfencing\"/>
  </meta_attributes>
</primitive>" || fail "cannot add stonith resource $id"
}
crm_attribute -t crm_config -n stonith-enabled -v true
stonith fence-node1 vmA,dest node1
stonith fence-node2 vmB node2 \
	"<nvpair id=\"fence-node2-ssh\" name=\"ssh_path\" value=\"$REPO/tests/guest/tools/local-ssh\"/>"
# a resource that needs node1 unfenced before it starts there
cibadmin --create -o resources --xml-text \
	'<primitive id="vm-guest" class="ocf" provider="pacemaker" type="Dummy"/>' ||
	fail "cannot add the Dummy resource"

unfenced_on_join() {	# <generation of vmA> <state of node2's vmB>
	wait_until 300 pcmk_started vm-guest ||
		fail "vm-guest never started: $(crm_mon -1 2>&1) $(tail -30 "$PCMK_DIR/pacemaker.log")"
	expect_field vmA state open
	expect_field vmA generation "$1"
	expect_field dest state closed
	expect_field vmB state "$2"
}
unfenced_on_join 2 open
stonith_admin --history node1 | has -Ei "(on|unfencing) of node1 .*successful" ||
	fail "no unfencing of node1 in the history: $(stonith_admin --history node1)"

# the cluster fences node2: its device fails writes from now on
timeout 180 stonith_admin --fence node2 --timeout 120 ||
	fail "stonith_admin --fence node2 failed: $(tail -30 "$PCMK_DIR/pacemaker.log")"
expect_field vmB state fenced
expect_field vmB generation 2
random_file /tmp/w 4
if dd if=/tmp/w of=/dev/mapper/vmB bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write passed node2's fenced device"
fi
expect_field vmA state open

# a peer fenced node1 (the device's generation raised), then unfencing
# through the cluster opens it, at that generation, and not the destination
"$FENCECTL" fence vmA 3 --by fence_dmfence > /dev/null	# as a peer's agent does
timeout 180 stonith_admin --unfence node1 --timeout 120 ||
	fail "stonith_admin --unfence node1 failed: $(tail -30 "$PCMK_DIR/pacemaker.log")"
expect_field vmA state open
expect_field vmA generation 3
expect_field dest state closed

# node1 leaves; fenced meanwhile; joins again and is unfenced on the way
pcmk_stop
"$FENCECTL" fence vmA 4 --by fence_dmfence > /dev/null	# as a peer's agent does
pcmk_start
unfenced_on_join 4 fenced

# --- the seed scenario: the cluster fences host A under a partition -------
. "$REPO/tests/guest/lib-nfs.sh"
nfs_server_start
nfs_a_start
trap 'nfs_a_teardown; pcmk_cleanup' EXIT
fence_create vmC "$(nfs_a_disk 16 hard,timeo=20,retrans=1)"
stonith fence-node3 vmC node3 \
	"<nvpair id=\"fence-node3-ssh\" name=\"ssh_path\" value=\"$REPO/tests/guest/tools/local-ssh\"/>" \
	"<nvpair id=\"fence-node3-srv\" name=\"nfs_server\" value=\"localhost\"/>" \
	"<nvpair id=\"fence-node3-exp\" name=\"nfs_export\" value=\"$NFS_SRV\"/>" \
	"<nvpair id=\"fence-node3-cli\" name=\"nfs_clients\" value=\"node3=$NFS_A_ADDR\"/>" \
	"<nvpair id=\"fence-node3-opt\" name=\"nfs_export_options\" value=\"rw,no_root_squash,insecure,fsid=1,sync\"/>"
random_file /tmp/a71 4
random_file /tmp/b71 4
nfs_a_queued_write vmC 1 /tmp/a71
timeout 180 stonith_admin --fence node3 --timeout 120 ||
	fail "stonith_admin --fence node3 failed: $(tail -30 "$PCMK_DIR/pacemaker.log")"
stonith_admin --history node3 | has -Ei "(off|turning off|fencing) of node3 .*successful" ||
	fail "no fencing of node3 in the history: $(stonith_admin --history node3)"
exportfs -s | grep -q "$NFS_A_ADDR" && fail "still exported to A: $(exportfs -s)"
expect_field vmC state fenced
expect_field vmC stale 1
fence_status vmC | grep -q "settled storage_fenced" || fail "not settled: $(fence_status vmC)"
host_b_write 1 /tmp/b71
nfs_heal
wait_until 120 field_is vmC stale 0 || fail "A's write never ended after the heal"
wait $W && fail "A's write succeeded on a server that refuses A"
expect_field vmC unknown 1
expect_eq "$(srv_block_sum 1)" "$(file_sum /tmp/b71)" "block 1: host B's data (the cluster fenced A at the server)"
log "the cluster fenced host A at the NFS server under a partition; A's queued write refused after the heal"
