# Seeded random table lines and messages through libdevmapper
# (TABLE_FUZZ_ITERS inputs; make stress runs 100k): each refused cleanly
# with nothing left behind and no status change, the generation never goes
# down, and the kernel says nothing but the refusals.  In chunks, so that
# the kernel log is read before the refusals push anything out of it.
. "$REPO/tests/guest/lib.sh"
load_fence

dev=$(nullb_create nb0 16)
fence_create fm "$dev"
seed=${SEED:-$RANDOM}
iters=${TABLE_FUZZ_ITERS:-2000}
chunk=500
done_=0
while [ $done_ -lt "$iters" ]; do
	"$TOOLS/table_fuzz" $((seed + done_)) $chunk "$dev" "$(sectors_of "$dev")" fm ||
		fail "table fuzz (seed $((seed + done_)))"
	if dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection'; then
		fail "kernel complained (seed $((seed + done_)))"
	fi
	done_=$((done_ + chunk))
done
"$FENCECTL" reopen fm --force > /dev/null 2>&1 || true
dmsetup remove fm
rmmod dm_fence || fail "module does not unload after fuzzing"
