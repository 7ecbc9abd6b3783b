# make demo: the seed's failure without dm-fence, its prevention with it,
# and a live storage migration with fencectl copy.  Output for a person.
. "$REPO/tests/guest/lib.sh"
load_fence
say() { printf '\n==> %s\n' "$*"; }
stamp() { printf '%-4096s' "$1" | head -c 4096; }
show() { printf '    block 10 on the shared disk: "%s"\n' "$(dd if="$1" bs=4k skip=10 count=1 iflag=direct status=none | tr -d ' \0' | head -c 40)"; }

disk=$(nullb_create shared 64)
len=$(sectors_of "$disk")
stamp "old-data" > /tmp/old; stamp "HOST-A-stale-write" > /tmp/a; stamp "HOST-B-new-data" > /tmp/b

say "1. Without dm-fence: host A's write is stuck in its storage path (3 s) when the VM moves"
delay_create slowA "$disk" 3000
dd if=/tmp/old of="$disk" bs=4k seek=10 oflag=direct status=none
dd if=/tmp/a of=/dev/mapper/slowA bs=4k seek=10 oflag=direct status=none &
a=$!
sleep 0.5
echo "    host B starts the VM and writes block 10"
dd if=/tmp/b of="$disk" bs=4k seek=10 oflag=direct status=none
show "$disk"
wait $a
echo "    ... host A's stuck write arrives:"
show "$disk"
echo "    host B's data is gone: the corruption from the mailing-list threads."
dmsetup remove slowA

say "2. With dm-fence: host A (generation 1) closes before the move; the VM's next write is held"
dd if=/tmp/old of="$disk" bs=4k seek=10 oflag=direct status=none
dmsetup create hostA --table "0 $len fence $disk 0 2 generation 1"
dmsetup create hostB --table "0 $len fence $disk 0 3 generation 2 closed"
dmsetup message hostA 0 close
dd if=/tmp/a of=/dev/mapper/hostA bs=4k seek=10 oflag=direct status=none 2>/tmp/a.err &
a=$!
wait_until 10 field_is hostA held 1
echo "    host A: $("$FENCECTL" status hostA | cut -d: -f2-)"
say "   host A stops answering; the cluster fences it (generation 2) and starts the VM on host B"
"$FENCECTL" fence hostA 2 --wait --timeout 5000 > /dev/null
"$FENCECTL" reopen hostB > /dev/null	# B was created closed
dd if=/tmp/b of=/dev/mapper/hostB bs=4k seek=10 oflag=direct status=none
wait $a || echo "    host A's held write failed: $(cat /tmp/a.err | head -1)"
show "$disk"
echo "    host A: $("$FENCECTL" status hostA | cut -d: -f2-)"
echo "    host B's data is safe: the stale write was never dispatched."
dmsetup remove hostA hostB

say "3. Storage live migration: fencectl copy under a writing VM (fio, 64 MiB working set)"
src=$(nullb_create src 512)
dst=$(nullb_create dst 512)
fence_create vm "$src"
fio --name=vm --filename=/dev/mapper/vm --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=8 --size=64m --rate=4m --time_based --runtime=600 \
	--output=/dev/null &
f=$!
sleep 1
"$FENCECTL" copy vm "$dst" --verify 2>&1 | tr '\r' '\n' | sed 's/^/    /'
echo "    source after the copy: $("$FENCECTL" status vm | cut -d: -f2-)"
echo "    (the VM would now run on the destination; here the source is reopened)"
"$FENCECTL" reopen vm > /dev/null
kill $f; wait $f 2>/dev/null || true
