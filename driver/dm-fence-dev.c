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

void fence_fail_bios(struct fence_dev *fdev, struct bio_list *bios)
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
			/*
			 * Its submitter could not wait; submit_work, which
			 * dispatches it after a reopen, can: without the
			 * flag a full queue below makes it wait for a tag
			 * rather than fail it with EAGAIN long after.
			 */
			bio->bi_opf &= ~REQ_NOWAIT;
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
void fence_dev_end_write(struct fence_dev *fdev, struct fence_pb *pb,
			 bool error)
{
	struct fence_epoch *ep = pb->ep;

	fence_pb_mark(fdev, pb);
	rcu_read_lock();
	/*
	 * Counted late (or of unknown fate) before it leaves stale_inflight:
	 * whoever sees that reach zero (or the drain it reports) sees the
	 * final count.
	 */
	if (unlikely(error))
		fence_dev_write_error(fdev, ep);
	else if (unlikely(ep->generation < READ_ONCE(fdev->generation)))
		atomic64_inc(&fdev->late_completions);
	if (unlikely(fence_epoch_put(ep)))
		queue_work(fdev->wq, &fdev->drain_work);
	rcu_read_unlock();
}

/*
 * Close: hold (or with @fail, fail) new writes and start the drain.  With
 * @if_open (the DRAIN ioctl), a device already closing or closed keeps its
 * hold-or-fail mode.  *@closed (if given) says whether this call closed
 * the device from open: the close numbered close_seq is then the caller's.
 */
int fence_dev_close(struct fence_dev *fdev, bool fail, bool if_open,
		    bool *closed)
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
		if (closed)
			*closed = true;
		break;
	case FENCE_CLOSING:
	case FENCE_CLOSED:
		/*
		 * Closing: a flush that failed is retried.  One under way is
		 * left alone: it began after the last write of the close
		 * ended and covers all of them, so its result counts (a
		 * DRAIN retried every 200 ms must not throw away a flush that
		 * takes longer).
		 */
		retry = fdev->state == FENCE_CLOSING;
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
		queue_work(fdev->wq, &fdev->drain_work);
	mutex_unlock(&fdev->msg_mutex);
	if (ep)
		fence_raise_event(fdev);
	return r;
}

/*
 * Under fdev->lock: open with @ep as the live epoch.  Held writes are stamped
 * with the current generation and counted in the new epoch before it is
 * published, then handed to submit_work in arrival order.  Returns how
 * many there are.
 */
unsigned long fence_open_locked(struct fence_dev *fdev, struct fence_epoch *ep)
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
	/* unfence: the caller owns the disk again, what it knew is moot */
	if (fdev->state == FENCE_FENCED) {
		fdev->write_errors = 0;
		fdev->unknown_fate = 0;
		fdev->storage_fenced = false;
	}
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
 * A reopen that names @closes (the close the caller made) only undoes that
 * close, not one made by someone else after a reopen since.
 * Returns 1 when the device is already where the call leads.
 */
static int fence_may_open(struct fence_dev *fdev, bool unfence, u64 generation,
			  bool force, const u64 *closes, u64 *stale, const char **why)
{
	switch (fdev->state) {
	case FENCE_OPEN:
		return unfence ? -ESTALE : 1;
	case FENCE_CLOSING:
	case FENCE_CLOSED:
		if (unfence)
			return -ESTALE;
		if (closes && *closes != fdev->close_seq) {
			*why = "reopened and closed again since the caller's close";
			return -ESTALE;
		}
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
	if (fdev->nr_retired >= FENCE_MAX_RETIRED) {
		*why = "closes still have writes below: the storage does not answer";
		*stale = fdev->nr_retired;
		return -EBUSY;
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
	else if (why)
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
struct fence_epoch *fence_open_begin(struct fence_dev *fdev)
{
	struct fence_epoch *ep;

	mutex_lock(&fdev->msg_mutex);
	ep = fence_epoch_alloc(fdev, 0);
	if (!ep)
		mutex_unlock(&fdev->msg_mutex);
	return ep;
}

void fence_open_end(struct fence_dev *fdev, struct fence_epoch *unused,
		    unsigned long submit, bool changed)
{
	if (unused)
		fence_epoch_free(unused);
	/*
	 * Not from here: we run under the table's SRCU read lock, and a
	 * submission may wait for the disk (as dm-delay, hand them over).
	 */
	if (submit)
		queue_work(fdev->wq, &fdev->submit_work);
	mutex_unlock(&fdev->msg_mutex);
	if (changed)
		fence_raise_event(fdev);
}

/*
 * reopen (@unfence false) and unfence <@generation> (@unfence true); see
 * fence_may_open().  ESTALE: the device is not in the state the call
 * expects.  @closes: NULL, or the close the reopen may undo.
 */
int fence_dev_open(struct fence_dev *fdev, bool unfence, u64 generation,
		   bool force, const u64 *closes)
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
	r = fence_may_open(fdev, unfence, generation, force, closes, &stale, &why);
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
		/* failed writes of the generation ended: their fate unknown */
		fdev->unknown_fate += fdev->write_errors;
		fdev->write_errors = 0;
		fdev->storage_fenced = false;
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
