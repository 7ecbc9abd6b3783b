# Held writes keep their arrival order across `dmsetup suspend --noflush`:
# they go back to dm core, come back after resume, are held again and land
# after reopen in the order they were issued, so the last write to a block
# is the one on disk.  (dm core puts each requeued bio at the head of its
# deferred list; handed back oldest first they came back reversed, and the
# first write ended on disk.)
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
# no elevator: the block layer keeps the order we submit in
echo none > "/sys/block/${dev#/dev/}/queue/scheduler"
fence_create f0 "$dev"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"

pids=()
for i in 1 2 3 4; do
	random_file /tmp/w$i 4
	write_block_bg /dev/mapper/f0 3 /tmp/w$i
	pids+=($!)
	wait_until 10 field_is f0 held $i || fail "write $i not held: $(fence_status f0)"
done

timeout 20 dmsetup suspend --noflush f0 || fail "noflush suspend failed"
expect_field f0 held 0
timeout 20 dmsetup resume f0 || fail "resume failed"
wait_until 10 field_is f0 held 4 || fail "requeued writes not held again: $(fence_status f0)"

dmsetup message f0 0 reopen
for p in "${pids[@]}"; do
	wait "$p" || fail "a held write failed after reopen"
done
for i in 1 2 3; do
	[ "$(block_sum "$dev" 3)" = "$(file_sum /tmp/w$i)" ] &&
		fail "block 3 holds write $i of 4: the held writes came back out of order"
done
expect_eq "$(block_sum "$dev" 3)" "$(file_sum /tmp/w4)" "block 3 holds the last write"
