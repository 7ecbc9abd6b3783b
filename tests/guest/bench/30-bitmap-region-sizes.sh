# fio 4k random write, QD32, 2 jobs, on null_blk: dm-linear against
# dm-fence with 4 KiB, 64 KiB and 1 GiB dirty regions, interleaved rounds in
# one run.  Prints median IOPS and fence/linear per region size.
. "$REPO/tests/guest/lib.sh"
load_fence

ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECS:-5}
nullb_perf_create nbr 4096 > /dev/null
len=$(sectors_of /dev/nbr)
dmsetup create lin --table "0 $len linear /dev/nbr 0"
dmsetup create r4k --table "0 $len fence /dev/nbr 0 2 region_size 8"
dmsetup create r64k --table "0 $len fence /dev/nbr 0 2 region_size 128"
dmsetup create r1g --table "0 $len fence /dev/nbr 0 2 region_size 2097152"

iops() {
	fio --name=b --filename="/dev/mapper/$1" --direct=1 --ioengine=libaio --rw=randwrite \
		--bs=4k --iodepth=32 --numjobs=2 --time_based --runtime="$SECS" \
		--group_reporting --output-format=terse --terse-version=3 |
		awk -F';' '{ printf "%d\n", $49 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

devs=(lin r4k r64k r1g)
for d in "${devs[@]}"; do : > /tmp/$d; done
for r in $(seq "$ROUNDS"); do
	# rotate the order so that no device always runs first
	for i in 0 1 2 3; do
		d=${devs[$(((i + r) % 4))]}
		iops "$d" >> /tmp/$d
	done
done
lin=$(median < /tmp/lin)
line="BENCH $KVER 4k-randwrite-qd32x2 bitmap: linear=$lin"
for d in r4k r64k r1g; do
	v=$(median < /tmp/$d)
	line+=" $d=$v ($(awk -v a="$v" -v b="$lin" 'BEGIN { printf "%.3f", a / b }'))"
done
echo "$line"
