# fence <G'>: held writes fail and never land, new writes fail and never
# land, reads pass; with fence_reads, reads fail too.  The generation is
# reported by status and by the table line, and an event is raised.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16 discard=1)
fence_create f0 "$dev"
random_file /tmp/a 4
before=$(block_sum "$dev" 4)

dmsetup message f0 0 close
wait_state f0 closed 10 || fail "not closed"
write_block_bg /dev/mapper/f0 4 /tmp/a
w=$!
wait_until 10 field_is f0 held 1 || fail "write not held"

nr=$(dmsetup info -c --noheadings -o events f0)
dmsetup message f0 0 fence 2
timeout 10 dmsetup wait f0 "$nr" || fail "no event after fence"
wait $w && fail "held write succeeded after fence"
expect_eq "$(fence_status f0)" "fenced 2 0 0 0 0 1 0/256 0 0 settled" "status after fence"
case "$(dmsetup table f0)" in
*" generation 2"*) ;;
*) fail "table does not carry generation 2: $(dmsetup table f0)" ;;
esac

if dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=4 oflag=direct status=none 2>/tmp/err; then
	fail "new write passed a fenced device"
fi
grep -q 'Input/output error' /tmp/err || fail "new write did not fail with EIO"
blkdiscard -o 0 -l 65536 /dev/mapper/f0 2>/dev/null && fail "discard passed a fenced device"
expect_field f0 failed 3
dd if=/dev/mapper/f0 of=/dev/null bs=4k count=8 iflag=direct status=none || fail "read failed while fenced"
expect_eq "$(block_sum "$dev" 4)" "$before" "backing device after fence"
expect_field f0 dirty 0/256
dmsetup message f0 0 close 2>/dev/null && fail "close accepted on a fenced device"

# reopen never opens a fenced device; unfence at the new generation does
dmsetup message f0 0 reopen 2>/dev/null && fail "reopen accepted on a fenced device"
dmsetup message f0 0 unfence 2
expect_field f0 state open
expect_field f0 generation 2
dd if=/tmp/a of=/dev/mapper/f0 bs=4k seek=4 oflag=direct status=none
expect_eq "$(block_sum "$dev" 4)" "$(file_sum /tmp/a)" "write after unfence"

# fence_reads
dmsetup create f1 --table "0 8192 fence $dev 8192 1 fence_reads"
dd if=/dev/mapper/f1 of=/dev/null bs=4k count=1 iflag=direct status=none || fail "read failed while open"
dmsetup message f1 0 fence 5
if dd if=/dev/mapper/f1 of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
	fail "read passed a fenced device with fence_reads"
fi
expect_field f1 state fenced
