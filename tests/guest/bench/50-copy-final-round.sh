# Storage live migration: a full offline copy of a 1 GiB device (the VM
# stopped for all of it) against fencectl copy under a fio writer with a
# 64 MiB working set, whose only downtime is the final round.  Target:
# final round <= 5 % of the offline copy.  Both end with a flush of DST, and
# the final round includes the drain's flush of SRC.  Run twice: SRC with
# null_blk's emulated 16 MiB volatile write cache (its flush costs about
# 100 ms under TCG, as a real disk's would cost something), and without.
# Figures only, nothing asserted but that the copy completed and the
# destination equals the source.
. "$REPO/tests/guest/lib.sh"
load_fence

bench_copy() {	# <src cache_size MiB>
	local src dst offline_ms t0 fio_pid
	src=$(nullb_create nbs 1024 cache_size="$1")
	dst=$(nullb_create nbd 1024)
	fence_create vm "$src"
	dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=64 seek=256 oflag=direct status=none

	# null_blk allocates its memory on first write: touch DST once, untimed
	dd if=/dev/zero of="$dst" bs=4M count=256 oflag=direct status=none
	t0=$(date +%s%N)
	dd if=/dev/mapper/vm of="$dst" bs=4M iflag=direct oflag=direct conv=fdatasync status=none
	offline_ms=$((($(date +%s%N) - t0) / 1000000))

	fio --name=vm --filename=/dev/mapper/vm --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --iodepth=8 --size=64m --offset=256m \
		--rate=4m --time_based --runtime=600 --output=/dev/null &
	fio_pid=$!
	wait_until 10 dirty_above vm 0 || fail "fio is not writing"
	"$FENCECTL" --json copy vm "$dst" --drain-timeout 30000 > /tmp/copy.json ||
		{ cat /tmp/copy.json; fail "copy failed"; }
	expect_eq "$(sum_range /dev/mapper/vm 0 2097152)" "$(sum_range "$dst" 0 2097152)" "destination vs source"
	dmsetup message vm 0 reopen
	kill $fio_pid
	wait $fio_pid || true
	python3 - /tmp/copy.json "$offline_ms" "$KVER" "$1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
offline_ms, kver, cache = float(sys.argv[2]), sys.argv[3], sys.argv[4]
done = ev[-1]
final = [e for e in ev if e["event"] == "final"][0]
rounds = [e for e in ev if e["event"] == "precopy"]
final_ms = final["seconds"] * 1000
print(f"BENCH {kver} copy-1GiB-64MiB-working-set src-cache={cache}MiB offline-copy={offline_ms:.0f}ms "
      f"live-copy={done['seconds']:.1f}s rounds={done['rounds']} "
      f"bytes-copied={done['bytes_copied'] / 2**20:.0f}MiB "
      f"round0={rounds[0]['seconds'] * 1000:.0f}ms final-round={final_ms:.0f}ms "
      f"of-which-drain={done['drain_ms']:.0f}ms "
      f"final-regions={final['dirty_regions']} "
      f"final/offline={final_ms / offline_ms * 100:.1f}% (target <= 5%)")
PY
	dmsetup remove vm
	nullb_remove nbs
	nullb_remove nbd
}

bench_copy 16
bench_copy 0
