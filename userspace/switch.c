// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl copy --switch: move a fence device onto another backing device
 * under its consumer, in two table reloads outside the downtime and one
 * ioctl inside it:
 *
 *   before round 0   reload the line with "standby <DST> 0" added: the
 *                    table holds DST (exclusively) but writes nothing to it
 *   the downtime     copy.c closes and drains, copies the last dirty set
 *                    and syncs DST; then REOPEN with DM_FENCE_REOPEN_SWITCH
 *                    switches the live table to DST and reopens there, in
 *                    one step (the held writes go to DST), and only if
 *                    nobody reopened the device since copy.c looked
 *   afterwards       reload the line the kernel prints now (DST, no
 *                    standby): SRC is let go
 *
 * A reload suspends with --noflush and no lockfs: writes held while closed
 * go back to dm core, which maps them again after the resume; freezing a
 * filesystem above would write its dirty pages, which a closed device
 * holds, so the freeze would wait for ever.  A consumer sees a reload as a
 * pause of one suspend and resume, before the copy and after it.
 *
 * Nothing here can send a write to DST before the switch: a standby is
 * only ever written after REOPEN with SWITCH, which the kernel refuses on
 * a device that is not closed or was reopened since.  A crash of fencectl
 * anywhere leaves a device that works: on SRC with a harmless standby
 * (open, or closed: "fencectl reopen"), or on DST with SRC still in its
 * table; "dmsetup table NAME | dmsetup reload NAME; dmsetup resume NAME"
 * (with --noflush) drops either, and a rerun of the copy replaces a
 * standby.
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
 * changes what udev sees (create, remove, resume) waits for udev, as
 * dmsetup does.
 */
int fence_dm_run(const struct fence_device *dev, int type, int no_flush,
		 const char *params, uint64_t length)
{
	int udev = type == DM_DEVICE_RESUME || type == DM_DEVICE_CREATE ||
		   type == DM_DEVICE_REMOVE;
	struct dm_task *dmt = dm_task_create(type);
	uint32_t cookie = 0;
	int ok, r = -EIO;

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
	if (udev && !dm_task_set_cookie(dmt, &cookie, 0))
		goto out;
	ok = dm_task_run(dmt);
	if (udev)
		dm_udev_wait(cookie);
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

/*
 * Load PARAMS as the device's line and make it live: suspend (noflush, no
 * lockfs), load, resume.  On failure before the resume, the loaded line is
 * dropped and the device resumed on the line it had.
 */
static int fence_reload(const struct fence_device *dev, const char *params, uint64_t length)
{
	int r, undo;

	r = fence_dm_run(dev, DM_DEVICE_SUSPEND, 1, NULL, 0);
	if (r)
		return r;
	r = fence_dm_run(dev, DM_DEVICE_RELOAD, 0, params, length);
	if (!r) {
		r = fence_dm_run(dev, DM_DEVICE_RESUME, 0, NULL, 0);
		if (!r)
			return 0;
	}
	fence_dm_run(dev, DM_DEVICE_CLEAR, 0, NULL, 0);
	undo = fence_dm_run(dev, DM_DEVICE_RESUME, 0, NULL, 0);
	if (undo)
		fprintf(stderr, "fencectl: %s: cannot resume it after a failed reload: %s "
			"(dmsetup resume %s)\n", dev->name, strerror(-undo), dev->name);
	return r;
}

int fence_switch_prepare(const struct fence_device *dev, const char *dst_path)
{
	char params[sizeof(((struct fence_table *)0)->features) + 128];
	struct fence_table t;
	unsigned int n;
	struct stat st;
	int rest = 0, r;

	if (stat(dst_path, &st) || !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	r = fence_table_of(dev, &t);
	if (r)
		return r;
	/* the line always has features: the kernel prints the generation */
	if (sscanf(t.features, "%u %n", &n, &rest) != 1 || !rest)
		return -EINVAL;
	snprintf(params, sizeof(params), "%u:%u %" PRIu64 " %u %s standby %u:%u 0",
		 major(t.backing), minor(t.backing), t.offset, n + 3, t.features + rest,
		 major(st.st_rdev), minor(st.st_rdev));
	return fence_reload(dev, params, t.length);
}

int fence_switch_release(const struct fence_device *dev)
{
	char params[sizeof(((struct fence_table *)0)->features) + 64];
	struct fence_table t;
	int r;

	r = fence_table_of(dev, &t);
	if (r)
		return r;
	snprintf(params, sizeof(params), "%u:%u %" PRIu64 " %s", major(t.backing),
		 minor(t.backing), t.offset, t.features);
	return fence_reload(dev, params, t.length);
}
