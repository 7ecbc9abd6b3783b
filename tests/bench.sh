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
done
exit $rc
