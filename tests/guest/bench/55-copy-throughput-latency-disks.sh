# fencectl copy's round 0 against what the disks can do, on disks with
# latency (null_blk, memory backed, completing each request after 100 us
# through a timer, 2 submit queues like a small NVMe): fio copying with a
# deep queue (a job reading SRC and a job writing DST, QD8 x 1 MiB each, at
# the same time: the copy's ceiling is the slower of the two) and dd bs=4M
# (one synchronous request at a time).  Rounds interleaved; the medians and
# min-max of copy/fio and copy/dd per round.  Goal: copy >= 90 % of fio and
# well ahead of dd.  Measures; asserts only that each copy completed.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-3}
MIB=256
lat="irqmode=2 completion_nsec=100000 submit_queues=2"
# shellcheck disable=SC2086 # $lat is several attributes
src=$(nullb_create nbs $MIB $lat)
# shellcheck disable=SC2086
dst=$(nullb_create nbd $MIB $lat)
fence_create vm "$src"
# null_blk allocates on first write: fill both once, untimed
dd if=/dev/urandom of=/dev/mapper/vm bs=4M count=$((MIB / 4)) oflag=direct status=none
dd if=/dev/zero of="$dst" bs=4M count=$((MIB / 4)) oflag=direct status=none

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

fio_copy_mib_s() {	# QD8 x 1 MiB: read SRC and write DST at once; the slower side
	fio --direct=1 --ioengine=libaio --bs=1M --iodepth=8 --size=${MIB}m \
		--output-format=terse --terse-version=3 \
		--name=r --rw=read --filename=/dev/mapper/vm \
		--name=w --rw=write --filename="$dst" |
		awk -F';' '{ bw = ($3 == "r") ? $7 : $48; if (min == "" || bw < min) min = bw }
			END { printf "%.1f\n", min / 1024 }'
}

: > /tmp/r.copy; : > /tmp/r.fio; : > /tmp/r.dd
for r in $(seq "$ROUNDS"); do
	"$FENCECTL" --json copy vm "$dst" --max-rounds 0 --reopen > /tmp/copy.json ||
		fail "copy failed: $(cat /tmp/copy.json)"
	python3 -c 'import json,sys; e=[e for e in map(json.loads, open("/tmp/copy.json")) if e["event"] == "precopy"][0]; print("%.1f" % (e["bytes_copied"] / 2**20 / e["seconds"]))' >> /tmp/r.copy
	fio_copy_mib_s >> /tmp/r.fio
	t0=$(date +%s%N)
	dd if=/dev/mapper/vm of="$dst" bs=4M iflag=direct oflag=direct status=none
	awk -v ms="$(ms_since "$t0")" -v mib=$MIB 'BEGIN { printf "%.1f\n", mib / (ms / 1000) }' >> /tmp/r.dd
done
ratio() {	# <a> <b>: median [min-max] of a/b per round
	paste -d' ' "$1" "$2" | awk '{ print $1 / $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.2f [%.2f-%.2f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "BENCH $KVER copy-round0-${MIB}MiB-latency-100us copy=$(median /tmp/r.copy)MiB/s" \
	"fio-qd8x1M=$(median /tmp/r.fio)MiB/s dd-4M=$(median /tmp/r.dd)MiB/s" \
	"copy/fio=$(ratio /tmp/r.copy /tmp/r.fio) copy/dd=$(ratio /tmp/r.copy /tmp/r.dd)" \
	"(goal copy/fio >= 0.90) rounds=$ROUNDS"
expect_field vm state open
