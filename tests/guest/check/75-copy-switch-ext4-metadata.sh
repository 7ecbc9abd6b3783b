# fencectl copy --switch under ext4 with a metadata-heavy writer (issue
# test-timeout: 400
# 35): ext4 keeps its metadata in the fence device's own page cache, so
# once the source is closed an O_DIRECT read of the device (the copy's,
# until issue 35) could wait on metadata writes the device holds.  Many
# small files in many directories, each fsynced, with renames and unlinks
# between; --max-rounds 0 closes the source at once.  The copy ends by
# itself, the writer never sees an error, and DST alone passes e2fsck and
# holds every file fsynced before, during and after the switch.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe ext4
BOUND=120	# s (times GUEST_SLOWDOWN)

trap 'touch /tmp/stop; umount -l /tmp/mnt 2> /dev/null || true' EXIT

src=$(nullb_create nbs 128)
dst=$(nullb_create nbd 128)
fence_create vm "$src"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/vm
mkdir -p /tmp/mnt
mount /dev/mapper/vm /tmp/mnt

# files of 1-4 KiB, 20 to a directory; each logged (name and sum) once
# fsynced; a scratch file renamed and another unlinked between
rm -f /tmp/stop /tmp/fsynced /tmp/writer.err
(
	i=0
	while [ ! -e /tmp/stop ]; do
		d=/tmp/mnt/d$((i / 20))
		mkdir -p "$d"
		head -c $((1024 * (1 + i % 4))) /dev/urandom > /tmp/m.dat
		touch "$d/s$i"
		mv "$d/s$i" "$d/r$i"
		rm -f "$d/r$((i - 1))"
		if ! dd if=/tmp/m.dat of="$d/f$i" bs=4k conv=fsync status=none 2>> /tmp/writer.err; then
			echo "write of $d/f$i failed" >> /tmp/writer.err
			exit 1
		fi
		echo "${d#/tmp/mnt/}/f$i $(file_sum /tmp/m.dat)" >> /tmp/fsynced
		i=$((i + 1))
	done
) &
writer=$!
# (each file takes seven short-lived programs: 1-2 s under TCG)
fsynced_above() { [ -f /tmp/fsynced ] && [ "$(wc -l < /tmp/fsynced)" -gt "$1" ]; }
wait_until 60 fsynced_above 5 || fail "the writer never wrote: $(cat /tmp/writer.err)"

"$FENCECTL" --json copy vm "$dst" --switch --max-rounds 0 > /tmp/copy.json 2> /tmp/copy.err &
c=$!
exited() { [ ! -e "/proc/$1" ] || grep -qs '^[0-9]* (.*) Z' "/proc/$1/stat"; }
if ! wait_until $BOUND exited $c; then
	"$FENCECTL" reopen vm || true
	fail "copy --switch did not end within ${BOUND}s: $(cat /tmp/copy.err)"
fi
expect_wait $c 0 "copy --switch under ext4 ($(cat /tmp/copy.err))"
expect_eq "$(tail -n 1 /tmp/copy.json | json_field switched)" True "switched, in the copy's last line"
expect_field vm state open
expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"

n=$(wc -l < /tmp/fsynced)
wait_until 60 fsynced_above $((n + 5)) || fail "the writer stopped after the switch: $(fence_status vm)"
touch /tmp/stop
expect_wait $writer 0 "the writer, through the switch"
[ ! -s /tmp/writer.err ] || fail "the writer saw errors: $(cat /tmp/writer.err)"
umount /tmp/mnt
dmsetup remove vm

e2fsck -fn "$dst" > /tmp/fsck.out 2>&1 || fail "e2fsck of DST: $(cat /tmp/fsck.out)"
mount -o ro "$dst" /tmp/mnt
while read -r name sum; do
	[ -f "/tmp/mnt/$name" ] || fail "$name, fsynced, missing on DST"
	expect_eq "$(file_sum "/tmp/mnt/$name")" "$sum" "$name on DST"
done < /tmp/fsynced
log "$(wc -l < /tmp/fsynced) files fsynced, all on DST; $(tail -n 1 /tmp/copy.json)"
umount /tmp/mnt
nullb_remove nbs
nullb_remove nbd
