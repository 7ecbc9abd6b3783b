# A reload with a larger length grows the device (lvextend, then virsh
# blockresize): the bitmap grows with it, what was dirty stays dirty, the
# new regions start dirty (a copy picks them up), writes reach the new
# space.  Shrinking is refused with a reason, and so is a different region
# size; a grow of a closed device keeps it closed.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 32)		# 65536 sectors; the device maps half
fence_create_len() {	# <name> <len> [features...]
	local name=$1 len=$2
	shift 2
	dmsetup create "$name" --table "0 $len fence $dev 0${*:+ $# $*}"
}
fence_create_len f0 32768
expect_field f0 dirty 0/256
dd if=/dev/urandom of=/dev/mapper/f0 bs=64k count=1 seek=3 oflag=direct status=none
dmsetup message f0 0 get_dirty clear > /dev/null
dd if=/dev/urandom of=/dev/mapper/f0 bs=64k count=1 seek=7 oflag=direct status=none
expect_eq "$(dmsetup message f0 0 get_dirty)" "7" "dirty before the grow"

# grow to 49160 sectors: 384 full regions and a partial one
dmsetup load f0 --table "0 49160 fence $dev 0"
dmsetup resume f0
expect_eq "$(blockdev --getsz /dev/mapper/f0)" 49160 "size after the grow"
expect_field f0 dirty 130/385
expect_eq "$(dmsetup message f0 0 get_dirty)" "7 256-384" "dirty after the grow: the old bit and every new region"
"$FENCECTL" --json status f0 | has '"length":49160' || fail "STATUS length: $("$FENCECTL" --json status f0)"
random_file /tmp/a 64
dd if=/tmp/a of=/dev/mapper/f0 bs=64k count=1 seek=300 oflag=direct status=none || fail "write to the new space"
expect_eq "$(sum_range "$dev" $((300 * 128)) 128)" "$(file_sum /tmp/a)" "write to the new space landed"

# grow again, from a partial last region: that region counts as new too
dmsetup message f0 0 get_dirty clear > /dev/null
dmsetup load f0 --table "0 65536 fence $dev 0"
dmsetup resume f0
expect_eq "$(dmsetup message f0 0 get_dirty)" "384-511" "dirty after a grow from a partial region"

refused_load() {	# <log line> <table>
	local n
	n=$(dmesg | wc -l)
	dmsetup load f0 --table "$2" 2>/dev/null && fail "reload '$2' accepted"
	dmesg | tail -n +$((n + 1)) | has -F "$1" || fail "reload '$2': log lacks '$1'"
	dmsetup info f0 | has 'Tables present: *LIVE$' || fail "an inactive table was left behind"
}
refused_load "Shrinking is refused" "0 32768 fence $dev 0"
refused_load "Region size differs from the live table" "0 65536 fence $dev 0 2 region_size 256"
expect_field f0 dirty 128/512
dmsetup remove f0

# a closed device grows and stays closed, its held write still held
fence_create_len f1 32768
dmsetup message f1 0 close
wait_state f1 closed 10 || fail "not closed"
write_block_bg /dev/mapper/f1 2 /tmp/a
w=$!
wait_until 10 field_is f1 held 1 || fail "write not held"
dmsetup load f1 --table "0 65536 fence $dev 0 1 closed"
timeout 20 dmsetup resume --noflush f1 || fail "resume of the grown closed device"
expect_field f1 state closed
wait_until 10 field_is f1 held 1 || fail "write not held after the grow"
expect_eq "$(blockdev --getsz /dev/mapper/f1)" 65536 "size of the grown closed device"
dmsetup message f1 0 reopen
wait $w || fail "held write failed after reopen"
dmsetup remove f1
