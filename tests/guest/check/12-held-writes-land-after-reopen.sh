# Writes issued after close are held: they do not reach the backing device
# while closed, and land after reopen in arrival order (last one wins).
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
before=$(block_sum "$dev" 7)

pids=()
for i in 1 2 3; do
	random_file /tmp/w$i 4
	write_block_bg /dev/mapper/f0 7 /tmp/w$i
	pids+=($!)
	wait_until 10 field_is f0 held $i || fail "write $i not held: $(fence_status f0)"
done
random_file /tmp/other 4
write_block_bg /dev/mapper/f0 9 /tmp/other
pids+=($!)
wait_until 10 field_is f0 held 4 || fail "write 4 not held"
expect_field f0 inflight 0
expect_eq "$(block_sum "$dev" 7)" "$before" "block 7 on the backing device while closed"
expect_field f0 state closed

dmsetup message f0 0 reopen
for p in "${pids[@]}"; do
	wait "$p" || fail "a held write failed after reopen"
done
expect_eq "$(block_sum "$dev" 7)" "$(file_sum /tmp/w3)" "block 7 holds the last held write"
expect_eq "$(block_sum "$dev" 9)" "$(file_sum /tmp/other)" "block 9"
expect_eq "$(fence_status f0)" "open 1 0 0 0 0 0 1/256 0 0" "status after reopen (blocks 7 and 9: region 0 dirty)"
