// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the registry of mapped devices.  A struct fence_dev is found
 * by dev_t, created by the first table of a mapped device, shared by every
 * later one (a reload must agree with it on what only messages change),
 * and destroyed when the last table and the last control-device call let
 * go.  A table replaced while writes of it may still be unflushed leaves
 * its backing device behind as an orphan for the next closing flush.
 */

#include <linux/blkdev.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

static LIST_HEAD(fence_devs);		/* under fence_devs_mutex */
static DEFINE_MUTEX(fence_devs_mutex);

/* a cache of its own: /proc/slabinfo counts the devices alive */
static struct kmem_cache *fence_dev_cache;
/* destroys the devices whose closing flush outlived their remove */
static struct workqueue_struct *fence_release_wq;

int fence_dev_caches_init(void)
{
	fence_dev_cache = kmem_cache_create("dm_fence_dev", sizeof(struct fence_dev),
					    __alignof__(struct fence_dev), 0, NULL);
	if (!fence_dev_cache)
		return -ENOMEM;
	fence_release_wq = alloc_workqueue("dm-fence-release", 0, 0);
	if (!fence_release_wq)
		goto bad_wq;
	if (fence_epoch_cache_init())
		goto bad_epoch;
	return 0;

bad_epoch:
	destroy_workqueue(fence_release_wq);
bad_wq:
	kmem_cache_destroy(fence_dev_cache);
	return -ENOMEM;
}

/*
 * After the last device went: a release still running has let go of the
 * module but not returned yet (destroy_workqueue() waits).  Then after
 * rcu_barrier(): epochs are freed by RCU callbacks.
 */
void fence_dev_release_exit(void)
{
	destroy_workqueue(fence_release_wq);
}

void fence_dev_caches_exit(void)
{
	fence_epoch_cache_exit();
	kmem_cache_destroy(fence_dev_cache);
}

/*
 * A bitmap for the length and region size of @fc's table: the device's
 * first, or the larger one of a reload that grows it.  Says why in @error.
 */
int fence_table_bitmap_init(struct fence_bitmap *bm, struct fence_c *fc,
			    char **error)
{
	int r = fence_bitmap_init(bm, fc->ti->len, fc->region_shift);

	if (r == -E2BIG) {
		*error = "Dirty bitmap too large: use a larger region_size";
		return -EINVAL;
	}
	if (r)
		*error = "Cannot allocate dirty bitmap";
	return r;
}

static void fence_dev_release_work(struct work_struct *work);

static struct fence_dev *fence_dev_create(struct fence_c *fc, dev_t devt,
					  char **error)
{
	struct fence_dev *fdev = kmem_cache_zalloc(fence_dev_cache, GFP_KERNEL);
	struct fence_epoch *ep = NULL;
	int r = -ENOMEM;

	*error = "Cannot allocate fence device state";
	if (!fdev)
		return ERR_PTR(-ENOMEM);
	fdev->wq = alloc_workqueue("dm-fence-%u:%u", WQ_MEM_RECLAIM, 0,
				   MAJOR(devt), MINOR(devt));
	if (!fdev->wq)
		goto bad_wq;
	if (!fc->start_closed && !fc->start_fenced) {
		ep = fence_epoch_alloc(fdev, fc->table_generation);
		if (!ep)
			goto bad_epoch;
	}
	fdev->len = fc->ti->len;
	r = fence_table_bitmap_init(&fdev->bitmap, fc, error);
	if (r)
		goto bad_bitmap;
	fdev->devt = devt;
	refcount_set(&fdev->ref, 1);
	init_waitqueue_head(&fdev->state_wq);
	mutex_init(&fdev->msg_mutex);
	mutex_init(&fdev->target_mutex);
	init_rwsem(&fdev->bitmap_sem);
	INIT_LIST_HEAD(&fdev->targets);
	INIT_LIST_HEAD(&fdev->orphans);
	spin_lock_init(&fdev->lock);
	fdev->generation = fc->table_generation;
	fdev->state = fc->start_fenced ? FENCE_FENCED :
		fc->start_closed ? FENCE_CLOSED : FENCE_OPEN;
	fdev->close_fail = fc->start_close_fail;
	RCU_INIT_POINTER(fdev->live, ep);
	INIT_LIST_HEAD(&fdev->retired);
	bio_list_init(&fdev->held);
	bio_list_init(&fdev->to_submit);
	atomic64_set(&fdev->failed_writes, 0);
	atomic64_set(&fdev->late_completions, 0);
	INIT_WORK(&fdev->drain_work, fence_drain_work);
	INIT_WORK(&fdev->flush_work, fence_flush_work);
	INIT_WORK(&fdev->submit_work, fence_submit_work);
	INIT_WORK(&fdev->release_work, fence_dev_release_work);
	return fdev;

bad_bitmap:
	if (ep)
		fence_epoch_free(ep);
bad_epoch:
	destroy_workqueue(fdev->wq);
bad_wq:
	kmem_cache_free(fence_dev_cache, fdev);
	return ERR_PTR(r);
}

/*
 * Called when the last reference goes: the last table of the device went
 * away (dm core has waited for every bio it gave us, so every epoch is
 * drained), no control-device call still uses it, and no closing flush
 * runs (it holds a reference: a remove never waits for a disk that does
 * not answer; fence_dev_put_flush()).
 */
static void fence_dev_destroy(struct fence_dev *fdev)
{
	struct fence_epoch *ep, *tmp;

	/* dm core waited for the writes submit_work had: it is idle */
	flush_work(&fdev->submit_work);
	/*
	 * The drain work may start the flush work and the flush work may
	 * queue the drain work again (a reopen and close during the flush
	 * ask for another): once dying, neither queues the other, so that
	 * after a drain that was deciding and a drain a flush queued, none
	 * is left.  No flush runs: it would hold a reference.
	 */
	spin_lock_irq(&fdev->lock);
	fdev->dying = true;
	spin_unlock_irq(&fdev->lock);
	cancel_work_sync(&fdev->drain_work);
	cancel_work_sync(&fdev->flush_work);
	cancel_work_sync(&fdev->drain_work);
	destroy_workqueue(fdev->wq);
	fence_orphans_free(&fdev->orphans);
	list_for_each_entry_safe(ep, tmp, &fdev->retired, list) {
		list_del(&ep->list);
		call_rcu(&ep->rcu, fence_epoch_free_rcu);
	}
	ep = rcu_dereference_protected(fdev->live, true);
	if (ep)
		call_rcu(&ep->rcu, fence_epoch_free_rcu);
	fence_bitmap_free(&fdev->bitmap);
	kmem_cache_free(fence_dev_cache, fdev);
}

/*
 * A reload may not claim a state the device is not in: a line that says
 * closed, close_fail or fenced describes a device that writes nothing (or
 * fails writes), and loading it into one that writes would promise what
 * the device does not do.  Refused rather than silently ignored; a line
 * without them leaves the device's state as it is (the state belongs to
 * the device, not to a table).
 */
static char *fence_reload_state_mismatch(struct fence_dev *fdev,
					 struct fence_c *fc)
{
	enum fence_state state;
	bool close_fail;

	spin_lock_irq(&fdev->lock);
	state = fdev->state;
	close_fail = fdev->close_fail;
	spin_unlock_irq(&fdev->lock);

	if (fc->start_fenced && state != FENCE_FENCED)
		return "Feature fenced on a device that is not fenced";
	if (fc->start_closed && state == FENCE_OPEN)
		return "Feature closed on an open device: close it first";
	if (fc->start_close_fail && state != FENCE_FENCED && !close_fail)
		return "Feature close_fail on a device that holds writes: close fail first";
	return NULL;
}

/*
 * Under target_mutex.  After a switch the old device holds what the device
 * had at the switch, nothing since: a table on it (a line from before the
 * switch, a reload by a tool that did not see it) would run the consumer
 * on stale data.  Refused unless the line says allow_switched_from.
 */
static char *fence_switched_from(struct fence_dev *fdev, struct fence_c *fc)
{
	if (!fdev->switched_from || fc->allow_switched_from ||
	    fc->backing[0].dev->bdev->bd_dev != fdev->switched_from)
		return NULL;
	return "Backing device was left by a switch: stale (allow_switched_from overrides)";
}

/*
 * Find the state of the mapped device @devt, or create it for its first
 * table.  A later table (a reload) must agree with it on what it cannot
 * change: the generation (only 'fence' raises it) and the bitmap geometry.
 * A new device's state (its bitmap may be a vmalloc of gigabytes) is
 * allocated outside fence_devs_mutex, which every control-device call of
 * every device takes; found meanwhile (another table of the same mapped
 * device was constructed beside this one), the spare one is thrown away.
 */
struct fence_dev *fence_dev_attach(struct fence_c *fc, struct gendisk *disk,
				   char **error, bool *grow)
{
	dev_t devt = disk_devt(disk);
	struct fence_dev *fdev, *spare = NULL;
	struct fence_c *other;

	*grow = false;
again:
	mutex_lock(&fence_devs_mutex);
	list_for_each_entry(fdev, &fence_devs, list) {
		if (fdev->devt != devt)
			continue;
		mutex_lock(&fdev->target_mutex);
		list_for_each_entry(other, &fdev->targets, fd_list) {
			if (other->ti->table == fc->ti->table) {
				mutex_unlock(&fdev->target_mutex);
				*error = "Only one fence target per table";
				fdev = ERR_PTR(-EINVAL);
				goto out;
			}
		}
		*error = fence_switched_from(fdev, fc);
		mutex_unlock(&fdev->target_mutex);
		if (*error) {
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		if (fc->table_generation < fdev->generation) {
			*error = "Generation below the device's current generation";
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		if (fc->table_generation > fdev->generation) {
			*error = "Generation above the device's current one: use the fence message";
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		if (fc->region_shift != fdev->bitmap.region_shift) {
			*error = "Region size differs from the live table";
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		if (fc->ti->len < fdev->len) {
			*error = "Shrinking is refused: the bitmap covers the whole device";
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		*error = fence_reload_state_mismatch(fdev, fc);
		if (*error) {
			fdev = ERR_PTR(-EINVAL);
			goto out;
		}
		*grow = fc->ti->len > fdev->len;
		goto found;
	}
	if (!spare) {
		mutex_unlock(&fence_devs_mutex);
		spare = fence_dev_create(fc, devt, error);
		if (IS_ERR(spare))
			return spare;
		spare->diskseq = disk->diskseq;
		goto again;
	}
	fdev = spare;
	spare = NULL;
	list_add(&fdev->list, &fence_devs);
found:
	fdev->users++;
	mutex_lock(&fdev->target_mutex);
	list_add_tail(&fc->fd_list, &fdev->targets);
	mutex_unlock(&fdev->target_mutex);
out:
	mutex_unlock(&fence_devs_mutex);
	if (spare)	/* never published: nothing else knows it */
		fence_dev_destroy(spare);
	return fdev;
}

/*
 * At preresume of a table that grew the device (its bitmap was allocated
 * by the constructor): the device is suspended, so no write is mapped or
 * completes, and the write path's lockless marks cannot race the copy.
 * The new regions start dirty, so that a copy picks them up.
 */
int fence_dev_grow(struct fence_dev *fdev, struct fence_c *fc)
{
	sector_t len;
	int r = 0;

	mutex_lock(&fence_devs_mutex);	/* fdev->len, against an attach */
	down_write(&fdev->bitmap_sem);
	if (fc->ti->len < fdev->len) {
		r = -EINVAL;
	} else if (fc->ti->len > fdev->len && fc->grown.words) {
		fence_bitmap_grow_from(&fc->grown, &fdev->bitmap, fdev->len);
		swap(fdev->bitmap, fc->grown);
		fdev->len = fc->ti->len;
	}
	len = fdev->len;
	up_write(&fdev->bitmap_sem);
	mutex_unlock(&fence_devs_mutex);
	/* the old bitmap, or the unused new one */
	fence_bitmap_free(&fc->grown);
	if (r)
		DMERR("%d:%d: resume refused: table shorter than the device (%llu < %llu)",
		      MAJOR(fdev->devt), MINOR(fdev->devt),
		      (unsigned long long)fc->ti->len, (unsigned long long)len);
	return r;
}

/*
 * Under target_mutex: does the table @gone leave writes on its backing
 * device that no closing flush has covered yet?  Only if it ever went live
 * (a table only loaded, one whose constructor failed, or one whose resume
 * failed had no write), not while the device is closed (the closing flush
 * covered everything, and nothing passed since), so also while fenced (the
 * writes before the fence were never flushed: the close after an unfence
 * must reach them), only when another table stays (a reload: a removed
 * device reports no 'closed' any more), and only once per device.
 */
static bool fence_orphan_needed(struct fence_dev *fdev, struct fence_c *gone,
				struct block_device *bdev)
{
	struct fence_orphan *o;
	struct fence_c *fc;

	if (!gone->went_live || READ_ONCE(fdev->state) == FENCE_CLOSED)
		return false;
	if (list_empty(&fdev->targets))
		return false;
	list_for_each_entry(fc, &fdev->targets, fd_list)
		if (READ_ONCE(fc->active)->dev->bdev == bdev)
			return false;
	list_for_each_entry(o, &fdev->orphans, list)
		if (o->bdev == bdev)
			return false;
	return true;
}

/*
 * Keep @bdev open for the closing flush after its table is gone.  Read-only
 * and shared, so nothing that opens it exclusively notices; where the
 * kernel has no way we know to open it by number, a reference.
 */
static void fence_orphan_get(struct fence_orphan *o, struct block_device *bdev)
{
	o->bdev = bdev;
	o->opened = false;
#if defined(FENCE_HAVE_BDEV_FILE)
	o->file = bdev_file_open_by_dev(bdev->bd_dev, BLK_OPEN_READ, NULL, NULL);
	if (!IS_ERR(o->file)) {
		o->bdev = file_bdev(o->file);
		o->opened = true;
		return;
	}
#elif defined(FENCE_HAVE_BLKDEV_GET_FMODE)
	if (!IS_ERR(blkdev_get_by_dev(bdev->bd_dev, FMODE_READ, NULL))) {
		o->opened = true;
		return;
	}
#endif
	get_device(&bdev->bd_device);
}

void fence_orphan_put(struct fence_orphan *o)
{
	if (!o->opened)
		put_device(&o->bdev->bd_device);
	else
#if defined(FENCE_HAVE_BDEV_FILE)
		fput(o->file);
#elif defined(FENCE_HAVE_BLKDEV_GET_FMODE)
		blkdev_put(o->bdev, FMODE_READ);
#endif
	kfree(o);
}

void fence_dev_detach(struct fence_c *fc)
{
	struct block_device *bdev = READ_ONCE(fc->active)->dev->bdev;
	struct fence_dev *fdev = fc->fdev;
	struct fence_orphan *o;
	bool last, flush_now = false;
	int r;

	mutex_lock(&fence_devs_mutex);
	mutex_lock(&fdev->target_mutex);
	list_del(&fc->fd_list);
	if (fdev->live_fc == fc)
		fdev->live_fc = NULL;
	if (fence_orphan_needed(fdev, fc, bdev)) {
		o = kmalloc(sizeof(*o), GFP_KERNEL);
		if (o) {
			fence_orphan_get(o, bdev);
			list_add_tail(&o->list, &fdev->orphans);
		} else {
			flush_now = true;
		}
	}
	mutex_unlock(&fdev->target_mutex);
	last = --fdev->users == 0;
	if (last)
		list_del(&fdev->list);
	mutex_unlock(&fence_devs_mutex);

	if (flush_now) {
		/* no memory to remember it: flush it now, we still have it open */
		r = blkdev_issue_flush(bdev);
		if (r) {
			spin_lock_irq(&fdev->lock);
			fdev->flush_errors++;
			spin_unlock_irq(&fdev->lock);
			DMERR("%d:%d: flush of the replaced backing device failed (%d)",
			      MAJOR(fdev->devt), MINOR(fdev->devt), r);
		}
	}
	if (last)
		fence_dev_put(fdev);
}

/*
 * The state of mapped device @devt with a reference, for the control
 * device: safe against a concurrent remove, which only drops the
 * registry's reference.
 */
struct fence_dev *fence_dev_get(dev_t devt)
{
	struct fence_dev *fdev;

	mutex_lock(&fence_devs_mutex);
	list_for_each_entry(fdev, &fence_devs, list) {
		if (fdev->devt == devt) {
			refcount_inc(&fdev->ref);
			mutex_unlock(&fence_devs_mutex);
			return fdev;
		}
	}
	mutex_unlock(&fence_devs_mutex);
	return NULL;
}

void fence_dev_put(struct fence_dev *fdev)
{
	if (refcount_dec_and_test(&fdev->ref))
		fence_dev_destroy(fdev);
}

static void fence_dev_release_work(struct work_struct *work)
{
	fence_dev_destroy(container_of(work, struct fence_dev, release_work));
	module_put(THIS_MODULE);
}

/*
 * The closing flush's reference (fence_drain_work()), from the flush work
 * itself.  The last one (the device was removed while its disk did not
 * answer) cannot destroy the device here, since destroy waits for this
 * work and its queue: a work of the module's own does it, then lets go of
 * the module.  Otherwise the device, and with it the module, is still held
 * by a table or a control-device call.
 */
void fence_dev_put_flush(struct fence_dev *fdev)
{
	if (refcount_dec_and_test(&fdev->ref))
		queue_work(fence_release_wq, &fdev->release_work);
	else
		module_put(THIS_MODULE);
}
