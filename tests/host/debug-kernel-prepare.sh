#!/bin/bash
# The debug kernels' build up to the merged and checked config (not the
# compile), on a cache that never built one: what a machine that never ran
# make check has.  Until issue 31 build.sh ended there after 18 s, with
# status 2 and not a word, and every machine the suite had run on had a
# cached build.  Also: a step that fails names itself on stderr (the log
# make check names), and nothing is made to look installed.
set -eEuo pipefail
source "$(dirname "$0")/../host-lib.sh"
build_sh=$REPO/tests/debug-kernel/build.sh
# shellcheck disable=SC2086 # a list of packages
install_missing $DEBUG_PACKAGES > /dev/null
# not under /tmp: build.sh refuses a cache the guest cannot see
cache=$(mktemp -d /var/tmp/dm-fence-empty-cache.XXXXXX)
trap 'rm -rf "$cache"' EXIT
links() { ls -d /boot/vmlinuz-*dmfence* /lib/modules/*dmfence* 2> /dev/null || true; }
links_before=$(links)
rc=0
# the flavours make check builds (kasan; check-debug's CHECK_DEBUG_FLAVOURS
# adds kcsan), each as make check builds it (--check) and whole (make
# check-debug, make stress): the first unpacks the kernel source, about
# 35 s here, the second finds it in the cache
for f in ${CHECK_DEBUG_FLAVOURS:-kasan}; do
	for set in --check ''; do
		what="$f${set:+ $set}"
		err=$BUILD/debug-kernel-prepare-$f${set:+-check}.log
		# shellcheck disable=SC2086 # $set: one word or none
		if ! config=$(DEBUG_KERNEL_CACHE=$cache "$build_sh" "$f" $set --prepare-only \
			2> "$err"); then
			echo "not ok $what: build.sh $what --prepare-only on a cache with no build" \
				"failed; its stderr:"
			sed 's/^/    /' "$err"
			rc=1
			continue
		fi
		if [ ! -s "$config" ]; then
			echo "not ok $what: printed '$config', which is no config"
			rc=1
			continue
		fi
		want=CONFIG_KASAN=y
		[ "$f" = kcsan ] && want=CONFIG_KCSAN=y
		# make check's pass loads dm-delay; the rest of the suite dm-flakey too
		flakey=CONFIG_DM_FLAKEY=m
		[ -n "$set" ] && flakey='# CONFIG_DM_FLAKEY is not set'
		if ! grep -qx "$want" "$config" || ! grep -qx CONFIG_DM_DELAY=m "$config" ||
		   ! grep -qx "$flakey" "$config"; then
			echo "not ok $what: $config lacks $want, CONFIG_DM_DELAY=m or '$flakey'"
			rc=1
			continue
		fi
		# preparation only: no kernel built, nothing cached as done
		if [ -e "$(dirname "$config")/arch/x86/boot/bzImage" ] ||
		   [ -n "$(find "$cache" -maxdepth 2 -name 'done')" ]; then
			echo "not ok $what: --prepare-only built or cached a kernel"
			rc=1
			continue
		fi
		echo "ok $what: $(wc -l < "$config") config lines, from a cache with no build"
	done
done
if [ "$(links)" != "$links_before" ]; then
	echo "not ok: --prepare-only changed /boot or /lib/modules"
	rc=1
fi
# A step that fails says which: a cache directory that cannot be made
# (build.sh names the command as written, with its variables).
# shellcheck disable=SC2016
if out=$(DEBUG_KERNEL_CACHE=/proc/dm-fence-no-cache "$build_sh" kasan --prepare-only 2>&1); then
	echo "not ok: build.sh succeeded with a cache in /proc"
	rc=1
elif ! grep -qF '"mkdir -p "$cache"" failed (exit 1)' <<< "$out"; then
	echo "not ok: a failed step was not named; build.sh said:"
	sed 's/^/    /' <<< "$out"
	rc=1
else
	echo "ok: a failed step is named: $(grep '^build.sh: line' <<< "$out")"
fi
exit $rc
