// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: what dmsetup sees of a fence device: its status and table
 * lines, and the messages (close, reopen, fence, unfence, storage_fenced,
 * get_dirty).
 * Their semantics are the state machine's (dm-fence-dev.c); the control
 * device (dm-fence-ctl.c) offers the same with waiting and bulk data.
 */

#include <linux/kernel.h>
#include <linux/string.h>

#include "dm-fence.h"

#define DM_MSG_PREFIX "fence"

void fence_status(struct dm_target *ti, status_type_t type,
		  unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct fence_c *fc = ti->private;
	struct fence_backing *active = READ_ONCE(fc->active);
	struct fence_counts c;
	unsigned int nr_features;
	bool closed;
	size_t sz = 0;

	fence_dev_counts(fc->fdev, &c);
	closed = c.state == FENCE_CLOSING || c.state == FENCE_CLOSED;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%s %llu %llu %llu %llu %llu %llu %llu/%llu %llu %llu",
		       fence_state_name(c.state), c.generation, c.inflight,
		       c.held, c.stale_inflight, c.late_completions,
		       c.failed_writes, c.dirty, c.regions, c.flush_errors,
		       c.unknown_fate);
		/*
		 * Fenced, and no write of an older generation can land any
		 * more (fence_dev_settled_locked()); and whether a caller
		 * confirmed the storage-side fence.
		 */
		if (c.settled)
			DMEMIT(" settled");
		if (c.storage_fenced)
			DMEMIT(" storage_fenced");
		/*
		 * Fenced, and writes dm core parked across a suspend may be
		 * older than the generation: unfence is refused until they
		 * were mapped again (dm-fence-replay.c).  Said, so that an
		 * admin whose unfence is refused with nothing stale below
		 * sees why.
		 */
		if (c.replay_pending)
			DMEMIT(" replay_pending");
		break;
	case STATUSTYPE_TABLE:
		/*
		 * A line that re-creates the device as it is: the generation,
		 * and a closed or fenced device writes nothing until someone
		 * reopens or unfences it (how a host re-creates its devices
		 * after a reboot).  The device it writes to: a standby is
		 * a copy tool's, for one switch, and no part of the device
		 * (a reload of this line drops it, or SRC after a switch).
		 */
		nr_features = 2;
		if (fc->region_size != DM_FENCE_DEFAULT_REGION_SIZE)
			nr_features += 2;
		nr_features += closed && !c.close_fail;
		nr_features += closed && c.close_fail;
		nr_features += c.state == FENCE_FENCED;
		nr_features += fc->fence_reads;
		DMEMIT("%s %llu %u generation %llu", active->dev->name,
		       (unsigned long long)active->start, nr_features,
		       c.generation);
		if (fc->region_size != DM_FENCE_DEFAULT_REGION_SIZE)
			DMEMIT(" region_size %u", fc->region_size);
		if (closed)
			DMEMIT(c.close_fail ? " close_fail" : " closed");
		if (c.state == FENCE_FENCED)
			DMEMIT(" fenced");
		if (fc->fence_reads)
			DMEMIT(" fence_reads");
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",device_name=%s,start=%llu,generation=%llu,region_size=%u,fence_reads=%c;",
		       active->dev->name, (unsigned long long)active->start,
		       c.generation, fc->region_size,
		       fc->fence_reads ? 'y' : 'n');
		break;
	}
}

/* Print regions first..last as "N" or "N-M", after a space if not first. */
static void fence_emit_run(char *result, unsigned int maxlen, unsigned int *psz,
			   u64 first, u64 last)
{
	unsigned int sz = *psz;

	if (first == last)
		DMEMIT("%s%llu", sz ? " " : "", first);
	else
		DMEMIT("%s%llu-%llu", sz ? " " : "", first, last);
	*psz = sz;
}

/*
 * 'get_dirty [clear]': the dirty regions as text ("0-3 17 200-210"), for
 * scripts and tests; copy tools use the GET_DIRTY ioctl.  The output stops
 * with a trailing "+" before the result buffer could overflow (dm would
 * call us again with a bigger one, and a second fetch would clear more);
 * with 'clear' only what was printed is cleared.
 */
static int fence_message_get_dirty(struct fence_c *fc, bool clear,
				   char *result, unsigned int maxlen)
{
	/* the longest text one word of the bitmap can give */
	const unsigned int word_max = 32 * (2 * 20 + 2);
	struct fence_bitmap *bm = &fc->fdev->bitmap;
	u64 w, bits, base, count, run = U64_MAX, i;
	unsigned int sz = 0;

	if (clear)
		atomic64_inc(&fc->fdev->clears);
	result[0] = '\0';
	for (w = 0; w < bm->nr_words; w++) {
		base = w * 64;
		count = min_t(u64, 64, bm->nr_regions - base);
		if (!fence_bitmap_fetch(bm, base, count, &bits, false)) {
			if (run != U64_MAX)
				fence_emit_run(result, maxlen, &sz, run, base - 1);
			run = U64_MAX;
			continue;
		}
		if (maxlen - sz < word_max + 44) {
			if (run != U64_MAX)
				fence_emit_run(result, maxlen, &sz, run, base - 1);
			run = U64_MAX;
			DMEMIT(" +");
			break;
		}
		fence_bitmap_fetch(bm, base, count, &bits, clear);
		/* a run of dirty regions may go on from one word to the next */
		for (i = 0; i < 64; i++) {
			if (bits & (1ULL << i)) {
				if (run == U64_MAX)
					run = base + i;
			} else if (run != U64_MAX) {
				fence_emit_run(result, maxlen, &sz, run, base + i - 1);
				run = U64_MAX;
			}
		}
	}
	if (run != U64_MAX)
		fence_emit_run(result, maxlen, &sz, run, bm->nr_regions - 1);
	return 1;
}

/* '<verb> <G>': exactly one generation, 1 <= G < 2^63; @what names it */
static int fence_message_generation(unsigned int argc, char **argv,
				    const char *what, u64 *generation)
{
	if (argc != 2) {
		DMERR("%s takes one argument: %s", argv[0], what);
		return -EINVAL;
	}
	if (fence_parse_u64(argv[1], generation) || !*generation ||
	    *generation > DM_FENCE_MAX_GENERATION) {
		DMERR("%s: invalid generation '%s'", argv[0], argv[1]);
		return -EINVAL;
	}
	return 0;
}

int fence_message(struct dm_target *ti, unsigned int argc, char **argv,
		  char *result, unsigned int maxlen)
{
	struct fence_c *fc = ti->private;
	u64 generation;
	int r;

	if (!strcasecmp(argv[0], "get_dirty")) {
		if (argc > 2 || (argc == 2 && strcasecmp(argv[1], "clear"))) {
			DMERR("get_dirty takes no argument or 'clear'");
			return -EINVAL;
		}
		down_read(&fc->fdev->bitmap_sem);
		r = fence_message_get_dirty(fc, argc == 2, result, maxlen);
		up_read(&fc->fdev->bitmap_sem);
		return r;
	}

	if (!strcasecmp(argv[0], "close")) {
		if (argc == 1)
			return fence_dev_close(fc->fdev, false, false, NULL);
		if (argc == 2 && !strcasecmp(argv[1], "fail"))
			return fence_dev_close(fc->fdev, true, false, NULL);
		DMERR("close takes no argument or 'fail'");
		return -EINVAL;
	}
	if (!strcasecmp(argv[0], "reopen")) {
		if (argc == 1)
			return fence_dev_open(fc->fdev, false, 0, false, NULL);
		DMERR("reopen takes no argument");
		return -EINVAL;
	}
	if (!strcasecmp(argv[0], "unfence")) {
		r = fence_message_generation(argc, argv, "the generation it was fenced at",
					     &generation);
		return r ? r : fence_dev_open(fc->fdev, true, generation, false, NULL);
	}
	if (!strcasecmp(argv[0], "storage_fenced")) {
		r = fence_message_generation(argc, argv, "the generation it is fenced at",
					     &generation);
		return r ? r : fence_dev_storage_fenced(fc->fdev, generation);
	}
	if (!strcasecmp(argv[0], "fence")) {
		r = fence_message_generation(argc, argv, "the new generation",
					     &generation);
		return r ? r : fence_dev_fence(fc->fdev, generation);
	}
	DMERR("unrecognised message '%s'", argv[0]);
	return -EINVAL;
}
