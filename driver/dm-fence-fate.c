// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: what became of the writes of a fenced generation, and what the
 * device reports.
 *
 * A write below that completes successfully after its generation was fenced
 * landed (late_completions, dm-fence-dev.c).  One that completes with an
 * error may or may not have reached the storage: an NFS WRITE that a soft
 * time-out or a forced shutdown failed is still in TCP's send queue and is
 * retransmitted when a partition heals.  Those are counted here
 * (unknown_fate), and the device is "settled" (nothing of an older
 * generation can land any more) only when none is below or of unknown
 * fate, or a caller confirmed that the storage itself refuses this host.
 */

#include <linux/kernel.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

/*
 * A counted write failed below: it may still reach the storage (an error is
 * no proof that it did not).  Under the lock, so that a fence moves every
 * error of the generation it ends into unknown_fate, and none counted in
 * the old generation after the move is lost: an error is rare, the lock is
 * no cost on the fast path.
 */
void fence_dev_write_error(struct fence_dev *fdev, struct fence_epoch *ep)
{
	unsigned long flags;

	spin_lock_irqsave(&fdev->lock, flags);
	if (ep->generation < fdev->generation)
		fdev->unknown_fate++;
	else
		fdev->write_errors++;
	spin_unlock_irqrestore(&fdev->lock, flags);
}

/*
 * Under fdev->lock: fenced, and no write of an older generation can land
 * any more: each one dispatched below completed successfully (none below,
 * none failed), or the caller confirmed that the storage refuses this
 * host's writes (storage_fenced).  Writes dm core parked across a suspend
 * (replay_pending) fail when mapped again while fenced: no risk of their
 * landing.  *@final: nothing below that could still change the answer.
 */
static bool fence_dev_settled_locked(struct fence_dev *fdev, u64 stale,
				     bool *final)
{
	bool fenced = fdev->state == FENCE_FENCED;

	if (final)
		*final = !fenced || fdev->storage_fenced || !stale;
	return fenced && (fdev->storage_fenced || (!stale && !fdev->unknown_fate));
}

bool fence_dev_settled(struct fence_dev *fdev, bool *final)
{
	bool settled;

	spin_lock_irq(&fdev->lock);
	settled = fence_dev_settled_locked(fdev, fence_stale_inflight_locked(fdev),
					   final);
	spin_unlock_irq(&fdev->lock);
	return settled;
}

/*
 * The caller confirms that the storage refuses this host's writes (an NFS
 * export revoked for it, its SCSI reservation key preempted), for the fence
 * at @generation: refused (ESTALE) unless the device is fenced at exactly
 * that generation, so a confirmation cannot outlive the fence it was made
 * for.  Undone by the next fence and by unfence.
 */
int fence_dev_storage_fenced(struct fence_dev *fdev, u64 generation)
{
	enum fence_state state;
	u64 cur, unknown;
	int r = 0;

	mutex_lock(&fdev->msg_mutex);
	spin_lock_irq(&fdev->lock);
	state = fdev->state;
	cur = fdev->generation;
	unknown = fdev->unknown_fate;
	if (state != FENCE_FENCED || cur != generation)
		r = -ESTALE;
	else
		fdev->storage_fenced = true;
	spin_unlock_irq(&fdev->lock);
	mutex_unlock(&fdev->msg_mutex);

	if (r) {
		DMERR("%d:%d: storage_fenced %llu refused: the device is %s at generation %llu",
		      MAJOR(fdev->devt), MINOR(fdev->devt), generation,
		      fence_state_name(state), cur);
		return r;
	}
	DMINFO("%d:%d: fenced below the target at generation %llu (%llu of unknown fate)",
	       MAJOR(fdev->devt), MINOR(fdev->devt), generation, unknown);
	fence_raise_event(fdev);
	return 0;
}

void fence_dev_counts(struct fence_dev *fdev, struct fence_counts *c)
{
	struct fence_epoch *ep;
	long inflight = 0;

	spin_lock_irq(&fdev->lock);
	c->state = fdev->state;
	c->generation = fdev->generation;
	c->held = fdev->nr_held;
	c->flush_errors = fdev->flush_errors;
	c->reopens = fdev->reopens;
	c->closes = fdev->close_seq;
	c->close_fail = fdev->close_fail;
	/* it refuses only an unfence: said only while fenced */
	c->replay_pending = fdev->replay_pending && fdev->state == FENCE_FENCED;
	ep = rcu_dereference_protected(fdev->live, lockdep_is_held(&fdev->lock));
	if (ep)
		inflight += fence_epoch_sum(ep);
	list_for_each_entry(ep, &fdev->retired, list)
		inflight += fence_epoch_sum(ep);
	c->stale_inflight = fence_stale_inflight_locked(fdev);
	c->unknown_fate = fdev->unknown_fate;
	c->storage_fenced = fdev->storage_fenced;
	c->settled = fence_dev_settled_locked(fdev, c->stale_inflight, NULL);
	spin_unlock_irq(&fdev->lock);

	/* a live epoch's sum may be caught between CPUs under load */
	c->inflight = inflight > 0 ? inflight : 0;
	down_read(&fdev->bitmap_sem);
	c->dirty = fence_bitmap_dirty(&fdev->bitmap);
	c->regions = fdev->bitmap.nr_regions;
	c->len = fdev->len;
	up_read(&fdev->bitmap_sem);
	c->late_completions = atomic64_read(&fdev->late_completions);
	c->failed_writes = atomic64_read(&fdev->failed_writes);
	c->clears = atomic64_read(&fdev->clears);
}

u64 fence_dev_flush_errors(struct fence_dev *fdev)
{
	u64 n;

	spin_lock_irq(&fdev->lock);
	n = fdev->flush_errors;
	spin_unlock_irq(&fdev->lock);
	return n;
}

void fence_dev_info(struct fence_dev *fdev, struct dm_fence_info *info)
{
	struct fence_counts c;
	struct fence_c *fc;

	fence_dev_counts(fdev, &c);
	memset(info, 0, sizeof(*info));
	info->state = c.state;
	info->generation = c.generation;
	info->inflight = c.inflight;
	info->held = c.held;
	info->stale_inflight = c.stale_inflight;
	info->late_completions = c.late_completions;
	info->failed_writes = c.failed_writes;
	info->dirty = c.dirty;
	info->regions = c.regions;
	info->flush_errors = c.flush_errors;
	info->region_size = 1ULL << fdev->bitmap.region_shift;
	info->length = c.len;
	info->reopens = c.reopens;
	info->clears = c.clears;
	info->closes = c.closes;
	info->dev_flags |= DM_FENCE_DEV_SEQ | DM_FENCE_DEV_CLOSES;
	if (c.close_fail)
		info->dev_flags |= DM_FENCE_DEV_CLOSE_FAIL;
	if (c.replay_pending)
		info->dev_flags |= DM_FENCE_DEV_REPLAY_PENDING;
	info->unknown_fate = min_t(u64, c.unknown_fate, U32_MAX);
	info->dev_flags |= DM_FENCE_DEV_UNKNOWN;
	if (c.storage_fenced)
		info->dev_flags |= DM_FENCE_DEV_STORAGE_FENCED;
	if (c.settled)
		info->dev_flags |= DM_FENCE_DEV_SETTLED;
	mutex_lock(&fdev->target_mutex);
	fc = list_first_entry_or_null(&fdev->targets, struct fence_c, fd_list);
	if (fc && fc->fence_reads)
		info->dev_flags |= DM_FENCE_DEV_FENCE_READS;
	fc = fdev->live_fc;
	if (fc && fc->backing[1].dev && fc->active == &fc->backing[0])
		info->dev_flags |= DM_FENCE_DEV_STANDBY;
	mutex_unlock(&fdev->target_mutex);
}

