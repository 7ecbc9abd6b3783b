#!/bin/bash
# make deb, then the packages as an admin uses them: apt install ./*.deb
# builds dm-fence.ko through dkms (for each kernel under test), modprobe
# loads it in that kernel's guest and the packaged fencectl drives it; apt
# purge removes every file again.  Leaves the host as it found it.
set -euo pipefail
source "$(dirname "$0")/../host-lib.sh"
# built in a copy of the tree without .git, as from a release tarball
# (make deb listed the files with git ls-files only, issue 36)
src=$BUILD/deb-tree-without-git
rm -rf "$src"
mkdir -p "$src"
tar -C "$REPO" -cf - --exclude-vcs --exclude=./build . | tar -C "$src" -xf -
[ ! -e "$src/.git" ] || { echo "$src/.git copied"; exit 1; }
deb=$src/build/deb
make -C "$src" --no-print-directory deb > "$BUILD/deb-build.log" 2>&1 ||
	{ tail -30 "$BUILD/deb-build.log"; exit 1; }
files="/usr/src/dm-fence-1.0/dkms.conf /usr/sbin/fencectl /usr/sbin/fence_dmfence
	/usr/sbin/dm-fence-migrate /etc/libvirt/hooks/qemu.d/dm-fence /usr/libexec/dm-fence/libvirt-hook-qemu
	/usr/share/doc/dm-fence-tools/dm-fence.rst.gz
	/lib/systemd/system/dm-fence.target /usr/lib/systemd/system-generators/dm-fence-generator
	/usr/share/man/man5/fencetab.5.gz"
purge() { DEBIAN_FRONTEND=noninteractive apt-get purge -y -q dm-fence-tools dm-fence-dkms > "$BUILD/deb-purge.log" 2>&1; }
trap purge EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"/dm-fence-dkms_*.deb \
	"$deb"/dm-fence-tools_*.deb > "$BUILD/deb-install.log" 2>&1 ||
	{ tail -30 "$BUILD/deb-install.log"; exit 1; }
for f in $files; do
	[ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done
rc=0
for k in $(kernel_61) $(kernel_612); do
	# dkms builds at install for the running kernel; these are the ones under test
	dkms status -m dm-fence -k "$k" | grep -q installed ||
		dkms install -m dm-fence -v 1.0 -k "$k" > "$BUILD/deb-dkms-$k.log" 2>&1 ||
		{ tail -20 "$BUILD/deb-dkms-$k.log"; exit 1; }
done
# the two guests side by side: each boots and loads one module
declare -A guest
for k in $(kernel_61) $(kernel_612); do
	run_suite "$k" deb &
	guest[$k]=$!
done
for k in $(kernel_61) $(kernel_612); do
	wait "${guest[$k]}" || echo "$k: its guest ended with status $?"
	echo "$k:"
	cat "$VMS/$k-deb/results"
	if grep -q '^not ok ' "$VMS/$k-deb/results" || ! grep -qx complete "$VMS/$k-deb/results"; then
		tail -20 "$VMS/$k-deb/"*.log
		rc=1
	fi
done
purge || { tail -20 "$BUILD/deb-purge.log"; exit 1; }
trap - EXIT
for f in $files; do
	[ ! -e "$f" ] || { echo "left after purge: $f"; exit 1; }
done
for k in $(kernel_61) $(kernel_612); do
	if ls /lib/modules/"$k"/updates/dkms/dm-fence.ko* > /dev/null 2>&1; then
		echo "left after purge: /lib/modules/$k/updates/dkms/dm-fence.ko"
		exit 1
	fi
done
[ -z "$(dkms status -m dm-fence)" ] || { echo "dkms still knows dm-fence"; exit 1; }
exit $rc
