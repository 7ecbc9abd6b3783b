# `fencectl watch` prints one JSON object per state change, waiting on dm
# events (not polling), and stops at --until.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
delay_create dly "$dev" 2000
fence_create f0 /dev/mapper/dly
write_in_flight f0 1 /dev/urandom

"$FENCECTL" --json watch f0 --until fenced > /tmp/watch.json &
watcher=$!
wait_until 10 test -s /tmp/watch.json || fail "watch printed nothing"
dmsetup message f0 0 close		# closing while the write is below
wait_state f0 closed 10 || fail "not closed"
dmsetup message f0 0 fence 4
timeout 20 tail --pid=$watcher -f /dev/null || fail "watch did not stop at --until fenced"
wait $watcher || fail "watch exited non-zero"
python3 - /tmp/watch.json <<'PY' || fail "watch output: $(cat /tmp/watch.json)"
import json, sys
states = [json.loads(line)["state"] for line in open(sys.argv[1])]
# closing may be merged into closed if both happen between two wake-ups
assert states[0] == "open" and states[-1] == "fenced" and "closed" in states, states
assert len(states) == len(set(states)), states
PY
