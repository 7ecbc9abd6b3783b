/* SPDX-License-Identifier: GPL-2.0-only */
/* fencectl copy: storage live migration of a fence device (copy.c). */
#ifndef FENCECTL_COPY_H
#define FENCECTL_COPY_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "libfence.h"

struct copy_opts {
	int json;
	int verify;			/* compare SRC and DST after the final round */
	int reopen;			/* reopen SRC at the end instead of leaving it closed */
	int do_switch;			/* reload the device onto DST and reopen it there */
	int sparse;			/* deallocate DST where SRC reads as zeros */
	int allow_closed;		/* copy a source someone else closed or fenced */
	int max_rounds;			/* pre-copy rounds at most */
	uint64_t threshold;		/* stop pre-copy at this many dirty regions */
	uint32_t drain_timeout_ms;	/* 0: wait for the drain as long as it takes */
	double rate_mib_s;		/* 0: unlimited */
};

/*
 * Returns 0, or -errno: -ETIMEDOUT (drain, or the stale writes after a
 * fence, timed out), -ECANCELED (a signal set *cancelled), -ESTALE (the
 * source was fenced: DST holds all this host wrote, late completions
 * included, but it is no hand-over), -EILSEQ (verify found a difference).
 * On every failure the source is open again if the copy had closed it and
 * nobody fenced it.  *@switched says whether the device runs on DST (also
 * on a failure after the switch: a verify that found a difference, a
 * signal during the verify; then never -ECANCELED).  A signal after the
 * last line was reported changes nothing.  With o->do_switch the device runs on DST when it
 * returns 0 (and -ESTALE if it was fenced just after the switch); on a
 * failure before the switch it runs on SRC.  -EXDEV: DST overlaps the
 * device or its backing; -EBUSY: DST is held (mounted, or in use by dm),
 * or someone else reopened the source after the drain or cleared its
 * bitmap during the copy (DST may miss writes: nothing switched).
 */
int fence_copy(const struct fence_device *src, const char *dst_path,
	       const struct copy_opts *o, volatile sig_atomic_t *cancelled, int *switched);

/* A fence device's table (switch.c): one fence target over all of it. */
struct fence_table {
	dev_t backing;
	uint64_t offset;		/* sectors into the backing device */
	uint64_t length;		/* sectors */
	char features[512];		/* the line after device and offset */
};

int fence_table_of(const struct fence_device *dev, struct fence_table *t);
/*
 * One device-mapper task on DEV (by number, or by name if it has none yet),
 * with the fence target "params" of that length if params is not NULL,
 * noflush and skip-lockfs if no_flush; a create, remove or resume waits for
 * udev.
 */
int fence_dm_run(const struct fence_device *dev, int type, int no_flush,
		 const char *params, uint64_t length);
/*
 * copy --switch (switch.c): reload the device's line with DST added as its
 * standby (nothing is written to it until fence_switch()), and afterwards
 * reload the line the kernel prints (the device's backing, no standby),
 * which lets go of the device it no longer writes to.  Each is a suspend
 * (noflush, no lockfs), load and resume; 0, or -errno with the device
 * resumed on the line it had.
 */
int fence_switch_prepare(const struct fence_device *dev, const char *dst_path);
int fence_switch_release(const struct fence_device *dev);

/* copyq.c: copying ranges with several requests in flight */
struct copyq;
#define COPYQ_SPARSE	1		/* deallocate zero chunks on DST */
/* reads @in at @in_off + off, writes @out at off */
struct copyq *copyq_new(int in, uint64_t in_off, int out, unsigned int depth, size_t chunk,
			int flags);
unsigned int copyq_depth(const struct copyq *q);
uint64_t copyq_zeroed(const struct copyq *q);
int copyq_add(struct copyq *q, uint64_t off, size_t len);
int copyq_drain(struct copyq *q);
void copyq_free(struct copyq *q);

/* blockdev.c: 1 if the two devices can share a sector, 0 if not, or -errno */
int blockdev_overlap(dev_t a, dev_t b);
/* The logical block size of @d in bytes (512 when sysfs cannot tell). */
unsigned int blockdev_lbs(dev_t d);
/* The device number of the block device whose sysfs directory is @dir */
int blockdev_devt(const char *dir, dev_t *d);
/* /dev/NAME of the block device whose sysfs directory is @dir (its uevent) */
int blockdev_devname(const char *dir, char *path, size_t len);

#endif /* FENCECTL_COPY_H */
