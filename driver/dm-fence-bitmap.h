/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-fence: the dirty-region bitmap (dm-fence-bitmap.c).  Its own header,
 * with nothing of the block layer in it, so that the same file also builds
 * in userspace for tests/unit/ (as lib/radix-tree.c does for
 * tools/testing/radix-tree/).
 */
#ifndef DM_FENCE_BITMAP_H
#define DM_FENCE_BITMAP_H

#include <linux/atomic.h>
#include <linux/limits.h>
#include <linux/percpu.h>
#include <linux/types.h>

struct fence_bitmap {
	atomic_long_t *words;
	u64 nr_regions;
	u64 nr_words;
	unsigned int region_shift;
	/*
	 * Changes with every clean-to-dirty mark and every clear: per CPU,
	 * summed when status is read, so that during a copy's pre-copy
	 * rounds a mark costs no second locked instruction and no line
	 * shared with the clearing CPU.
	 */
	long __percpu *nr_dirty;
};

/* kvmalloc() refuses (and warns of) more */
#define FENCE_BITMAP_MAX_BYTES	((u64)INT_MAX)
int fence_bitmap_init(struct fence_bitmap *bm, sector_t len,
		      unsigned int region_shift);
void fence_bitmap_free(struct fence_bitmap *bm);
void fence_bitmap_mark(struct fence_bitmap *bm, sector_t sector,
		       unsigned int nr_sectors);
u64 fence_bitmap_fetch(struct fence_bitmap *bm, u64 start, u64 count,
		       u64 *out, bool clear);
void fence_bitmap_restore(struct fence_bitmap *bm, u64 start, u64 count,
			  const u64 *bits);
u64 fence_bitmap_dirty(struct fence_bitmap *bm);
void fence_bitmap_set_all(struct fence_bitmap *bm, u64 start, u64 count);
void fence_bitmap_grow_from(struct fence_bitmap *bm,
			    const struct fence_bitmap *old, sector_t old_len);

#endif
