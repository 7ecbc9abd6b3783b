# contrib/fence_dmfence is built on fence-agents' fencing.py (key=value on
# stdin, or getopt arguments): its metadata is valid against fence-agents'
# RelaxNG schema and marks on as unfencing (on_target, automatic), there is
# no reboot, list prints the nodes it fences, monitor reaches each of them,
# validate-all checks numbers and paths; status is ON
# (0) while the devices are open, OFF (2) once fenced with nothing stale
# below; off fences every device before waiting for the writes below, and
# fails when one stays there; on unfences the fenced ones at the generation
# it read, not one a process here still holds open, and leaves a closed one
# (a migration destination) closed; another node is reached over ssh.
# Writes are kept below by a shut gate (a suspended dm-linear).
# test-timeout: 400
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
agent=$REPO/contrib/fence_dmfence
export LOCAL_SSH_LOG=/tmp/ssh.log
rm -f /tmp/ssh.log

disk=$(nullb_create shared 16)
gate_create below_a "$disk"
fence_create a /dev/mapper/below_a
fence_create b "$disk"
run_agent() {	# key=value... on stdin, as stonith-ng does
	printf '%s\n' "fencectl_path=$FENCECTL" "$@" | "$agent"
}

"$agent" -o metadata > /tmp/meta.xml || fail "metadata"
python3 - /tmp/meta.xml <<'PY' || fail "metadata: $(cat /tmp/meta.xml)"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.tag == "resource-agent" and r.get("name") == "fence_dmfence", r.attrib
params = {p.get("name"): p for p in r.iter("parameter")}
for name in ("action", "devices", "plug", "power_timeout"):
    assert params[name].find("getopt").get("mixed"), name
    assert params[name].find("shortdesc").text, name
actions = {a.get("name"): a.attrib for a in r.iter("action")}
assert {"on", "off", "status", "monitor", "metadata", "validate-all"} <= set(actions), actions
assert actions["on"].get("on_target") == "1", actions["on"]
assert actions["on"].get("automatic") == "1", actions["on"]
assert "reboot" not in actions, actions
PY
xmllint --noout --relaxng /usr/share/cluster/relaxng/metadata.rng /tmp/meta.xml ||
	fail "metadata is not valid against fence-agents' schema"
expect_exit 1 "$agent" -o reboot -d a --fencectl-path="$FENCECTL"
expect_exit 1 "$agent" -o validate-all -d a -g x --fencectl-path="$FENCECTL"
expect_exit 1 "$agent" -o validate-all -d a --fencectl-path=/nonexistent
expect_exit 0 "$agent" -o validate-all -d a --fencectl-path="$FENCECTL"
expect_eq "$("$agent" -o list -d a --hosts=node1,node2 --fencectl-path="$FENCECTL")" \
	"$(printf 'node1,node1\nnode2,node2')" "list"

expect_exit 0 run_agent action=status devices=a,b
expect_exit 0 "$agent" -o monitor -d a,b --fencectl-path="$FENCECTL"
expect_exit 1 run_agent action=status devices=a,nosuch
expect_exit 1 run_agent action=off

# off with a write held below a: both fenced, the agent waits for it
random_file /tmp/w 4
gate_shut below_a
write_in_flight a 2 /tmp/w
w=$INFLIGHT_PID
run_agent action=off devices=a,b power_timeout=30 > /tmp/off.out &
agent_pid=$!
# every device is fenced before the agent waits on any: b too, while a's
# stale write is still below
wait_until 20 field_is b state fenced || fail "off did not fence b while a write is below a"
expect_field a state fenced
expect_field a stale 1
gate_open below_a		# the stale write completes, late
expect_wait $agent_pid 0 "off with a stale write that completes"
grep -q "Success: Powered OFF" /tmp/off.out || fail "off said: $(cat /tmp/off.out)"
expect_field a state fenced
expect_field a stale 0
expect_field a late 1
expect_field b state fenced
wait $w || true
expect_exit 2 run_agent action=status devices=a,b
expect_exit 0 run_agent action=off devices=a,b		# already off: stays off
expect_field a generation 2
if dd if=/tmp/w of=/dev/mapper/b bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write passed a fenced device"
fi

# on (unfence) while the VM that wrote through b still runs here (a node
# fenced at the storage and not rebooted): refused, b stays fenced
exec 7< /dev/mapper/b
expect_exit 1 run_agent action=on devices=a,b
has "b: unfence 2: .*open" < /tmp/expect_exit.out || fail "on while b is open: $(cat /tmp/expect_exit.out)"
expect_field b state fenced
exec 7<&-
# on (unfence): open again, writes pass; a closed device stays closed, and
# one dm-fence-migrate fenced (its VM left this node: another host's disk
# now) or one fenced by hand stays fenced
fence_create d "$(nullb_create dest 16)" closed
fence_create e "$(nullb_create moved 16)"
"$FENCECTL" fence e 2 --by dm-fence-migrate > /dev/null
fence_create f "$(nullb_create byhand 16)" generation 3 fenced
expect_eq "$("$FENCECTL" --json status e | python3 -c 'import json,sys; print(json.load(sys.stdin).get("fenced_by"))')" \
	dm-fence-migrate "fencectl status: who fenced e"
expect_exit 0 run_agent action=on devices=a,b,d,e,f
expect_field a state open
expect_field b state open
expect_field d state closed
expect_field e state fenced
expect_field f state fenced
expect_exit 0 run_agent action=status devices=a,b
# fencectl itself: --only-by refuses what another fenced
expect_exit 4 "$FENCECTL" unfence e 2 --only-by fence_dmfence
has "fenced at 2 by dm-fence-migrate, not by fence_dmfence" < /tmp/expect_exit.out ||
	fail "unfence --only-by: $(cat /tmp/expect_exit.out)"
expect_field e state fenced

# off while a write stays below longer than power_timeout: failure
gate_create below_c "$disk"
fence_create c /dev/mapper/below_c
gate_shut below_c
write_in_flight c 3 /tmp/w
w=$INFLIGHT_PID
expect_exit 1 run_agent action=off devices=c power_timeout=1
expect_field c state fenced
expect_exit 0 run_agent action=status devices=c	# stale write below: not OFF
gate_open below_c
wait $w || true
wait_until 20 field_is c stale 0 || fail "the stale write never completed"
expect_exit 2 run_agent action=status devices=c

# another node: the same calls over ssh
expect_exit 0 run_agent action=on devices=a plug=node2 "ssh_path=$REPO/tests/guest/tools/local-ssh"
expect_field a state open
expect_eq "$(sort -u /tmp/ssh.log)" node2 "ssh went to"
# monitor checks the victims, not the host running the resource
rm -f /tmp/ssh.log
expect_exit 0 run_agent action=monitor devices=a hosts=node3 "ssh_path=$REPO/tests/guest/tools/local-ssh"
expect_eq "$(sort -u /tmp/ssh.log)" node3 "monitor's ssh went to"
expect_exit 1 run_agent action=monitor devices=a,nosuch hosts=node3 "ssh_path=$REPO/tests/guest/tools/local-ssh"
