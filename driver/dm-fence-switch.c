// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the switch to a standby device (fencectl copy --switch).  The
 * live table names a standby; SWITCH moves the closed device onto it and
 * opens it there in one step, so that no write reaches the old device
 * after it and none that the caller did not copy is lost.
 */

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

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
 * once; with @closes, only after that close (the caller's); with
 * @standby, only onto that device at @standby_start (the one the caller
 * copied to); and only with no other table of the device loaded.  Says
 * why not in *why.
 */
static int fence_may_switch(struct fence_dev *fdev, struct fence_c *fc,
			    u64 reopens, const u64 *closes, dev_t standby,
			    sector_t standby_start, const char **why)
{
	if (!fc || !fc->backing[1].dev || fc->active != &fc->backing[0]) {
		*why = "the live table has no standby device to switch to";
		return -ENODEV;
	}
	if (standby && (fc->backing[1].dev->bdev->bd_dev != standby ||
			fc->backing[1].start != standby_start)) {
		*why = "the live table's standby is not the one the caller copied to";
		return -ESTALE;
	}
	/*
	 * A table loaded beside the live one was read from a line that
	 * names the old device (or any other): resumed after the switch,
	 * it would write there.
	 */
	if (!list_is_singular(&fdev->targets)) {
		*why = "another table of the device is loaded (inactive)";
		return -EBUSY;
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
	if (closes && fdev->close_seq != *closes) {
		*why = "the device was closed again since the caller's close";
		return -ESTALE;
	}
	return 0;
}

/*
 * Switch to the standby device and reopen there, in one step: the writes
 * held while closed, and every later one, go to the standby; none ever
 * reaches the old device again.  See fence_may_switch().
 */
int fence_dev_switch(struct fence_dev *fdev, u64 reopens, const u64 *closes,
		     dev_t standby, sector_t standby_start)
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
	r = fence_may_switch(fdev, fc, reopens, closes, standby, standby_start,
			     &why);
	if (!r) {
		/* a later table on it is refused (fence_dev_attach()) */
		fdev->switched_from = fc->backing[0].dev->bdev->bd_dev;
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
