// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the control device /dev/dm-fence.
 *
 * The ioctls add what messages and status cannot give: waiting (drain with
 * a time-out, fence and wait for the writes already below) and bulk data
 * (a window of the dirty bitmap).  Their semantics are those of the
 * messages; see uapi/linux/dm-fence.h for the structs and their rules.
 */

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

/* GET_DIRTY copies through a buffer of this many bytes, whatever the window. */
#define FENCE_CTL_CHUNK		4096
#define FENCE_CTL_CHUNK_REGIONS	(FENCE_CTL_CHUNK / sizeof(u64) * 64)

/*
 * Copy a growable struct in: the size userspace gives must cover at least
 * the first version of the struct (@min); a larger one is accepted only if
 * the bytes we do not know are zero (copy_struct_from_user: E2BIG).  It
 * must be the size the command number carries (@cmd: both are the caller's
 * sizeof() of the struct it was built with), or the two disagree on what
 * the buffer is.
 */
static int fence_ctl_copy_in(void *karg, size_t ksize, size_t min,
			     void __user *uarg, u32 *usize, unsigned int cmd)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < min)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	if (*usize != _IOC_SIZE(cmd))
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static int fence_ctl_copy_out(void __user *uarg, const void *karg,
			      size_t ksize, u32 usize)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, usize)) ?
		-EFAULT : 0;
}

/*
 * Before a call changes the device: can its answer be written back?  An
 * EFAULT then means nothing changed; only a buffer unmapped by another
 * thread while the call ran fails after the change (STATUS says what is).
 */
static int fence_ctl_writable(void __user *uarg, const void *karg,
			      size_t ksize, u32 usize)
{
	return fence_ctl_copy_out(uarg, karg, ksize, usize);
}

/*
 * Every call answers with the device's info, filled also when the call
 * itself failed (a wait that timed out says what remains), and drops the
 * reference the lookup took.
 */
static long fence_ctl_reply(struct fence_dev *fdev, struct dm_fence_info *info,
			    u64 *diskseq, void __user *uarg, const void *karg,
			    size_t ksize, u32 usize, int r, u32 call_flags)
{
	int c;

	fence_dev_info(fdev, info);
	info->call_flags = call_flags;
	*diskseq = fdev->diskseq;
	fence_dev_put(fdev);
	c = fence_ctl_copy_out(uarg, karg, ksize, usize);
	return r ? r : c;
}

/*
 * Check the header's flags and find the device, with a reference.  With
 * DM_FENCE_DISKSEQ, only the disk @diskseq: a major:minor whose device was
 * removed and created again is another device, as good as gone.
 */
static int fence_ctl_lookup(const struct dm_fence_ioc_hdr *hdr, u32 known,
			    u64 diskseq, struct fence_dev **fdev)
{
	bool guard = hdr->flags & DM_FENCE_DISKSEQ;

	if (hdr->flags & ~(known | DM_FENCE_DISKSEQ))
		return -EINVAL;
	/* a struct too short to carry it has it zero */
	if (guard != !!diskseq)
		return -EINVAL;
	if (hdr->dev_major > MINORMASK >> 8 || hdr->dev_minor > MINORMASK)
		return -ENXIO;
	*fdev = fence_dev_get(MKDEV(hdr->dev_major, hdr->dev_minor));
	if (!*fdev)
		return -ENXIO;
	if (guard && (*fdev)->diskseq != diskseq) {
		fence_dev_put(*fdev);
		return -ENXIO;
	}
	return 0;
}

/* A signal ends a wait with EINTR, not a restart: nothing was lost. */
static int fence_ctl_wait_result(long r)
{
	if (r == -ERESTARTSYS)
		return -EINTR;
	return r < 0 ? r : 0;
}

/* Wait until done(fdev, arg), a time-out (0: none) or a signal. */
static int fence_ctl_wait(struct fence_dev *fdev,
			  bool (*done)(struct fence_dev *fdev, u64 arg), u64 arg,
			  u32 timeout_ms)
{
	long w;

	if (!timeout_ms)
		return fence_ctl_wait_result(wait_event_interruptible(fdev->state_wq,
								      done(fdev, arg)));
	w = wait_event_interruptible_timeout(fdev->state_wq, done(fdev, arg),
					     msecs_to_jiffies(timeout_ms));
	return w ? fence_ctl_wait_result(w) : -ETIMEDOUT;
}

static long fence_ctl_status(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_status a;
	struct fence_dev *fdev;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), offsetof(typeof(a), diskseq), uarg,
			      &usize, cmd);
	if (!r)
		r = fence_ctl_lookup(&a.hdr, 0, a.diskseq, &fdev);
	if (r)
		return r;
	return fence_ctl_reply(fdev, &a.info, &a.diskseq, uarg, &a, sizeof(a),
			       usize, 0, 0);
}

static long fence_ctl_close(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_close a;
	struct fence_dev *fdev;
	bool closed = false;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), offsetof(typeof(a), diskseq), uarg,
			      &usize, cmd);
	if (!r)
		r = fence_ctl_writable(uarg, &a, sizeof(a), usize);
	if (!r)
		r = fence_ctl_lookup(&a.hdr, DM_FENCE_CLOSE_FLAGS, a.diskseq, &fdev);
	if (r)
		return r;
	r = fence_dev_close(fdev, a.hdr.flags & DM_FENCE_CLOSE_FAIL, false, &closed);
	return fence_ctl_reply(fdev, &a.info, &a.diskseq, uarg, &a, sizeof(a),
			       usize, r, closed ? DM_FENCE_CALL_CLOSED : 0);
}

/* settled, or nothing below can settle it any more (see FENCE's wait) */
static bool fence_ctl_fence_done(struct fence_dev *fdev, u64 unused)
{
	bool final;

	return fence_dev_settled(fdev, &final) || final;
}

/*
 * Closed, or no longer closing (reopened or fenced meanwhile), or a closing
 * flush failed since the drain began (@errors: flush_errors then): the
 * caller learns that at once, not at its time-out.
 */
static bool fence_ctl_drain_done(struct fence_dev *fdev, u64 errors)
{
	return READ_ONCE(fdev->state) != FENCE_CLOSING ||
		fence_dev_flush_errors(fdev) != errors;
}

static long fence_ctl_drain(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_drain a;
	struct fence_dev *fdev;
	bool closed = false;
	u64 errors;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), offsetof(typeof(a), diskseq), uarg,
			      &usize, cmd);
	if (!r && a.reserved)
		r = -EINVAL;
	if (!r)
		r = fence_ctl_writable(uarg, &a, sizeof(a), usize);
	if (!r)
		r = fence_ctl_lookup(&a.hdr, DM_FENCE_DRAIN_FLAGS, a.diskseq, &fdev);
	if (r)
		return r;

	errors = fence_dev_flush_errors(fdev);
	r = fence_dev_close(fdev, a.hdr.flags & DM_FENCE_CLOSE_FAIL, true, &closed);
	if (!r)
		r = fence_ctl_wait(fdev, fence_ctl_drain_done, errors, a.timeout_ms);
	if (!r && READ_ONCE(fdev->state) == FENCE_CLOSING)
		r = -EIO;	/* the closing flush failed */
	else if (!r && READ_ONCE(fdev->state) != FENCE_CLOSED)
		r = -EBUSY;	/* reopened or fenced meanwhile */
	return fence_ctl_reply(fdev, &a.info, &a.diskseq, uarg, &a, sizeof(a),
			       usize, r, closed ? DM_FENCE_CALL_CLOSED : 0);
}

static long fence_ctl_reopen(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_reopen a;
	struct fence_dev *fdev;
	bool unfence, do_switch, cas, named;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), DM_FENCE_REOPEN_SIZE_VER0, uarg,
			      &usize, cmd);
	if (r)
		return r;
	unfence = a.hdr.flags & DM_FENCE_REOPEN_UNFENCE;
	do_switch = a.hdr.flags & DM_FENCE_REOPEN_SWITCH;
	cas = a.hdr.flags & DM_FENCE_REOPEN_CLOSES;
	named = a.hdr.flags & DM_FENCE_REOPEN_STANDBY;
	/* version 0 cannot name the generation it saw, nor 1 the reopens */
	if (unfence && (usize < DM_FENCE_REOPEN_SIZE_VER1 || !a.generation ||
			a.generation > DM_FENCE_MAX_GENERATION))
		return -EINVAL;
	if (do_switch && (usize < DM_FENCE_REOPEN_SIZE_VER2 || unfence ||
			  (a.hdr.flags & DM_FENCE_REOPEN_FORCE)))
		return -EINVAL;
	/* version 2 cannot name the close; an unfence undoes a fence */
	if (cas && (usize < DM_FENCE_REOPEN_SIZE_VER3 || unfence))
		return -EINVAL;
	if (named && (usize < DM_FENCE_REOPEN_SIZE_VER3 || !do_switch))
		return -EINVAL;
	if ((!unfence && a.generation) || (!do_switch && a.reopens) ||
	    (!cas && a.closes) || (!named && (a.standby_major || a.standby_minor ||
					      a.standby_start)))
		return -EINVAL;
	r = fence_ctl_writable(uarg, &a, sizeof(a), usize);
	if (!r)
		r = fence_ctl_lookup(&a.hdr, DM_FENCE_REOPEN_FLAGS, a.diskseq, &fdev);
	if (r)
		return r;
	if (named && (a.standby_major > MINORMASK >> 8 || a.standby_minor > MINORMASK))
		r = -ESTALE;	/* no such device: not the standby */
	else if (do_switch)
		r = fence_dev_switch(fdev, a.reopens, cas ? &a.closes : NULL,
				     named ? MKDEV(a.standby_major, a.standby_minor) : 0,
				     a.standby_start);
	else
		r = fence_dev_open(fdev, unfence, a.generation,
				   a.hdr.flags & DM_FENCE_REOPEN_FORCE,
				   cas ? &a.closes : NULL);
	return fence_ctl_reply(fdev, &a.info, &a.diskseq, uarg, &a, sizeof(a),
			       usize, r, 0);
}

static long fence_ctl_fence(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_fence a;
	struct fence_dev *fdev;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), offsetof(typeof(a), diskseq), uarg,
			      &usize, cmd);
	if (!r && (a.reserved || !a.generation ||
		   a.generation > DM_FENCE_MAX_GENERATION))
		r = -EINVAL;
	if (!r)
		r = fence_ctl_writable(uarg, &a, sizeof(a), usize);
	if (!r)
		r = fence_ctl_lookup(&a.hdr, DM_FENCE_FENCE_FLAGS, a.diskseq, &fdev);
	if (r)
		return r;

	if (a.hdr.flags & DM_FENCE_FENCE_STORAGE)
		r = fence_dev_storage_fenced(fdev, a.generation);
	else
		r = fence_dev_fence(fdev, a.generation);
	if (!r && (a.hdr.flags & DM_FENCE_FENCE_WAIT))
		r = fence_ctl_wait(fdev, fence_ctl_fence_done, 0, a.timeout_ms);
	/*
	 * Unfenced meanwhile: not this call's fence any more.  Otherwise an
	 * error from below is no proof: such writes may still land.
	 */
	if (!r && (a.hdr.flags & DM_FENCE_FENCE_WAIT) && !fence_dev_settled(fdev, NULL))
		r = READ_ONCE(fdev->state) == FENCE_FENCED ? -ENOLINK : -ESTALE;
	return fence_ctl_reply(fdev, &a.info, &a.diskseq, uarg, &a, sizeof(a),
			       usize, r, 0);
}

/*
 * The bitmap is read under bitmap_sem one chunk at a time, never across a
 * copy to or from userspace (a fault may wait for a disk, and a resume that
 * grows the device for the sem).  A grow copies every bit, so chunks on
 * both sides of it make one consistent fetch.
 */
static void fence_ctl_restore(struct fence_dev *fdev, u64 start, u64 n,
			      const u64 *kbuf)
{
	down_read(&fdev->bitmap_sem);
	if (kbuf)
		fence_bitmap_restore(&fdev->bitmap, start, n, kbuf);
	else	/* what was cleared is not known any more: all of it */
		fence_bitmap_set_all(&fdev->bitmap, start, n);
	up_read(&fdev->bitmap_sem);
}

/*
 * A GET_DIRTY with clear that fails has cleared what it could not hand
 * over: set every bit it cleared again.  The chunks already copied are read
 * back from the caller's buffer; where that fails too, the whole chunk is
 * marked dirty (a false positive costs a copy, a lost bit loses data).
 */
static void fence_ctl_undo_clear(struct fence_dev *fdev, u64 start, u64 done,
				 u64 __user *ubuf, u64 *kbuf)
{
	u64 n, words;

	while (done) {
		n = min_t(u64, done, FENCE_CTL_CHUNK_REGIONS);
		words = DIV_ROUND_UP(n, 64);
		fence_ctl_restore(fdev, start, n,
				  copy_from_user(kbuf, ubuf, words * sizeof(u64)) ?
				  NULL : kbuf);
		ubuf += words;
		start += n;
		done -= n;
	}
	/* the call took nothing in the end: it does not count as a clear */
	atomic64_dec(&fdev->clears);
}

/* Copy the window chunk by chunk; on failure no cleared bit is lost. */
static int fence_ctl_copy_dirty(struct fence_dev *fdev,
				struct dm_fence_get_dirty *a, u64 *kbuf)
{
	u64 __user *ubuf = u64_to_user_ptr(a->bitmap_ptr);
	bool clear = a->hdr.flags & DM_FENCE_DIRTY_CLEAR;
	u64 start = a->start, left = a->count, n, words;
	int r = 0;

	a->dirty = 0;
	/*
	 * Counted before the first bit is taken, so a copy tool that reads
	 * the count after its final round sees every clear that took a bit
	 * before; a call that fails gives its bits back and uncounts itself.
	 */
	if (clear)
		atomic64_inc(&fdev->clears);
	while (left) {
		n = min_t(u64, left, FENCE_CTL_CHUNK_REGIONS);
		words = DIV_ROUND_UP(n, 64);
		down_read(&fdev->bitmap_sem);
		a->dirty += fence_bitmap_fetch(&fdev->bitmap, start, n, kbuf,
					       clear);
		up_read(&fdev->bitmap_sem);
		if (copy_to_user(ubuf + (start - a->start) / 64, kbuf,
				 words * sizeof(u64))) {
			if (clear)
				fence_ctl_restore(fdev, start, n, kbuf);
			r = -EFAULT;
			break;
		}
		start += n;
		left -= n;
		if (left && fatal_signal_pending(current)) {
			r = -EINTR;
			break;
		}
		cond_resched();
	}
	if (r && clear)
		fence_ctl_undo_clear(fdev, a->start, start - a->start, ubuf, kbuf);
	return r;
}

static long fence_ctl_get_dirty(void __user *uarg, unsigned int cmd)
{
	struct dm_fence_get_dirty a;
	struct fence_dev *fdev;
	u64 *kbuf, nr_regions;
	u32 usize;
	int r;

	r = fence_ctl_copy_in(&a, sizeof(a), offsetof(typeof(a), diskseq), uarg,
			      &usize, cmd);
	if (!r && (a.reserved[0] || a.reserved[1]))
		r = -EINVAL;
	if (!r)
		r = fence_ctl_lookup(&a.hdr, DM_FENCE_DIRTY_FLAGS, a.diskseq, &fdev);
	if (r)
		return r;
	a.diskseq = fdev->diskseq;

	/* a reload may grow the device meanwhile, never shrink it */
	down_read(&fdev->bitmap_sem);
	nr_regions = fdev->bitmap.nr_regions;
	up_read(&fdev->bitmap_sem);
	r = -EINVAL;
	if (!a.count || a.start % 64 || a.start >= nr_regions ||
	    a.count > nr_regions - a.start ||
	    a.bitmap_size / sizeof(u64) < DIV_ROUND_UP(a.count, 64))
		goto out;
	r = -ENOMEM;
	kbuf = kmalloc(FENCE_CTL_CHUNK, GFP_KERNEL);
	if (!kbuf)
		goto out;
	r = fence_ctl_copy_dirty(fdev, &a, kbuf);
	if (!r) {
		r = fence_ctl_copy_out(uarg, &a, sizeof(a), usize);
		if (r && (a.hdr.flags & DM_FENCE_DIRTY_CLEAR))
			fence_ctl_undo_clear(fdev, a.start, a.count,
					     u64_to_user_ptr(a.bitmap_ptr), kbuf);
	}
	kfree(kbuf);
out:
	fence_dev_put(fdev);
	return r;
}

static long fence_ctl_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != DM_FENCE_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return -ENOTTY;
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	/* the size in the number is not checked: hdr.size lets structs grow */
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(DM_FENCE_IOC_STATUS):
		return fence_ctl_status(uarg, cmd);
	case _IOC_NR(DM_FENCE_IOC_CLOSE):
		return fence_ctl_close(uarg, cmd);
	case _IOC_NR(DM_FENCE_IOC_DRAIN):
		return fence_ctl_drain(uarg, cmd);
	case _IOC_NR(DM_FENCE_IOC_REOPEN):
		return fence_ctl_reopen(uarg, cmd);
	case _IOC_NR(DM_FENCE_IOC_FENCE):
		return fence_ctl_fence(uarg, cmd);
	case _IOC_NR(DM_FENCE_IOC_GET_DIRTY):
		return fence_ctl_get_dirty(uarg, cmd);
	}
	return -ENOTTY;
}

static const struct file_operations fence_ctl_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = fence_ctl_ioctl,
	/* one layout for 32- and 64-bit userspace: pointers are __u64 */
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice fence_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = DM_FENCE_CONTROL_NAME,
	.fops = &fence_ctl_fops,
	.mode = 0600,
};

int fence_ctl_init(void)
{
	return misc_register(&fence_ctl_misc);
}

void fence_ctl_exit(void)
{
	misc_deregister(&fence_ctl_misc);
}
