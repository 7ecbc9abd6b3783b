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
	usr/share/man/man5/fencetab.5 lib/systemd/system/dm-fence.target \
	usr/share/man/man8/fence_dmfence.8 usr/share/man/man8/dm-fence-migrate.8 \
	usr/sbin/fence_dmfence usr/sbin/dm-fence-migrate usr/libexec/dm-fence/libvirt-hook-qemu \
	etc/libvirt/hooks/qemu.d/dm-fence usr/share/doc/dm-fence/dm-fence.rst; do
	[ -s "$dest/$f" ] || [ -L "$dest/$f" ] || { echo "missing: $f"; exit 1; }
done
# the hook in /etc is a link (an executable there would be a conffile)
[ "$(readlink "$dest/etc/libvirt/hooks/qemu.d/dm-fence")" = /usr/libexec/dm-fence/libvirt-hook-qemu ] ||
	{ echo "the hook in qemu.d is not a link to /usr/libexec/dm-fence"; exit 1; }
for f in usr/sbin/fence_dmfence usr/libexec/dm-fence/libvirt-hook-qemu; do
	if grep -q /usr/local/sbin/fencectl "$dest/$f"; then echo "$f: fencectl path not set"; exit 1; fi
done
man -l "$dest/usr/share/man/man8/fencectl.8" > /dev/null 2>&1 ||
	groff -man -Tutf8 "$dest/usr/share/man/man8/fencectl.8" > /dev/null
# the generator (a link to the installed fencectl) makes one unit per
# fencetab line, bound to its backing device's .device unit (named as
# systemd-escape names it), pulled in by dm-fence.target; systemd takes
# them (syntax, dependencies, commands), and their sandbox is well under
# the 9.5 "UNSAFE" of a plain service
gen=$dest/usr/lib/systemd/system-generators/dm-fence-generator
[ -L "$gen" ] && [ "$(readlink -f "$gen")" = "$dest/usr/sbin/fencectl" ] ||
	{ echo "generator link: $(readlink "$gen")"; exit 1; }
out=$BUILD/generator
rm -rf "$out"
mkdir -p "$out/normal" "$out/early" "$out/late"
printf '%s\n' "vm1 /dev/disk/by-id/scsi-36001405a-b1" "# a comment" "vm.2 /dev/nullb0 generation=3" \
	"bad line with too many words" > "$out/fencetab"
FENCECTL_FENCETAB=$out/fencetab "$gen" "$out/normal" "$out/early" "$out/late" 2> "$out/stderr"
grep -q ':4: ' "$out/stderr" || { echo "the bad line not said: $(cat "$out/stderr")"; exit 1; }
for pair in "vm1 /dev/disk/by-id/scsi-36001405a-b1" "vm.2 /dev/nullb0"; do
	read -r name backing <<< "$pair"
	unit=$out/normal/dm-fence-$name.service
	[ -s "$unit" ] || { echo "no unit $unit: $(ls "$out/normal")"; exit 1; }
	want=$(systemd-escape -p --suffix=device "$backing")
	grep -qxF "BindsTo=$want" "$unit" || { echo "$unit: not bound to $want"; cat "$unit"; exit 1; }
	grep -qxF "After=$want systemd-modules-load.service" "$unit" || { echo "$unit: After"; exit 1; }
	[ "$(readlink "$out/normal/dm-fence.target.wants/dm-fence-$name.service")" = \
		"../dm-fence-$name.service" ] || { echo "dm-fence.target does not want $unit"; exit 1; }
	exposure=$(systemd-analyze security --offline=true "$unit" 2>&1 |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
	awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 5.0) }' ||
		{ echo "$unit: exposure '$exposure'"; exit 1; }
done
[ "$(ls "$out/normal"/*.service | wc -l)" = 2 ] || { echo "units: $(ls "$out/normal")"; exit 1; }
grep -qx "ExecStart=$dest/usr/sbin/fencectl create vm1" "$out/normal/dm-fence-vm1.service" ||
	{ echo "ExecStart: $(grep ExecStart "$out/normal/dm-fence-vm1.service")"; exit 1; }
cp "$dest/lib/systemd/system/dm-fence.target" "$out/normal/"
systemd-analyze verify --man=no "$out/normal/dm-fence.target" "$out/normal/"*.service
# no fencetab: no unit, no error
rm -rf "$out/none" && mkdir "$out/none"
FENCECTL_FENCETAB=$out/nonexistent "$gen" "$out/none" "$out/early" "$out/late"
[ -z "$(ls "$out/none")" ] || { echo "units without a fencetab"; exit 1; }
# not "| grep -q": under pipefail the agent could die of SIGPIPE mid-print
meta=$("$dest/usr/sbin/fence_dmfence" -o metadata)
grep -q '<resource-agent name="fence_dmfence"' <<< "$meta"
echo "make install: ok"
