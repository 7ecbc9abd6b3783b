# fencectl copy --switch under ext4 with a metadata-heavy writer (issue
# 35): ext4 keeps its metadata in the fence device's own page cache, so
# once the source is closed an O_DIRECT read of the device (the copy's,
# until issue 35) could wait on metadata writes the device holds.  The
# writer (tools/metadata_writer.py) makes small files in many directories
# in bursts, with renames and unlinks, and fsyncs each file and directory;
# --max-rounds 0 closes the source at once.  Twice: with a journal (the
# metadata dirty in the page cache only once a commit is checkpointed) and
# without (every change dirties it at once: the old copy's final round met
# such pages more often).  The copy ends by itself, the writer never sees
# an error, and DST alone passes e2fsck and holds every file fsynced
# before, during and after the switch.
# test-timeout: 600
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe ext4
BOUND=120	# s (times GUEST_SLOWDOWN)

trap 'touch /tmp/stop; umount -l /tmp/mnt 2> /dev/null || true' EXIT

src=$(nullb_create nbs 128)
dst=$(nullb_create nbd 128)
mkdir -p /tmp/mnt
fsynced_above() { [ -f /tmp/fsynced ] && [ "$(wc -l < /tmp/fsynced)" -gt "$1" ]; }

for journal in has_journal ^has_journal; do
	log "ext4 -O $journal: copy --switch from $src to $dst"
	fence_create vm "$src"
	mkfs.ext4 -q -F -O "$journal" -E lazy_itable_init=0,lazy_journal_init=0 /dev/mapper/vm
	mount /dev/mapper/vm /tmp/mnt
	rm -f /tmp/stop /tmp/fsynced
	python3 "$REPO/tests/guest/tools/metadata_writer.py" /tmp/mnt /tmp/stop /tmp/fsynced \
		2> /tmp/writer.err &
	writer=$!
	wait_until 60 fsynced_above 20 || fail "the writer never wrote: $(cat /tmp/writer.err)"

	"$FENCECTL" --json copy vm "$dst" --switch --max-rounds 0 > /tmp/copy.json 2> /tmp/copy.err &
	copy_ends vm $BOUND $! 0 "copy --switch under ext4 -O $journal"
	expect_eq "$(tail -n 1 /tmp/copy.json | json_field switched)" True "switched, in the copy's last line"
	expect_field vm state open
	expect_eq "$(dmsetup table vm | cut -d' ' -f4)" "$(devt_of "$dst")" "backing device after the switch"

	n=$(wc -l < /tmp/fsynced)
	wait_until 60 fsynced_above $((n + 20)) || fail "the writer stopped after the switch: $(fence_status vm)"
	touch /tmp/stop
	expect_wait $writer 0 "the writer, through the switch ($(cat /tmp/writer.err))"
	umount /tmp/mnt
	dmsetup remove vm

	e2fsck -fn "$dst" > /tmp/fsck.out 2>&1 || fail "e2fsck of DST: $(cat /tmp/fsck.out)"
	mount -o ro "$dst" /tmp/mnt
	# one md5sum for all (a loop of md5sum per file took 3 minutes)
	awk '{ print $2 "  " $1 }' /tmp/fsynced > /tmp/fsynced.md5
	(cd /tmp/mnt && md5sum -c --quiet /tmp/fsynced.md5) > /tmp/md5.out 2>&1 ||
		fail "files fsynced, missing or different on DST: $(head -n 20 /tmp/md5.out)"
	log "$(wc -l < /tmp/fsynced) files fsynced, all on DST; $(tail -n 1 /tmp/copy.json)"
	umount /tmp/mnt
	# the other way round for the next pass
	t=$src src=$dst dst=$t
done
nullb_remove nbs
nullb_remove nbd
