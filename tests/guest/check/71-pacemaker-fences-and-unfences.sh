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
# The seed scenario, fenced by the cluster on each storage path (NFS, iSCSI),
# is test 98's: on both kernels, where this one runs on the newest only (the
# agent and the cluster manager are above the target; check-full runs it on
# both).
# test-timeout: 600
# kernels: newest
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
crm_attribute -t crm_config -n stonith-enabled -v true
pcmk_stonith fence-node1 vmA,dest node1 provides=unfencing
pcmk_stonith fence-node2 vmB node2 ssh_path="$REPO/tests/guest/tools/local-ssh" provides=unfencing
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
pcmk_fence node2
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
pcmk_unfence node1
expect_field vmA state open
expect_field vmA generation 3
expect_field dest state closed

# node1 leaves; fenced meanwhile; joins again and is unfenced on the way
pcmk_stop
"$FENCECTL" fence vmA 4 --by fence_dmfence > /dev/null	# as a peer's agent does
pcmk_start
unfenced_on_join 4 fenced
