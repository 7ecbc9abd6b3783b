# fio 4k random write and read, QD32, on null_blk (no memory backing: the
# cost measured is the CPU's): dm-fence (bitmap on) against dm-linear, and
# dm-linear against the raw device.
#
# Under TCG the host's noise moves throughput by +-30 % between runs a few
# seconds apart, so runs one after the other cannot tell 2 % apart.  Here
# the two devices compared run at the same time, one fio job each, both
# pinned to the same CPU: they share that CPU's time, and whatever the host
# does to it slows both alike.  Each job is CPU-bound (null_blk completes
# inline), so the ratio of their IOPS is the ratio of their CPU cost per
# I/O.  Each round runs the pair in both job orders and sums them; the CPU
# alternates between rounds.  The figures are the median and min-max of
# the per-round ratios.  linear/linear (the same device against itself) is
# the method's own noise floor: a difference smaller than its spread is not
# seen.  A last phase runs a copy tool's fetch-and-clear loop on the other
# CPU during the rounds (pre-copy: the bitmap is cleared under the writes,
# the case where shared cache lines cost most).  Measures; asserts nothing
# about speed.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-9}
SECS=${BENCH_SECS:-3}
nullb_perf_create nbb 4096 > /dev/null
len=$(sectors_of /dev/nbb)
dmsetup create lin --table "0 $len linear /dev/nbb 0"
dmsetup create fen --table "0 $len fence /dev/nbb 0"

# the icount mode's guest has one vCPU (tests/vm/run.sh VM_SMP)
NCPU=$(nproc)
OTHER=$((NCPU - 1))

dev_of() { case $1 in raw) echo /dev/nbb ;; *) echo "/dev/mapper/$1" ;; esac; }

pair() {	# <rw> <cpu> <dev a> <dev b>: one fio run of both, prints "iops_a iops_b"
	local field=8
	[ "$1" = randwrite ] && field=49
	fio --direct=1 --ioengine=libaio --rw="$1" --bs=4k --iodepth=32 \
		--time_based --runtime="$SECS" --cpus_allowed="$2" \
		--output-format=terse --terse-version=3 \
		--name=a --filename="$(dev_of "$3")" --name=b --filename="$(dev_of "$4")" |
		awk -F';' -v f=$field '{ printf "%d ", $f } END { print "" }'
}

# one round of <a> against <b> on <cpu>, both job orders: appends the
# round's ratio a/b to /tmp/ratio.<a>.<b> and each side's IOPS to /tmp/iops.<dev>
round() {	# <rw> <cpu> <a> <b>
	local a1 b1 a2 b2 r
	r=$(pair "$1" "$2" "$3" "$4")
	read -r a1 b1 <<< "$r"
	r=$(pair "$1" "$2" "$4" "$3")
	read -r b2 a2 <<< "$r"
	awk -v a=$((a1 + a2)) -v b=$((b1 + b2)) 'BEGIN { printf "%.4f\n", a / b }' >> "/tmp/ratio.$3.$4"
	echo $(((a1 + a2) / 2)) >> "/tmp/iops.$3"
	echo $(((b1 + b2) / 2)) >> "/tmp/iops.$4"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() {	# <ratio file>: "median [min-max]"
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.3f [%.3f-%.3f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

phase() {	# <label> <rw> <cpu or "alternate"> <pairs as a:b ...>
	local label=$1 rw=$2 cpus=$3 r p cpu line
	shift 3
	rm -f /tmp/ratio.* /tmp/iops.*
	for r in $(seq "$ROUNDS"); do
		cpu=$cpus
		[ "$cpus" = alternate ] && cpu=$((r % NCPU))
		for p in "$@"; do round "$rw" "$cpu" "${p%:*}" "${p#*:}"; done
	done
	line="BENCH $KVER 4k-$label-qd32"
	for p in "$@"; do
		line+=" ${p%:*}/${p#*:}=$(spread "/tmp/ratio.${p%:*}.${p#*:}")"
	done
	for p in /tmp/iops.*; do line+=" ${p#/tmp/iops.}=$(median < "$p")"; done
	echo "$line rounds=$ROUNDS secs=$SECS clock=${BENCH_CLOCK:-wall}"
}

if [ "${BENCH_CLOCK:-wall}" = icount ]; then
	# One TCG thread and one vCPU (6.1 does not bring a second vCPU up
	# under -icount), and guest time counts instructions: the pre-copy
	# phase's clear loop takes its turns from fio's as instructions, not as
	# wall time, so that phase measures the cost of sharing the bitmap's
	# lines with the clearer's work interleaved, not two CPUs at once.
	log "clock: icount (instructions), $NCPU vCPU; the pre-copy phase's clearer shares fio's vCPU and the one TCG thread"
fi

for rw in randwrite randread; do
	# lin:lin2 is dm-linear against itself: the noise floor
	phase "$rw" "$rw" alternate fen:lin lin:raw lin:lin
done

# pre-copy: fio on CPU 0, the fetch-and-clear loop on the last CPU all through
taskset -c $OTHER sh -c "while :; do '$FENCECTL' dirty fen --clear > /dev/null; done" &
clearer=$!
phase randwrite-during-precopy randwrite 0 fen:lin lin:lin
kill $clearer
wait $clearer 2>/dev/null || true
expect_field fen inflight 0
