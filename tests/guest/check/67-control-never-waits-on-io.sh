# The seed's scenario: the storage stops answering.  Close, status, fence,
# reopen, a reload and every ioctl return at once (bounded by
# RETURN_BOUND s of wall time, process start-up included) while the closing
# flush cannot complete, also for another device and while a remove of the stuck
# one is in progress; 'closed' arrives once the disk answers.  The disk is
# a null_blk with a volatile cache (so the flush really goes down; brd has
# none and would hide this) behind a gate: a suspended dm-linear holds the
# flush for as long as the test wants.
. "$REPO/tests/guest/lib.sh"
load_fence

nb=$(nullb_create nb0 16)
nb1=$(nullb_create nb1 16)
gated_fence f0 g0 "$nb"
fence_create f1 "$nb1"
len=$(sectors_of "$nb")

everything_answers() {	# <phase>
	returns_at_once "dmsetup status f0 ($1)" dmsetup status f0
	returns_at_once "fencectl status f0 ($1)" "$FENCECTL" status f0
	returns_at_once "fencectl status f1 ($1)" "$FENCECTL" status f1
	returns_at_once "dirty f0 ($1)" "$FENCECTL" dirty f0
	returns_at_once "close/reopen f1 ($1)" sh -c 'dmsetup message f1 0 close && dmsetup message f1 0 reopen'
}

dd if=/dev/urandom of=/dev/mapper/f0 bs=64k count=16 oflag=direct status=none
gate_shut g0

# 1. close an idle device: the drain is immediate, its flush hangs below
returns_at_once "close" dmsetup message f0 0 close
everything_answers "flush stuck"
expect_field f0 state closing
# a drain with a time-out reports the time-out, not a hang
rc=0
timeout $((RETURN_BOUND + 2)) "$FENCECTL" drain f0 --timeout 300 >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 3 "drain --timeout 300 while the flush hangs"

# 2. reopen and close again while the first flush still hangs
returns_at_once "reopen" dmsetup message f0 0 reopen
expect_field f0 state open
returns_at_once "close again" dmsetup message f0 0 close
everything_answers "second close"

# 3. a reload of the stuck device (same table) goes through
returns_at_once "load" dmsetup load f0 --table "0 $len fence /dev/mapper/g0 0"
returns_at_once "suspend" dmsetup suspend f0
everything_answers "reload suspended"
returns_at_once "resume" dmsetup resume f0
expect_field f0 state closing

# 4. the disk answers: 'closed' arrives (with its event)
gate_open g0
wait_state f0 closed 20 || fail "not closed once the disk answered: $(fence_status f0)"
expect_field f0 flush_errors 0

# 5. fence while the closing flush hangs (seen: fence never returned)
returns_at_once "reopen" dmsetup message f0 0 reopen
gate_shut g0
returns_at_once "close" dmsetup message f0 0 close
returns_at_once "fence" dmsetup message f0 0 fence 2
expect_field f0 state fenced
returns_at_once "fencectl fence --wait" "$FENCECTL" fence f0 3 --wait --timeout 1000
everything_answers "fenced, flush stuck"
gate_open g0
# the flush completes, but a fenced device stays fenced
expect_field f0 state fenced

# 6. a remove of the stuck device in progress: other devices still answer
returns_at_once "unfence" dmsetup message f0 0 unfence 3
gate_shut g0
returns_at_once "close" dmsetup message f0 0 close
dmsetup remove f0 &
rm_pid=$!
returns_at_once "fencectl status f1 (remove of f0 in progress)" "$FENCECTL" status f1
returns_at_once "dmsetup status f1 (remove of f0 in progress)" dmsetup status f1
returns_at_once "close/reopen f1 (remove of f0 in progress)" sh -c 'dmsetup message f1 0 close && dmsetup message f1 0 reopen'
returns_at_once "dmsetup ls (remove of f0 in progress)" dmsetup ls
gate_open g0
expect_wait $rm_pid 0 "remove of f0 once the disk answered"
