#!/bin/bash
# make install into a DESTDIR for each kernel: the module (depmod knows it),
# the uapi header, fencectl and its man page, the contrib host integration
# with the installed fencectl's path; nothing outside DESTDIR.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
dest=$BUILD/install-root
rm -rf "$dest"
for k in $(kernel_61) $(kernel_612); do
	make -C "$REPO" --no-print-directory install KDIR="/lib/modules/$k/build" \
		DESTDIR="$dest" PREFIX=/usr > /dev/null
	ls "$dest/lib/modules/$k/updates/"dm-fence.ko* > /dev/null
	grep -q '^updates/dm-fence.ko' "$dest/lib/modules/$k/modules.dep"
done
for f in usr/include/linux/dm-fence.h usr/sbin/fencectl usr/share/man/man8/fencectl.8 \
	usr/share/man/man5/fencetab.5 lib/systemd/system/dm-fence.service \
	usr/share/man/man8/fence_dmfence.8 usr/share/man/man8/dm-fence-migrate.8 \
	usr/sbin/fence_dmfence usr/sbin/dm-fence-migrate etc/libvirt/hooks/qemu.d/dm-fence; do
	[ -s "$dest/$f" ] || { echo "missing: $f"; exit 1; }
done
for f in usr/sbin/fence_dmfence etc/libvirt/hooks/qemu.d/dm-fence lib/systemd/system/dm-fence.service; do
	if grep -q /usr/local/sbin/fencectl "$dest/$f"; then echo "$f: fencectl path not set"; exit 1; fi
done
man -l "$dest/usr/share/man/man8/fencectl.8" > /dev/null 2>&1 ||
	groff -man -Tutf8 "$dest/usr/share/man/man8/fencectl.8" > /dev/null
# the unit is one systemd takes: syntax, dependencies, and its commands
# (the fencectl just built standing in for the installed one)
sed "s|/usr/sbin/fencectl|$REPO/userspace/fencectl|" "$dest/lib/systemd/system/dm-fence.service" \
	> "$BUILD/dm-fence.service"
systemd-analyze verify --man=no "$BUILD/dm-fence.service"
# not "| grep -q": under pipefail the agent could die of SIGPIPE mid-print
meta=$("$dest/usr/sbin/fence_dmfence" -o metadata)
grep -q '<resource-agent name="fence_dmfence"' <<< "$meta"
echo "make install: ok"
