# A one-node Pacemaker cluster in the guest, the real daemons from Debian's
# packages (corosync 3, pacemaker 2.1), for the fence agent's tests.  The
# guest's root is the host's, read-only: the daemons' state and logs go to
# tmpfs mounts over their directories, corosync's configuration to /tmp,
# and fence_dmfence is put where pacemaker-fenced looks for agents (it
# only looks in /usr/sbin) by an overlay over /usr/sbin.  The node is
# "node1" (also the hostname, which the agent compares a plug with).
# Sourced after lib.sh; pcmk_cleanup undoes it all.

PCMK_DIR=/tmp/pcmk

pcmk_setup() {
	local d
	modprobe overlay
	rm -rf "$PCMK_DIR"
	mkdir -p "$PCMK_DIR/sbin-upper" "$PCMK_DIR/sbin-work"
	ip link set lo up
	hostname node1
	for d in /var/lib/pacemaker /var/lib/corosync /var/log/pacemaker; do
		mountpoint -q "$d" || mount -t tmpfs pcmk-state "$d"
	done
	mkdir -p /var/lib/pacemaker/cib /var/lib/pacemaker/pengine \
		/var/lib/pacemaker/blackbox /var/lib/pacemaker/cores
	# a CIB to start from, whose only setting is a short dc-deadtime: a
	# lone node waits that long for another DC before it elects itself
	# (20 s by default, twice a test).  Without a cib.xml.sig beside it,
	# pacemaker-based takes it as it is.
	cat > /var/lib/pacemaker/cib/cib.xml <<'CIB'
<cib validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="cib-bootstrap-options-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources/>
    <constraints/>
  </configuration>
  <status/>
</cib>
CIB
	chmod 600 /var/lib/pacemaker/cib/cib.xml
	chown hacluster:haclient /var/lib/pacemaker/* /var/lib/pacemaker/cib/cib.xml /var/log/pacemaker
	chmod 750 /var/lib/pacemaker/*
	# the agent, with this checkout's fencectl as its default
	sed "s|\"/usr/local/sbin/fencectl\"|\"$FENCECTL\"|" "$REPO/contrib/fence_dmfence" \
		> "$PCMK_DIR/sbin-upper/fence_dmfence"
	chmod 755 "$PCMK_DIR/sbin-upper/fence_dmfence"
	mount -t overlay pcmk-sbin -o "lowerdir=/usr/sbin,upperdir=$PCMK_DIR/sbin-upper,workdir=$PCMK_DIR/sbin-work" /usr/sbin ||
		fail "cannot put the agent into /usr/sbin"
	cat > "$PCMK_DIR/corosync.conf" <<'CONF'
totem {
	version: 2
	cluster_name: dmfence
	crypto_cipher: none
	crypto_hash: none
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
}
quorum {
	provider: corosync_votequorum
}
nodelist {
	node {
		name: node1
		nodeid: 1
		ring0_addr: 127.0.0.1
	}
}
CONF
}

# Start corosync and pacemaker; returns once node1 is the DC with quorum.
pcmk_start() {
	# each daemon in a session of its own: on shutdown they signal their
	# process group, which would otherwise be the test's
	setsid corosync -f -c "$PCMK_DIR/corosync.conf" >> "$PCMK_DIR/corosync.log" 2>&1 &
	echo $! > "$PCMK_DIR/corosync.pid"
	wait_until 60 corosync-quorumtool -s > /dev/null 2>&1 ||
		fail "corosync did not start: $(tail -20 "$PCMK_DIR/corosync.log")"
	PCMK_logfile=$PCMK_DIR/pacemaker.log setsid pacemakerd >> "$PCMK_DIR/pacemakerd.out" 2>&1 &
	echo $! > "$PCMK_DIR/pacemakerd.pid"
	# a lone node elects itself once dc-deadtime (2 s, see pcmk_setup) has passed
	local t0=$SECONDS
	wait_until 180 pcmk_has_dc ||
		fail "no DC: $(crm_mon -1 2>&1 | head -20) $(tail -20 "$PCMK_DIR/pacemaker.log")"
	echo "# node1 is the DC $((SECONDS - t0)) s after pacemakerd started"
}

pcmk_has_dc() {
	crm_mon -1 2>/dev/null | grep -q "Current DC: node1 .*partition with quorum"
}

# Stop pacemaker (the node leaves), then corosync.
pcmk_stop() {
	local p
	for p in pacemakerd corosync; do
		[ -s "$PCMK_DIR/$p.pid" ] || continue
		kill -TERM "$(cat "$PCMK_DIR/$p.pid")" 2>/dev/null
		wait_until 120 pcmk_gone "$(cat "$PCMK_DIR/$p.pid")" || fail "$p did not stop"
		rm -f "$PCMK_DIR/$p.pid"
	done
}

pcmk_gone() {	# <pid>
	! kill -0 "$1" 2>/dev/null
}

pcmk_cleanup() {
	local p
	set +e		# best effort: what is not there to stop or unmount is fine
	for p in pacemakerd corosync; do
		[ -s "$PCMK_DIR/$p.pid" ] && kill -TERM "$(cat "$PCMK_DIR/$p.pid")" 2>/dev/null
	done
	for p in pacemakerd corosync; do
		[ -s "$PCMK_DIR/$p.pid" ] && wait_until 60 pcmk_gone "$(cat "$PCMK_DIR/$p.pid")"
	done
	# by name, the whole of it (never -f: a pattern matches whatever
	# command line holds it, the test's own included)
	pkill -KILL -x 'pacemaker(d|-.*)|corosync' 2>/dev/null
	umount /usr/sbin /var/lib/pacemaker /var/lib/corosync /var/log/pacemaker 2>/dev/null
	hostname guest
	return 0
}

# Is a resource started on node1?
pcmk_started() {	# <resource id>
	crm_mon -1 2>/dev/null | grep -Eq "$1[[:space:]].*Started node1"
}

# A stonith resource of fence_dmfence (this checkout's fencectl, power
# timeout 30 s unless given); returns once the cluster has started it (its
# start runs the agent's monitor: every node of <hosts> answers for every
# device).  "provides=unfencing": the cluster also unfences the nodes of
# <hosts> when they join, and each cluster node (node1) before any resource
# of its starts there, this one included: only for a resource that can
# unfence node1.
pcmk_stonith() {	# <id> <devices> <hosts> [name=value...] [provides=unfencing]
	local id=$1 devices=$2 hosts=$3 kv nv="" meta="" timeout=30
	shift 3
	for kv in "$@"; do
		case $kv in
		power_timeout=*) timeout=${kv#*=} ;;
		provides=unfencing)
			meta="<meta_attributes id=\"$id-meta\"><nvpair id=\"$id-provides\" name=\"provides\" value=\"unfencing\"/></meta_attributes>" ;;
		*) nv+="<nvpair id=\"$id-${kv%%=*}\" name=\"${kv%%=*}\" value=\"${kv#*=}\"/>" ;;
		esac
	done
	cibadmin --create -o resources --xml-text "
<primitive id=\"$id\" class=\"stonith\" type=\"fence_dmfence\">
  <instance_attributes id=\"$id-ia\">
    <nvpair id=\"$id-devices\" name=\"devices\" value=\"$devices\"/>
    <nvpair id=\"$id-fencectl\" name=\"fencectl_path\" value=\"$FENCECTL\"/>
    <nvpair id=\"$id-hosts\" name=\"pcmk_host_list\" value=\"$hosts\"/>
    <nvpair id=\"$id-timeout\" name=\"power_timeout\" value=\"$timeout\"/>
    $nv
  </instance_attributes>
  $meta
</primitive>" || fail "cannot add stonith resource $id"
	wait_until 120 pcmk_started "$id" ||
		fail "$id never started: $(crm_mon -1 2>&1) $(tail -30 "$PCMK_DIR/pacemaker.log")"
}

# The cluster fences (or unfences) <node> through its fencer, and its
# history says it did
pcmk_fence() {	# <node>
	timeout 180 stonith_admin --fence "$1" --timeout 120 ||
		fail "stonith_admin --fence $1 failed: $(tail -30 "$PCMK_DIR/pacemaker.log")"
	stonith_admin --history "$1" | has -Ei "(^|[[:space:]*])(off|turning off|fencing) of $1 .*successful" ||
		fail "no fencing of $1 in the history: $(stonith_admin --history "$1")"
}
pcmk_unfence() {	# <node>
	timeout 180 stonith_admin --unfence "$1" --timeout 120 ||
		fail "stonith_admin --unfence $1 failed: $(tail -30 "$PCMK_DIR/pacemaker.log")"
	stonith_admin --history "$1" | has -Ei "(^|[[:space:]*])(on|unfencing) of $1 .*successful" ||
		fail "no unfencing of $1 in the history: $(stonith_admin --history "$1")"
}

# Unfencing as the fencer runs it on a node that joins: the agent's 'on' is
# on_target (a cluster node unfences itself, and stonith_admin --unfence of
# another node finds no device), so for a host that is no member of this
# one-node cluster the test runs it on the host's behalf: <resource>'s
# parameters from the CIB on stdin, as the fencer passes them, action=on,
# plug=<node>.
pcmk_agent_on() {	# <resource id> <node>
	local params
	params=$(cibadmin --query --xpath "//primitive[@id='$1']/instance_attributes" |
		python3 -c '
import sys, xml.etree.ElementTree as ET
for nv in ET.fromstring(sys.stdin.read()).iter("nvpair"):
    if not nv.get("name").startswith("pcmk_"):
        print("%s=%s" % (nv.get("name"), nv.get("value")))') ||
		fail "cannot read $1's parameters: $(cibadmin --query --xpath "//primitive[@id='$1']" 2>&1)"
	printf '%s\n' "$params" action=on "plug=$2" | /usr/sbin/fence_dmfence > /tmp/agent-on.out 2>&1 ||
		fail "$1: on for $2 failed: $(cat /tmp/agent-on.out)"
}
