# A device whose dirty bitmap is large (here 512 MiB: 64 TiB in 16 KiB
# regions, a vmalloc that takes seconds under TCG) is constructed without
# holding the mutex that every control call of every device takes (issue
# 32 item 9): a status of another device answers while the constructor
# allocates.  On 31cf2f3 the allocation ran under fence_devs_mutex and the
# other device's status waited for it.
. "$REPO/tests/guest/lib.sh"
load_fence
modprobe dm-zero

dev=$(nullb_create nb0 16)
fence_create f0 "$dev"
len=$((64 << 31))	# 64 TiB in sectors
dmsetup create big --table "0 $len zero"
ms() { echo $(($(date +%s%N) / 1000000)); }

dmsetup create f1 --table "0 $len fence /dev/mapper/big 0 2 region_size 32" &
c=$!
t0=$(ms)
slowest=0 n=0
while ! exited $c; do
	s=$(ms)
	fencectl status f0 > /dev/null || fail "status of f0"
	e=$(($(ms) - s))
	[ $e -le $slowest ] || slowest=$e
	n=$((n + 1))
done
total=$(($(ms) - t0))
expect_wait $c 0 "create of the device with a 512 MiB bitmap"
log "create took $total ms; $n status calls of another device beside it, the slowest $slowest ms"
# a window long enough to tell: two status calls inside it at least
[ $total -ge 800 ] && [ $n -ge 2 ] ||
	fail "the create took only $total ms ($n status calls): too short a window to tell"
[ $slowest -lt $((total / 2)) ] ||
	fail "a status of another device waited $slowest ms of the create's $total ms"
expect_field f1 dirty 0/4294967296
dmsetup remove f1
dmsetup remove f0
dmsetup remove big
