// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whether two block devices can share a sector, read from sysfs: each
 * device, and every device below it (its "slaves", down to the disks), is
 * an extent of a whole disk (a partition: its start and size; anything
 * else: all of itself).  Two stacks overlap when an extent of one meets an
 * extent of the other on the same whole disk.  Conservative where it
 * cannot see further: a dm device over a part of a disk counts as all of
 * it.  Two whole disks are one when their identities are: a loop device's
 * backing file (its filesystem and inode), a SCSI or NVMe disk's WWID (the
 * same LUN through two iSCSI sessions without multipath is two sd disks).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "copy.h"

#define MAX_EXTENTS	64

struct extent {
	dev_t whole;
	uint64_t start, size;	/* sectors */
	char id[192];		/* the whole disk's identity, or "" */
};

struct stack {
	struct extent e[MAX_EXTENTS];
	int n;
};

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char path[PATH_MAX];
	FILE *f;
	int ok;

	/* a cut path would name another file */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%" SCNu64, v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

int blockdev_devt(const char *dir, dev_t *d)
{
	char path[PATH_MAX];
	unsigned int maj, min;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/dev", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%u:%u", &maj, &min) == 2;
	fclose(f);
	if (!ok)
		return -EINVAL;
	*d = makedev(maj, min);
	return 0;
}

/*
 * The identity of the whole disk whose sysfs directory is @dir: what two
 * device numbers of one disk share.  "" when there is none to read.
 */
static void read_identity(const char *dir, char *id, size_t len)
{
	char path[PATH_MAX + 32], line[160];
	struct stat st;
	FILE *f;

	id[0] = '\0';
	snprintf(path, sizeof(path), "%s/loop/backing_file", dir);
	f = fopen(path, "re");
	if (f) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!stat(line, &st))
				snprintf(id, len, "file %u:%u %llu", major(st.st_dev),
					 minor(st.st_dev), (unsigned long long)st.st_ino);
		}
		fclose(f);
		return;
	}
	snprintf(path, sizeof(path), "%s/device/wwid", dir);
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "%s/wwid", dir);
		f = fopen(path, "re");
	}
	if (!f)
		return;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			snprintf(id, len, "wwid %s", line);
	}
	fclose(f);
}

/* Add the device whose sysfs directory is @dir, and all below it. */
static int collect(const char *dir, struct stack *s, int depth)
{
	char real[PATH_MAX], path[PATH_MAX + NAME_MAX + 16];
	struct extent *e;
	struct dirent *de;
	uint64_t part;
	DIR *slaves;
	int r;

	if (depth > 16 || s->n == MAX_EXTENTS)
		return -ELOOP;
	if (!realpath(dir, real))
		return -errno;
	e = &s->e[s->n++];
	r = read_u64(real, "size", &e->size);
	if (r)
		return r;
	if (!read_u64(real, "partition", &part)) {
		/* a partition: its directory sits in its disk's */
		r = read_u64(real, "start", &e->start);
		snprintf(path, sizeof(path), "%s/..", real);
		if (!r)
			r = blockdev_devt(path, &e->whole);
		read_identity(path, e->id, sizeof(e->id));
	} else {
		e->start = 0;
		r = blockdev_devt(real, &e->whole);
		read_identity(real, e->id, sizeof(e->id));
	}
	if (r)
		return r;
	snprintf(path, sizeof(path), "%s/slaves", real);
	slaves = opendir(path);
	if (!slaves)
		return 0;
	while (!r && (de = readdir(slaves))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/slaves/%s", real, de->d_name);
		r = collect(path, s, depth + 1);
	}
	closedir(slaves);
	return r;
}

static int stack_of(dev_t d, struct stack *s)
{
	char dir[64];

	s->n = 0;
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(d), minor(d));
	return collect(dir, s, 0);
}

/* 1 if @a and @b can share a sector, 0 if not, -errno if sysfs cannot tell. */
int blockdev_overlap(dev_t a, dev_t b)
{
	struct stack *sa = calloc(2, sizeof(*sa)), *sb = sa + 1;
	int r;

	if (!sa)
		return -ENOMEM;
	r = stack_of(a, sa);
	if (!r)
		r = stack_of(b, sb);
	for (int i = 0; !r && i < sa->n; i++)
		for (int j = 0; !r && j < sb->n; j++) {
			const struct extent *x = &sa->e[i], *y = &sb->e[j];

			r = (x->whole == y->whole || (x->id[0] && !strcmp(x->id, y->id))) &&
			    x->start < y->start + y->size && y->start < x->start + x->size;
		}
	free(sa);
	return r;
}

int blockdev_devname(const char *dir, char *path, size_t len)
{
	char file[PATH_MAX + 16], line[128], name[96] = "";
	FILE *f;

	snprintf(file, sizeof(file), "%s/uevent", dir);
	f = fopen(file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "DEVNAME=%95s", name) == 1)
			break;
	fclose(f);
	if (!name[0])
		return -ENODEV;
	snprintf(path, len, "/dev/%s", name);
	return 0;
}

unsigned int blockdev_lbs(dev_t d)
{
	char dir[64];
	uint64_t v = 512;

	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u/queue", major(d), minor(d));
	return read_u64(dir, "logical_block_size", &v) || v > 65536 ? 512 : (unsigned int)v;
}
