# fencectl copy --switch: what the downtime is made of, and whether the
# pre-copy converges under a writer.  512 MiB null_blk disks (memory backed,
# 16 MiB volatile write cache, 100 us per request).  Three runs:
#   idle       nothing writes: the downtime should be the drain and nothing
#              much else (goal: downtime <= drain + 5 ms);
#   writer-25  fio writing 1 MiB blocks at random over the whole disk at a
#              quarter of the copy's own round-0 rate: each round should
#              have about a quarter of the one before to copy, down to what
#              one round's writes dirty (goal: converges, few rounds);
#   writer-4k  the same rate in 4 KiB writes: each dirties a whole 64 KiB
#              region, 16 times the bytes to copy, so the rounds cannot
#              shrink below what the writer dirties in one; printed to show
#              where the region size bites, the copy stops after
#              --max-rounds 8;
#   pagecache  a consumer writing through the device's page cache (4 KiB
#              buffered writes at random in the first MiB, an fsync every
#              500: QEMU's cache=writeback), whose writes back the close
#              holds: the copy never waits on them (issue 35).
# Per run: rounds, dirty regions per round, the downtime and its parts
# (drain, final round's copy, DST's sync, the switch ioctl), and the
# rest: downtime - drain - final copy - sync, the cost of the switch
# itself.  Measures; asserts that each copy completed and verified (DST
# equals SRC outside what was written since, --verify).
. "$REPO/tests/guest/lib.sh"
load_fence

MIB=512
lat="irqmode=2 completion_nsec=100000 submit_queues=2"
# shellcheck disable=SC2086 # $lat is several attributes
src=$(nullb_create nbs $MIB $lat)
# shellcheck disable=SC2086
dst=$(nullb_create nbd $MIB $lat)
# null_blk allocates on first write: fill both once, untimed
dd if=/dev/urandom of="$src" bs=4M count=$((MIB / 4)) oflag=direct status=none
dd if=/dev/zero of="$dst" bs=4M count=$((MIB / 4)) oflag=direct status=none

report() {	# <label>: one BENCH line from /tmp/copy.json
	python3 - /tmp/copy.json "$KVER" "$1" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
kver, label = sys.argv[2], sys.argv[3]
done = [e for e in ev if e["event"] == "done"][0]
rounds = [e for e in ev if e["event"] in ("precopy", "final")]
regions = "/".join(str(e["dirty_regions"]) for e in rounds[1:])
rest = done["downtime_ms"] - done["drain_ms"] - done["final_copy_ms"] - done["sync_ms"]
r0 = rounds[0]["bytes_copied"] / 2**20 / rounds[0]["seconds"]
print(f"BENCH {kver} copy-switch-{label} rounds={done['rounds']} round0={r0:.1f}MiB/s "
      f"dirty-regions-per-round={regions or '-'} downtime={done['downtime_ms']:.1f}ms "
      f"drain={done['drain_ms']:.1f}ms final-copy={done['final_copy_ms']:.1f}ms "
      f"sync={done['sync_ms']:.1f}ms switch={done['switch_ms']:.1f}ms "
      f"rest={rest:.1f}ms (goal: downtime - drain - final copy - sync <= 5 ms)")
PY
}

copy_mib_s=
run() {	# <label> [fio args...]: fence SRC, copy --switch to DST under the writer
	local label=$1 writer_pid=
	shift
	fence_create vm "$src"
	if [ "$label" = pagecache ]; then
		rm -f /tmp/stop /tmp/progress
		python3 "$REPO/tests/guest/tools/pagecache_writer.py" /dev/mapper/vm /tmp/image \
			/tmp/stop /tmp/progress &
		writer_pid=$!
		wait_until 30 test -s /tmp/progress || fail "$label: the consumer is not writing"
	elif [ $# -gt 0 ]; then
		fio --name=vm --filename=/dev/mapper/vm --direct=1 --ioengine=libaio \
			--rw=randwrite --iodepth=4 --time_based --runtime=600 \
			--output=/dev/null "$@" &
		writer_pid=$!
		wait_until 10 dirty_above vm 0 || fail "$label: fio is not writing"
	fi
	"$FENCECTL" --json copy vm "$dst" --switch --verify --max-rounds 8 > /tmp/copy.json ||
		{ cat /tmp/copy.json; fail "$label: copy failed"; }
	if [ "$label" = pagecache ]; then
		touch /tmp/stop
		wait "$writer_pid" || fail "$label: the consumer failed"
	elif [ -n "$writer_pid" ]; then
		kill "$writer_pid"
		wait "$writer_pid" || true
	fi
	expect_field vm state open
	report "$label"
	[ -n "$copy_mib_s" ] || copy_mib_s=$(python3 -c 'import json; e=[e for e in map(json.loads, open("/tmp/copy.json")) if e["event"] == "precopy"][0]; print(int(e["bytes_copied"] / 2**20 / e["seconds"]))')
	dmsetup remove vm
}

run idle
rate=$((copy_mib_s / 4))
run writer-25 --bs=1M --rate="${rate}m"
run writer-4k --bs=4k --rate="${rate}m"
run pagecache
log "copy round 0 at ${copy_mib_s} MiB/s; writers at ${rate} MiB/s"
nullb_remove nbs
nullb_remove nbd
