#!/bin/bash
# Build debug kernel <flavour> (kasan, kcsan) from Debian's linux-source-6.12,
# once: tinyconfig + the kernel's kvm_guest.config + base.config (what a
# guest running the host's userland needs) + guest.config (what make
# check's debug pass loads) + suite.config (what the rest of the suite
# loads) + <flavour>.config, merged with the kernel's own merge_config.sh.
# With --check, without suite.config, and released as <...>-check (its
# modules never stand in for the whole build's, nor the other way round):
# make check's kernel, about a fifth fewer objects to compile beside the
# Debian kernels' suites.
# tinyconfig, not defconfig: two thirds of the options, and a build that a
# fresh CI machine can afford.  The build
# is cached outside the checkout, keyed by the source package's version and
# a hash of the fragments and the recipe's version, so a second run on the same
# machine does not rebuild.  Makes the kernel look installed (symlinks
# /boot/vmlinuz-<release> and /lib/modules/<release>, whose build/ is the
# object tree), so the VM harness and dm-fence's build use it like Debian's.
# Prints the kernel release.  With --if-cached, only a kernel already built:
# exit 1 (and build nothing) if there is none.  With --prepare-only, stop at
# the merged and checked config, made in a directory of its own
# (<key>.prepare, never a build's, and no objects copied from one), and
# print its path: tests/host/debug-kernel-prepare.sh runs that on an empty
# cache, which is what a machine that never built one has.
set -eEuo pipefail
# a step that fails says which one (the log make check names is this
# script's stderr), not only that the script ended
failed() {	# <status> <command> <line>
	[[ $- != *e* ]] || echo "build.sh: line $3: \"$2\" failed (exit $1)" >&2
}
trap 'failed $? "$BASH_COMMAND" $LINENO' ERR
usage="usage: build.sh <flavour> [--check] [--if-cached | --prepare-only]"
flavour=${1:?$usage} mode='' set=suite
shift
for a; do
	case "$a" in
	--check) set=check ;;
	--if-cached | --prepare-only)
		[ -z "$mode" ] || { echo "$usage" >&2; exit 2; }
		mode=$a ;;
	*) echo "build.sh: unknown option '$a'; $usage" >&2; exit 2 ;;
	esac
done
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
srcver=$(dpkg-query -W -f '${Version}' "$pkg" 2> /dev/null) || srcver=
[ -n "$srcver" ] || { echo "build.sh: $pkg is not installed" >&2; exit 2; }
tarball=
for f in "/usr/src/$pkg".tar.*; do
	if [ -f "$f" ]; then tarball=$f; break; fi
done
[ -n "$tarball" ] || { echo "build.sh: no /usr/src/$pkg.tar.* (is $pkg whole?)" >&2; exit 2; }
# the fragments, merged in this order
frags=("$here/base.config" "$here/guest.config")
localversion=
if [ $set = check ]; then localversion=-check; else frags+=("$here/suite.config"); fi
frags+=("$here/$flavour.config")
# bump when a change below changes what is built
recipe=2
key=$srcver-$flavour-r$recipe-$(cat "${frags[@]}" | sha256sum | cut -c1-12)$localversion
dir=$cache/$key
[ "$mode" != --prepare-only ] || dir=$cache/$key.prepare
src=$cache/src-$srcver
obj=$dir/obj

[ -f "$dir/done" ] || [ "$mode" != --if-cached ] || exit 1
# everything but the release goes to stderr
exec 3>&1
if [ ! -f "$dir/done" ] || [ "$mode" = --prepare-only ]; then {
	mkdir -p "$cache"
	if [ ! -f "$src/Makefile" ]; then
		rm -rf "$src.tmp"
		mkdir -p "$src.tmp"
		tar -xf "$tarball" -C "$src.tmp" --strip-components=1
		mv "$src.tmp" "$src"
	fi
	rm -rf "$dir"
	# Start from the objects of this flavour's newest build from the same
	# source with other fragments (--check's or the whole suite's), if
	# there is one: kbuild (fixdep) records which CONFIG_ options each
	# object read, so changing a fragment rebuilds what that option
	# touches, not all 1900 objects.
	# A glob, not ls: on a cache that never built one, ls fails, and under
	# pipefail that ended this script without a word (issue 31).
	seed=
	if [ "$mode" != --prepare-only ]; then
		for d in "$cache/$srcver-$flavour-r$recipe-"*/done; do
			[ -f "$d" ] || continue
			if [ -z "$seed" ] || [ "$d" -nt "$seed" ]; then seed=$d; fi
		done
	fi
	if [ -n "$seed" ]; then
		echo "build.sh: starting from the objects of ${seed%/done}"
		mkdir -p "$dir"
		cp -a "$(dirname "$seed")/obj" "$obj"
	fi
	mkdir -p "$obj"
	make -C "$src" O="$obj" -s tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"$src/kernel/configs/kvm_guest.config" "${frags[@]}"
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
	done < <(cat "${frags[@]}")
	[ $bad = 0 ] || exit 1
	if [ "$mode" = --prepare-only ]; then
		echo "$obj/.config" >&3
		exit 0
	fi
	# LOCALVERSION (make's, after the config's): the release's suffix
	make -C "$src" O="$obj" LOCALVERSION="$localversion" -j"$(nproc)" -s bzImage modules
	make -C "$src" O="$obj" LOCALVERSION="$localversion" -s \
		INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 modules_install
	touch "$dir/done"
} >&2; fi
rel=$(cat "$obj/include/config/kernel.release")
ln -sfn "$obj" "$dir/root/lib/modules/$rel/build"
ln -sfn "$obj/arch/x86/boot/bzImage" "/boot/vmlinuz-$rel"
ln -sfn "$dir/root/lib/modules/$rel" "/lib/modules/$rel"
echo "$rel"
