# Every change fencectl makes to a device goes to the journal as one entry
# with structured fields (issue 33, Ecosystem): state and generation
# changes (close, reopen, fence, storage-fenced, unfence), create from
# fencetab, dirty --clear (what a copy would copy again is forgotten),
# and a copy's start, switch (the disk the device runs on, before and
# after), fencetab update and end.  The guest has no journald: a stand-in
# on journald's native socket (tools/fake_journal.py) records what
# sd_journal_send() sends.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence
export FENCECTL_FENCETAB=/tmp/fencetab FENCECTL_STATE_DIR=/tmp/dm-fence-state
rm -rf "$FENCECTL_STATE_DIR" /tmp/journal.json
python3 "$REPO/tests/guest/tools/fake_journal.py" /tmp/journal.json &
jpid=$!
trap 'kill $jpid 2>/dev/null || true' EXIT
wait_until 10 test -e /tmp/journal.json || fail "the stand-in journal did not start"

src=$(nullb_create nbs 16)
dst=$(nullb_create nbd 16)
echo "vm $src -" > "$FENCECTL_FENCETAB"
expect_exit 0 fencectl create vm		# closed, as at boot
expect_exit 0 fencectl reopen vm
dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=2 oflag=direct status=none
expect_exit 0 fencectl drain vm
expect_exit 0 fencectl reopen vm
expect_exit 0 fencectl dirty vm --clear
dd if=/dev/urandom of=/dev/mapper/vm bs=64k count=1 oflag=direct status=none
expect_exit 0 fencectl copy vm "$dst" --switch
expect_exit 0 fencectl fence vm 2 --by test94
expect_exit 0 fencectl storage-fenced vm 2
expect_exit 0 fencectl unfence vm 2

# <action> [FIELD=value...]: exactly one entry of that action with those fields
has_entry() {
	python3 - /tmp/journal.json "$@" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
action, want = sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
hits = [e for e in entries if e.get("DM_FENCE_ACTION") == action and
        e.get("DM_FENCE_DEVICE") == "vm" and e.get("SYSLOG_IDENTIFIER") == "fencectl" and
        e.get("MESSAGE", "").startswith("vm: ") and "DM_FENCE_UID" in e and
        all(e.get("DM_FENCE_" + k) == v for k, v in want.items())]
if len(hits) != 1:
    print(f"{action} {want}: {len(hits)} entries; all: {entries}", file=sys.stderr)
    sys.exit(1)
PY
}
dstdev=$(printf '%d:%d' $((0x$(stat -L -c %t "$dst"))) $((0x$(stat -L -c %T "$dst"))))
srcdev=$(printf '%d:%d' $((0x$(stat -L -c %t "$src"))) $((0x$(stat -L -c %T "$src"))))
has_entry create "BACKING_AFTER=$src" || fail "no journal entry of create"
has_entry drain STATE_BEFORE=open STATE_AFTER=closed GENERATION_AFTER=1 || fail "drain"
has_entry dirty-clear || fail "dirty --clear"
has_entry copy-start "COPY_TO=$dst" SWITCH=1 || fail "copy start"
has_entry switch "BACKING_BEFORE=$srcdev" "BACKING_AFTER=$dstdev" "BACKING_AFTER_PATH=$dst" ||
	fail "the switch, with the disk before and after"
has_entry fencetab "FENCETAB=$FENCECTL_FENCETAB" "BACKING_AFTER_PATH=$dst" || fail "fencetab update"
has_entry copy-end "COPY_TO=$dst" RESULT=done SWITCHED=1 || fail "copy end"
has_entry fence STATE_BEFORE=open STATE_AFTER=fenced GENERATION_BEFORE=1 GENERATION_AFTER=2 ||
	fail "fence"
has_entry storage-fenced STATE_AFTER=fenced STORAGE_FENCED=1 || fail "storage-fenced"
has_entry unfence STATE_BEFORE=fenced STATE_AFTER=open GENERATION_AFTER=2 || fail "unfence"
dmsetup remove vm
