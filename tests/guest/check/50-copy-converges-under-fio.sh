# fencectl copy under a fio random writer with a 64 MiB working set on a
# 256 MiB device: pre-copy rounds converge, the source is drained, the last
# dirty set copied, and the destination equals the source (checksum, and
# --verify).  The source is left closed; reopening it lets fio finish.
# kernels: newest
. "$REPO/tests/guest/lib.sh"
load_fence

src=$(nullb_create nbs 256)
dst=$(nullb_create nbd 256)
fence_create vm "$src"
dd if=/dev/urandom of=/dev/mapper/vm bs=1M count=64 seek=192 oflag=direct status=none

fio --name=vm --filename=/dev/mapper/vm --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --iodepth=8 --size=64m --offset=128m \
	--rate=4m --time_based --runtime=600 --output=/tmp/fio.out &
fio_pid=$!
wait_until 10 dirty_above vm 0 || fail "fio is not writing"

"$FENCECTL" --json copy vm "$dst" --verify --drain-timeout 30000 > /tmp/copy.json ||
	{ cat /tmp/copy.json; fail "copy failed"; }
cat /tmp/copy.json
expect_field vm state closed
expect_eq "$(sum_range /dev/mapper/vm 0 524288)" "$(sum_range "$dst" 0 524288)" "destination vs source"
python3 - /tmp/copy.json <<'PY' || fail "copy report: $(cat /tmp/copy.json)"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
done = ev[-1]
assert done["event"] == "done" and done["verified"] and done["source_state"] == "closed", done
rounds = [e for e in ev if e["event"] == "precopy"]
final = [e for e in ev if e["event"] == "final"][0]
assert rounds[0]["dirty_regions"] == 4096, rounds[0]
# the last set is the working set at most: 64 MiB of 64 KiB regions
assert final["dirty_regions"] <= 1024, final
print(f"# rounds={done['rounds']} copied={done['bytes_copied']} "
      f"round0={rounds[0]['seconds']:.2f}s final={final['seconds'] * 1000:.0f}ms "
      f"final_regions={final['dirty_regions']}")
PY
# the VM goes on at the destination; here we just let fio finish
dmsetup message vm 0 reopen
kill $fio_pid
wait $fio_pid || true
