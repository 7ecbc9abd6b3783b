# A fence during a copy is reported at once; the copy then waits for the
# write that was already below and copies the region its late completion
# marked dirty, so the destination ends equal to the source.  Exit 6: the
# copy is complete but it is no hand-over (the source has a new owner).
. "$REPO/tests/guest/lib.sh"
load_fence

src=$(nullb_create nbs 64)
dst=$(nullb_create nbd 64)
write_gate_create dly g0 "$src"
fence_create vm /dev/mapper/dly

# block 0 is held below by the shut gate until after the fence: round 0
# copies the block before the write lands
random_file /tmp/late 4
gate_shut g0
write_in_flight vm 0 /tmp/late
w=$INFLIGHT_PID
rc=0
"$FENCECTL" --json copy vm "$dst" --rate 64 > /tmp/copy.json &
c=$!
wait_until 10 dirty_is vm 0 || fail "copy did not fetch the bitmap: $(fence_status vm) $(cat /tmp/copy.err /tmp/copy.json 2>/dev/null)"
dmsetup message vm 0 fence 2
gate_open g0
wait $c || rc=$?
cat /tmp/copy.json
expect_eq "$rc" 6 "exit code of a copy whose source was fenced"
wait $w || true
expect_field vm state fenced
expect_field vm stale 0
expect_field vm late 1
expect_eq "$(block_sum "$src" 0)" "$(file_sum /tmp/late)" "the late write landed on the source"
expect_eq "$(block_sum "$dst" 0)" "$(file_sum /tmp/late)" "the late write's region was copied"
expect_eq "$(sum_range "$dst" 0 131072)" "$(sum_range "$src" 0 131072)" "destination vs source"
python3 - /tmp/copy.json <<'PY' || fail "copy report: $(cat /tmp/copy.json)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
fenced = [e for e in ev if e["event"] == "fenced"]
assert len(fenced) == 1 and fenced[0]["generation"] == 2, ev
assert ev[-1]["event"] == "done" and ev[-1]["source_state"] == "fenced", ev[-1]
PY
