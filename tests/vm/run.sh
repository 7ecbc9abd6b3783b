#!/bin/bash
# Boot kernel $1 under QEMU/TCG with the host's root shared read-only and
# $2 (which must hold job.sh) shared writable at /tmp/out; the guest runs
# job.sh in a chroot of the host's root and powers off.  Gives up after
# ${VM_TIMEOUT:-1500} s.  The serial console is kept in $2/console.log.
# VM_ICOUNT=1: one TCG thread and QEMU's instruction counting (-icount
# shift=0,sleep=on): the guest's clock counts instructions, so the host's
# load cannot move what the guest measures (make bench's icount mode).
# VM_SMP: the guest's vCPUs (2; the icount mode takes 1: Debian's 6.1 never
# brings a second one up under -icount, its boot stops at "Booting SMP
# configuration", seen with shift=0 and auto, sleep on and off, pc and q35).
set -euo pipefail
kver=$1 out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
initrd=$out/initrd.gz
[ -f "$out/job.sh" ] || { echo "run.sh: $out/job.sh missing" >&2; exit 2; }
"$here/mkinitramfs.sh" "$kver" "$initrd"

# Stand-ins for lockdep: report hung tasks fast, poison slab objects,
# and let a panic end the VM at once instead of waiting for the time-out.
append="console=ttyS0 panic=-1 oops=panic softlockup_panic=1"
append+=" hung_task_timeout_secs=30 slub_debug=FZPU ${VM_APPEND:-}"
# a ring large enough for the whole suite's log: the runner slices it per
# test by a marker and fails a test whose marker the ring lost
append+=" log_buf_len=16M"
# Tests watch bios reaching a device through this tracepoint.  Enabling an
# event at run time patches kernel text on every CPU (the event's static key
# and the sched tracepoints ftrace uses to record task names), which under
# multi-threaded TCG can leave a vCPU on a stale int3 and oops; enabled at
# boot, the tests only flip tracing_on and the filter, which patch nothing.
append+=" trace_event=block:block_bio_queue"

# shellcheck disable=SC2054 # QEMU's options take commas
accel=(-accel tcg,thread=multi)
# shellcheck disable=SC2054
[ "${VM_ICOUNT:-0}" = 0 ] || accel=(-accel tcg,thread=single -icount shift=0,sleep=on)

timeout --kill-after=10 "${VM_TIMEOUT:-1500}" \
	qemu-system-x86_64 "${accel[@]}" -cpu max -smp "${VM_SMP:-2}" \
	-m "${VM_MEM:-3G}" -machine q35 -display none -monitor none \
	-no-reboot -serial "file:$out/console.log" \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" -append "$append" \
	-fsdev local,id=r,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=r,mount_tag=hostroot \
	-fsdev local,id=o,path="$out",security_model=none \
	-device virtio-9p-pci,fsdev=o,mount_tag=out
