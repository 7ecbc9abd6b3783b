// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the life of an epoch (struct fence_epoch, counted in
 * dm-fence-epoch.c): allocated by an open, published as the live epoch,
 * unpublished by a close or fence and retired behind two grace periods,
 * then freed by the drain work once nothing of it is below.  Also the
 * count of writes of an older generation still below (stale_inflight).
 */

#include <linux/percpu.h>
#include <linux/slab.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

/* a cache of its own: /proc/slabinfo counts the epochs alive */
static struct kmem_cache *fence_epoch_cache;

int fence_epoch_cache_init(void)
{
	fence_epoch_cache = kmem_cache_create("dm_fence_epoch", sizeof(struct fence_epoch),
					      __alignof__(struct fence_epoch), 0, NULL);
	return fence_epoch_cache ? 0 : -ENOMEM;
}

/* After rcu_barrier(): epochs are freed by RCU callbacks. */
void fence_epoch_cache_exit(void)
{
	kmem_cache_destroy(fence_epoch_cache);
}

struct fence_epoch *fence_epoch_alloc(struct fence_dev *fdev, u64 generation)
{
	struct fence_epoch *ep = kmem_cache_zalloc(fence_epoch_cache, GFP_KERNEL);

	if (!ep)
		return NULL;
	ep->inflight = alloc_percpu(long);
	if (!ep->inflight) {
		kmem_cache_free(fence_epoch_cache, ep);
		return NULL;
	}
	ep->generation = generation;
	ep->fdev = fdev;
	INIT_LIST_HEAD(&ep->list);
	return ep;
}

void fence_epoch_free(struct fence_epoch *ep)
{
	free_percpu(ep->inflight);
	kmem_cache_free(fence_epoch_cache, ep);
}

void fence_epoch_free_rcu(struct rcu_head *rcu)
{
	fence_epoch_free(container_of(rcu, struct fence_epoch, rcu));
}

/* Report a retired epoch that has no write left below, exactly once. */
static void fence_epoch_check(struct fence_epoch *ep)
{
	if (fence_epoch_drained(ep))
		queue_work(ep->fdev->wq, &ep->fdev->drain_work);
}

/*
 * Called with fdev->lock held: take the live epoch off the fast path.  The
 * caller must call fence_epoch_retire() on the result, after unlocking.
 */
struct fence_epoch *fence_unpublish(struct fence_dev *fdev)
{
	struct fence_epoch *ep;

	ep = rcu_dereference_protected(fdev->live, lockdep_is_held(&fdev->lock));
	if (ep) {
		rcu_assign_pointer(fdev->live, NULL);
		list_add_tail(&ep->list, &fdev->retired);
		fdev->nr_retired++;
	}
	return ep;
}

/*
 * The first grace period waits for every map() that may have found the
 * epoch live: after it, the epoch's counters never go up again.  Only then
 * may end_io() start summing them, and the second grace period waits for
 * every end_io() that could have missed the 'retired' flag, so that the
 * check below sees their decrements.  Either we or the last end_io() see
 * the sum reach zero; fence_epoch_check() reports it once.
 */
void fence_epoch_retire(struct fence_epoch *ep)
{
	struct fence_dev *fdev = ep->fdev;

	/*
	 * Expedited, as dm core does when it swaps tables: a close or fence
	 * is rare, and its caller (a migration's downtime) is waiting.
	 */
	synchronize_rcu_expedited();
	WRITE_ONCE(ep->retired, true);
	synchronize_rcu_expedited();
	fence_epoch_check(ep);

	/*
	 * The last end_io() may have seen the epoch drained before we got
	 * here: the drain work frees it only once we no longer touch it.
	 */
	spin_lock_irq(&fdev->lock);
	ep->retire_done = true;
	spin_unlock_irq(&fdev->lock);
	queue_work(fdev->wq, &fdev->drain_work);
}

/*
 * Are writes of an older generation than the current one still below?
 * An epoch the fence unpublished is on ->retired before its grace period
 * ends: a map() that loaded it before may still count a write in it, on a
 * CPU whose counter this sum read before the increment, while the write's
 * completion elsewhere was seen.  Such a sum can be below zero (status
 * showed 18446744073709551615): it counts as none here.  Who acts on the
 * figure (unfence, fence --wait) reads it under msg_mutex, after the
 * fence's grace period: then counters only fall and a sum over-estimates.
 */
u64 fence_stale_inflight_locked(struct fence_dev *fdev)
{
	struct fence_epoch *ep;
	u64 n = 0;

	list_for_each_entry(ep, &fdev->retired, list)
		if (ep->generation < fdev->generation)
			n += fence_epoch_count(ep);
	return n;
}
