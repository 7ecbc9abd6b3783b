// SPDX-License-Identifier: LGPL-2.1-or-later
/* libfence: device resolution through libdevmapper, and the ioctls. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libdevmapper.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "libfence.h"

static const char *const state_names[] = {
	[DM_FENCE_STATE_OPEN] = "open",
	[DM_FENCE_STATE_CLOSING] = "closing",
	[DM_FENCE_STATE_CLOSED] = "closed",
	[DM_FENCE_STATE_FENCED] = "fenced",
};

const char *fence_state_name(uint32_t state)
{
	if (state < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[state];
	return "unknown";
}

int fence_state_from_name(const char *name)
{
	for (unsigned int i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(name, state_names[i]))
			return (int)i;
	return -1;
}

/* Keep libdevmapper quiet: failures are ours to report. */
static void dm_log_quiet(int level, const char *file, int line, int dm_errno,
			 const char *f, ...)
{
	(void)level; (void)file; (void)line; (void)dm_errno; (void)f;
}

int fence_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	/* digits only: strtoull would take " 5", "+5" and "-5" too */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int fence_open_count(const struct fence_device *dev)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
	struct dm_info info = { 0 };
	int r;

	if (!dmt)
		return fence_dm_unreachable();
	if (!dm_task_set_major(dmt, (int)dev->major) || !dm_task_set_minor(dmt, (int)dev->minor))
		r = -EINVAL;
	else if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
		r = dm_task_get_errno(dmt) ? -dm_task_get_errno(dmt) : -EIO;
	else
		r = info.exists ? info.open_count : -ENXIO;
	dm_task_destroy(dmt);
	return r;
}

void fence_dm_quiet(void)
{
	dm_log_with_errno_init(dm_log_quiet);
}

/*
 * Why libdevmapper cannot talk to the kernel (dm_task_create() fails
 * then, before it asks anything): -EACCES without the permission, -ENODEV
 * without device-mapper in the kernel.
 */
int fence_dm_unreachable(void)
{
	int fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return -EIO;
	}
	return errno == EACCES || errno == EPERM ? -EACCES : -ENODEV;
}

/* Set the task's device from the user's words: a path, MAJOR:MINOR or a name. */
static int task_set_device(struct dm_task *dmt, const char *spec)
{
	unsigned int maj, min;
	struct stat st;
	char tail;

	if (sscanf(spec, "%u:%u%c", &maj, &min, &tail) == 2)
		return dm_task_set_major(dmt, (int)maj) && dm_task_set_minor(dmt, (int)min);
	if (strchr(spec, '/')) {
		if (stat(spec, &st) || !S_ISBLK(st.st_mode))
			return 0;
		return dm_task_set_major(dmt, (int)major(st.st_rdev)) &&
		       dm_task_set_minor(dmt, (int)minor(st.st_rdev));
	}
	return dm_task_set_name(dmt, spec);
}

/* CAP_SYS_ADMIN in the effective set, which every dm ioctl checks */
static int has_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return 1;	/* cannot tell: do not claim a permission problem */
	return d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32) & 1;
}

static void fence_learn_diskseq(struct fence_device *dev);

int fence_resolve(const char *spec, struct fence_device *dev)
{
	struct dm_task *dmt;
	struct dm_info info;
	uint64_t start, length;
	char *type = NULL, *params;
	int r = FENCE_NO_DEVICE, fences = 0;
	void *next = NULL;

	/*
	 * Every dm ioctl wants CAP_SYS_ADMIN: without it say so, not "no such
	 * device" (libdevmapper fails before it asks, trying to create
	 * /dev/mapper).
	 */
	if (!has_cap_sys_admin())
		return FENCE_NO_PERMISSION;
	dm_log_with_errno_init(dm_log_quiet);
	dmt = dm_task_create(DM_DEVICE_TABLE);
	if (!dmt)
		return FENCE_NO_DEVICE;
	if (!task_set_device(dmt, spec) || !dm_task_run(dmt) ||
	    !dm_task_get_info(dmt, &info) || !info.exists) {
		/* CAP_SYS_ADMIN in a user namespace is not the kernel's */
		if (dm_task_get_errno(dmt) == EACCES || dm_task_get_errno(dmt) == EPERM)
			r = FENCE_NO_PERMISSION;
		goto out;
	}
	r = FENCE_NOT_FENCE;
	do {
		next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
		if (type && !strcmp(type, "fence"))
			fences++;
	} while (next);
	if (fences != 1)
		goto out;
	dev->major = info.major;
	dev->minor = info.minor;
	dev->diskseq = 0;
	snprintf(dev->name, sizeof(dev->name), "%s", dm_task_get_name(dmt));
	r = FENCE_RESOLVED;
	fence_learn_diskseq(dev);
out:
	dm_task_destroy(dmt);
	return r;
}

/* the control device held open by fence_hold_control(), or -1 */
static int held_fd = -1;

int fence_hold_control(int hold)
{
	if (hold && held_fd < 0) {
		held_fd = open("/dev/" DM_FENCE_CONTROL_NAME, O_RDWR | O_CLOEXEC);
		if (held_fd < 0)
			return -errno;
	} else if (!hold && held_fd >= 0) {
		close(held_fd);
		held_fd = -1;
	}
	return 0;
}

static int fence_ioctl(unsigned long cmd, void *arg)
{
	int fd = held_fd >= 0 ? held_fd : open("/dev/" DM_FENCE_CONTROL_NAME, O_RDWR | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = ioctl(fd, cmd, arg) ? -errno : 0;
	if (fd != held_fd)
		close(fd);
	return r;
}

/* every call is bound to the disk fence_resolve() found (since 1.5) */
#define HDR(s, dev, f) do {						\
	memset(&(s), 0, sizeof(s));					\
	(s).hdr.size = sizeof(s);					\
	(s).hdr.flags = (f) | ((dev)->diskseq ? DM_FENCE_DISKSEQ : 0);	\
	(s).hdr.dev_major = (dev)->major;				\
	(s).hdr.dev_minor = (dev)->minor;				\
	(s).diskseq = (dev)->diskseq;					\
} while (0)

int fence_status(const struct fence_device *dev, struct dm_fence_info *info)
{
	struct dm_fence_status s;
	int r;

	HDR(s, dev, 0);
	r = fence_ioctl(DM_FENCE_IOC_STATUS, &s);
	*info = s.info;
	return r;
}

/*
 * The disk the major:minor is now: a kernel before 1.5 leaves the field
 * zero (and the calls then go unguarded, as before).
 */
static void fence_learn_diskseq(struct fence_device *dev)
{
	struct dm_fence_status s;

	HDR(s, dev, 0);
	if (!fence_ioctl(DM_FENCE_IOC_STATUS, &s))
		dev->diskseq = s.diskseq;
}

int fence_close(const struct fence_device *dev, int fail, struct dm_fence_info *info)
{
	struct dm_fence_close s;
	int r;

	HDR(s, dev, fail ? DM_FENCE_CLOSE_FAIL : 0);
	r = fence_ioctl(DM_FENCE_IOC_CLOSE, &s);
	*info = s.info;
	return r;
}

int fence_drain(const struct fence_device *dev, int fail, uint32_t timeout_ms,
		struct dm_fence_info *info)
{
	struct dm_fence_drain s;
	int r;

	HDR(s, dev, fail ? DM_FENCE_CLOSE_FAIL : 0);
	s.timeout_ms = timeout_ms;
	r = fence_ioctl(DM_FENCE_IOC_DRAIN, &s);
	*info = s.info;
	return r;
}

int fence_reopen(const struct fence_device *dev, const uint64_t *closes,
		 struct dm_fence_info *info)
{
	struct dm_fence_reopen s;
	int r;

	HDR(s, dev, closes ? DM_FENCE_REOPEN_CLOSES : 0);
	if (closes)
		s.closes = *closes;
	r = fence_ioctl(DM_FENCE_IOC_REOPEN, &s);
	*info = s.info;
	return r;
}

int fence_unfence(const struct fence_device *dev, uint64_t generation,
		  int force, struct dm_fence_info *info)
{
	struct dm_fence_reopen s;
	int r;

	HDR(s, dev, DM_FENCE_REOPEN_UNFENCE | (force ? DM_FENCE_REOPEN_FORCE : 0));
	s.generation = generation;
	r = fence_ioctl(DM_FENCE_IOC_REOPEN, &s);
	*info = s.info;
	return r;
}

int fence_switch(const struct fence_device *dev, uint64_t reopens, const uint64_t *closes,
		 dev_t standby, struct dm_fence_info *info)
{
	struct dm_fence_reopen s;
	int r;

	HDR(s, dev, DM_FENCE_REOPEN_SWITCH | (closes ? DM_FENCE_REOPEN_CLOSES : 0) |
		    (standby ? DM_FENCE_REOPEN_STANDBY : 0));
	s.reopens = reopens;
	if (closes)
		s.closes = *closes;
	s.standby_major = major(standby);
	s.standby_minor = minor(standby);
	r = fence_ioctl(DM_FENCE_IOC_REOPEN, &s);
	*info = s.info;
	return r;
}

/* FENCE: raise the generation, or with DM_FENCE_FENCE_STORAGE confirm it */
static int fence_fence_call(const struct fence_device *dev, uint32_t flags, uint64_t generation,
			    int wait, uint32_t timeout_ms, struct dm_fence_info *info)
{
	struct dm_fence_fence s;
	int r;

	HDR(s, dev, flags | (wait ? DM_FENCE_FENCE_WAIT : 0));
	s.generation = generation;
	s.timeout_ms = timeout_ms;
	r = fence_ioctl(DM_FENCE_IOC_FENCE, &s);
	*info = s.info;
	return r;
}

int fence_fence(const struct fence_device *dev, uint64_t generation, int wait,
		uint32_t timeout_ms, struct dm_fence_info *info)
{
	return fence_fence_call(dev, 0, generation, wait, timeout_ms, info);
}

int fence_storage_fenced(const struct fence_device *dev, uint64_t generation, int wait,
			 uint32_t timeout_ms, struct dm_fence_info *info)
{
	return fence_fence_call(dev, DM_FENCE_FENCE_STORAGE, generation, wait, timeout_ms, info);
}

int fence_get_dirty(const struct fence_device *dev, uint64_t start, uint64_t count,
		    uint64_t *bitmap, int clear, uint64_t *dirty)
{
	struct dm_fence_get_dirty s;
	int r;

	HDR(s, dev, clear ? DM_FENCE_DIRTY_CLEAR : 0);
	s.start = start;
	s.count = count;
	s.bitmap_ptr = (uint64_t)(uintptr_t)bitmap;
	s.bitmap_size = (count + 63) / 64 * sizeof(uint64_t);
	r = fence_ioctl(DM_FENCE_IOC_GET_DIRTY, &s);
	if (!r && dirty)
		*dirty = s.dirty;
	return r;
}

#define FENCE_LOCK_DIR "/run/lock/dm-fence"

int fence_lock_device(const char *name)
{
	char path[sizeof(FENCE_LOCK_DIR) + 160];
	int fd;

	if (!*name || strchr(name, '/') || strlen(name) > 127)
		return -EINVAL;
	/* a host not booted by systemd may have no /run/lock yet */
	if (mkdir(FENCE_LOCK_DIR, 0700) && errno == ENOENT)
		(void)(mkdir("/run/lock", 01777) || chmod("/run/lock", 01777));
	if (mkdir(FENCE_LOCK_DIR, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), FENCE_LOCK_DIR "/%s", name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		close(fd);
		return e == EWOULDBLOCK ? -EBUSY : -e;
	}
	return fd;
}

static int event_task(const struct fence_device *dev, int type, uint32_t *event_nr)
{
	struct dm_task *dmt = dm_task_create(type);
	struct dm_info info;
	int r = -ENXIO;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_major(dmt, (int)dev->major) || !dm_task_set_minor(dmt, (int)dev->minor))
		goto out;
	if (type == DM_DEVICE_WAITEVENT && !dm_task_set_event_nr(dmt, *event_nr))
		goto out;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info) || !info.exists)
		goto out;
	*event_nr = info.event_nr;
	r = 0;
out:
	dm_task_destroy(dmt);
	return r;
}

int fence_event_nr(const struct fence_device *dev, uint32_t *event_nr)
{
	return event_task(dev, DM_DEVICE_INFO, event_nr);
}

int fence_wait_event(const struct fence_device *dev, uint32_t *event_nr)
{
	return event_task(dev, DM_DEVICE_WAITEVENT, event_nr);
}
