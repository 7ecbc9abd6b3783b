# 'closed' promises a flush of every backing device the closed epoch's
# writes went to.  Writes land on disk A; a reload moves the device to disk
# B (same data, e.g. after a storage migration); then close: the flush must
# reach A too, not only B, or A's volatile cache may still hold writes the
# device called durable.  Both disks are null_blk with a write cache; the
# block_bio_queue tracepoint shows which one got a flush.
. "$REPO/tests/guest/lib.sh"
load_fence

a=$(nullb_create nba 16)
b=$(nullb_create nbb 16)
len=$(sectors_of "$a")
fence_create f0 "$a"
dd if=/dev/urandom of=/dev/mapper/f0 bs=64k count=4 oflag=direct status=none

dmsetup load f0 --table "0 $len fence $b 0"
dmsetup suspend f0
dmsetup resume f0
dmesg | tail -n 3

trace_start "$a"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed: $(fence_status f0)"
trace_stop > /tmp/trace_a
cat /tmp/trace_a
grep -Eq '^F[A-Z]* [0-9]+ 0$' /tmp/trace_a || fail "no flush reached disk A, which the closed epoch wrote to"

# the next close flushes only what its own epoch may have written: B
dmsetup message f0 0 reopen
trace_start "$a"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "second close"
trace_stop > /tmp/trace_a2
grep -Eq '^F' /tmp/trace_a2 && fail "disk A flushed again though nothing wrote to it since"
expect_field f0 flush_errors 0
