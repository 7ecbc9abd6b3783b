# The race: 16 writers stamp blocks (generation, writer, block, sequence)
# while a fence arrives at a random moment, with writes slowed below so
# that some are already below at fence time.  Afterwards every block holds
# exactly the last write that succeeded, never one that failed, and the
# device does not change once stale_inflight is 0.  FENCE_RACES iterations
# (make stress runs many more).
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
delay_create dly "$dev" 200
fence_create f0 /dev/mapper/dly
seed=${SEED:-$RANDOM}
python3 "$REPO/tests/guest/tools/fence_race.py" f0 "${FENCE_RACES:-5}" "$seed" "$dev" 2048 ||
	fail "a stale write landed or a successful write was lost (seed $seed)"
