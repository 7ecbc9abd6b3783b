// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-slow-undo: a test-only target, never installed.  It maps like linear
 * and sleeps in presuspend_undo, so that a test can hold dm core inside the
 * window of an interrupted suspend: after it has cleared its noflush flag
 * and handed the requeued bios back to kdmflush, before it undoes
 * presuspend on the targets that follow this one in the table.
 *
 * Table line: <dev_path> <offset> <undo_ms>
 */
#include <linux/delay.h>
#include <linux/device-mapper.h>
#include <linux/module.h>

#define DM_MSG_PREFIX "slow-undo"

struct slow_undo_c {
	struct dm_dev *dev;
	sector_t start;
	unsigned int undo_ms;
};

static int slow_undo_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct slow_undo_c *sc;
	unsigned long long start;
	char dummy;
	int r;

	if (argc != 3) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}
	sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	r = -EINVAL;
	if (sscanf(argv[1], "%llu%c", &start, &dummy) != 1 ||
	    start != (sector_t)start) {
		ti->error = "Invalid device sector";
		goto bad;
	}
	sc->start = start;
	if (kstrtouint(argv[2], 10, &sc->undo_ms) || sc->undo_ms > 60000) {
		ti->error = "Invalid undo_ms";
		goto bad;
	}
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &sc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}
	ti->num_flush_bios = 1;
	ti->private = sc;
	return 0;

bad:
	kfree(sc);
	return r;
}

static void slow_undo_dtr(struct dm_target *ti)
{
	struct slow_undo_c *sc = ti->private;

	dm_put_device(ti, sc->dev);
	kfree(sc);
}

static int slow_undo_map(struct dm_target *ti, struct bio *bio)
{
	struct slow_undo_c *sc = ti->private;

	bio_set_dev(bio, sc->dev->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = sc->start +
			dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static void slow_undo_presuspend_undo(struct dm_target *ti)
{
	struct slow_undo_c *sc = ti->private;

	DMINFO("presuspend_undo: sleeping %u ms", sc->undo_ms);
	msleep(sc->undo_ms);
}

static void slow_undo_status(struct dm_target *ti, status_type_t type,
			     unsigned int status_flags, char *result,
			     unsigned int maxlen)
{
	struct slow_undo_c *sc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		result[0] = '\0';
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %llu %u", sc->dev->name,
		       (unsigned long long)sc->start, sc->undo_ms);
		break;
	default:
		result[0] = '\0';
		break;
	}
}

static int slow_undo_iterate_devices(struct dm_target *ti,
				     iterate_devices_callout_fn fn, void *data)
{
	struct slow_undo_c *sc = ti->private;

	return fn(ti, sc->dev, sc->start, ti->len, data);
}

static struct target_type slow_undo_target = {
	.name = "slow_undo",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = slow_undo_ctr,
	.dtr = slow_undo_dtr,
	.map = slow_undo_map,
	.presuspend_undo = slow_undo_presuspend_undo,
	.status = slow_undo_status,
	.iterate_devices = slow_undo_iterate_devices,
};

static int __init dm_slow_undo_init(void)
{
	return dm_register_target(&slow_undo_target);
}

static void __exit dm_slow_undo_exit(void)
{
	dm_unregister_target(&slow_undo_target);
}

module_init(dm_slow_undo_init);
module_exit(dm_slow_undo_exit);

MODULE_DESCRIPTION("dm-fence test target: linear that sleeps in presuspend_undo");
MODULE_LICENSE("GPL");
