#!/bin/bash
# make bench: build for both kernels, run the bench suite in each guest, and
# print its figures.  Speed is only ever measured here, never asserted.
set -uo pipefail
source "$(dirname "$0")/host-lib.sh"
install_host > "$BUILD/install.log" 2>&1 || { cat "$BUILD/install.log"; exit 1; }
rc=0
for k in $KERNELS; do
	build_module "$k" > "$BUILD/build-$k.log" 2>&1 || { cat "$BUILD/build-$k.log"; exit 1; }
	run_suite "$k" bench TEST_TIMEOUT=900 ${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS} \
		${BENCH_SECS:+BENCH_SECS=$BENCH_SECS} ${BENCH_ONLY:+ONLY="$BENCH_ONLY"}
	out=$VMS/$k-bench
	grep -h '^BENCH' "$out"/*.log
	if grep -q '^not ok' "$out/results" || ! grep -qx complete "$out/results"; then
		echo "bench on $k did not complete: see $out" >&2
		rc=1
	fi
	# Bench 10 again with instruction counting (tests/vm/run.sh VM_ICOUNT):
	# guest time counts instructions, so the ratios no longer move with
	# the host's load, and 1 % can be told.  One vCPU (tests/vm/run.sh says
	# why).  BENCH_ICOUNT=0 skips it.
	[ "${BENCH_ICOUNT:-1}" = 0 ] && continue
	case " ${BENCH_ONLY:-10} " in *" 10 "*) ;; *) continue ;; esac
	RUN_NAME=bench-icount VM_ICOUNT=1 VM_SMP=1 run_suite "$k" bench TEST_TIMEOUT=1800 ONLY=10 \
		BENCH_CLOCK=icount ${BENCH_ROUNDS:+BENCH_ROUNDS=$BENCH_ROUNDS} \
		${BENCH_SECS:+BENCH_SECS=$BENCH_SECS}
	out=$VMS/$k-bench-icount
	grep -h '^BENCH' "$out"/*.log
	if grep -q '^not ok' "$out/results" || ! grep -qx complete "$out/results"; then
		echo "icount bench on $k did not complete: see $out" >&2
		rc=1
	fi
done
exit $rc
