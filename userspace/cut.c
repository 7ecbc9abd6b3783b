// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl cut: the host-side step of a fence, for a host that still
 * answers.
 *
 * A fence stops this host's writes above the storage stack.  A write the
 * NFS client already had may fail below (a soft time-out, the forced
 * shutdown) and still sit in the mount's TCP send queue, to reach the
 * server when a partition heals: its fate is unknown, and the device is
 * not settled.  Where the kernel can, this makes such a write unable to
 * leave the host: the NFS mount under the fence device is shut down (every
 * RPC of it fails, and none is sent again: /sys/fs/nfs/MAJ:MIN/shutdown),
 * then the TCP connections of this network namespace to that server are
 * destroyed (what they still queue is dropped, never sent: ss -K, the
 * kernel's SOCK_DESTROY), and none may be left.  Only then the caller
 * confirms to the kernel that no write of an older generation can reach
 * the storage (FENCE with DM_FENCE_FENCE_STORAGE, as after a storage-side
 * fence).
 *
 * Refused, before anything is done, where it cannot hold:
 * - below the device is something other than loop devices on files of
 *   NFS mounts (a disk, iSCSI): fence the storage (SCSI PR) instead;
 * - the kernel has no forced shutdown of an NFS mount (6.1): destroying
 *   the connection alone makes the client connect again and send the
 *   write once more, so only a storage-side fence can settle the device;
 * - another loop device on the same mount is not under a fenced fence
 *   device (the shutdown fails every file of the mount): --force.
 * The mount stays shut down until it is unmounted and mounted again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmount/libmount.h>
#include <limits.h>
#include <linux/loop.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "copy.h"
#include "cut.h"

extern char **environ;

#define CUT_MAX_MOUNTS	16
#define CUT_MAX_DEPTH	16

struct nfs_mount {
	dev_t dev;			/* st_dev of its files */
	char server[80];		/* ADDR:PORT ([ADDR]:PORT for IPv6), as ss takes it */
	char target[256];		/* the mount point, for messages */
	char shutdown[64];		/* its forced shutdown's sysfs file */
};

struct cut {
	struct nfs_mount m[CUT_MAX_MOUNTS];
	int n;
	struct libmnt_table *mounts;	/* /proc/self/mountinfo */
	char *why;			/* the caller's buffer: why it was refused */
	size_t why_len;
};

static int refuse(struct cut *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct cut *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->why_len, fmt, ap);
	va_end(ap);
	return -err;
}

/* A device's name for messages: /dev/NAME, else its sysfs directory's name */
static void label(const char *dir, char *name, size_t len)
{
	if (blockdev_devname(dir, name, len))
		snprintf(name, len, "%.100s", strrchr(dir, '/') + 1);
}

/*
 * The filesystem a loop device's file is on (LOOP_GET_STATUS64: no I/O, so
 * no wait on a server that does not answer, as a stat of the file would).
 */
static int loop_fs(const char *dir, dev_t *fs)
{
	struct loop_info64 li;
	char path[128];
	int fd, r;

	r = blockdev_devname(dir, path, sizeof(path));
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = ioctl(fd, LOOP_GET_STATUS64, &li) ? -errno : 0;
	close(fd);
	if (!r)
		*fs = (dev_t)li.lo_device;
	return r;
}

/* Add the NFS mount whose device number is @fs, once. */
static int add_mount(struct cut *c, const char *loop, dev_t fs)
{
	struct libmnt_fs *m;
	const char *type, *opts;
	char *addr = NULL, *port = NULL;
	size_t addr_len = 0, port_len = 0;
	struct nfs_mount *n;

	for (int i = 0; i < c->n; i++)
		if (c->m[i].dev == fs)
			return 0;
	m = mnt_table_find_devno(c->mounts, fs, MNT_ITER_BACKWARD);
	type = m ? mnt_fs_get_fstype(m) : NULL;
	if (!type || (strcmp(type, "nfs") && strcmp(type, "nfs4")))
		return refuse(c, EOPNOTSUPP, "%s is on a %s filesystem, not NFS: the host-side "
			      "step cannot cut it; fence the storage", loop, type ? type : "unknown");
	opts = mnt_fs_get_fs_options(m);
	if (!opts || mnt_optstr_get_option(opts, "addr", &addr, &addr_len) || !addr_len ||
	    addr_len > 64)
		return refuse(c, EOPNOTSUPP, "%s: the server's address is not in the mount's "
			      "options", mnt_fs_get_target(m));
	if (mnt_optstr_get_option(opts, "port", &port, &port_len) || port_len > 5)
		port_len = 0;
	if (c->n == CUT_MAX_MOUNTS)
		return refuse(c, E2BIG, "more than %d NFS mounts below", CUT_MAX_MOUNTS);
	n = &c->m[c->n++];
	n->dev = fs;
	snprintf(n->server, sizeof(n->server), "%s%.*s%s:%.*s",
		 memchr(addr, ':', addr_len) ? "[" : "", (int)addr_len, addr,
		 memchr(addr, ':', addr_len) ? "]" : "",
		 port_len ? (int)port_len : 4, port_len ? port : "2049");
	snprintf(n->target, sizeof(n->target), "%s", mnt_fs_get_target(m));
	snprintf(n->shutdown, sizeof(n->shutdown), "/sys/fs/nfs/%u:%u/shutdown", major(fs),
		 minor(fs));
	return 0;
}

/* Every leaf below the device whose sysfs directory is @dir: a loop on NFS. */
static int walk(struct cut *c, const char *dir, int depth)
{
	char real[PATH_MAX], path[PATH_MAX + NAME_MAX + 16], name[128];
	struct dirent *de;
	struct stat st;
	int r = 0, leaf = 1;
	DIR *slaves;
	dev_t fs = 0;

	if (depth > CUT_MAX_DEPTH)
		return refuse(c, ELOOP, "the stack below is deeper than %d", CUT_MAX_DEPTH);
	if (!realpath(dir, real))
		return refuse(c, errno, "%s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/loop", real);
	if (!stat(path, &st)) {
		label(real, name, sizeof(name));
		r = loop_fs(real, &fs);
		if (r)
			return refuse(c, -r, "%s: LOOP_GET_STATUS64: %s", name, strerror(-r));
		return add_mount(c, name, fs);
	}
	snprintf(path, sizeof(path), "%s/slaves", real);
	slaves = opendir(path);
	while (!r && slaves && (de = readdir(slaves))) {
		if (de->d_name[0] == '.')
			continue;
		leaf = 0;
		snprintf(path, sizeof(path), "%s/slaves/%s", real, de->d_name);
		r = walk(c, path, depth + 1);
	}
	if (slaves)
		closedir(slaves);
	if (!r && leaf) {
		label(real, name, sizeof(name));
		return refuse(c, EOPNOTSUPP, "%s is below it, not a loop device on NFS: the "
			      "host-side step cannot cut it; fence the storage", name);
	}
	return r;
}

/* 1 if a fence device fenced now holds the device of @dir (through any stack) */
static int under_fenced(const char *dir, int depth)
{
	char real[PATH_MAX], path[PATH_MAX + NAME_MAX + 16];
	struct fence_device fdev;
	struct dm_fence_info info;
	struct dirent *de;
	int found = 0;
	DIR *holders;
	dev_t d;

	if (depth > CUT_MAX_DEPTH || !realpath(dir, real))
		return 0;
	if (!blockdev_devt(real, &d)) {
		snprintf(path, sizeof(path), "%u:%u", major(d), minor(d));
		found = !fence_resolve(path, &fdev) && !fence_status(&fdev, &info) &&
			info.state == DM_FENCE_STATE_FENCED;
	}
	snprintf(path, sizeof(path), "%s/holders", real);
	holders = opendir(path);
	while (!found && holders && (de = readdir(holders))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/holders/%s", real, de->d_name);
		found = under_fenced(path, depth + 1);
	}
	if (holders)
		closedir(holders);
	return found;
}

/* Refuse when a loop device on one of the mounts is not under a fenced device. */
static int others_on_mounts(struct cut *c)
{
	char dir[PATH_MAX], name[128];
	struct dirent *de;
	struct stat st;
	int r = 0;
	DIR *d;
	dev_t fs = 0;

	d = opendir("/sys/block");
	if (!d)
		return refuse(c, errno, "/sys/block: %s", strerror(errno));
	while (!r && (de = readdir(d))) {
		if (strncmp(de->d_name, "loop", 4))
			continue;
		snprintf(dir, sizeof(dir), "/sys/block/%s/loop", de->d_name);
		if (stat(dir, &st))
			continue;	/* not bound to a file */
		snprintf(dir, sizeof(dir), "/sys/block/%s", de->d_name);
		if (loop_fs(dir, &fs))
			continue;
		for (int i = 0; i < c->n && !r; i++) {
			if (c->m[i].dev != fs || under_fenced(dir, 0))
				continue;
			label(dir, name, sizeof(name));
			r = refuse(c, EBUSY, "%s is also on %s and not under a fenced device: the "
				   "shutdown of the mount would fail its I/O too (--force)", name,
				   c->m[i].target);
		}
	}
	closedir(d);
	return r;
}

/* Run ss with @argv; the start of what it printed in @out ("" for nothing). */
static int run_ss(char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	char buf[512];
	ssize_t k;
	pid_t pid;
	int p[2], st, r;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	r = posix_spawnp(&pid, "ss", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	while (!r && ((k = read(p[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR))) {
		if (k > 0 && got + 1 < len) {
			size_t n = (size_t)k < len - 1 - got ? (size_t)k : len - 1 - got;

			memcpy(out + got, buf, n);
			got += n;
			out[got] = '\0';
		}
	}
	out[strcspn(out, "\n")] = '\0';
	close(p[0]);
	if (r)
		return -r;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

/* Shut the mount down, destroy its connections, see that none is left. */
static int cut_mount(struct cut *c, const struct nfs_mount *m)
{
	char server[96], left[160];
	char *kill[] = { "ss", "-K", "-H", "-t", "-n", "dst", server, NULL };
	char *list[] = { "ss", "-H", "-t", "-n", "dst", server, NULL };
	int fd, r;

	snprintf(server, sizeof(server), "%s", m->server);
	fd = open(m->shutdown, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return refuse(c, errno, "%s: %s", m->shutdown, strerror(errno));
	r = write(fd, "1\n", 2) == 2 ? 0 : -errno;
	close(fd);
	if (r)
		return refuse(c, -r, "%s: forced shutdown: %s", m->target, strerror(-r));
	r = run_ss(kill, left, sizeof(left));
	if (r)
		return refuse(c, -r, "%s: ss -K dst %s failed (is CONFIG_INET_DIAG_DESTROY "
			      "set?)", m->target, m->server);
	r = run_ss(list, left, sizeof(left));
	if (r)
		return refuse(c, -r, "%s: ss dst %s failed", m->target, m->server);
	if (left[0])
		return refuse(c, EBUSY, "%s: shut down, but a connection to %s is still there "
			      "(not destroyed: no tcp_diag module, no CONFIG_INET_DIAG_DESTROY; "
			      "or made again by another mount of that server here): fence the "
			      "storage: %s", m->target, m->server, left);
	return 0;
}

int fence_cut_below(const struct fence_device *dev, uint64_t generation, int force,
		    struct fence_cut_result *res)
{
	struct cut c = { .why = res->why, .why_len = sizeof(res->why) };
	struct dm_fence_info info;
	char dir[64];
	int r;

	res->why[0] = res->mounts[0] = '\0';
	r = fence_status(dev, &info);
	if (r)
		return refuse(&c, -r, "status: %s", strerror(-r));
	if (info.state != DM_FENCE_STATE_FENCED || info.generation != generation)
		return refuse(&c, ESTALE, "not fenced at %llu: nothing cut",
			      (unsigned long long)generation);
	c.mounts = mnt_new_table_from_file("/proc/self/mountinfo");
	if (!c.mounts)
		return refuse(&c, EIO, "cannot read /proc/self/mountinfo");
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", dev->major, dev->minor);
	r = walk(&c, dir, 0);
	if (!r && !c.n)
		r = refuse(&c, EOPNOTSUPP, "nothing below it to cut");
	for (int i = 0; !r && i < c.n; i++) {
		if (access(c.m[i].shutdown, W_OK))
			r = refuse(&c, EOPNOTSUPP, "%s: this kernel has no forced shutdown of an "
				   "NFS mount (6.12 has it, 6.1 not; or this /sys is not of the "
				   "mount's network namespace): a connection destroyed alone is "
				   "made again and the write sent again; only a storage-side fence "
				   "can settle it", c.m[i].target);
	}
	if (!r && !force)
		r = others_on_mounts(&c);
	/* all checked: from here on the mounts are shut down */
	for (int i = 0; !r && i < c.n; i++) {
		r = cut_mount(&c, &c.m[i]);
		snprintf(res->mounts + strlen(res->mounts), sizeof(res->mounts) - strlen(res->mounts),
			 "%s%s (%s)", i ? ", " : "", c.m[i].target, c.m[i].server);
	}
	mnt_unref_table(c.mounts);
	return r;
}
