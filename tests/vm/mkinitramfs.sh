#!/bin/bash
# Build the guest's initramfs for kernel $1 into file $2: busybox, the
# virtio/9p modules the kernel does not have built in (decompressed, since
# busybox insmod cannot read .ko.xz), and vm/init.
set -euo pipefail
kver=$1 out=$2
[ -d "/lib/modules/$kver/kernel" ] || { echo "mkinitramfs.sh: no /lib/modules/$kver/kernel" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
moddir=/lib/modules/$kver
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,modules,proc,sys,dev,newroot}
cp /bin/busybox "$work/bin/busybox"
cp "$here/init" "$work/init"
chmod 755 "$work/init"

# In load order; a name with no module file is built in (or absent).
: > "$work/modules.list"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
	 virtio_pci netfs fscache 9pnet 9pnet_virtio 9p; do
	# -quit, not "| head -n 1": head leaving early would kill find with
	# SIGPIPE, and pipefail end this script without a word
	f=$(find "$moddir/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \) -print -quit)
	[ -n "$f" ] || continue
	case "$f" in
	*.xz) xz -dc "$f" > "$work/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" > "$work/modules/$m.ko" ;;
	*) cp "$f" "$work/modules/$m.ko" ;;
	esac
	echo "$m" >> "$work/modules.list"
done

(cd "$work" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
