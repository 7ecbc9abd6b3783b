# Helpers of the host-side scripts (check.sh, bench.sh, stress.sh): what to
# install, which kernels to test, how to build for them and run a suite in
# a guest.  Sourced, not run.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$REPO/build
VMS=$BUILD/vm

# Debian packages the whole bench needs; the kernels come on top.
HOST_PACKAGES="qemu-system-x86 busybox-static cpio xz-utils fio dmsetup sparse kmod
	make gcc libc6-dev linux-source-6.1 libdevmapper-dev libjson-c-dev liburing-dev libsystemd-dev libmount-dev pkg-config
	util-linux coreutils procps python3 gcc-multilib sg3-utils open-iscsi clang-tools
	nfs-kernel-server rpcbind iproute2 nftables jq e2fsprogs dkms groff-base
	fence-agents libxml2-utils systemd debhelper dh-dkms lintian
	pacemaker corosync pacemaker-cli-utils
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients"

apt_updated=
apt_update_once() {
	[ -n "$apt_updated" ] && return
	DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	apt_updated=1
}

install_missing() {	# <package...>
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages (run as root to install): ${missing[*]}" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	apt_update_once
	# INITRD=No: the kernels' postinst hook makes no initramfs (about a
	# minute of CPU each, and the initramfs-tools trigger then a third):
	# the guests boot with their own (tests/vm/mkinitramfs.sh).
	# --force-unsafe-io: dpkg does not fsync every file it unpacks.
	INITRD=No DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Options::=--force-unsafe-io \
		"${missing[@]}" > "$BUILD/apt.log" 2>&1 || { tail -20 "$BUILD/apt.log" >&2; return 1; }
}

# The two kernels: Debian's default (linux-image-amd64, 6.1) and the newest
# 6.12 the archive offers.  Looked up, never hard-coded.
kernel_61() {
	dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
		grep -o 'linux-image-[0-9][^ ,]*' | head -n 1 | sed 's/^linux-image-//'
}

kernel_612() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\) .*/\1/p' | sort -V | tail -n 1
}

install_host() {
	mkdir -p "$BUILD"
	install_missing $HOST_PACKAGES linux-image-amd64 linux-headers-amd64 || return 1
	K61=$(kernel_61)
	K612=$(kernel_612)
	if [ -z "$K612" ]; then
		apt_update_once
		K612=$(kernel_612)
	fi
	[ -n "$K61" ] || { echo "cannot tell linux-image-amd64's kernel" >&2; return 1; }
	[ -n "$K612" ] || { echo "no linux-image-6.12.*+deb12-amd64 in the archive" >&2; return 1; }
	install_missing "linux-image-$K61" "linux-headers-$K61" \
		"linux-image-$K612" "linux-headers-$K612" || return 1
	KERNELS="$K61 $K612"
}

# The debug kernels (tests/debug-kernel/): built once from Debian's
# linux-source-6.12, cached under /var/cache/dm-fence, installed as
# symlinks.  Prints the release.
DEBUG_PACKAGES="linux-source-6.12 bc bison flex libelf-dev libssl-dev make gcc libc6-dev xz-utils kmod"
debug_kernel() {	# <flavour: kasan|kcsan> [--check] [--if-cached]
	if [[ " $* " = *" --if-cached "* ]]; then
		dpkg-query -W linux-source-6.12 >/dev/null 2>&1 || return 1
	else
		install_missing $DEBUG_PACKAGES >&2 || return 1
	fi
	"$REPO/tests/debug-kernel/build.sh" "$@"
}

# What make check runs on the kasan kernel (40-190 s each there, 1179 s in
# all at nice 10 beside the 6.12 suite, from an empty state 2026-12-07):
# the races, storms, the fuzzer, the stuck-disk tests, load/unload, the
# dirty bitmap's fetch/clear race, the switch to a standby with writes
# held, and remove during a closing flush.
# make check-debug runs the rest there, among them the copy tests (50, 56:
# 290 s there; they drive the paths of 22 and 70 from fencectl) and the
# single held writes of 11 and 31 (115 s there): a write completing below
# a closing or fenced device, which the fio races 17 and 34 reach many
# times over.
DEBUG_CHECK_TESTS="01 17 22 34 44 45 64 67 68 69 70 77"

# build/<kver>/dm-fence.ko and the test-only targets, build/<kver>/test-modules/*.ko
build_module() {	# <kver> [make args...]
	local kver=$1
	shift
	make -C "$REPO" --no-print-directory module test-modules \
		KDIR="/lib/modules/$kver/build" KVER="$kver" "$@"
}

# The C programs the guest tests run (ioctl refusals, fuzzer): build/tools/.
build_test_tools() {
	local t
	mkdir -p "$BUILD/tools"
	for t in ioctl_refusals ioctl_fuzz dirty_fault pr_ioctl no_io_uring; do
		gcc -std=c11 -O2 -Wall -Wextra -Werror -I"$REPO/uapi" \
			-o "$BUILD/tools/$t" "$REPO/tests/guest/tools/$t.c" || return 1
	done
	# shellcheck disable=SC2046 # pkg-config prints several words
	gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$BUILD/tools/table_fuzz" \
		"$REPO/tests/guest/tools/table_fuzz.c" $(pkg-config --cflags --libs devmapper) || return 1
	gcc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -I"$REPO/uapi" -o "$BUILD/tools/dm_ioctl_fault.so" \
		"$REPO/tests/guest/tools/dm_ioctl_fault.c" -ldl || return 1
	gcc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o "$BUILD/tools/record_delay.so" \
		"$REPO/tests/guest/tools/record_delay.c" -ldl || return 1
}

# Run tests/guest/runner.sh <suite> in a guest of <kver>; the results land
# in build/vm/<kver>-<suite>/, or <kver>-$RUN_NAME/: make stress runs the
# check suite's tests, and must not wipe a make check running beside it.
run_suite() {	# <kver> <suite> [VAR=value...]
	local kver=$1 suite=$2 out=$VMS/$1-${RUN_NAME:-$2} grepo=$REPO
	shift 2
	# the guest mounts its own /tmp: it sees the host's at /run/host-tmp
	case "$REPO" in /tmp/*) grepo=/run/host-tmp/${REPO#/tmp/} ;; esac
	rm -rf "$out"
	mkdir -p "$out"
	{
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
		local v
		for v in "$@"; do printf 'export %q\n' "$v"; done
		printf 'exec bash %q %q\n' "$grepo/tests/guest/runner.sh" "$suite"
	} > "$out/job.sh"
	# The guests test dm-fence, not the CPU: they boot without the Spectre
	# mitigations (retpolines make each indirect call of the kernel a call
	# and a return more, each one more lookup for TCG).  Measured with two
	# guests of 6.12.118 at once on the same 8 tests (02 17 34 40 53 55 63
	# 72), 2026-12-07: 380 s against 451 s for the first seven, process
	# starts gaining most (55: 114 s against 153 s).  make bench keeps them:
	# it measures what a host runs.
	# And they keep the TSC as their clock (tsc=reliable): 6.1 sees TCG's
	# CPU (AMD, family 0xf, no invariant TSC) with two CPUs, marks the TSC
	# unstable and reads the HPET instead, an emulated device access at
	# every read of the clock; under TCG every vCPU's TSC is the one clock
	# of QEMU.  6.12 keeps the TSC of itself.
	local append=${VM_APPEND:-}
	[ "$suite" = bench ] || append="mitigations=off tsc=reliable $append"
	# the whole 6.12 suite takes about 23 min (2 cores, nothing else
	# running), about 33 beside the kasan build and pass; each test has its
	# own TEST_TIMEOUT inside
	VM_APPEND=$append VM_TIMEOUT=${VM_TIMEOUT:-3000} "$REPO/tests/vm/run.sh" "$kver" "$out" > "$out/qemu.log" 2>&1
}
