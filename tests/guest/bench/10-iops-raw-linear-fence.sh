# fio 4k random write and read, QD32, 2 jobs, on null_blk (no memory
# backing: the cost measured is the CPU's), in many short interleaved rounds
# of the raw device, dm-linear and dm-fence (bitmap on), all in one run.
# TCG drifts by +-20 % over a minute, so each round's fence/linear ratio is
# taken from the two runs of that round, next to each other, and the
# figures are the median and min-max of those ratios, not a ratio of
# medians.  A last phase measures linear and fence while a copy tool's
# fetch-and-clear loop runs on the fence device (pre-copy rounds: the
# bitmap is cleared under the writes, the case where shared cache lines
# cost most).  Measures; asserts nothing about speed.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-9}
SECS=${BENCH_SECS:-3}
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

# "median min-max" of per-round ratios a[i] / b[i] of two files of figures
ratios() {	# <file a> <file b>
	paste -d' ' "$1" "$2" | awk '{ print $1 / $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { printf "%.3f [%.3f-%.3f]", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

rounds() {	# <rw> <devices...>: ROUNDS rounds, the order rotated each round
	local rw=$1 r i n dev
	shift
	n=$#
	local devs=("$@")
	for dev in "${devs[@]}"; do : > "/tmp/$dev"; done
	for r in $(seq "$ROUNDS"); do
		for i in $(seq 0 $((n - 1))); do
			dev=${devs[$(((i + r) % n))]}
			case $dev in
			raw) iops /dev/nbb "$rw" >> /tmp/raw ;;
			*) iops "/dev/mapper/$dev" "$rw" >> "/tmp/$dev" ;;
			esac
		done
	done
}

for rw in randwrite randread; do
	rounds "$rw" raw lin fen
	echo "BENCH $KVER 4k-$rw-qd32x2 raw=$(median < /tmp/raw) linear=$(median < /tmp/lin)" \
		"fence=$(median < /tmp/fen) fence/linear=$(ratios /tmp/fen /tmp/lin)" \
		"fence/raw=$(ratios /tmp/fen /tmp/raw) linear/raw=$(ratios /tmp/lin /tmp/raw)" \
		"rounds: raw=[$(paste -sd, /tmp/raw)] linear=[$(paste -sd, /tmp/lin)] fence=[$(paste -sd, /tmp/fen)]"
done

# pre-copy: the fetch-and-clear loop runs through the whole phase, for
# linear's rounds too, so both pay its CPU
while :; do "$FENCECTL" dirty fen --clear > /dev/null; done &
clearer=$!
rounds randwrite lin fen
kill $clearer
wait $clearer 2>/dev/null || true
echo "BENCH $KVER 4k-randwrite-qd32x2-during-precopy linear=$(median < /tmp/lin)" \
	"fence=$(median < /tmp/fen) fence/linear=$(ratios /tmp/fen /tmp/lin)" \
	"rounds: linear=[$(paste -sd, /tmp/lin)] fence=[$(paste -sd, /tmp/fen)]"
expect_field fen inflight 0
