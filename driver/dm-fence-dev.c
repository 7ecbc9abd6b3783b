// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the per-mapped-device state machine.
 *
 *   open --close--> closing --(last write done + flush done)--> closed
 *   closing/closed --reopen--> open
 *   any state --fence G'--> fenced(G') --unfence G' (no stale write below)--> open
 *
 * Writes are counted per epoch (see struct fence_epoch).  The hot path only
 * touches the live epoch's per-CPU counter; everything that changes the
 * state takes fdev->lock, unpublishes the live epoch and waits for an RCU
 * grace period before it returns, so that when a close or fence message
 * returns no CPU can still let a write pass without seeing the new state.
 *
 * Nothing on the control path waits for the disk: the closing flush runs in
 * a work item of its own that holds no lock while it waits, and writes that
 * reopen releases are dispatched by another, so that a close, fence, reopen,
 * status or ioctl returns at once while the storage below does not answer.
 */

#include <linux/blkdev.h>
#include <linux/percpu.h>
#include <linux/slab.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

static LIST_HEAD(fence_devs);
static DEFINE_MUTEX(fence_devs_mutex);

const char *fence_state_name(enum fence_state state)
{
	switch (state) {
	case FENCE_OPEN:
		return "open";
	case FENCE_CLOSING:
		return "closing";
	case FENCE_CLOSED:
		return "closed";
	case FENCE_FENCED:
		return "fenced";
	}
	return "unknown";
}

/*
 * Caches of their own, so that /proc/slabinfo counts the devices and epochs
 * alive (a leak shows there, and kmem_cache_destroy() at unload warns).
 */
static struct kmem_cache *fence_dev_cache;
static struct kmem_cache *fence_epoch_cache;

int fence_dev_caches_init(void)
{
	fence_dev_cache = kmem_cache_create("dm_fence_dev", sizeof(struct fence_dev),
					    __alignof__(struct fence_dev), 0, NULL);
	fence_epoch_cache = kmem_cache_create("dm_fence_epoch", sizeof(struct fence_epoch),
					      __alignof__(struct fence_epoch), 0, NULL);
	if (fence_dev_cache && fence_epoch_cache)
		return 0;
	fence_dev_caches_exit();
	return -ENOMEM;
}

/* After rcu_barrier(): epochs are freed by RCU callbacks. */
void fence_dev_caches_exit(void)
{
	kmem_cache_destroy(fence_epoch_cache);
	kmem_cache_destroy(fence_dev_cache);
}

/*
 * State changes are made under fdev->lock; map() of a read on a fence_reads
 * table, DRAIN's wait and the orphan check read the state without it
 * (READ_ONCE), so every change is one marked store.
 */
static void fence_set_state(struct fence_dev *fdev, enum fence_state state)
{
	lockdep_assert_held(&fdev->lock);
	WRITE_ONCE(fdev->state, state);
}

static struct fence_epoch *fence_epoch_alloc(struct fence_dev *fdev,
					     u64 generation)
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

static void fence_epoch_free(struct fence_epoch *ep)
{
	free_percpu(ep->inflight);
	kmem_cache_free(fence_epoch_cache, ep);
}

static void fence_epoch_free_rcu(struct rcu_head *rcu)
{
	fence_epoch_free(container_of(rcu, struct fence_epoch, rcu));
}

/* Report a retired epoch that has no write left below, exactly once. */
static void fence_epoch_check(struct fence_epoch *ep)
{
	if (fence_epoch_drained(ep))
		queue_work(system_long_wq, &ep->fdev->drain_work);
}

/*
 * Called with fdev->lock held: take the live epoch off the fast path.  The
 * caller must call fence_epoch_retire() on the result, after unlocking.
 */
static struct fence_epoch *fence_unpublish(struct fence_dev *fdev)
{
	struct fence_epoch *ep;

	ep = rcu_dereference_protected(fdev->live, lockdep_is_held(&fdev->lock));
	if (ep) {
		rcu_assign_pointer(fdev->live, NULL);
		list_add_tail(&ep->list, &fdev->retired);
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
static void fence_epoch_retire(struct fence_epoch *ep)
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
	queue_work(system_long_wq, &fdev->drain_work);
}

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

		if (fence_bdev_listed(*bdevs, n, bdev))
			continue;
		get_device(&bdev->bd_device);
		(*bdevs)[n++] = bdev;
	}
	list_splice_init(&fdev->orphans, orphans);
	mutex_unlock(&fdev->target_mutex);
	return n;
}

static void fence_orphans_free(struct list_head *orphans)
{
	struct fence_orphan *o, *tmp;

	list_for_each_entry_safe(o, tmp, orphans, list) {
		list_del(&o->list);
		put_device(&o->bdev->bd_device);
		kfree(o);
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
static void fence_raise_event(struct fence_dev *fdev)
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
static void fence_drain_work(struct work_struct *work)
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
			/* a late end_io() may still be summing it */
			call_rcu(&ep->rcu, fence_epoch_free_rcu);
		}
	}
	flush = fdev->state == FENCE_CLOSING && list_empty(&fdev->retired) &&
		!fdev->flushing && !fdev->dying;
	if (flush)
		fdev->flushing = true;
	spin_unlock_irq(&fdev->lock);
	/* stale_inflight may have reached 0: FENCE with wait looks */
	wake_up_all(&fdev->state_wq);
	if (flush)
		queue_work(system_long_wq, &fdev->flush_work);
}

/*
 * The closing flush.  It may wait as long as the disk does not answer, so
 * it holds no lock meanwhile: a fence, reopen or status goes on without
 * it, and its result only counts if nothing changed the close meanwhile.
 */
static void fence_flush_work(struct work_struct *work)
{
	struct fence_dev *fdev = container_of(work, struct fence_dev, flush_work);
	bool closed = false, again;
	unsigned int seq;
	int r;

	spin_lock_irq(&fdev->lock);
	seq = fdev->close_seq;
	fdev->flush_again = false;
	spin_unlock_irq(&fdev->lock);

	r = fence_flush_backing(fdev);

	spin_lock_irq(&fdev->lock);
	fdev->flushing = false;
	if (r)
		fdev->flush_errors++;
	/* closed again (or a retry asked for) while we flushed: flush again */
	again = (fdev->flush_again || fdev->close_seq != seq) && !fdev->dying;
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
		queue_work(system_long_wq, &fdev->drain_work);
	if (closed)
		fence_raise_event(fdev);
	else
		/* DRAIN returns at once when the flush failed */
		wake_up_all(&fdev->state_wq);
}

/*
 * Dispatch the writes that reopen released, in their order.  They are
 * counted in the new epoch.  One at a time off fdev->to_submit: a submission
 * may wait for the disk (for a tag, say), and a fence that comes meanwhile
 * must find every write not yet dispatched there, to fail it.  The one we
 * took is counted as below (stale_inflight), as a write that passed map()
 * just before a fence.
 */
static void fence_submit_work(struct work_struct *work)
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

static void fence_fail_bios(struct fence_dev *fdev, struct bio_list *bios)
{
	struct bio *bio;

	while ((bio = bio_list_pop(bios))) {
		atomic64_inc(&fdev->failed_writes);
		bio_io_error(bio);
	}
}

/*
 * The slow path of a write, taken when the device is not open (or was not
 * when the fast path looked).  Decides under fdev->lock, the lock that close,
 * reopen and fence take, so a write can never be queued behind a state
 * change that has already walked the hold queue.
 */
int fence_dev_map_write(struct fence_c *fc, struct bio *bio,
			struct fence_pb *pb, bool noflush_suspending)
{
	struct fence_dev *fdev = fc->fdev;
	struct fence_epoch *ep;
	unsigned long flags;
	int r;

	/*
	 * Fenced: fail it without the lock.  Failing is always safe, and
	 * only unfence leaves the state, so a write that races an unfence
	 * simply came before it.
	 */
	if (READ_ONCE(fdev->state) == FENCE_FENCED) {
		atomic64_inc(&fdev->failed_writes);
		return DM_MAPIO_KILL;
	}

	spin_lock_irqsave(&fdev->lock, flags);
	switch (fdev->state) {
	case FENCE_OPEN:
		/* reopened since the fast path looked */
		ep = rcu_dereference_protected(fdev->live,
					       lockdep_is_held(&fdev->lock));
		this_cpu_inc(*ep->inflight);
		pb->ep = ep;
		/* under the lock: where a switch just sent the device */
		fence_remap(fc, bio, pb->sector);
		fence_pb_mark(fdev, pb);
		r = DM_MAPIO_REMAPPED;
		break;
	case FENCE_CLOSING:
	case FENCE_CLOSED:
		if (fdev->suspending && !fdev->suspend_noflush) {
			/* a flushing suspend waits for us: never hold now */
			atomic64_inc(&fdev->failed_writes);
			r = DM_MAPIO_KILL;
		} else if (fdev->suspending && noflush_suspending) {
			/* dm core keeps it and maps it again after resume */
			r = DM_MAPIO_REQUEUE;
		} else if (fdev->close_fail) {
			atomic64_inc(&fdev->failed_writes);
			r = DM_MAPIO_KILL;
		} else {
			/*
			 * Not suspending, or a noflush suspend that was
			 * interrupted (dm core cleared its flag and gives the
			 * requeued writes back before it undoes presuspend):
			 * hold, remapped as things are now (a switch remaps
			 * what it finds held).  A requeue now would end in EIO.
			 */
			fence_remap(fc, bio, pb->sector);
			bio_list_add(&fdev->held, bio);
			fdev->nr_held++;
			r = DM_MAPIO_SUBMITTED;
		}
		break;
	default:
		atomic64_inc(&fdev->failed_writes);
		r = DM_MAPIO_KILL;
		break;
	}
	spin_unlock_irqrestore(&fdev->lock, flags);
	return r;
}

/*
 * Completion of a counted write; may run in interrupt context.  Its regions
 * are marked again before the completion is visible above, so a fetch that
 * cleared them while it was in flight cannot lose it.
 */
void fence_dev_end_write(struct fence_dev *fdev, struct fence_pb *pb)
{
	struct fence_epoch *ep = pb->ep;

	fence_pb_mark(fdev, pb);
	rcu_read_lock();
	/*
	 * Counted late before it leaves stale_inflight: whoever sees that
	 * reach zero (or the drain it reports) sees the final count.
	 */
	if (unlikely(ep->generation < READ_ONCE(fdev->generation)))
		atomic64_inc(&fdev->late_completions);
	if (unlikely(fence_epoch_put(ep)))
		queue_work(system_long_wq, &fdev->drain_work);
	rcu_read_unlock();
}

/*
 * Close: hold (or with @fail, fail) new writes and start the drain.  With
 * @if_open (the DRAIN ioctl), a device already closing or closed keeps its
 * hold-or-fail mode.
 */
int fence_dev_close(struct fence_dev *fdev, bool fail, bool if_open)
{
	struct bio_list to_fail = BIO_EMPTY_LIST;
	struct fence_epoch *ep = NULL;
	bool retry = false;
	int r = 0;

	mutex_lock(&fdev->msg_mutex);
	spin_lock_irq(&fdev->lock);
	switch (fdev->state) {
	case FENCE_OPEN:
		ep = fence_unpublish(fdev);
		fence_set_state(fdev, FENCE_CLOSING);
		fdev->close_seq++;
		fdev->close_fail = fail;
		break;
	case FENCE_CLOSING:
	case FENCE_CLOSED:
		retry = fdev->state == FENCE_CLOSING;
		/* a flush under way may predate what it should cover */
		if (retry && fdev->flushing)
			fdev->flush_again = true;
		if (if_open)
			break;
		/*
		 * 'close fail' on a closed device gives up on the writes it
		 * holds: the way out for processes stuck waiting on them.
		 */
		fdev->close_fail = fail;
		if (fail) {
			bio_list_merge(&to_fail, &fdev->held);
			bio_list_init(&fdev->held);
			fdev->nr_held = 0;
		}
		break;
	case FENCE_FENCED:
		r = -EBUSY;
		break;
	}
	spin_unlock_irq(&fdev->lock);

	if (r)
		DMERR("%d:%d: close refused: device is fenced",
		      MAJOR(fdev->devt), MINOR(fdev->devt));
	fence_fail_bios(fdev, &to_fail);
	if (ep)
		fence_epoch_retire(ep);
	else if (retry)
		/* a flush that failed is retried by closing again */
		queue_work(system_long_wq, &fdev->drain_work);
	mutex_unlock(&fdev->msg_mutex);
	if (ep)
		fence_raise_event(fdev);
	return r;
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
static u64 fence_stale_inflight_locked(struct fence_dev *fdev)
{
	struct fence_epoch *ep;
	long sum;
	u64 n = 0;

	list_for_each_entry(ep, &fdev->retired, list) {
		if (ep->generation >= fdev->generation)
			continue;
		sum = fence_epoch_sum(ep);
		if (sum > 0)
			n += sum;
	}
	return n;
}

u64 fence_dev_stale_inflight(struct fence_dev *fdev)
{
	u64 n;

	spin_lock_irq(&fdev->lock);
	n = fence_stale_inflight_locked(fdev);
	spin_unlock_irq(&fdev->lock);
	return n;
}

/*
 * Under fdev->lock: open with @ep as the live epoch.  Held writes are stamped
 * with the current generation and counted in the new epoch before it is
 * published, then handed to submit_work in arrival order.  Returns how
 * many there are.
 */
static unsigned long fence_open_locked(struct fence_dev *fdev,
				       struct fence_epoch *ep)
{
	unsigned long n = fdev->nr_held;
	struct fence_pb *pb;
	struct bio *bio;

	ep->generation = fdev->generation;
	bio_list_for_each(bio, &fdev->held) {
		pb = dm_per_bio_data(bio, sizeof(*pb));
		pb->ep = ep;
		fence_pb_mark(fdev, pb);
	}
	bio_list_merge(&fdev->to_submit, &fdev->held);
	bio_list_init(&fdev->held);
	this_cpu_add(*ep->inflight, n);
	fdev->nr_held = 0;
	fdev->close_fail = false;
	fdev->reopens++;
	fence_set_state(fdev, FENCE_OPEN);
	rcu_assign_pointer(fdev->live, ep);
	return n;
}

/*
 * Under fdev->lock: may this reopen or unfence open the device?  Both are
 * compare-and-swap: each names the state it expects, so that a tool that
 * read the status cannot undo a fence that landed meanwhile.  'reopen'
 * only leaves closing/closed; 'unfence <G>' only leaves fenced, only at
 * generation G and only with no write of an older generation below (a
 * stale write could still overwrite newer data) unless forced.
 * Returns 1 when the device is already where the call leads.
 */
static int fence_may_open(struct fence_dev *fdev, bool unfence, u64 generation,
			  bool force, u64 *stale, const char **why)
{
	switch (fdev->state) {
	case FENCE_OPEN:
		return unfence ? -ESTALE : 1;
	case FENCE_CLOSING:
	case FENCE_CLOSED:
		if (unfence)
			return -ESTALE;
		break;
	case FENCE_FENCED:
		if (!unfence || generation != fdev->generation)
			return -ESTALE;
		/* *stale is set only when it is the reason (the log says it) */
		if (!force)
			*stale = fence_stale_inflight_locked(fdev);
		if (*stale) {
			*why = "write(s) of an older generation still below";
			return -EBUSY;
		}
		/*
		 * Writes dm core parked across a suspend are mapped again
		 * after resume: while fenced they fail then, never after
		 * an unfence (dm-fence-replay.c).  Not even forced.
		 */
		if (fdev->replay_pending) {
			*why = "writes dm core parked across a suspend are not mapped again yet";
			return -EBUSY;
		}
		break;
	default:
		return -EINVAL;
	}
	/* what a suspended device holds is in dm core: see above */
	if (fdev->suspending) {
		*why = "the device is suspended";
		return -EBUSY;
	}
	return 0;
}

static void fence_open_refused(struct fence_dev *fdev, int r, bool unfence,
			       u64 generation, enum fence_state state,
			       u64 cur, u64 stale, const char *why)
{
	const char *what = unfence ? "unfence" : "reopen";

	if (r == -EBUSY && stale)
		DMERR("%d:%d: %s refused: %llu %s",
		      MAJOR(fdev->devt), MINOR(fdev->devt), what, stale, why);
	else if (r == -EBUSY)
		DMERR("%d:%d: %s refused: %s",
		      MAJOR(fdev->devt), MINOR(fdev->devt), what, why);
	else if (unfence && state == FENCE_FENCED)
		DMERR("%d:%d: unfence %llu refused: the device is fenced at generation %llu",
		      MAJOR(fdev->devt), MINOR(fdev->devt), generation, cur);
	else if (unfence)
		DMERR("%d:%d: unfence refused: the device is %s, not fenced",
		      MAJOR(fdev->devt), MINOR(fdev->devt), fence_state_name(state));
	else
		DMERR("%d:%d: reopen refused: fenced at generation %llu (unfence %llu opens it)",
		      MAJOR(fdev->devt), MINOR(fdev->devt), cur, cur);
}

/*
 * The two ends of an open (reopen, unfence, switch), under msg_mutex: the
 * epoch it will publish, allocated first since that may sleep; and after
 * it, the epoch freed if unused, the released writes handed over, and a
 * state change (@changed) told.  fence_open_begin() returns NULL, with
 * msg_mutex let go, when there is no memory.
 */
static struct fence_epoch *fence_open_begin(struct fence_dev *fdev)
{
	struct fence_epoch *ep;

	mutex_lock(&fdev->msg_mutex);
	ep = fence_epoch_alloc(fdev, 0);
	if (!ep)
		mutex_unlock(&fdev->msg_mutex);
	return ep;
}

static void fence_open_end(struct fence_dev *fdev, struct fence_epoch *unused,
			   unsigned long submit, bool changed)
{
	if (unused)
		fence_epoch_free(unused);
	/*
	 * Not from here: we run under the table's SRCU read lock, and a
	 * submission may wait for the disk (as dm-delay, hand them over).
	 */
	if (submit)
		queue_work(system_long_wq, &fdev->submit_work);
	mutex_unlock(&fdev->msg_mutex);
	if (changed)
		fence_raise_event(fdev);
}

/*
 * reopen (@unfence false) and unfence <@generation> (@unfence true); see
 * fence_may_open().  ESTALE: the device is not in the state the call
 * expects.
 */
int fence_dev_open(struct fence_dev *fdev, bool unfence, u64 generation,
		   bool force)
{
	enum fence_state state;
	unsigned long submit = 0;
	struct fence_epoch *ep;
	const char *why = NULL;
	u64 stale = 0, cur;
	int r;

	ep = fence_open_begin(fdev);
	if (!ep)
		return -ENOMEM;

	spin_lock_irq(&fdev->lock);
	state = fdev->state;
	cur = fdev->generation;
	r = fence_may_open(fdev, unfence, generation, force, &stale, &why);
	if (!r) {
		submit = fence_open_locked(fdev, ep);
		ep = NULL;
	}
	spin_unlock_irq(&fdev->lock);

	if (r < 0)
		fence_open_refused(fdev, r, unfence, generation, state, cur, stale, why);
	/* r == 1: it was open already, nothing changed */
	fence_open_end(fdev, ep, submit, !r);
	return r < 0 ? r : 0;
}

/*
 * Under fdev->lock: make the live table write to its standby from now on.
 * Held writes were remapped to the device the table used: send them to the
 * standby instead, at the same place.
 */
static void fence_switch_locked(struct fence_dev *fdev, struct fence_c *fc)
{
	struct fence_pb *pb;
	struct bio *bio;

	WRITE_ONCE(fc->active, &fc->backing[1]);
	bio_list_for_each(bio, &fdev->held) {
		pb = dm_per_bio_data(bio, sizeof(*pb));
		fence_remap(fc, bio, pb->sector);
	}
}

/*
 * Under target_mutex and fdev->lock: may the device switch to its standby
 * and open there?  Only a closed device (every earlier write completed and
 * flushed: nothing of it can still reach the old device), only if nobody
 * reopened it since the caller last looked (@reopens: then whatever the
 * caller copied is still all there is), and only the live table's standby,
 * once.  Says why not in *why.
 */
static int fence_may_switch(struct fence_dev *fdev, struct fence_c *fc,
			    u64 reopens, const char **why)
{
	if (!fc || !fc->backing[1].dev || fc->active != &fc->backing[0]) {
		*why = "the live table has no standby device to switch to";
		return -ENODEV;
	}
	/* from presuspend on: dm_suspended() only after dm core's I/O wait */
	if (fdev->suspending || dm_suspended(fc->ti)) {
		*why = "the device is suspended";
		return -EBUSY;
	}
	if (fdev->state == FENCE_CLOSING) {
		*why = "the device is still closing";
		return -EBUSY;
	}
	if (fdev->state != FENCE_CLOSED) {
		*why = fdev->state == FENCE_OPEN ? "the device is open" :
						   "the device is fenced";
		return -ESTALE;
	}
	if (fdev->reopens != reopens) {
		*why = "the device was reopened since";
		return -ESTALE;
	}
	return 0;
}

/*
 * Switch to the standby device and reopen there, in one step: the writes
 * held while closed, and every later one, go to the standby; none ever
 * reaches the old device again.  See fence_may_switch().
 */
int fence_dev_switch(struct fence_dev *fdev, u64 reopens)
{
	unsigned long submit = 0;
	struct fence_epoch *ep;
	struct fence_c *fc;
	const char *why = NULL;
	const char *name = NULL;
	int r;

	ep = fence_open_begin(fdev);
	if (!ep)
		return -ENOMEM;
	/* target_mutex: the live table stays while we switch it */
	mutex_lock(&fdev->target_mutex);
	fc = fdev->live_fc;
	spin_lock_irq(&fdev->lock);
	r = fence_may_switch(fdev, fc, reopens, &why);
	if (!r) {
		fence_switch_locked(fdev, fc);
		submit = fence_open_locked(fdev, ep);
		ep = NULL;
		name = fc->backing[1].dev->name;
	}
	spin_unlock_irq(&fdev->lock);
	if (!r)
		DMINFO("%d:%d: switched to %s", MAJOR(fdev->devt),
		       MINOR(fdev->devt), name);
	mutex_unlock(&fdev->target_mutex);

	if (r)
		DMERR("%d:%d: switch refused: %s", MAJOR(fdev->devt),
		      MINOR(fdev->devt), why);
	fence_open_end(fdev, ep, submit, !r);
	return r;
}

int fence_dev_fence(struct fence_dev *fdev, u64 generation)
{
	struct bio_list to_fail = BIO_EMPTY_LIST;
	struct fence_epoch *ep = NULL;
	struct fence_pb *pb;
	struct bio *bio;
	u64 old;
	int r = 0;

	mutex_lock(&fdev->msg_mutex);
	spin_lock_irq(&fdev->lock);
	old = fdev->generation;
	if (generation <= old) {
		r = -EINVAL;
	} else {
		ep = fence_unpublish(fdev);
		WRITE_ONCE(fdev->generation, generation);
		fence_set_state(fdev, FENCE_FENCED);
		bio_list_merge(&to_fail, &fdev->held);
		bio_list_init(&fdev->held);
		fdev->nr_held = 0;
		/*
		 * Released by a reopen but not dispatched yet: never below,
		 * so they fail like held writes, uncounted.
		 */
		while ((bio = bio_list_pop(&fdev->to_submit))) {
			pb = dm_per_bio_data(bio, sizeof(*pb));
			this_cpu_dec(*pb->ep->inflight);
			pb->ep = NULL;
			bio_list_add(&to_fail, bio);
		}
	}
	spin_unlock_irq(&fdev->lock);

	if (r) {
		DMERR("%d:%d: fence refused: generation %llu is not above %llu",
		      MAJOR(fdev->devt), MINOR(fdev->devt), generation, old);
	} else {
		fence_fail_bios(fdev, &to_fail);
		if (ep)
			fence_epoch_retire(ep);
	}
	mutex_unlock(&fdev->msg_mutex);
	if (!r)
		fence_raise_event(fdev);
	return r;
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
	mutex_unlock(&fdev->target_mutex);
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
	c->close_fail = fdev->close_fail;
	ep = rcu_dereference_protected(fdev->live, lockdep_is_held(&fdev->lock));
	if (ep)
		inflight += fence_epoch_sum(ep);
	list_for_each_entry(ep, &fdev->retired, list)
		inflight += fence_epoch_sum(ep);
	c->stale_inflight = fence_stale_inflight_locked(fdev);
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
	info->dev_flags |= DM_FENCE_DEV_SEQ;
	if (c.close_fail)
		info->dev_flags |= DM_FENCE_DEV_CLOSE_FAIL;
	mutex_lock(&fdev->target_mutex);
	fc = list_first_entry_or_null(&fdev->targets, struct fence_c, fd_list);
	if (fc && fc->fence_reads)
		info->dev_flags |= DM_FENCE_DEV_FENCE_READS;
	fc = fdev->live_fc;
	if (fc && fc->backing[1].dev && fc->active == &fc->backing[0])
		info->dev_flags |= DM_FENCE_DEV_STANDBY;
	mutex_unlock(&fdev->target_mutex);
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

static struct fence_dev *fence_dev_create(struct fence_c *fc, dev_t devt,
					  char **error)
{
	struct fence_dev *fdev = kmem_cache_zalloc(fence_dev_cache, GFP_KERNEL);
	struct fence_epoch *ep = NULL;
	int r;

	*error = "Cannot allocate fence device state";
	if (!fdev)
		return ERR_PTR(-ENOMEM);
	if (!fc->start_closed && !fc->start_fenced) {
		ep = fence_epoch_alloc(fdev, fc->table_generation);
		if (!ep) {
			kmem_cache_free(fence_dev_cache, fdev);
			return ERR_PTR(-ENOMEM);
		}
	}
	fdev->len = fc->ti->len;
	r = fence_table_bitmap_init(&fdev->bitmap, fc, error);
	if (r) {
		if (ep)
			fence_epoch_free(ep);
		kmem_cache_free(fence_dev_cache, fdev);
		return ERR_PTR(r);
	}
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
	return fdev;
}

/*
 * Called when the last reference goes: the last table of the device went
 * away (dm core has waited for every bio it gave us, so every epoch is
 * drained) and no control-device call still uses it.
 */
static void fence_dev_destroy(struct fence_dev *fdev)
{
	struct fence_epoch *ep, *tmp;

	/* dm core waited for the writes submit_work had: it is idle */
	flush_work(&fdev->submit_work);
	/*
	 * The drain work may start the flush work and the flush work may
	 * queue the drain work again (a close during the flush asks for
	 * another): once dying, neither queues the other, so that after a
	 * drain that was deciding, a flush, and a drain it queued, none is
	 * left.  A flush under way still waits for its disk, and the remove
	 * with it (holding none of our locks).
	 */
	spin_lock_irq(&fdev->lock);
	fdev->dying = true;
	spin_unlock_irq(&fdev->lock);
	cancel_work_sync(&fdev->drain_work);
	cancel_work_sync(&fdev->flush_work);
	cancel_work_sync(&fdev->drain_work);
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
 * Find the state of the mapped device @devt, or create it for its first
 * table.  A later table (a reload) must agree with it on what it cannot
 * change: the generation (only 'fence' raises it) and the bitmap geometry.
 */
struct fence_dev *fence_dev_attach(struct fence_c *fc, dev_t devt,
				   char **error, bool *grow)
{
	struct fence_dev *fdev;
	struct fence_c *other;

	*grow = false;
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
		mutex_unlock(&fdev->target_mutex);
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
	fdev = fence_dev_create(fc, devt, error);
	if (IS_ERR(fdev))
		goto out;
	list_add(&fdev->list, &fence_devs);
found:
	fdev->users++;
	mutex_lock(&fdev->target_mutex);
	list_add_tail(&fc->fd_list, &fdev->targets);
	mutex_unlock(&fdev->target_mutex);
out:
	mutex_unlock(&fence_devs_mutex);
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
 * Under target_mutex: does the table that goes leave writes on its backing
 * device that no closing flush has covered yet?  Only while the device is
 * open or closing (a closed one was flushed; a fenced one promises nothing
 * of its stale writes), only when another table stays (a reload: a removed
 * device reports no 'closed' any more), and only once per device.
 */
static bool fence_orphan_needed(struct fence_dev *fdev, struct block_device *bdev)
{
	struct fence_orphan *o;
	struct fence_c *fc;
	enum fence_state state = READ_ONCE(fdev->state);

	if (state != FENCE_OPEN && state != FENCE_CLOSING)
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
	if (fence_orphan_needed(fdev, bdev)) {
		o = kmalloc(sizeof(*o), GFP_KERNEL);
		if (o) {
			get_device(&bdev->bd_device);
			o->bdev = bdev;
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
