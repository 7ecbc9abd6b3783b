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
: > /tmp/tf.out
# only what the kernel said since this test began (the runner checks the
# whole slice again, debug-kernel reports included, after the test)
log_start=$(dmesg | wc -l)
while [ $done_ -lt "$iters" ]; do
	"$TOOLS/table_fuzz" $((seed + done_)) $chunk "$dev" "$(sectors_of "$dev")" fm >> /tmp/tf.out ||
		{ tail -n 1 /tmp/tf.out; fail "table fuzz (seed $((seed + done_)))"; }
	if dmesg | tail -n +$((log_start + 1)) | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection'; then
		fail "kernel complained (seed $((seed + done_)))"
	fi
	done_=$((done_ + chunk))
done
# one line for all chunks: "table fuzz: seed S: N tables (A accepted, ...), 0 bad"
awk -v seed="$seed" '{ gsub(/[(),:]/, " "); t += $5; ta += $7; tr += $9; m += $11; ma += $13; mr += $15; b += $17 }
	END { printf "table fuzz: seeds %d+: %d tables (%d accepted, %d refused), %d messages (%d accepted, %d refused), %d bad\n",
		seed, t, ta, tr, m, ma, mr, b }' /tmp/tf.out
open_any fm > /dev/null 2>&1 || true
dmsetup remove fm
rmmod dm_fence || fail "module does not unload after fuzzing"
