// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the work a close sets going, none of it on the control path.
 * The drain work frees drained epochs and, once a closing device has
 * nothing left below, starts the closing flush; the flush work flushes
 * every backing device (the tables' and the orphans') holding no lock
 * while the disk answers, and makes the device closed; the submit work
 * dispatches the writes a reopen released.  Each state change is told to
 * waiters, dm events and udev (fence_raise_event()).
 */

#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

static bool fence_bdev_listed(struct block_device **bdevs, unsigned int n,
			      struct block_device *bdev)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (bdevs[i] == bdev)
			return true;
	return false;
}

/*
 * Under target_mutex: the distinct backing devices of every table of the
 * device, each with a reference (the tables may go while we flush), and the
 * orphans, moved to @orphans.  Returns how many are in *bdevs, or -ENOMEM.
 */
static int fence_flush_collect(struct fence_dev *fdev, struct block_device ***bdevs,
			       struct list_head *orphans)
{
	struct fence_c *fc;
	unsigned int n = 0, max = 0;

	mutex_lock(&fdev->target_mutex);
	list_for_each_entry(fc, &fdev->targets, fd_list)
		max++;
	*bdevs = kmalloc_array(max ?: 1, sizeof(**bdevs), GFP_KERNEL);
	if (!*bdevs) {
		mutex_unlock(&fdev->target_mutex);
		return -ENOMEM;
	}
	list_for_each_entry(fc, &fdev->targets, fd_list) {
		/* where its writes go: a standby gets none before a switch */
		struct block_device *bdev = READ_ONCE(fc->active)->dev->bdev;

		/* a table only loaded has had no write through it */
		if (!fc->went_live || fence_bdev_listed(*bdevs, n, bdev))
			continue;
		get_device(&bdev->bd_device);
		(*bdevs)[n++] = bdev;
	}
	list_splice_init(&fdev->orphans, orphans);
	mutex_unlock(&fdev->target_mutex);
	return n;
}

void fence_orphans_free(struct list_head *orphans)
{
	struct fence_orphan *o, *tmp;

	list_for_each_entry_safe(o, tmp, orphans, list) {
		list_del(&o->list);
		fence_orphan_put(o);
	}
}

/*
 * Flush every backing device that writes of the closed epochs went to: the
 * tables' and the orphans'.  Orphans are let go only once flushed.
 */
static int fence_flush_backing(struct fence_dev *fdev)
{
	struct block_device **bdevs;
	struct fence_orphan *o;
	LIST_HEAD(orphans);
	int n, i, r = 0, err;

	n = fence_flush_collect(fdev, &bdevs, &orphans);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		err = blkdev_issue_flush(bdevs[i]);
		if (err && !r)
			r = err;
		put_device(&bdevs[i]->bd_device);
	}
	kfree(bdevs);
	list_for_each_entry(o, &orphans, list) {
		err = blkdev_issue_flush(o->bdev);
		if (err && !r)
			r = err;
	}
	if (r) {
		mutex_lock(&fdev->target_mutex);
		list_splice(&orphans, &fdev->orphans);
		mutex_unlock(&fdev->target_mutex);
	} else {
		fence_orphans_free(&orphans);
	}
	return r;
}

/*
 * A state change: wake the waiters, raise a dm event (dmsetup wait) and
 * send a udev change uevent with the state and generation.  The uevent
 * carries the state read when it is sent, under target_mutex, so the
 * uevents of one device go out one at a time and the last one a listener
 * sees is the state the device is in.
 */
void fence_raise_event(struct fence_dev *fdev)
{
	char state[32], generation[48];
	char *envp[3];
	struct gendisk *disk;
	struct fence_c *fc;

	wake_up_all(&fdev->state_wq);

	mutex_lock(&fdev->target_mutex);
	/* Only the live table has an event callback; the others ignore it. */
	list_for_each_entry(fc, &fdev->targets, fd_list)
		dm_table_event(fc->ti->table);
	/* every table of the device is of the same mapped device */
	fc = list_first_entry_or_null(&fdev->targets, struct fence_c, fd_list);
	if (fc) {
		spin_lock_irq(&fdev->lock);
		snprintf(state, sizeof(state), "DM_FENCE_STATE=%s",
			 fence_state_name(fdev->state));
		snprintf(generation, sizeof(generation),
			 "DM_FENCE_GENERATION=%llu", fdev->generation);
		spin_unlock_irq(&fdev->lock);
		envp[0] = state;
		envp[1] = generation;
		envp[2] = NULL;
		disk = dm_disk(dm_table_get_md(fc->ti->table));
		kobject_uevent_env(&disk_to_dev(disk)->kobj, KOBJ_CHANGE, envp);
	}
	mutex_unlock(&fdev->target_mutex);
}

/*
 * Runs when a retired epoch drains.  Frees drained epochs, and if the device
 * is closing with nothing left below, starts the flush that makes every
 * write before the close durable.  Never waits for I/O.
 */
void fence_drain_work(struct work_struct *work)
{
	struct fence_dev *fdev = container_of(work, struct fence_dev, drain_work);
	struct fence_epoch *ep, *tmp;
	bool flush;

	spin_lock_irq(&fdev->lock);
	list_for_each_entry_safe(ep, tmp, &fdev->retired, list) {
		if (!ep->retire_done)
			continue;
		/*
		 * The sum of a retired epoch is exact: look again rather than
		 * trust that the completion of its last write reported it.
		 */
		if (!test_bit(0, &ep->drained) && !fence_epoch_sum(ep))
			set_bit(0, &ep->drained);
		if (test_bit(0, &ep->drained)) {
			list_del(&ep->list);
			fdev->nr_retired--;
			/* a late end_io() may still be summing it */
			call_rcu(&ep->rcu, fence_epoch_free_rcu);
		}
	}
	flush = fdev->state == FENCE_CLOSING && list_empty(&fdev->retired) &&
		!fdev->flushing && !fdev->dying;
	/*
	 * The flush holds the device until it ends (fence_dev_put_flush()):
	 * a remove does not wait for a disk that does not answer.  None
	 * starts once the last reference is gone (destroy is under way).
	 */
	if (flush && refcount_inc_not_zero(&fdev->ref))
		fdev->flushing = true;
	else
		flush = false;
	spin_unlock_irq(&fdev->lock);
	/* stale_inflight may have reached 0: FENCE with wait looks */
	wake_up_all(&fdev->state_wq);
	if (flush) {
		/* and the module: its code runs until the flush ends */
		__module_get(THIS_MODULE);
		queue_work(fdev->wq, &fdev->flush_work);
	}
}

/*
 * The closing flush.  It may wait as long as the disk does not answer, so
 * it holds no lock meanwhile: a fence, reopen or status goes on without
 * it, and its result only counts if nothing changed the close meanwhile.
 */
void fence_flush_work(struct work_struct *work)
{
	struct fence_dev *fdev = container_of(work, struct fence_dev, flush_work);
	bool closed = false, again;
	u64 seq;
	int r;

	spin_lock_irq(&fdev->lock);
	seq = fdev->close_seq;
	spin_unlock_irq(&fdev->lock);

	r = fence_flush_backing(fdev);

	spin_lock_irq(&fdev->lock);
	fdev->flushing = false;
	if (r)
		fdev->flush_errors++;
	/* reopened and closed again while we flushed: flush again */
	again = fdev->close_seq != seq && !fdev->dying;
	if (!r && !again && fdev->state == FENCE_CLOSING &&
	    list_empty(&fdev->retired)) {
		fence_set_state(fdev, FENCE_CLOSED);
		closed = true;
	}
	spin_unlock_irq(&fdev->lock);

	if (r)
		DMERR("%d:%d: flush after close failed (%d), still closing",
		      MAJOR(fdev->devt), MINOR(fdev->devt), r);
	if (again)
		queue_work(fdev->wq, &fdev->drain_work);
	if (closed)
		fence_raise_event(fdev);
	else
		/* DRAIN returns at once when the flush failed */
		wake_up_all(&fdev->state_wq);
	/* last: the device may be gone after it */
	fence_dev_put_flush(fdev);
}

/*
 * Dispatch the writes that reopen released, in their order.  They are
 * counted in the new epoch.  One at a time off fdev->to_submit: a submission
 * may wait for the disk (for a tag, say), and a fence that comes meanwhile
 * must find every write not yet dispatched there, to fail it.  The one we
 * took is counted as below (stale_inflight), as a write that passed map()
 * just before a fence.
 */
void fence_submit_work(struct work_struct *work)
{
	struct fence_dev *fdev = container_of(work, struct fence_dev, submit_work);
	struct bio *bio;

	for (;;) {
		spin_lock_irq(&fdev->lock);
		bio = bio_list_pop(&fdev->to_submit);
		spin_unlock_irq(&fdev->lock);
		if (!bio)
			break;
		dm_submit_bio_remap(bio, NULL);
	}
}
