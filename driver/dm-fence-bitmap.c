// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the dirty-region bitmap, for storage live migration.
 *
 * One bit per region of 2^shift sectors.  A write sets the bits of every
 * region it touches when it is mapped and again when it completes; a copy
 * tool fetches and clears them word by word with one atomic operation per
 * word that has a bit set.  A write racing a clear therefore never goes
 * unreported: if the clear took its bit after the write set it at map
 * time, the completion sets it again, and the next fetch reports it.
 *
 * No lock anywhere: the write path reads a word and only does an atomic OR
 * when a bit it needs is missing, so a region already dirty costs one read
 * and never bounces the cache line.  The count of dirty bits is kept in
 * step with every 0->1 and 1->0 transition, so status never walks the map.
 */

#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "dm-fence-bitmap.h"

int fence_bitmap_init(struct fence_bitmap *bm, sector_t len,
		      unsigned int region_shift)
{
	bm->words = NULL;
	bm->nr_dirty = NULL;
	bm->region_shift = region_shift;
	bm->nr_regions = (len + (1ULL << region_shift) - 1) >> region_shift;
	bm->nr_words = DIV_ROUND_UP_ULL(bm->nr_regions, BITS_PER_LONG);
	/*
	 * 2 MiB per TiB at 64 KiB regions: vmalloc when it must.  kvmalloc
	 * refuses (and warns of) more than INT_MAX bytes: say why instead.
	 */
	if (bm->nr_words > FENCE_BITMAP_MAX_BYTES / sizeof(*bm->words))
		return -E2BIG;
	bm->words = kvcalloc(bm->nr_words, sizeof(*bm->words),
			     GFP_KERNEL | __GFP_NOWARN | __GFP_ACCOUNT);
	if (!bm->words)
		return -ENOMEM;
	bm->nr_dirty = alloc_percpu_gfp(long, GFP_KERNEL | __GFP_ACCOUNT);
	if (!bm->nr_dirty) {
		fence_bitmap_free(bm);
		return -ENOMEM;
	}
	return 0;
}

void fence_bitmap_free(struct fence_bitmap *bm)
{
	free_percpu(bm->nr_dirty);
	bm->nr_dirty = NULL;
	kvfree(bm->words);
	bm->words = NULL;
}

/* Mask of bits first..last (inclusive) that fall into word w. */
static unsigned long fence_word_mask(u64 w, u64 first, u64 last)
{
	u64 lo = w * BITS_PER_LONG, hi = lo + BITS_PER_LONG - 1;
	unsigned long mask = ~0UL;

	if (first > lo)
		mask &= ~0UL << (first - lo);
	if (last < hi)
		mask &= ~0UL >> (hi - last);
	return mask;
}

/* OR @set into word @w, counting the bits that were clear. */
static void fence_word_set(struct fence_bitmap *bm, u64 w, unsigned long set)
{
	unsigned long old = atomic_long_fetch_or(set, &bm->words[w]);

	if (set & ~old)
		this_cpu_add(*bm->nr_dirty, hweight_long(set & ~old));
}

/* Set the bits of every region that sectors [sector, sector + nr) touch. */
void fence_bitmap_mark(struct fence_bitmap *bm, sector_t sector,
		       unsigned int nr_sectors)
{
	u64 first, last, w, w_last;
	unsigned long mask;

	if (unlikely(!nr_sectors))
		return;
	first = sector >> bm->region_shift;
	last = (sector + nr_sectors - 1) >> bm->region_shift;
	if (unlikely(last >= bm->nr_regions))
		last = bm->nr_regions - 1;

	w_last = last / BITS_PER_LONG;
	for (w = first / BITS_PER_LONG; w <= w_last; w++) {
		mask = fence_word_mask(w, first, last);
		if (likely((atomic_long_read(&bm->words[w]) & mask) == mask))
			continue;
		fence_word_set(bm, w, mask);
	}
}

/*
 * Copy the bits of regions [start, start + count) to out[], 64 regions per
 * u64 (bit i of out[j] is region start + 64 * j + i).  If @clear is set,
 * also clear exactly the bits copied, atomically against racing writes.  start
 * must be a multiple of 64.  Returns the number of dirty regions copied.
 */
u64 fence_bitmap_fetch(struct fence_bitmap *bm, u64 start, u64 count,
		       u64 *out, bool clear)
{
	u64 last = start + count - 1, w, n = 0;
	unsigned long mask, bits;

	BUILD_BUG_ON(BITS_PER_LONG != 64);
	for (w = start / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++) {
		mask = fence_word_mask(w, start, last);
		bits = atomic_long_read(&bm->words[w]) & mask;
		if (bits && clear) {
			bits = atomic_long_fetch_andnot(mask, &bm->words[w]) & mask;
			this_cpu_sub(*bm->nr_dirty, hweight_long(bits));
		}
		*out++ = bits;
		n += hweight_long(bits);
	}
	return n;
}

/*
 * Set again bits that a fetch cleared but could not hand over (the copy to
 * userspace failed): they must be reported by the next fetch.
 */
void fence_bitmap_restore(struct fence_bitmap *bm, u64 start, u64 count,
			  const u64 *bits)
{
	u64 last = start + count - 1, w;
	unsigned long set;

	for (w = start / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++) {
		set = *bits++ & fence_word_mask(w, start, last);
		if (set)
			fence_word_set(bm, w, set);
	}
}

static long fence_bitmap_sum(const struct fence_bitmap *bm)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(bm->nr_dirty, cpu));
	return n;
}

/*
 * A mark adds to the count after its OR and a clear subtracts after its
 * ANDNOT, so a clear racing a mark may subtract first: the count can be
 * below the truth (even negative) for a moment.  Never report that.
 */
u64 fence_bitmap_dirty(struct fence_bitmap *bm)
{
	long n = fence_bitmap_sum(bm);

	if (n < 0)
		return 0;
	return min_t(u64, n, bm->nr_regions);
}

/*
 * Mark every region of [start, start + count) dirty: where a fetch that
 * cleared them cannot tell any more which were set.  A false positive
 * costs a copy; a false negative would lose data.
 */
void fence_bitmap_set_all(struct fence_bitmap *bm, u64 start, u64 count)
{
	u64 last = start + count - 1, w;

	for (w = start / BITS_PER_LONG; w <= last / BITS_PER_LONG; w++)
		fence_word_set(bm, w, fence_word_mask(w, start, last));
}

/*
 * Fill @bm, just initialised for a longer device, from @old, the bitmap of
 * the device before it grew by a reload: the bits it had, and every region
 * from the one where @old_len ended dirty (the new space, and the old last
 * region where it was partial: a copy must pick them all up).  Neither
 * bitmap may change meanwhile.
 */
void fence_bitmap_grow_from(struct fence_bitmap *bm,
			    const struct fence_bitmap *old, sector_t old_len)
{
	u64 w, first_new = old_len >> bm->region_shift;

	for (w = 0; w < old->nr_words; w++)
		atomic_long_set(&bm->words[w], atomic_long_read(&old->words[w]));
	this_cpu_add(*bm->nr_dirty, fence_bitmap_sum(old));
	if (first_new < bm->nr_regions)
		fence_bitmap_set_all(bm, first_new, bm->nr_regions - first_new);
}
