/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libfence: what fencectl (and toolstacks) need to drive dm-fence: name a
 * device as /dev/mapper/NAME, NAME or MAJOR:MINOR and check that it is a
 * fence target (through libdevmapper), and call the control device's
 * ioctls.
 */
#ifndef LIBFENCE_H
#define LIBFENCE_H

#include <stdint.h>
#include <sys/types.h>
#include <linux/dm-fence.h>

struct fence_device {
	uint32_t major;
	uint32_t minor;
	/*
	 * The disk's sequence number when fence_resolve() found it (0 from
	 * kernels before 1.5): every call passes it, so that a device removed
	 * and created again under the same major:minor answers ENXIO instead
	 * of being acted on.
	 */
	uint64_t diskseq;
	char name[128];		/* the device-mapper name */
};

/* Results of fence_resolve(). */
enum {
	FENCE_RESOLVED = 0,
	FENCE_NO_DEVICE = -1,	/* no such device-mapper device */
	FENCE_NOT_FENCE = -2,	/* a dm device, but not a fence target */
	FENCE_NO_PERMISSION = -3, /* device-mapper refused us (not root) */
};

int fence_resolve(const char *spec, struct fence_device *dev);
/*
 * How many openers the device's block device has now (a VM's qemu holds
 * it open while it runs), or -errno.
 */
int fence_open_count(const struct fence_device *dev);
/* a decimal number, digits only (no sign, no space): 0, or -1 */
int fence_parse_u64(const char *s, uint64_t *v);
/* libdevmapper's own messages off: the caller reports failures */
void fence_dm_quiet(void);
/* why dm cannot be reached: -EACCES, -ENODEV (or -EIO) */
int fence_dm_unreachable(void);
const char *fence_state_name(uint32_t state);
int fence_state_from_name(const char *name);

/*
 * Keep the control device open between calls (1) or not (0, the default:
 * a long-running caller such as watch should not pin the module).  Saves
 * an open and a close per call where each millisecond is downtime.
 */
int fence_hold_control(int hold);

/*
 * The calls open /dev/dm-fence each time (unless held); they return 0 or
 * -errno, and fill *info whenever the kernel did (also on -ETIMEDOUT and
 * -EINTR).
 */
int fence_status(const struct fence_device *dev, struct dm_fence_info *info);
int fence_close(const struct fence_device *dev, int fail,
		struct dm_fence_info *info);
int fence_drain(const struct fence_device *dev, int fail, uint32_t timeout_ms,
		struct dm_fence_info *info);
/*
 * closing/closed -> open; -ESTALE when fenced.  With @closes (not NULL),
 * only if the device's closes count is still *@closes: the close the
 * caller made (its CLOSE or DRAIN returned DM_FENCE_CALL_CLOSED), not one
 * someone else made after a reopen since (-ESTALE).  Kernels before 1.4
 * refuse it (-EINVAL).
 */
int fence_reopen(const struct fence_device *dev, const uint64_t *closes,
		 struct dm_fence_info *info);
/*
 * Switch to the standby device of the live table and reopen there, only
 * if the device is closed, its reopens count is still REOPENS, (with
 * @closes) its closes count still *@closes, and (@standby not 0) the
 * standby is still @standby at sector 0, the device the caller copied to.
 */
int fence_switch(const struct fence_device *dev, uint64_t reopens, const uint64_t *closes,
		 dev_t standby, struct dm_fence_info *info);
/*
 * fenced at @generation -> open; -ESTALE when not fenced at @generation
 * (a fence landed since the caller looked), -EBUSY while writes of an
 * older generation are below (unless @force).
 */
int fence_unfence(const struct fence_device *dev, uint64_t generation,
		  int force, struct dm_fence_info *info);
int fence_fence(const struct fence_device *dev, uint64_t generation, int wait,
		uint32_t timeout_ms, struct dm_fence_info *info);
/*
 * The caller confirms that the storage refuses this host's writes (export
 * revoked, reservation key preempted), for the fence at @generation: the
 * device is then settled (kernels since 1.6; EINVAL before).
 */
int fence_storage_fenced(const struct fence_device *dev, uint64_t generation, int wait,
			 uint32_t timeout_ms, struct dm_fence_info *info);
int fence_get_dirty(const struct fence_device *dev, uint64_t start,
		    uint64_t count, uint64_t *bitmap, int clear,
		    uint64_t *dirty);

/*
 * The per-device lock of the tools that change which disk a device is or
 * runs on (copy, create, remove): an flock on /run/lock/dm-fence/NAME,
 * never waited for.  Returns the fd to keep (closed at exit lets go), or
 * -EBUSY when another holds it, or -errno.
 */
int fence_lock_device(const char *name);

/* Block until the device's dm event counter passes *event_nr; updates it. */
int fence_wait_event(const struct fence_device *dev, uint32_t *event_nr);
int fence_event_nr(const struct fence_device *dev, uint32_t *event_nr);

#endif /* LIBFENCE_H */
