// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl copy --switch: move a fence device onto another backing device
 * under its consumer.  The device is closed and drained, and DST holds
 * everything the source had (copy.c did that); here:
 *
 *   suspend --noflush --nolockfs   held writes go back to dm core, which
 *                                  keeps them, and every later one, queued
 *   load  "<DST> 0 <features>"     the same line but the backing device:
 *                                  same length, generation and region size,
 *                                  so the device keeps its state and bitmap
 *   resume                         DST is live; the writes dm core kept are
 *                                  mapped again and held (still closed)
 *
 * and the caller reopens, which sends them to DST, and only then waits for
 * udev to have seen the resume (as dmsetup would, so that /dev/mapper is
 * settled when fencectl exits): udev's rules take milliseconds to tens of
 * them, which would otherwise be downtime.  No lockfs: freezing a
 * filesystem above writes its dirty pages, which a closed device holds,
 * so the freeze would wait for ever; the page cache needs no freeze, since
 * it is written through the same device before and after.
 *
 * Failure before the resume: the inactive table is cleared and the device
 * resumed on SRC, as it was.  A crash of fencectl in between leaves the
 * device suspended, with or without DST's table loaded: "dmsetup resume"
 * makes whichever table is there live (DST's only ever after DST was
 * synced) and "fencectl reopen" lets the writes go on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "copy.h"

/*
 * One task on the device, by number, or by name for one that has no number
 * yet (a create); 0 or -errno (EIO when dm says no more).  A task that
 * changes what udev sees (create, remove, resume) is given a udev cookie:
 * waited for here, or left in *cookie for the caller to wait for.
 */
int fence_dm_run(const struct fence_device *dev, int type, int no_flush,
		 const char *params, uint64_t length, uint32_t *cookie)
{
	int udev = type == DM_DEVICE_RESUME || type == DM_DEVICE_CREATE ||
		   type == DM_DEVICE_REMOVE;
	struct dm_task *dmt = dm_task_create(type);
	uint32_t own = 0;
	int ok, r = -EIO;

	if (!cookie)
		cookie = &own;
	*cookie = 0;
	if (!dmt)
		return -ENOMEM;
	if (dev->major || dev->minor ?
	    !dm_task_set_major(dmt, (int)dev->major) || !dm_task_set_minor(dmt, (int)dev->minor) :
	    !dm_task_set_name(dmt, dev->name))
		goto out;
	if (no_flush && (!dm_task_no_flush(dmt) || !dm_task_skip_lockfs(dmt)))
		goto out;
	if (params && !dm_task_add_target(dmt, 0, length, "fence", params))
		goto out;
	/* wait for udev, as dmsetup does */
	if (udev && !dm_task_set_cookie(dmt, cookie, 0))
		goto out;
	ok = dm_task_run(dmt);
	if (udev && (!ok || cookie == &own)) {
		dm_udev_wait(*cookie);
		*cookie = 0;
	}
	if (ok)
		r = 0;
	else
		r = dm_task_get_errno(dmt) ? -dm_task_get_errno(dmt) : -EIO;
out:
	dm_task_destroy(dmt);
	return r;
}

/*
 * The device's one fence target: its length, and the words of its table
 * line after the backing device and offset (the features).
 */
int fence_table_of(const struct fence_device *dev, struct fence_table *t)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TABLE);
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	unsigned int maj, min;
	int r = -EINVAL, rest = 0;
	void *next;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_major(dmt, (int)dev->major) || !dm_task_set_minor(dmt, (int)dev->minor) ||
	    !dm_task_run(dmt)) {
		r = -ENXIO;
		goto out;
	}
	next = dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	/* one target over the whole device: anything else is not ours to move */
	if (next || start || !type || strcmp(type, "fence") || !params)
		goto out;
	if (sscanf(params, "%u:%u %" SCNu64 " %n", &maj, &min, &t->offset, &rest) != 3 || !rest)
		goto out;
	t->backing = makedev(maj, min);
	t->length = length;
	snprintf(t->features, sizeof(t->features), "%s", params + rest);
	r = strlen(params + rest) < sizeof(t->features) ? 0 : -E2BIG;
out:
	dm_task_destroy(dmt);
	return r;
}

void fence_switch_udev_wait(uint32_t udev_cookie)
{
	if (udev_cookie)
		dm_udev_wait(udev_cookie);
}

int fence_switch_backing(const struct fence_device *dev, const char *dst_path,
			 const struct fence_table *t, uint32_t *udev_cookie)
{
	char params[sizeof(t->features) + 64];
	struct stat st;
	int r, undo;

	if (stat(dst_path, &st) || !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(params, sizeof(params), "%u:%u 0 %s", major(st.st_rdev), minor(st.st_rdev),
		 t->features);
	*udev_cookie = 0;
	r = fence_dm_run(dev, DM_DEVICE_SUSPEND, 1, NULL, 0, NULL);
	if (r)
		return r;
	r = fence_dm_run(dev, DM_DEVICE_RELOAD, 0, params, t->length, NULL);
	if (!r) {
		r = fence_dm_run(dev, DM_DEVICE_RESUME, 0, NULL, 0, udev_cookie);
		if (!r)
			return 0;
	}
	/* back on SRC: drop DST's table if it was loaded, and resume */
	fence_dm_run(dev, DM_DEVICE_CLEAR, 0, NULL, 0, NULL);
	undo = fence_dm_run(dev, DM_DEVICE_RESUME, 0, NULL, 0, NULL);
	if (undo)
		fprintf(stderr, "fencectl: %s: switch: cannot resume on the source: %s "
			"(dmsetup resume %s, then fencectl reopen %s)\n",
			dev->name, strerror(-undo), dev->name, dev->name);
	return r;
}
