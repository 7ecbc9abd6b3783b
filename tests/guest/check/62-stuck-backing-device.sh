# The backing device stuck (a suspended dm-linear below: writes queue in
# it and never complete until it resumes).  close and fence return at once;
# DRAIN times out with the counts; FENCE --wait times out reporting the
# stale write; `dmsetup remove` is refused while the writer holds the
# device, and `remove --force` waits for the write stuck below (dm core
# waits for every bio a table was given), finishing once the device below
# resumes.  The write then completes late and is counted.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
dmsetup create below --table "0 $(sectors_of "$dev") linear $dev 0"
fence_create vm /dev/mapper/below
dmsetup suspend below
random_file /tmp/a 4
write_in_flight vm 3 /tmp/a
w=$INFLIGHT_PID

timeout 5 dmsetup message vm 0 close || fail "close did not return at once"
expect_field vm state closing
rc=0
timeout 10 "$FENCECTL" --json drain vm --timeout 500 > /tmp/drain.json || rc=$?
expect_eq "$rc" 3 "DRAIN of a stuck device"
expect_eq "$(json_field inflight < /tmp/drain.json)" 1 "DRAIN's in-flight count"
timeout 5 dmsetup message vm 0 fence 2 || fail "fence did not return at once"
expect_field vm stale 1
rc=0
timeout 10 "$FENCECTL" --json fence vm 3 --wait --timeout 300 > /tmp/fence.json || rc=$?
expect_eq "$rc" 3 "FENCE --wait with a write stuck below"
expect_eq "$(json_field stale_inflight < /tmp/fence.json)" 1 "FENCE's stale count"

if dmsetup remove vm 2>/dev/null; then
	fail "remove succeeded while a writer holds the device"
fi
dmsetup remove --force vm 2>/tmp/remove.err &
r=$!
# what remove --force does meanwhile: it must still be waiting
sleep 2
kill -0 $r 2>/dev/null || fail "remove --force returned with a write stuck below: $(cat /tmp/remove.err)"
dmsetup resume below
wait $r || log "remove --force after the resume: $(cat /tmp/remove.err)"
wait $w || true	# it was below before the fence: it completes, late
dmsetup info vm >/dev/null 2>&1 && fail "vm still exists"
expect_eq "$(block_sum "$dev" 3)" "$(file_sum /tmp/a)" "the stuck write landed when below resumed"
