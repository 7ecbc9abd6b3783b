# fencectl copy's round 0 against what the disks can do, on disks with
# latency (null_blk, memory backed, completing each request through a timer,
# 2 submit queues like a small NVMe): fio copying with a deep queue (a job
# reading SRC and a job writing DST, QD8 x 1 MiB each, at the same time: the
# copy's ceiling is the slower of the two) and dd bs=4M (one synchronous
# request at a time).  Two disks: 100 us per request, where under TCG the
# CPU cost of moving each MiB (about 17 ms) dominates, so this compares CPU
# cost; and 200 ms per request, where latency dominates (QD8 x 1 MiB can
# move at most 40 MiB/s, below what the CPU can do), so this compares how
# well each keeps the queue full.  Rounds interleaved; the medians and
# min-max of copy/fio and copy/dd per round.  Goal: copy >= 90 % of fio and
# well ahead of dd.  Measures; asserts only that each copy completed.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-3}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

fio_copy_mib_s() {	# <mib> <dst>: QD8 x 1 MiB reading SRC and writing DST at once; the slower side
	fio --direct=1 --ioengine=libaio --bs=1M --iodepth=8 --size="$1"m \
		--output-format=terse --terse-version=3 \
		--name=r --rw=read --filename=/dev/mapper/vm \
		--name=w --rw=write --filename="$2" |
		awk -F';' '{ bw = ($3 == "r") ? $7 : $48; if (min == "" || bw < min) min = bw }
			END { printf "%.1f\n", min / 1024 }'
}

ratio() {	# <a> <b>: median [min-max] of a/b per round
	paste -d' ' "$1" "$2" | awk '{ print $1 / $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f [%.2f-%.2f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

bench_latency() {	# <label> <completion_nsec> <MiB>
	local label=$1 mib=$3 lat src dst t0 depth
	lat="irqmode=2 completion_nsec=$2 submit_queues=2"
	# shellcheck disable=SC2086 # $lat is several attributes
	src=$(nullb_create nbs "$mib" $lat)
	# shellcheck disable=SC2086
	dst=$(nullb_create nbd "$mib" $lat)
	fence_create vm "$src"
	# null_blk allocates on first write: fill both once, untimed
	dd if=/dev/urandom of=/dev/mapper/vm bs=4M count=$((mib / 4)) oflag=direct status=none
	dd if=/dev/zero of="$dst" bs=4M count=$((mib / 4)) oflag=direct status=none

	: > /tmp/r.copy; : > /tmp/r.fio; : > /tmp/r.dd
	for _ in $(seq "$ROUNDS"); do
		"$FENCECTL" --json copy vm "$dst" --max-rounds 0 --reopen > /tmp/copy.json ||
			fail "copy failed: $(cat /tmp/copy.json)"
		python3 -c 'import json,sys; e=[e for e in map(json.loads, open("/tmp/copy.json")) if e["event"] == "precopy"][0]; print("%.1f" % (e["bytes_copied"] / 2**20 / e["seconds"]))' >> /tmp/r.copy
		fio_copy_mib_s "$mib" "$dst" >> /tmp/r.fio
		t0=$(date +%s%N)
		dd if=/dev/mapper/vm of="$dst" bs=4M iflag=direct oflag=direct status=none
		awk -v ms="$(ms_since "$t0")" -v mib="$mib" 'BEGIN { printf "%.1f\n", mib / (ms / 1000) }' >> /tmp/r.dd
	done
	depth=$(python3 -c 'import json; print([e for e in map(json.loads, open("/tmp/copy.json")) if e["event"] == "done"][0]["queue_depth"])')
	echo "BENCH $KVER copy-round0-${mib}MiB-latency-$label copy=$(median /tmp/r.copy)MiB/s" \
		"fio-qd8x1M=$(median /tmp/r.fio)MiB/s dd-4M=$(median /tmp/r.dd)MiB/s" \
		"copy/fio=$(ratio /tmp/r.copy /tmp/r.fio) copy/dd=$(ratio /tmp/r.copy /tmp/r.dd)" \
		"(goal copy/fio >= 0.90) copy-queue-depth=$depth rounds=$ROUNDS"
	expect_field vm state open
	dmsetup remove vm
	nullb_remove nbs
	nullb_remove nbd
}

bench_latency 100us 100000 256
bench_latency 200ms 200000000 128
