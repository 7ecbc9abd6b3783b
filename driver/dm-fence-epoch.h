/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-fence: counting the writes of an epoch, and seeing it drain
 * (dm-fence-epoch.c).  Its own header, with nothing of the block layer in
 * it, so that the same file also builds in userspace for tests/unit/, where
 * the ordering of a completion's decrement against its reads is checked on
 * a model of the CPU's store buffers.
 */
#ifndef DM_FENCE_EPOCH_H
#define DM_FENCE_EPOCH_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

struct fence_dev;

/*
 * An epoch is one uninterrupted period in which writes pass the target
 * without taking a lock: from an open (device creation or reopen) to the
 * next close or fence.  map() counts a write in the live epoch's per-CPU
 * counter inside an RCU read-side section; close and fence unpublish the
 * epoch and wait for a grace period, after which no CPU can count a write
 * in it any more.  From then on its counters only go down, so their sum is
 * exact when it reaches zero: that is how a drain knows the last write
 * dispatched before the close has completed, without a global counter.
 */
struct fence_epoch {
	long __percpu *inflight;
	u64 generation;
	struct fence_dev *fdev;
	struct list_head list;		/* on fdev->retired once unpublished */
	bool retired;			/* counters can only decrease now */
	bool retire_done;		/* the retirer let go, under fdev->lock */
	unsigned long drained;		/* bit 0: drain already reported */
	struct rcu_head rcu;
};

long fence_epoch_sum(struct fence_epoch *ep);
u64 fence_epoch_count(struct fence_epoch *ep);
bool fence_epoch_drained(struct fence_epoch *ep);

/*
 * The completion of a write counted in @ep, under rcu_read_lock() (the
 * epoch is freed after a grace period).  True when the caller must report
 * that the epoch drained.  Inline: it is on every write's completion.
 */
static inline bool fence_epoch_put(struct fence_epoch *ep)
{
	this_cpu_dec(*ep->inflight);
	if (likely(!READ_ONCE(ep->retired)))
		return false;
	/*
	 * Our decrement before the other CPUs' counters are read: two last
	 * completions on two CPUs must not each read the other's counter
	 * from before its decrement (store buffering), or neither reports
	 * the drain and the device stays closing.
	 */
	smp_mb();
	return fence_epoch_drained(ep);
}

#endif
