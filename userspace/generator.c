// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence-generator: fencectl run by systemd as a generator (a link named
 * dm-fence-generator in a system-generators directory), as systemd's own
 * cryptsetup generator does for crypttab.  One unit per fencetab line,
 * dm-fence-NAME.service, bound to its backing device's .device unit: it
 * runs `fencectl create NAME` once that device is there (an iSCSI LUN, a
 * loop device on an NFS file) and is stopped if the device goes, instead of
 * one unit for every line ordered after services that do not wait for
 * their LUNs.  dm-fence.target wants them all and is ordered before the
 * consumers (libvirt, Pacemaker).  The same parser as fencectl create
 * (fencetab.c): a bad line is said (on the kernel log, where a generator's
 * stderr goes) and skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fencetab.h"
#include "generator.h"


/*
 * A string as part of a unit name (systemd.unit(5), "String Escaping"):
 * [A-Za-z0-9:_.] kept (a leading '.' escaped), '/' becomes '-', anything
 * else \xHH.  With @path, the leading and doubled slashes go first, as
 * `systemd-escape --path` does.
 */
static int unit_escape(const char *s, int path, char *out, size_t len)
{
	size_t n = 0;
	int w;

	if (path) {
		while (*s == '/')
			s++;
		if (!*s)
			return snprintf(out, len, "-") < (int)len ? 0 : -ENAMETOOLONG;
	}
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (path && c == '/' && (p[1] == '/' || !p[1]))
			continue;
		if (c == '/')
			w = snprintf(out + n, len - n, "-");
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == ':' || c == '_' || (c == '.' && p != s))
			w = snprintf(out + n, len - n, "%c", c);
		else
			w = snprintf(out + n, len - n, "\\x%02x", c);
		if (w < 0 || (size_t)w >= len - n)
			return -ENAMETOOLONG;
		n += (size_t)w;
	}
	return 0;
}

/*
 * The sandbox of each unit: what `fencectl create` needs and no more, as
 * far as can be told without running it under systemd (the test suite has
 * no systemd as init): device-mapper ioctls on /dev (kept whole: /dev/mapper
 * nodes may be made by libdevmapper itself), /dev/dm-fence, the per-device
 * lock under /run/lock, the records under /var/lib/dm-fence (read),
 * modprobe, and udev's semaphores (System V IPC) and the journal's socket.
 */
static const char hardening[] =
	"CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_MODULE CAP_MKNOD\n"
	"NoNewPrivileges=yes\n"
	"ProtectSystem=strict\n"
	"ReadWritePaths=-/var/lib/dm-fence /run/lock\n"
	"ProtectHome=yes\n"
	"PrivateTmp=yes\n"
	"PrivateNetwork=yes\n"
	"IPAddressDeny=any\n"
	"RestrictAddressFamilies=AF_UNIX AF_NETLINK\n"
	"ProtectKernelTunables=yes\n"
	"ProtectKernelLogs=yes\n"
	"ProtectControlGroups=yes\n"
	"ProtectClock=yes\n"
	"ProtectHostname=yes\n"
	"RestrictNamespaces=yes\n"
	"RestrictRealtime=yes\n"
	"RestrictSUIDSGID=yes\n"
	"LockPersonality=yes\n"
	"MemoryDenyWriteExecute=yes\n"
	"SystemCallArchitectures=native\n";

static int write_unit(const char *dir, const char *exe, const struct fencetab_entry *e)
{
	char name[512], dev[1024], path[4096], link[4096];
	FILE *f;
	int r;

	r = unit_escape(e->name, 0, name, sizeof(name));
	if (!r)
		r = unit_escape(e->backing, 1, dev, sizeof(dev));
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/dm-fence-%s.service", dir, name);
	f = fopen(path, "wxe");
	if (!f)
		return -errno;
	fprintf(f, "# Made by dm-fence-generator from %s\n"
		"[Unit]\n"
		"Description=dm-fence device %s on %s (closed, or fenced as last left)\n"
		"Documentation=man:fencetab(5) man:fencectl(8)\n"
		"SourcePath=%s\n"
		"DefaultDependencies=no\n"
		"BindsTo=%s.device\n"
		"After=%s.device systemd-modules-load.service\n"
		"Before=dm-fence.target shutdown.target\n"
		"Conflicts=shutdown.target\n"
		"\n"
		"[Service]\n"
		"Type=oneshot\n"
		"RemainAfterExit=yes\n"
		"ExecStartPre=-/sbin/modprobe dm-fence\n"
		"ExecStart=%s create %s\n"
		"# a device still in use stays: removing it is not worth failing the stop\n"
		"ExecStop=-%s remove %s\n"
		"%s",
		fencetab_path(), e->name, e->backing, fencetab_path(), dev, dev, exe, e->name,
		exe, e->name, hardening);
	r = ferror(f) ? -EIO : 0;
	if (fclose(f) && !r)
		r = -errno;
	if (r)
		return r;
	snprintf(link, sizeof(link), "%s/dm-fence.target.wants", dir);
	if (mkdir(link, 0755) && errno != EEXIST)
		return -errno;
	snprintf(link, sizeof(link), "%s/dm-fence.target.wants/dm-fence-%s.service", dir, name);
	snprintf(path, sizeof(path), "../dm-fence-%s.service", name);
	return symlink(path, link) ? -errno : 0;
}

int fence_generator(int argc, char **argv)
{
	struct fencetab_entry *v = NULL;
	char exe[4096];
	unsigned int bad = 0;
	ssize_t len;
	size_t n = 0;
	int r, worst = 0;

	if (argc < 2) {
		fprintf(stderr, "dm-fence-generator: usage: dm-fence-generator NORMAL_DIR "
			"[EARLY_DIR LATE_DIR]\n");
		return 1;
	}
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		fprintf(stderr, "dm-fence-generator: where is fencectl: %s\n", strerror(errno));
		return 1;
	}
	exe[len] = '\0';
	r = fencetab_load(&v, &n, &bad);
	if (r == -ENOENT)
		return 0;	/* no fencetab: no devices */
	if (r) {
		fprintf(stderr, "dm-fence-generator: %s: %s\n", fencetab_path(), strerror(-r));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		r = write_unit(argv[1], exe, &v[i]);
		if (r) {
			fprintf(stderr, "dm-fence-generator: %s: no unit: %s\n", v[i].name,
				strerror(-r));
			worst = 1;
		}
	}
	free(v);
	return worst;
}
