# A write submitted with REQ_NOWAIT (io_uring, RWF_NOWAIT) to a closed
# device is held like any other and, after reopen, dispatched by a worker
# that may wait: it waits for the disk and lands, rather than fail with
# EAGAIN because the one tag below was busy when the worker sent it
# (issue 32 item 9: the flag stayed on the held write; its submitter had
# returned long before and could not have waited).  A null_blk with one
# tag and 1 s per I/O; a direct read of that disk holds the tag when the
# reopen dispatches.
. "$REPO/tests/guest/lib.sh"
load_fence

# 1 s per I/O, times GUEST_SLOWDOWN: on the kasan kernel the poll below
# missed a read of 1 s
nb=$(nullb_create nb0 16 hw_queue_depth=1 submit_queues=1 irqmode=2 \
	completion_nsec=$((1000000000 * ${GUEST_SLOWDOWN:-1})))
fence_create f0 "$nb"
dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed: $(fence_status f0)"

random_file /tmp/w81 4
python3 - /dev/mapper/f0 /tmp/w81 > /tmp/nowait.out 2>&1 <<'PY' &
import mmap, os, sys
data = open(sys.argv[2], "rb").read()
buf = mmap.mmap(-1, len(data))
buf.write(data)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
try:
    print("ok", os.pwritev(fd, [buf], 4096, os.RWF_NOWAIT))
except OSError as e:
    print("error", e.strerror)
PY
writer=$!
wait_until 10 field_is f0 held 1 || fail "the NOWAIT write is not held: $(fence_status f0); $(cat /tmp/nowait.out)"

# the disk's one tag, taken by a read of its own for 1 s
dd if="$nb" of=/dev/null bs=4k count=1 skip=100 iflag=direct status=none &
reader=$!
read_in_flight() { [ "$(awk '{print $1}' /sys/block/nb0/inflight)" -ge 1 ]; }
wait_until 10 read_in_flight || fail "the read never reached the disk"
dmsetup message f0 0 reopen
expect_wait "$writer" 0 "the NOWAIT writer"
expect_wait "$reader" 0 "the reader"
expect_eq "$(cat /tmp/nowait.out)" "ok 4096" "the held NOWAIT write, dispatched while the disk was busy"
expect_eq "$(block_sum "$nb" 1)" "$(file_sum /tmp/w81)" "block 1 after reopen"
expect_field f0 inflight 0
dmsetup remove f0
