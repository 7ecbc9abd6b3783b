// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: suspend and resume, and the writes dm core parks across them.
 *
 * A suspend must not wait for the writes the target holds while closed:
 * presuspend gives them back to dm core (--noflush) or fails them
 * (fence_dev_presuspend()).
 *
 * Some writes wait where the target cannot see them: while the device is
 * suspended dm core puts every new bio on its deferred list before any
 * target maps it, and a noflush presuspend hands the writes the target
 * held back to that list.  Resume maps them again from dm core's worker,
 * after the resume ioctl has returned.  One of them may predate a fence
 * that came meanwhile (it was issued before, or held before): should an
 * unfence open the device before it is mapped again, it would pass in the
 * new epoch and land after the new host's writes.
 *
 * So every resume sends a marker through dm core: a one-block read, sent
 * from the target's resume hook, while dm core still blocks I/O for the
 * suspend, lands at the tail of the deferred list, behind every bio parked
 * there (requeued ones go to its head).  dm core's worker maps them in
 * order; when map() sees the marker, each of them has been mapped again
 * and, if the device was fenced, failed.  Until then fence_may_open()
 * refuses to unfence (fdev->replay_pending).  The marker never reaches
 * the disk: map() fails it.
 *
 * A suspend that is interrupted hands the deferred list back before the
 * target hears of it (dm core flushes the list, then undoes presuspend),
 * so no marker can follow it there: if a fence came during that suspend,
 * unfence stays refused until the next resume's marker has come through.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/gfp.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

/* The data page of every marker: a read into it is a marker, nothing else. */
struct page *fence_replay_page;

int fence_replay_init(void)
{
	fence_replay_page = alloc_page(GFP_KERNEL);
	return fence_replay_page ? 0 : -ENOMEM;
}

void fence_replay_exit(void)
{
	__free_page(fence_replay_page);
}

static void fence_replay_end_io(struct bio *bio)
{
	bio_put(bio);
}

/*
 * From the resume hook (dm core holds the device's suspend lock and still
 * blocks I/O): send a marker behind whatever dm core parked.  Without
 * memory for one, unfence stays refused until a later resume sends one.
 */
void fence_replay_arm(struct fence_dev *fdev, struct dm_target *ti)
{
	struct block_device *bdev = dm_disk(dm_table_get_md(ti->table))->part0;
	unsigned int size = bdev_logical_block_size(bdev);
	struct bio *bio;

	bio = bio_alloc(bdev, 1, REQ_OP_READ, GFP_NOIO);
	spin_lock_irq(&fdev->lock);
	fdev->replay_vec = bio ? bio->bi_io_vec : NULL;
	fdev->replay_pending = true;
	spin_unlock_irq(&fdev->lock);
	if (!bio) {
		DMERR("%d:%d: no memory for the resume's marker: no unfence before the next resume",
		      MAJOR(fdev->devt), MINOR(fdev->devt));
		return;
	}
	bio->bi_iter.bi_sector = ti->begin;
	__bio_add_page(bio, fence_replay_page, size, 0);
	bio->bi_end_io = fence_replay_end_io;
	submit_bio(bio);
}

/*
 * From presuspend_undo: the suspend was interrupted, and dm core gave its
 * deferred list back to its worker already.  A fence since presuspend may
 * have writes of the old generation in that list that no marker follows.
 */
void fence_replay_undo(struct fence_dev *fdev)
{
	spin_lock_irq(&fdev->lock);
	if (fdev->generation != fdev->suspend_generation) {
		fdev->replay_vec = NULL;
		fdev->replay_pending = true;
	}
	spin_unlock_irq(&fdev->lock);
}

/*
 * From map(), for a marker (fence_replay_is_marker()): the caller fails it
 * (DM_MAPIO_KILL); if it is the last resume's, everything dm core parked
 * before it has been mapped again.
 */
void fence_replay_map(struct fence_dev *fdev, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&fdev->lock, flags);
	if (fdev->replay_vec == bio->bi_io_vec) {
		fdev->replay_vec = NULL;
		fdev->replay_pending = false;
	}
	spin_unlock_irqrestore(&fdev->lock, flags);
}

/*
 * dm core waits for every bio we hold before a suspend completes, so none
 * may stay held.  With --noflush they go back to dm core, which maps them
 * again after resume (and we hold them again while closed): nothing is
 * lost, nothing reaches the disk.  A flushing suspend of a closed device
 * fails them, as dm-multipath does with queue_if_no_path.
 */
void fence_dev_presuspend(struct fence_dev *fdev, bool noflush)
{
	struct bio_list released = BIO_EMPTY_LIST;
	struct fence_pb *pb;
	struct bio *bio;

	spin_lock_irq(&fdev->lock);
	fdev->suspending = true;
	fdev->suspend_noflush = noflush;
	fdev->suspend_generation = fdev->generation;
	if (!noflush) {
		bio_list_merge(&released, &fdev->held);
	} else {
		/*
		 * dm core puts each requeued bio at the head of its deferred
		 * list: give them back newest first, so that they come back
		 * (and are held again) in their arrival order.
		 */
		while ((bio = bio_list_pop(&fdev->held)))
			bio_list_add_head(&released, bio);
	}
	bio_list_init(&fdev->held);
	fdev->nr_held = 0;
	spin_unlock_irq(&fdev->lock);

	if (!noflush) {
		fence_fail_bios(fdev, &released);
		return;
	}
	while ((bio = bio_list_pop(&released))) {
		pb = dm_per_bio_data(bio, sizeof(*pb));
		pb->requeue = true;
		bio_endio(bio);
	}
}

void fence_dev_resume(struct fence_dev *fdev, struct fence_c *fc)
{
	spin_lock_irq(&fdev->lock);
	fdev->suspending = false;
	spin_unlock_irq(&fdev->lock);
	/* resumed last: its table is the live one (a switch acts on it) */
	mutex_lock(&fdev->target_mutex);
	fdev->live_fc = fc;
	fc->went_live = true;
	/*
	 * Live on the device a switch left (allow_switched_from): the
	 * operator moved it back, and later reloads of its line may name it.
	 */
	if (READ_ONCE(fc->active)->dev->bdev->bd_dev == fdev->switched_from)
		fdev->switched_from = 0;
	mutex_unlock(&fdev->target_mutex);
}
