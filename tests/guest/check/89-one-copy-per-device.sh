# Two tools that change which disk a device runs on must not act on it at
# once (issue 33 item 2): a second `fencectl copy` of a device whose copy
# runs would drop the first's standby and load its own; a `fencectl
# remove` would take the device from under the copy.  Both are refused at
# once (exit 4, "another copy, create or remove of it runs") while the
# copy holds the device's lock (/run/lock/dm-fence/NAME), and the first
# copy switches onto its own destination.  On 2d3e8cb the second copy
# started and the first one's switch was refused (its standby replaced).
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
export FENCECTL_FENCETAB=/tmp/fencetab FENCECTL_STATE_DIR=/tmp/dm-fence-state
rm -rf "$FENCECTL_STATE_DIR"

src=$(nullb_create nbs 64)
d1=$(nullb_create nb1 64)
d2=$(nullb_create nb2 64)
echo "vm $src -" > "$FENCECTL_FENCETAB"
fence_create vm "$src"
dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=8 oflag=direct status=none

# the first copy's round 0 lasts 8 s (64 MiB at 8 MiB/s)
fencectl copy vm "$d1" --switch --rate 8 2> /tmp/copy1.err &
c=$!
wait_until 10 dirty_is vm 0 || fail "copy did not fetch the bitmap"
expect_exit 4 fencectl copy vm "$d2" --switch
has "another copy, create or remove of it runs" < /tmp/expect_exit.out ||
	fail "no word of the running copy: $(cat /tmp/expect_exit.out)"
expect_exit 4 fencectl remove vm
has "busy: a copy, create or remove of it runs" < /tmp/expect_exit.out ||
	fail "remove during the copy: no word of it: $(cat /tmp/expect_exit.out)"
dmsetup info vm > /dev/null || fail "vm removed during its copy"
expect_wait $c 0 "the first copy, alone on its device"
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$d1")" "backing device after the first copy's switch"
cmp -n $((8 << 20)) "$src" "$d1" || fail "the first destination differs from the source"

# fencetab names the disk the device runs on now (issue 33 item 3), so
# the next boot creates it there, not on the source rolled back to the
# switch point; once the copy ended the lock is free again
has "fencetab now names $d1" < /tmp/copy1.err || fail "no word of fencetab: $(cat /tmp/copy1.err)"
expect_eq "$(cat "$FENCECTL_FENCETAB")" "vm $d1 -" "fencetab after the switch"
fencectl remove vm > /dev/null || fail "remove after the copy"
fencectl create vm > /dev/null || fail "create after the switch"
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$d1")" "backing device of the device created after the switch"
fencectl remove vm > /dev/null

# a fencetab that cannot be changed (a read-only /etc): no switch, nothing
# started
fence_create vm "$src"
mkdir -p /tmp/rotab
echo "vm $src -" > /tmp/rotab/fencetab
mount --bind /tmp/rotab /tmp/rotab
mount -o remount,bind,ro /tmp/rotab
FENCECTL_FENCETAB=/tmp/rotab/fencetab expect_exit 4 fencectl copy vm "$d2" --switch
umount /tmp/rotab
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$src")" "backing device after a refused switch"
expect_field vm state open
dmsetup remove vm
