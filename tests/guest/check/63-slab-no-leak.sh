# No leak: the module's own slab caches (dm_fence_dev, dm_fence_epoch) are
# back to their baseline after batches of devices created and removed and
# after close/reopen/fence cycles, each with writes and control-device
# calls; and the module unloads (kmem_cache_destroy() would warn if an
# object were left).
. "$REPO/tests/guest/lib.sh"
load_fence

objects() {	# <cache>: objects in use, exact once the CPU slabs are flushed
	echo 1 > "/sys/kernel/slab/$1/shrink"
	cut -d' ' -f1 "/sys/kernel/slab/$1/objects"
}
at_baseline() {
	[ "$(objects dm_fence_dev)" = "$base_dev" ] && [ "$(objects dm_fence_epoch)" = "$base_ep" ]
}
base_dev=$(objects dm_fence_dev)
base_ep=$(objects dm_fence_epoch)
BATCH=${LEAK_BATCH:-100} CYCLES=${LEAK_CYCLES:-30}

dev=$(nullb_create nb0 128)
for round in 1 2; do
	# one dmsetup per batch (--concise: name,uuid,minor,flags,table;...),
	# half of them created closed: a process per device costs minutes
	# under TCG
	spec= names=()
	for i in $(seq 0 $((BATCH - 1))); do
		spec+="m$i,,,,0 1024 fence $dev $((i * 1024))"
		[ $((i % 2)) = 0 ] || spec+=" 1 closed"
		spec+=";"
		names+=("m$i")
	done
	dmsetup create --concise "${spec%;}" || fail "round $round: creating $BATCH devices"
	expect_eq "$(objects dm_fence_dev)" $((base_dev + BATCH)) "devices alive in round $round"
	expect_field m1 state closed
	dmsetup remove "${names[@]}" || fail "round $round: removing $BATCH devices"
	wait_until 10 at_baseline || fail "round $round: dev $(objects dm_fence_dev) (was $base_dev), epochs $(objects dm_fence_epoch) (was $base_ep)"
done

fence_create vm "$dev"
random_file /tmp/a 4
for i in $(seq "$CYCLES"); do
	dd if=/tmp/a of=/dev/mapper/vm bs=4k seek="$i" count=1 oflag=direct status=none
	"$FENCECTL" drain vm --timeout 10000 > /dev/null || fail "drain $i"
	"$FENCECTL" dirty vm --clear > /dev/null
	"$FENCECTL" reopen vm > /dev/null
	if [ $((i % 5)) = 0 ]; then
		dmsetup message vm 0 fence $((i + 1))
		dmsetup message vm 0 unfence $((i + 1))
	fi
done
dmsetup remove vm
wait_until 10 at_baseline || fail "after $CYCLES cycles: dev $(objects dm_fence_dev), epochs $(objects dm_fence_epoch)"
log "baseline dev=$base_dev epoch=$base_ep; $BATCH devices x2 and $CYCLES cycles: back to it"
rmmod dm_fence || fail "module does not unload"
