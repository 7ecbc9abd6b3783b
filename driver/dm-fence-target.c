// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: a device-mapper target that maps a range of a device like
 * 'linear', counts every write in flight below it, and can close (hold or
 * fail new writes, then report 'closed' once every earlier write completed
 * and a flush made it durable) and fence (raise a generation so that no
 * write of an older one is ever dispatched again).  It lets a hypervisor
 * host hand a VM disk on shared storage over to another host safely.
 *
 * See Documentation/dm-fence.rst.
 */

#include <linux/blkdev.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

/* What the feature args say beyond fence_c's own fields. */
struct fence_features {
	const char *standby_path;	/* standby <dev_path> <offset> */
	sector_t standby_start;
};

static int fence_parse_features(struct dm_arg_set *as, struct fence_c *fc,
				struct fence_features *ff, struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 12, "Invalid number of feature args"},
	};
	/* the features of one word, each at most once */
	const struct {
		const char *name;
		bool *flag;
		char *duplicated;
	} flags[] = {
		{ "closed", &fc->start_closed, "Feature closed duplicated" },
		{ "close_fail", &fc->start_close_fail, "Feature close_fail duplicated" },
		{ "fenced", &fc->start_fenced, "Feature fenced duplicated" },
		{ "fence_reads", &fc->fence_reads, "Feature fence_reads duplicated" },
		{ "allow_switched_from", &fc->allow_switched_from,
		  "Feature allow_switched_from duplicated" },
	};
	bool seen_generation = false, seen_region_size = false;
	unsigned int argc, i;
	const char *name;
	u64 v;
	int r;

	if (!as->argc)
		return 0;

	r = dm_read_arg_group(_args, as, &argc, &ti->error);
	if (r)
		return r;

	while (argc) {
		name = dm_shift_arg(as);
		argc--;

		for (i = 0; i < ARRAY_SIZE(flags); i++)
			if (!strcasecmp(name, flags[i].name))
				break;
		if (i < ARRAY_SIZE(flags)) {
			if (*flags[i].flag) {
				ti->error = flags[i].duplicated;
				return -EINVAL;
			}
			*flags[i].flag = true;
			continue;
		}
		if (!strcasecmp(name, "generation")) {
			if (seen_generation) {
				ti->error = "Feature generation duplicated";
				return -EINVAL;
			}
			seen_generation = true;
			if (!argc) {
				ti->error = "Feature generation requires a value";
				return -EINVAL;
			}
			argc--;
			if (fence_parse_u64(dm_shift_arg(as), &v)) {
				ti->error = "Invalid generation";
				return -EINVAL;
			}
			if (v < 1 || v > DM_FENCE_MAX_GENERATION) {
				ti->error = "Generation out of range";
				return -EINVAL;
			}
			fc->table_generation = v;
			continue;
		}
		if (!strcasecmp(name, "standby")) {
			if (ff->standby_path) {
				ti->error = "Feature standby duplicated";
				return -EINVAL;
			}
			if (argc < 2) {
				ti->error = "Feature standby requires a device and an offset";
				return -EINVAL;
			}
			argc -= 2;
			ff->standby_path = dm_shift_arg(as);
			if (fence_parse_u64(dm_shift_arg(as), &v) ||
			    v != (sector_t)v) {
				ti->error = "Invalid standby device sector";
				return -EINVAL;
			}
			ff->standby_start = v;
			continue;
		}
		if (!strcasecmp(name, "region_size")) {
			if (seen_region_size) {
				ti->error = "Feature region_size duplicated";
				return -EINVAL;
			}
			seen_region_size = true;
			if (!argc) {
				ti->error = "Feature region_size requires a value";
				return -EINVAL;
			}
			argc--;
			if (fence_parse_u64(dm_shift_arg(as), &v)) {
				ti->error = "Invalid region size";
				return -EINVAL;
			}
			if (v < DM_FENCE_MIN_REGION_SIZE || v > DM_FENCE_MAX_REGION_SIZE) {
				ti->error = "Region size out of range";
				return -EINVAL;
			}
			if (!is_power_of_2(v)) {
				ti->error = "Region size not a power of two";
				return -EINVAL;
			}
			fc->region_size = v;
			continue;
		}
		ti->error = "Unrecognised feature requested";
		return -EINVAL;
	}
	/* close_fail: closed, and writes fail rather than wait */
	if (fc->start_close_fail)
		fc->start_closed = true;
	if (fc->start_fenced && fc->start_closed) {
		ti->error = "Features closed and fenced are exclusive";
		return -EINVAL;
	}
	return 0;
}

static void fence_dtr(struct dm_target *ti)
{
	struct fence_c *fc = ti->private;
	int i;

	if (fc->fdev)
		fence_dev_detach(fc);
	fence_bitmap_free(&fc->grown);
	for (i = 0; i < ARRAY_SIZE(fc->backing); i++)
		if (fc->backing[i].dev)
			dm_put_device(ti, fc->backing[i].dev);
	kfree(fc);
}

/*
 * Open a backing device (@b: the line's, or the standby) and check the
 * target fits on it from @start; says which one failed in ti->error.
 */
static int fence_get_backing(struct dm_target *ti, struct fence_backing *b,
			     const char *path, sector_t start, bool standby)
{
	sector_t dev_size;
	int r;

	r = dm_get_device(ti, path, dm_table_get_mode(ti->table), &b->dev);
	if (r) {
		ti->error = standby ? "Standby device lookup failed" :
				      "Device lookup failed";
		return r;
	}
	b->start = start;
	dev_size = bdev_nr_sectors(b->dev->bdev);
	if (start >= dev_size) {
		ti->error = standby ? "Offset beyond end of standby device" :
				      "Offset beyond end of device";
		return -EINVAL;
	}
	if (ti->len > dev_size - start) {
		ti->error = standby ? "Length beyond end of standby device" :
				      "Length beyond end of device";
		return -EINVAL;
	}
	return 0;
}

/*
 * Construct a fence mapping:
 *   <dev_path> <offset> [<#feature_args> <feature_arg>...]
 * Features: generation <G>, region_size <S>, closed, close_fail, fenced,
 * fence_reads, standby <dev_path> <offset>, allow_switched_from.
 */
static int fence_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct mapped_device *md = dm_table_get_md(ti->table);
	struct fence_features ff = { };
	unsigned long long start;
	struct fence_dev *fdev;
	struct fence_c *fc;
	bool grow;
	int r;

	if (argc < 2) {
		ti->error = "Not enough arguments";
		return -EINVAL;
	}

	fc = kzalloc(sizeof(*fc), GFP_KERNEL);
	if (!fc) {
		ti->error = "Cannot allocate fence context";
		return -ENOMEM;
	}
	fc->ti = ti;
	fc->table_generation = 1;
	fc->region_size = DM_FENCE_DEFAULT_REGION_SIZE;
	INIT_LIST_HEAD(&fc->fd_list);
	ti->private = fc;

	r = -EINVAL;
	if (kstrtoull(argv[1], 10, &start) || start != (sector_t)start) {
		ti->error = "Invalid device sector";
		goto bad;
	}
	fc->active = &fc->backing[0];

	dm_consume_args(&as, 2);
	r = fence_parse_features(&as, fc, &ff, ti);
	if (r)
		goto bad;
	if (as.argc) {
		ti->error = "Too many arguments";
		r = -EINVAL;
		goto bad;
	}
	fc->region_shift = ilog2(fc->region_size);

	r = fence_get_backing(ti, &fc->backing[0], argv[0], start, false);
	if (r)
		goto bad;
	if (ff.standby_path) {
		r = fence_get_backing(ti, &fc->backing[1], ff.standby_path,
				      ff.standby_start, true);
		if (r)
			goto bad;
	}

	fdev = fence_dev_attach(fc, dm_disk(md), &ti->error, &grow);
	if (IS_ERR(fdev)) {
		r = PTR_ERR(fdev);
		goto bad;
	}
	fc->fdev = fdev;
	/*
	 * A reload that grows the device: its bitmap now, while we may
	 * sleep and fail; preresume swaps it in.
	 */
	if (grow) {
		r = fence_table_bitmap_init(&fc->grown, fc, &ti->error);
		if (r)
			goto bad;
	}

	ti->num_flush_bios = 1;
#ifdef FENCE_HAVE_FLUSH_BYPASSES_MAP	/* see Kbuild */
	/*
	 * An empty flush is not a write: map() only remaps it, so dm core
	 * may send it to the device directly (as for linear).
	 */
	ti->flush_bypasses_map = true;
#endif
	ti->num_discard_bios = 1;
	ti->num_secure_erase_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct fence_pb);
	return 0;

bad:
	fence_dtr(ti);
	return r;
}

static int fence_map(struct dm_target *ti, struct bio *bio)
{
	struct fence_c *fc = ti->private;
	struct fence_pb *pb;
	sector_t sector = dm_target_offset(ti, bio->bi_iter.bi_sector);

	/*
	 * A read never touches its per-bio data (end_io does not look at it
	 * either): one cache line fewer per read than a write costs.  Reads
	 * pass while closed, so one may race a switch: either device has
	 * the same data then (no write passes), so either is right.
	 */
	if (!op_is_write(bio_op(bio))) {
		/* resume's marker: what dm core parked has come back */
		if (unlikely(fence_replay_is_marker(bio))) {
			fence_replay_map(fc->fdev, bio);
			return DM_MAPIO_KILL;
		}
		if (unlikely(fc->fence_reads &&
			     READ_ONCE(fc->fdev->state) == FENCE_FENCED))
			return DM_MAPIO_KILL;
		fence_remap(fc, bio, sector);
		return DM_MAPIO_REMAPPED;
	}

	pb = dm_per_bio_data(bio, sizeof(struct fence_pb));
	pb->requeue = false;
	if (unlikely(!bio_sectors(bio))) {
		/* an empty flush changes no data: it always passes, uncounted */
		pb->ep = NULL;
		fence_remap(fc, bio, sector);
		return DM_MAPIO_REMAPPED;
	}
	/* the bitmap needs the range at completion, when the iter is spent */
	pb->sector = sector;
	pb->nr_sectors = bio_sectors(bio);
	if (likely(fence_dev_try_count(fc->fdev, pb))) {
		/*
		 * Counted in the live epoch first, then remapped: a switch
		 * happens only while closed and before the epoch it opens
		 * is published, so a write counted in that epoch must see
		 * the device it switched to (pairs with rcu_assign_pointer
		 * in fence_open_locked; a compiler barrier on x86).  One
		 * counted in an earlier epoch holds off the switch itself.
		 */
		smp_rmb();
		fence_remap(fc, bio, sector);
		fence_pb_mark(fc->fdev, pb);
		return DM_MAPIO_REMAPPED;
	}
	return fence_dev_map_write(fc, bio, pb, dm_noflush_suspending(ti));
}

static int fence_end_io(struct dm_target *ti, struct bio *bio,
			blk_status_t *error)
{
	struct fence_c *fc = ti->private;
	struct fence_pb *pb;

	/* the clone keeps its op: only a write had its pb set up by map() */
	if (!op_is_write(bio_op(bio)))
		return DM_ENDIO_DONE;
	pb = dm_per_bio_data(bio, sizeof(struct fence_pb));
	if (unlikely(pb->requeue)) {
		/* released by a noflush presuspend: dm core maps it again */
		pb->requeue = false;
		return DM_ENDIO_REQUEUE;
	}
	if (pb->ep) {
		fence_dev_end_write(fc->fdev, pb, *error != BLK_STS_OK);
		pb->ep = NULL;
	}
	return DM_ENDIO_DONE;
}

static int fence_preresume(struct dm_target *ti)
{
	struct fence_c *fc = ti->private;

	return fence_dev_grow(fc->fdev, fc);
}

static void fence_presuspend(struct dm_target *ti)
{
	struct fence_c *fc = ti->private;

	fence_dev_presuspend(fc->fdev, dm_noflush_suspending(ti));
}

static void fence_resume(struct dm_target *ti)
{
	struct fence_c *fc = ti->private;

	fence_dev_resume(fc->fdev, fc);
	fence_replay_arm(fc->fdev, ti);
}

static void fence_presuspend_undo(struct dm_target *ti)
{
	struct fence_c *fc = ti->private;

	fence_dev_resume(fc->fdev, fc);
	fence_replay_undo(fc->fdev);
}

/*
 * dm core hands the ioctls it does not know itself (SG_IO, SCSI and NVMe
 * passthrough, CD-ROM commands, PR clear) to the device prepare_ioctl
 * names.  A SCSI WRITE sent that way would go around the close, the fence,
 * the in-flight count and the bitmap: refuse them all.  Persistent
 * reservations (register, reserve, release, preempt) do not come here:
 * dm core sends them through pr_ops to every device iterate_devices names.
 */
static int fence_prepare_ioctl(struct dm_target *ti, struct block_device **bdev)
{
	struct fence_c *fc = ti->private;
	struct fence_dev *fdev = fc->fdev;
	int seen = READ_ONCE(fdev->state) + 1;

	/*
	 * Said once per device and state: a mount or an fsck sends several
	 * (udev's and blkid's probes too), each refused alike.  dm core does
	 * not tell a target which ioctl it is (6.1, 6.12).
	 */
	if (atomic_xchg(&fdev->ioctl_refusal_logged, seen) != seen)
		DMWARN("%d:%d: ioctl passthrough to %s refused (all while %s): bypasses the fence",
		       MAJOR(fdev->devt), MINOR(fdev->devt),
		       READ_ONCE(fc->active)->dev->name, fence_state_name(seen - 1));
	return -EOPNOTSUPP;
}

static int fence_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct fence_c *fc = ti->private;
	struct fence_backing *active = READ_ONCE(fc->active);
	struct fence_backing *standby = &fc->backing[1];
	int r;

	/*
	 * The device in use first: dm core sends a persistent reservation
	 * (reserve, release, preempt) to the devices named here until one
	 * takes it, so after a switch it goes to the standby now in use and
	 * never to the old device, which is named no more.  Before a switch
	 * the standby comes second: the queue limits must fit the device a
	 * switch may send the writes to, and a key registered through the
	 * device is on both.
	 */
	r = fn(ti, active->dev, active->start, ti->len, data);
	if (!r && active != standby && standby->dev)
		r = fn(ti, standby->dev, standby->start, ti->len, data);
	return r;
}

static struct target_type fence_target = {
	.name = "fence",
	.version = {1, 6, 0},
	.features = DM_TARGET_NOWAIT | DM_TARGET_PASSES_CRYPTO |
		    DM_TARGET_PASSES_INTEGRITY,
	.module = THIS_MODULE,
	.ctr = fence_ctr,
	.dtr = fence_dtr,
	.map = fence_map,
	.end_io = fence_end_io,
	.presuspend = fence_presuspend,
	.preresume = fence_preresume,
	.presuspend_undo = fence_presuspend_undo,
	.resume = fence_resume,
	.status = fence_status,
	.message = fence_message,
	.prepare_ioctl = fence_prepare_ioctl,
	.iterate_devices = fence_iterate_devices,
};

static int __init dm_fence_init(void)
{
	int r = fence_dev_caches_init();

	if (r < 0)
		return r;
	r = fence_replay_init();
	if (r < 0)
		goto bad_replay;
	r = dm_register_target(&fence_target);
	if (r < 0) {
		DMERR("register failed %d", r);
		goto bad_register;
	}
	r = fence_ctl_init();
	if (r < 0) {
		DMERR("control device registration failed %d", r);
		goto bad_ctl;
	}
	return 0;

bad_ctl:
	dm_unregister_target(&fence_target);
bad_register:
	fence_replay_exit();
bad_replay:
	fence_dev_caches_exit();
	return r;
}

static void __exit dm_fence_exit(void)
{
	fence_ctl_exit();
	dm_unregister_target(&fence_target);
	fence_dev_release_exit();
	/* epochs are freed by RCU callbacks: let them run before unload */
	rcu_barrier();
	fence_replay_exit();
	fence_dev_caches_exit();
}

module_init(dm_fence_init);
module_exit(dm_fence_exit);

MODULE_DESCRIPTION(DM_NAME " target that closes, drains and fences writes");
MODULE_AUTHOR("dm-fence developers");
MODULE_LICENSE("GPL");
