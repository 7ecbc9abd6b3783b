# fencectl copy --switch moves a live disk under its consumer: ext4 mounted
# on the fence device, a writer creating and fsyncing files all through;
# the copy (with --verify, which runs with the writer going) reloads the
# device onto DST and reopens it there.  The writer never sees an error,
# the device's table names DST, SRC is not written after the switch, and
# after unmount DST alone passes e2fsck and holds every file fsynced
# before, during and after the switch.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe ext4

# a failing test must not leave a mounted filesystem and a writer behind
trap 'touch /tmp/stop; umount -l /tmp/mnt 2>/dev/null || true' EXIT

# where a stuck writer waits
stuck() {
	local p
	fence_status vm
	dmsetup info vm | grep State
	for p in /proc/[0-9]*; do
		grep -q '^State:.*D' "$p/status" 2>/dev/null || continue
		echo "$(cat "$p/comm"):"
		cat "$p/stack" 2>/dev/null
	done
}

src=$(nullb_create nbs 128)
dst=$(nullb_create nbd 128)
fence_create vm "$src"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/vm
mkdir -p /tmp/mnt
mount /dev/mapper/vm /tmp/mnt

# the writer: files of 64 KiB, each logged (name and sum) once fsynced
rm -f /tmp/stop /tmp/fsynced /tmp/writer.err
(
	i=0
	while [ ! -e /tmp/stop ]; do
		head -c 65536 /dev/urandom > /tmp/w.dat
		if ! dd if=/tmp/w.dat of=/tmp/mnt/f$i bs=64k conv=fsync status=none 2>> /tmp/writer.err; then
			echo "write of f$i failed" >> /tmp/writer.err
			exit 1
		fi
		echo "f$i $(file_sum /tmp/w.dat)" >> /tmp/fsynced
		i=$((i + 1))
	done
) &
writer=$!
wait_until 20 test -s /tmp/fsynced || fail "the writer never wrote"

"$FENCECTL" --json copy vm "$dst" --switch --verify > /tmp/copy.json 2> /tmp/copy.err ||
	fail "copy --switch failed: $(cat /tmp/copy.err)"
tail -n 1 /tmp/copy.json | has '"switched": *true' || fail "copy did not report the switch: $(tail -n 1 /tmp/copy.json)"
tail -n 1 /tmp/copy.json | has '"verified": *true' || fail "copy did not verify"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"

# SRC is not written any more: its sum stays while the writer goes on
before_src=$(md5sum < "$src")
fsynced_above() { [ "$(wc -l < /tmp/fsynced)" -gt "$1" ]; }
n=$(wc -l < /tmp/fsynced)
wait_until 30 fsynced_above $((n + 10)) || fail "the writer stopped after the switch: $(stuck)"
touch /tmp/stop
expect_wait $writer 0 "the writer, through the switch"
[ ! -s /tmp/writer.err ] || fail "the writer saw errors: $(cat /tmp/writer.err)"
umount /tmp/mnt
expect_eq "$(md5sum < "$src")" "$before_src" "SRC written after the switch"
dmsetup remove vm

# DST alone: a clean filesystem with every fsynced file
e2fsck -fn "$dst" > /tmp/fsck.out 2>&1 || fail "e2fsck of DST: $(cat /tmp/fsck.out)"
mount -o ro "$dst" /tmp/mnt
while read -r name sum; do
	[ -f "/tmp/mnt/$name" ] || fail "$name, fsynced, missing on DST"
	expect_eq "$(file_sum "/tmp/mnt/$name")" "$sum" "$name on DST"
done < /tmp/fsynced
log "$(wc -l < /tmp/fsynced) files fsynced, all on DST; $(tail -n 1 /tmp/copy.json)"
umount /tmp/mnt
