# SPDX-License-Identifier: GPL-2.0-only
#
# make               build dm-fence.ko against KDIR (default: newest headers)
#                    and fencectl
# make check         install what is missing, build for both Debian kernels,
#                    run every test in QEMU (and the concurrency tests on the
#                    KASAN+lockdep kernel if it is built), print
#                    "N passed, N failed"
# make check-full    the same, every test on both Debian kernels (make check
#                    runs the tests of the tools above the target, marked
#                    "# kernels: newest", on the newest one only)
# make check-debug   the same as check-full, building the kasan and kcsan
#                    kernels, with the whole suite on both
# make bench         fio in the VM: raw device vs dm-linear vs dm-fence
# make demo          see it work: the stale-write corruption, its prevention,
#                    and a live storage migration, in a VM
# make stress        the long scenarios (STRESS_S, FENCE_RACES, FUZZ_ITERS)
# make install       install the module, header, tools, man page and the
#                    contrib host integration (DESTDIR, PREFIX honoured)
# make install-tools the same without the module and header
# make dkms-install  register the module with dkms: rebuilt for new kernels
# make deb           Debian packages dm-fence-dkms and dm-fence-tools in
#                    build/deb/ (no -Werror there), checked by lintian

KDIR ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)
KVER ?= $(if $(KDIR),$(notdir $(patsubst %/,%,$(dir $(KDIR)))))
BUILD ?= build
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
# the libvirt hook lives here; /etc only has a link to it (no executable
# conffile)
LIBEXECDIR ?= $(PREFIX)/libexec/dm-fence
DOCDIR ?= $(PREFIX)/share/doc/dm-fence
# systemd reads units from /lib (Debian) and from /usr/local/lib
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

MODULE_SRCS := Kbuild $(wildcard driver/*.c driver/*.h) uapi/linux/dm-fence.h

.PHONY: all module test-modules userspace check check-full check-debug bench stress demo install install-tools dkms-source dkms-install deb clean

all: module userspace

# Each kernel gets its own copy of the sources under build/<kver>/, so that
# the same tree builds for several kernels without the objects colliding.
module: $(BUILD)/$(KVER)/dm-fence.ko

$(BUILD)/$(KVER)/dm-fence.ko: $(MODULE_SRCS)
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	mkdir -p $(BUILD)/$(KVER)
	cp -a Kbuild driver uapi $(BUILD)/$(KVER)/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD)/$(KVER) $(KBUILD_ARGS) modules

# Test-only targets the guest suite loads (tests/modules/), never installed.
test-modules: $(BUILD)/$(KVER)/test-modules/dm-slow-undo.ko

$(BUILD)/$(KVER)/test-modules/dm-slow-undo.ko: $(wildcard tests/modules/*)
	@test -n "$(KDIR)" || { echo "no kernel headers: install linux-headers-amd64 or set KDIR" >&2; exit 1; }
	mkdir -p $(BUILD)/$(KVER)/test-modules
	cp -a tests/modules/. $(BUILD)/$(KVER)/test-modules/
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD)/$(KVER)/test-modules $(KBUILD_ARGS) modules

userspace:
	$(MAKE) -C userspace

check:
	bash tests/check.sh

# every test on both Debian kernels
check-full:
	CHECK_ALL_KERNELS=1 bash tests/check.sh

# the whole suite on the debug kernels too (make check runs a subset on kasan)
check-debug:
	CHECK_ALL_KERNELS=1 CHECK_DEBUG=all CHECK_DEBUG_FLAVOURS="kasan kcsan" bash tests/check.sh

bench:
	bash tests/bench.sh

stress:
	bash tests/stress.sh

demo:
	bash tests/demo.sh

install: all install-tools
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(BUILD)/$(KVER) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates modules_install
	depmod -a $(if $(DESTDIR),-b $(DESTDIR)) $(KVER)
	install -D -m 0644 uapi/linux/dm-fence.h $(DESTDIR)$(PREFIX)/include/linux/dm-fence.h

# everything but the module and its header (the dm-fence-tools package)
install-tools: userspace
	$(MAKE) -C userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	install -D -m 0755 contrib/dm-fence-migrate $(DESTDIR)$(PREFIX)/sbin/dm-fence-migrate
	install -D -m 0755 contrib/fence_dmfence $(DESTDIR)$(PREFIX)/sbin/fence_dmfence
	install -D -m 0644 contrib/fence_dmfence.8 $(DESTDIR)$(PREFIX)/share/man/man8/fence_dmfence.8
	install -D -m 0644 contrib/dm-fence-migrate.8 $(DESTDIR)$(PREFIX)/share/man/man8/dm-fence-migrate.8
	# libvirt runs every script in qemu.d (libvirt >= 6.5), with no environment
	# of ours, following links
	install -D -m 0755 contrib/libvirt-hook-qemu $(DESTDIR)$(LIBEXECDIR)/libvirt-hook-qemu
	install -d $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d
	ln -sf $(LIBEXECDIR)/libvirt-hook-qemu $(DESTDIR)$(SYSCONFDIR)/libvirt/hooks/qemu.d/dm-fence
	# fencetab's devices at boot (systemctl enable dm-fence.target; the
	# generator, a link to fencectl, makes a unit per line)
	install -D -m 0644 contrib/dm-fence.target $(DESTDIR)$(UNITDIR)/dm-fence.target
	# none runs with a PATH of ours: give them fencectl's place
	sed -i 's|/usr/local/sbin/fencectl|$(PREFIX)/sbin/fencectl|' \
		$(DESTDIR)$(PREFIX)/sbin/fence_dmfence $(DESTDIR)$(LIBEXECDIR)/libvirt-hook-qemu
	install -D -m 0644 Documentation/dm-fence.rst $(DESTDIR)$(DOCDIR)/dm-fence.rst

# dkms builds from /usr/src/dm-fence-<version>: the module's sources only.
dkms-source:
	rm -rf $(DESTDIR)/usr/src/dm-fence-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/dm-fence-$(VERSION)
	cp -a Kbuild driver uapi dkms.conf $(DESTDIR)/usr/src/dm-fence-$(VERSION)/

# Debian packages (dm-fence-dkms, dm-fence-tools) in $(BUILD)/deb/
deb:
	bash packaging/build-deb.sh $(CURDIR)/$(BUILD)

dkms-install: dkms-source
	dkms install -m dm-fence -v $(VERSION)

clean:
	rm -rf $(BUILD)
	$(MAKE) -C userspace clean
