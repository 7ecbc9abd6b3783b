#!/bin/bash
# Build debug kernel <flavour> (kasan, kcsan) from Debian's linux-source-6.12,
# once: tinyconfig + the kernel's kvm_guest.config + base.config (what a
# guest running the host's userland needs) + guest.config (what the suite
# loads) + <flavour>.config, merged with the kernel's own merge_config.sh.
# tinyconfig, not defconfig: two thirds of the options, and a build that a
# fresh CI machine can afford.  The build
# is cached outside the checkout, keyed by the source package's version and
# a hash of the fragments and the recipe's version, so a second run on the same
# machine does not rebuild.  Makes the kernel look installed (symlinks
# /boot/vmlinuz-<release> and /lib/modules/<release>, whose build/ is the
# object tree), so the VM harness and dm-fence's build use it like Debian's.
# Prints the kernel release.  With --if-cached, only a kernel already built:
# exit 1 (and build nothing) if there is none.
set -euo pipefail
flavour=$1 if_cached=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
cache=${DEBUG_KERNEL_CACHE:-/var/cache/dm-fence/kernels}
# the guest mounts a /tmp of its own: /lib/modules/<release> pointing
# there would point at nothing inside it
case "$cache" in /tmp|/tmp/*)
	echo "build.sh: DEBUG_KERNEL_CACHE=$cache: the guest cannot see the host's /tmp" >&2
	exit 2 ;;
esac
pkg=linux-source-6.12
[ -f "$here/$flavour.config" ] || { echo "build.sh: no flavour $flavour" >&2; exit 2; }
srcver=$(dpkg-query -W -f '${Version}' "$pkg")
tarball=$(ls /usr/src/$pkg.tar.* | head -n 1)
# bump when a change below changes what is built
recipe=2
key=$srcver-$flavour-r$recipe-$(cat "$here/base.config" "$here/guest.config" "$here/$flavour.config" | sha256sum | cut -c1-12)
dir=$cache/$key
src=$cache/src-$srcver
obj=$dir/obj

[ -f "$dir/done" ] || [ "$if_cached" != --if-cached ] || exit 1
# everything but the release goes to stderr
if [ ! -f "$dir/done" ]; then {
	mkdir -p "$cache"
	if [ ! -f "$src/Makefile" ]; then
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		tar -xf "$tarball" -C "$src.tmp" --strip-components=1
		mv "$src.tmp" "$src"
	fi
	rm -rf "$dir"
	# Start from the objects of this flavour's newest build from the same
	# source with other fragments, if there is one: kbuild (fixdep) records
	# which CONFIG_ options each object read, so changing a fragment rebuilds
	# what that option touches, not all 1900 objects.
	seed=$(ls -td "$cache/$srcver-$flavour-r$recipe-"*/done 2>/dev/null | head -n 1)
	if [ -n "$seed" ]; then
		mkdir -p "$dir"
		cp -a "$(dirname "$seed")/obj" "$obj"
	fi
	mkdir -p "$obj"
	make -C "$src" O="$obj" -s tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"$src/kernel/configs/kvm_guest.config" "$here/base.config" \
		"$here/guest.config" "$here/$flavour.config"
	make -C "$src" O="$obj" -s olddefconfig
	# a fragment line that did not survive olddefconfig (a missing
	# dependency) would quietly test less: refuse it
	bad=0
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		want=${line#*=} name=${line%%=*}
		have=$(sed -n "s/^$name=//p" "$obj/.config")
		if [ "$want" = n ]; then
			[ -z "$have" ] && continue
		fi
		[ "$have" = "$want" ] && continue
		echo "build.sh: $name=$want requested, config has '${have:-not set}'" >&2
		bad=1
	done < <(cat "$here/base.config" "$here/guest.config" "$here/$flavour.config")
	[ $bad = 0 ] || exit 1
	make -C "$src" O="$obj" -j"$(nproc)" -s bzImage modules
	make -C "$src" O="$obj" -s INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 modules_install
	touch "$dir/done"
} >&2; fi
rel=$(cat "$obj/include/config/kernel.release")
ln -sfn "$obj" "$dir/root/lib/modules/$rel/build"
ln -sfn "$obj/arch/x86/boot/bzImage" "/boot/vmlinuz-$rel"
ln -sfn "$dir/root/lib/modules/$rel" "/lib/modules/$rel"
echo "$rel"
