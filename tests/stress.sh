#!/bin/bash
# make stress: the long-running slices of the check scenarios, with bigger
# knobs, on both kernels: fence races, the ioctl and table/message fuzzers,
# the dirty-bitmap race, close/reopen cycles under fio, the NFS scenario,
# dm-flakey below under fio, control storms under fio, and the leak check
# (devices and close/reopen/fence cycles against the module's slab caches).
# STRESS_S scales the fio-driven scenarios (seconds each), FENCE_RACES,
# FUZZ_ITERS (each fuzzer) and LEAK_CYCLES the counted ones.  Prints each
# scenario's figures and "N passed, N failed".  STRESS_KERNEL=<kver> runs
# one kernel only; STRESS_DEBUG names the debug flavours (default "kasan
# kcsan", each built once, see tests/debug-kernel/).  Kernels run one after
# the other: side by side under TCG on 2 cores each fence race went from
# 1.7 s to about 5 s.
# On a debug kernel every I/O and control call costs several times what it
# costs on Debian's (KASAN shadow checks, lockdep, KCSAN watchpoints, the
# kmemleak scan), so the counted knobs are divided by STRESS_DEBUG_DIV
# there (default 10; 1 runs them in full): the same scenarios at the same
# concurrency, about an hour per debug kernel instead of five.  The timed
# scenarios keep STRESS_S.
set -uo pipefail
source "$(dirname "$0")/host-lib.sh"
STRESS_S=${STRESS_S:-120}
FENCE_RACES=${FENCE_RACES:-1000}
FUZZ_ITERS=${FUZZ_ITERS:-100000}
LEAK_CYCLES=${LEAK_CYCLES:-300}
SEED=${SEED:-$RANDOM}

install_host > "$BUILD/install.log" 2>&1 || { cat "$BUILD/install.log"; exit 1; }
# and the debug kernels (STRESS_DEBUG="" for none)
for f in ${STRESS_DEBUG-kasan kcsan}; do
	kk=$(debug_kernel "$f" 2> "$BUILD/debug-kernel-$f.log") ||
		{ tail -30 "$BUILD/debug-kernel-$f.log"; exit 1; }
	KERNELS+=" $kk"
done
if [ -n "${STRESS_KERNEL:-}" ]; then
	case " $KERNELS " in
	*" $STRESS_KERNEL "*) KERNELS=$STRESS_KERNEL ;;
	*) echo "STRESS_KERNEL=$STRESS_KERNEL is not one of: $KERNELS" >&2; exit 1 ;;
	esac
fi
make -C "$REPO" --no-print-directory userspace > "$BUILD/userspace.log" 2>&1 || exit 1
build_test_tools > "$BUILD/test-tools.log" 2>&1 || exit 1
passed=0 failed=0
echo "stress: STRESS_S=$STRESS_S FENCE_RACES=$FENCE_RACES FUZZ_ITERS=$FUZZ_ITERS LEAK_CYCLES=$LEAK_CYCLES SEED=$SEED"
for k in $KERNELS; do
	build_module "$k" > "$BUILD/build-$k.log" 2>&1 || exit 1
	div=1 slow=1
	case $k in *-dmfence-*) div=${STRESS_DEBUG_DIV:-10} slow=5 ;; esac
	races=$(((FENCE_RACES + div - 1) / div)) fuzz=$(((FUZZ_ITERS + div - 1) / div))
	cycles=$(((LEAK_CYCLES + div - 1) / div))
	echo "$k: FENCE_RACES=$races FUZZ_ITERS=$fuzz LEAK_CYCLES=$cycles LEAK_BATCH=$((250 / div))"
	start=$SECONDS
	RUN_NAME=stress VM_TIMEOUT=$(((STRESS_S * 60 + races * 10 + fuzz / 10 + cycles * 3 + 1800) * slow)) \
	run_suite "$k" check ONLY="17 22 34 35 43 44 60 63 64 65 66" \
		TEST_TIMEOUT=$(((STRESS_S * 10 + races * 10 + fuzz / 10 + cycles * 3 + 600) * slow)) \
		FIO_S="$STRESS_S" FENCE_RACES="$races" FUZZ_ITERS="$fuzz" \
		TABLE_FUZZ_ITERS="$fuzz" LEAK_CYCLES="$cycles" LEAK_BATCH=$((250 / div)) \
		NFS_RACES=$((races / 20 + 1)) SEED="$SEED" GUEST_SLOWDOWN="$slow"
	echo "$k: $((SECONDS - start)) s"
	out=$VMS/$k-stress
	grep -h -E '^(iterations=|rounds=|ioctl fuzz:|table fuzz:|# [0-9]+ cycles|fence race:|# fio saw|# baseline|worker|# [0-9]+ close)' \
		"$out"/*.log | sed "s/^/$k: /"
	while read -r -a r; do
		case "${r[0]}" in
		ok) passed=$((passed + 1)); echo "$k ${r[1]} ok" ;;
		not) failed=$((failed + 1)); echo "$k ${r[2]} not ok"; tail -20 "$out/${r[2]}.log" ;;
		esac
	done < <(grep -E '^(ok|not ok) ' "$out/results" 2>/dev/null)
	grep -qx complete "$out/results" 2>/dev/null || { failed=$((failed + 1)); echo "$k guest did not finish"; }
	[ -s "$out/kcsan-outside.txt" ] &&
		echo "$k: $(wc -l < "$out/kcsan-outside.txt") KCSAN report(s) outside dm and dm-fence, not counted ($out/kcsan-outside.txt)"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
