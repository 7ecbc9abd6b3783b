# The closing flush reaches every backing device the device's writes went
# to, even after a reload replaced its table (the old device is kept as an
# "orphan" until a closing flush covered it), and only those (issue 32
# item 6):
# 1. a table only loaded, then cleared, never had a write: its device is
#    not flushed (on 31cf2f3 it was kept, and a close failed for ever on
#    a device the VM never used); nor is a loaded, inactive table's;
# 2. a table replaced while the device was fenced had writes before the
#    fence that no flush covered: the close after the unfence flushes its
#    device (31cf2f3 dropped it);
# 3. an orphan holds its device open: a loop device detached lazily
#    (losetup -d while in use, as mount -o loop's autoclear) stays
#    attached until the flush, then goes (31cf2f3: detached at the
#    reload, and the close's flush failed on it).
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe dm-flakey
modprobe loop

# 1. a slice that fails every write and flush once broken
a=$(nullb_create nba 16)
s=$(nullb_create nbs 16)
len=$(sectors_of "$a")
dmsetup create slice --table "0 $len linear $s 0"
fence_create f0 "$a"
dd if=/dev/urandom of=/dev/mapper/f0 bs=4k count=4 oflag=direct status=none
dmsetup load f0 --table "0 $len fence /dev/mapper/slice 0"
dmsetup clear f0
dmsetup load f0 --table "0 $len fence /dev/mapper/slice 0"
dmsetup load slice --table "0 $len flakey $s 0 0 3600 1 error_writes"
dmsetup resume slice
fencectl drain f0 --timeout 10000 > /dev/null ||
	fail "drain with a cleared and an inactive table on a failing disk: $(fence_status f0)"
expect_field f0 flush_errors 0
dmsetup clear f0
fencectl reopen f0 > /dev/null
dmsetup remove f0
dmsetup remove slice

# 2. writes on A; fence; the table moves to B; unfence; close: A is flushed
b=$(nullb_create nbb 16)
fence_create f1 "$a"
dd if=/dev/urandom of=/dev/mapper/f1 bs=64k count=4 oflag=direct status=none
dmsetup message f1 0 fence 2
dmsetup load f1 --table "0 $len fence $b 0 2 generation 2"
dmsetup suspend f1
dmsetup resume f1
# the resume's marker comes through first (test 76)
unfenced() { dmsetup message f1 0 unfence 2 2> /dev/null; }
wait_until 10 unfenced || fail "unfence after the reload: $(fence_status f1)"
trace_start "$a"
dmsetup message f1 0 close
wait_state f1 closed 10 || fail "not closed: $(fence_status f1)"
trace_stop > /tmp/trace_a
grep -Eq '^F[A-Z]* [0-9]+ 0$' /tmp/trace_a ||
	fail "no flush reached disk A, written before the fence, replaced while fenced"
dmsetup remove f1

# 3. a loop device on a file, detached lazily once the reload let go of it
truncate -s 16M /tmp/loop.img
lo=$(losetup --show -f /tmp/loop.img)
fence_create f2 "$lo"
dd if=/dev/urandom of=/dev/mapper/f2 bs=64k count=4 oflag=direct status=none
dmsetup load f2 --table "0 $(sectors_of "$lo") fence $b 0"
dmsetup suspend f2
dmsetup resume f2
losetup -d "$lo"
lo_sys=/sys/block/${lo#/dev/}/loop/backing_file
[ -e "$lo_sys" ] || fail "the replaced loop device was detached: no open reference kept it for the flush"
fencectl drain f2 --timeout 10000 > /dev/null || fail "drain after the reload: $(fence_status f2)"
expect_field f2 flush_errors 0
wait_until 10 test ! -e "$lo_sys" || fail "the loop device stayed attached after its flush"
dmsetup remove f2
rm -f /tmp/loop.img
