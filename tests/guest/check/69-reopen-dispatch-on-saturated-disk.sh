# reopen hands the writes it releases to a worker: it returns at once even
# when each submission must wait for the disk (a null_blk with one tag and
# 1 s per write: six held writes take 5 s to dispatch), and status answers
# meanwhile.  A fence during that dispatch fails every write not yet
# dispatched: none reaches the disk after the fence returned but the one
# being submitted, and the ones that did are counted as below.
. "$REPO/tests/guest/lib.sh"
load_fence
N=6

nb=$(nullb_create nb0 16 hw_queue_depth=1 submit_queues=1 irqmode=2 completion_nsec=1000000000)
fence_create f0 "$nb"


hold_writes() {	# <first block>: hold $N writes, one block each; pids in $PIDS
	local i
	dmsetup message f0 0 close
	wait_state f0 closed 10 || fail "not closed: $(fence_status f0)"
	PIDS=()
	for i in $(seq 0 $((N - 1))); do
		random_file /tmp/w$(($1 + i)) 4
		write_block_bg /dev/mapper/f0 $(($1 + i)) /tmp/w$(($1 + i))
		PIDS+=($!)
		wait_until 10 field_is f0 held $((i + 1)) || fail "write $i not held: $(fence_status f0)"
	done
}

# one read of the range (each I/O takes 1 s), then block by block
backing_sums() {	# <first block> <count>: to /tmp/sums
	local i
	dd if="$nb" of=/tmp/back bs=4k skip="$1" count="$2" iflag=direct status=none
	for i in $(seq 0 $(($2 - 1))); do
		dd if=/tmp/back bs=4k skip="$i" count=1 status=none | md5sum | cut -d' ' -f1
	done > /tmp/sums
}

# 1. reopen returns while its writes wait for the disk
hold_writes 0
returns_at_once "reopen with $N writes for a saturated disk" dmsetup message f0 0 reopen
returns_at_once "dmsetup status during the dispatch" dmsetup status f0
returns_at_once "fencectl status during the dispatch" "$FENCECTL" status f0
for p in "${PIDS[@]}"; do
	expect_wait "$p" 0 "a write released by reopen"
done
backing_sums 0 $N
i=0
while read -r sum; do
	expect_eq "$sum" "$(file_sum /tmp/w$i)" "block $i after reopen"
	i=$((i + 1))
done < /tmp/sums
expect_field f0 inflight 0

# 2. a fence during the dispatch
hold_writes 16
failed0=$(field f0 failed)
trace_start "$nb"
dmsetup message f0 0 reopen
dmsetup message f0 0 fence 2
trace_mark fence-returned
ok=0 bad=0
for p in "${PIDS[@]}"; do
	if wait "$p"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
wait_until 10 field_is f0 inflight 0 || fail "writes still below: $(fence_status f0)"
trace_stop_ts > /tmp/trace
log "writes: $ok succeeded, $bad failed; trace: $(tr '\n' ';' < /tmp/trace)"
[ "$bad" -ge 1 ] || fail "the fence failed no write of the dispatch (too slow to catch it?)"
expect_field f0 failed $((failed0 + bad))
# late: those of them that completed after the fence, at least the one the
# worker was submitting (on a slow guest the first ones may complete before)
late=$(field f0 late)
[ "$late" -ge 1 ] && [ "$late" -le "$ok" ] ||
	fail "late completions $late, against $ok writes of the dispatch that succeeded"
expect_field f0 stale 0
# writes queued to the disk after the fence returned: the one being
# submitted at most
after=$(awk '$2 == "MARK" { m = 1; next } m && $2 ~ /W/ { n++ } END { print n + 0 }' /tmp/trace)
[ "$after" -le 1 ] || fail "$after writes reached the disk after the fence returned"
expect_eq "$(awk '$2 ~ /W/ && $3 >= 128 && $3 < 176 { n++ } END { print n + 0 }' /tmp/trace)" "$ok" \
	"writes of the dispatch that reached the disk"
backing_sums 16 $N
i=16
while read -r sum; do
	case "$sum" in
	"$(file_sum /tmp/w$i)") ok=$((ok - 1)) ;;
	"$(head -c 4096 /dev/zero | md5sum | cut -d' ' -f1)") ;;
	*) fail "block $i holds neither its write nor zeroes" ;;
	esac
	i=$((i + 1))
done < /tmp/sums
expect_eq "$ok" 0 "blocks holding their write, against writes that succeeded"
