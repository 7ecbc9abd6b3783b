# fio 4k random write and read, QD32, 2 jobs, on null_blk (no memory
# backing: the cost measured is the CPU's), in interleaved rounds of the raw
# device, dm-linear and dm-fence, all in one run.  Prints IOPS (median of
# the rounds) and the ratios.  Measures; asserts nothing about speed.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECS:-5}
nullb_perf_create nbb 4096 > /dev/null
len=$(sectors_of /dev/nbb)
dmsetup create lin --table "0 $len linear /dev/nbb 0"
dmsetup create fen --table "0 $len fence /dev/nbb 0"

iops() {	# <dev> <rw>: one fio run, prints its IOPS
	local field=8
	[ "$2" = randwrite ] && field=49
	fio --name=b --filename="$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs=4k --iodepth=32 --numjobs=2 --time_based --runtime="$SECS" \
		--group_reporting --output-format=terse --terse-version=3 |
		awk -F';' -v f=$field '{ printf "%d\n", $f }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for rw in randwrite randread; do
	: > /tmp/raw; : > /tmp/lin; : > /tmp/fen
	for r in $(seq "$ROUNDS"); do
		# rotate the order so that no device always runs first
		case $((r % 3)) in
		1) order="raw lin fen" ;;
		2) order="lin fen raw" ;;
		0) order="fen raw lin" ;;
		esac
		for dev in $order; do
			case $dev in
			raw) iops /dev/nbb "$rw" >> /tmp/raw ;;
			lin) iops /dev/mapper/lin "$rw" >> /tmp/lin ;;
			fen) iops /dev/mapper/fen "$rw" >> /tmp/fen ;;
			esac
		done
	done
	raw=$(median < /tmp/raw) lin=$(median < /tmp/lin) fen=$(median < /tmp/fen)
	echo "BENCH $KVER 4k-$rw-qd32x2 raw=$raw linear=$lin fence=$fen" \
		"fence/linear=$(awk -v a="$fen" -v b="$lin" 'BEGIN { printf "%.3f", a / b }')" \
		"fence/raw=$(awk -v a="$fen" -v b="$raw" 'BEGIN { printf "%.3f", a / b }')" \
		"rounds: raw=[$(paste -sd, /tmp/raw)] linear=[$(paste -sd, /tmp/lin)] fence=[$(paste -sd, /tmp/fen)]"
done
expect_field fen inflight 0
