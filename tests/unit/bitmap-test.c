// SPDX-License-Identifier: GPL-2.0-only
/*
 * driver/dm-fence-bitmap.c, built in userspace against kernel-shim.h and run
 * here: geometry, fetch-and-clear, restore, the size cap, and the count
 * while a mark and a clear interleave step by step (the shim runs a test's
 * hook after every atomic operation, so the race is the same every run).
 * Prints "ok <name>" or "not ok <name>" per case; exits 1 on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "../../driver/dm-fence-bitmap.h"

void (*unit_after_atomic)(atomic_long_t *v);
unsigned long unit_kvmalloc_refused;

static int failures;
static const char *current;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s: %s:%d: %s\n", current, __FILE__,	\
			__LINE__, #cond);				\
		failures++;						\
		return;							\
	}								\
} while (0)

static struct fence_bitmap bm;

static void setup(u64 regions, unsigned int shift)
{
	unit_after_atomic = NULL;
	unit_kvmalloc_refused = 0;
	if (fence_bitmap_init(&bm, regions << shift, shift)) {
		fprintf(stderr, "fence_bitmap_init(%llu regions) failed\n",
			(unsigned long long)regions);
		exit(2);
	}
}

/* what fetch reports, without clearing: a bool per region */
static u64 bits_of(bool *set)
{
	u64 out[64] = { 0 }, r, n;

	n = fence_bitmap_fetch(&bm, 0, bm.nr_regions, out, false);
	for (r = 0; r < bm.nr_regions; r++)
		set[r] = out[r / 64] >> (r % 64) & 1;
	return n;
}

/* Regions a bio touches, across word boundaries; the tail is clamped. */
static void test_geometry(void)
{
	bool set[130];
	u64 out[3];

	setup(130, 3);	/* 3 words, the last one partial */
	CHECK(bm.nr_words == 3);
	fence_bitmap_mark(&bm, 0, 1);			/* region 0 */
	fence_bitmap_mark(&bm, 63 * 8 + 7, 2);		/* 63 and 64 */
	fence_bitmap_mark(&bm, 129 * 8, 100);		/* past the end: 129 */
	fence_bitmap_mark(&bm, 5 * 8, 0);		/* nothing */
	CHECK(bits_of(set) == 4);
	CHECK(set[0] && set[63] && set[64] && set[129] && !set[1] && !set[5]);
	CHECK(fence_bitmap_dirty(&bm) == 4);
	/* a dirty region costs one read: marking it again changes nothing */
	fence_bitmap_mark(&bm, 0, 8);
	CHECK(fence_bitmap_dirty(&bm) == 4);

	/* fetch-and-clear of the middle word only */
	memset(out, 0, sizeof(out));
	CHECK(fence_bitmap_fetch(&bm, 64, 64, out, true) == 1);
	CHECK(out[0] == 1);
	CHECK(fence_bitmap_dirty(&bm) == 3);
	CHECK(fence_bitmap_fetch(&bm, 0, 130, out, true) == 3);
	CHECK(out[0] == (1UL | 1UL << 63) && out[1] == 0 && out[2] == 2);
	CHECK(fence_bitmap_fetch(&bm, 0, 130, out, false) == 0);
	CHECK(fence_bitmap_dirty(&bm) == 0);
	fence_bitmap_free(&bm);
}

/* A fetch whose copy-out failed gives its bits back, counted once. */
static void test_restore(void)
{
	u64 out[2], again[2];

	setup(128, 7);
	fence_bitmap_mark(&bm, 1 << 7, 1);
	fence_bitmap_mark(&bm, 70 << 7, 1);
	CHECK(fence_bitmap_fetch(&bm, 0, 128, out, true) == 2);
	fence_bitmap_mark(&bm, 70 << 7, 1);	/* written again meanwhile */
	fence_bitmap_restore(&bm, 0, 128, out);
	CHECK(fence_bitmap_dirty(&bm) == 2);
	CHECK(fence_bitmap_fetch(&bm, 0, 128, again, false) == 2);
	CHECK(again[0] == out[0] && again[1] == out[1]);

	/* set_all, over bits partly set: each region counted once */
	fence_bitmap_set_all(&bm, 64, 64);
	CHECK(fence_bitmap_dirty(&bm) == 65);
	fence_bitmap_free(&bm);
}

/*
 * 64 TiB at 4 KiB regions is 2 GiB of bitmap, more than kvmalloc() takes:
 * refused with its own error, before kvmalloc() is asked (and warns).
 */
static void test_too_large(void)
{
	struct fence_bitmap big;

	unit_kvmalloc_refused = 0;
	CHECK(fence_bitmap_init(&big, 1ULL << 37, 3) == -E2BIG);
	CHECK(unit_kvmalloc_refused == 0);
	/* refused for its size, not for another reason */
	CHECK(big.nr_words * sizeof(*big.words) > FENCE_BITMAP_MAX_BYTES);
}

/*
 * A fetch-and-clear that runs between a mark's OR and its count update
 * subtracts first: the count is -1 for a moment.  Status must still print
 * 0, not 18446744073709551615.  The clear runs on the other CPU, so its
 * own per-CPU count stays at -1 for good: only the sum is ever exact.
 */
static u64 seen;
static atomic_long_t *hook_word;

static void clear_between(atomic_long_t *v)
{
	u64 out[1];

	if (v != hook_word)
		return;
	unit_after_atomic = NULL;	/* once */
	unit_cpu = 1;
	fence_bitmap_fetch(&bm, 0, bm.nr_regions, out, true);
	seen = fence_bitmap_dirty(&bm);
	unit_cpu = 0;
}

/* at rest: every CPU's count update has reached memory */
static void commit_all(void)
{
	unit_commit(0);
	unit_commit(1);
}

static void test_count_never_negative(void)
{
	u64 out[1];

	setup(64, 3);
	hook_word = &bm.words[0];
	unit_after_atomic = clear_between;
	seen = ~0ULL - 1;
	fence_bitmap_mark(&bm, 5 * 8, 8);
	CHECK(seen != ~0ULL - 1);	/* the hook ran */
	/* the truth then: the clear took the bit (min() hid -1 as 64) */
	CHECK(seen == 0);
	/* at rest the count is exact again: the clear took the bit */
	commit_all();
	CHECK(*per_cpu_ptr(bm.nr_dirty, 1) == -1);
	CHECK(fence_bitmap_dirty(&bm) == 0);
	CHECK(fence_bitmap_fetch(&bm, 0, 64, out, false) == 0);
	fence_bitmap_free(&bm);
}

/*
 * A mark between a fetch's ANDNOT and its count update adds first: the
 * count is one above the truth for a moment; with every region dirty, that
 * is above the number of regions.
 */
static void mark_between(atomic_long_t *v)
{
	if (v != hook_word)
		return;
	unit_after_atomic = NULL;
	unit_cpu = 1;
	fence_bitmap_mark(&bm, 0, 8);
	seen = fence_bitmap_dirty(&bm);
	unit_cpu = 0;
}

static void test_count_never_above_regions(void)
{
	u64 out[1];

	setup(1, 3);
	fence_bitmap_mark(&bm, 0, 8);
	commit_all();
	hook_word = &bm.words[0];
	unit_after_atomic = mark_between;
	seen = ~0ULL - 1;
	CHECK(fence_bitmap_fetch(&bm, 0, 1, out, true) == 1);
	CHECK(seen != ~0ULL - 1);
	CHECK(seen <= bm.nr_regions);
	commit_all();
	CHECK(fence_bitmap_dirty(&bm) == 1);
	fence_bitmap_free(&bm);
}

/*
 * Random marks and fetch-and-clears, with another random operation run
 * after random atomic steps of each: the count seen at any moment is within
 * [0, regions]; at rest it is exact, and every region marked since the last
 * fetch that reported it is still set (false positives are allowed, false
 * negatives never).
 */
static bool model[200];
static unsigned int seed = 1;
static int nested_bad;

static unsigned int rnd(unsigned int n)
{
	seed = seed * 1103515245 + 12345;
	return (seed >> 16) % n;
}

static void random_op(void)
{
	u64 out[4], r, first, last;
	unsigned int op = rnd(3);

	if (op == 0 || op == 1) {
		first = rnd(bm.nr_regions);
		last = first + rnd(70);
		if (last >= bm.nr_regions)
			last = bm.nr_regions - 1;
		/* owed to a fetch from the moment the mark starts */
		for (r = first; r <= last; r++)
			model[r] = true;
		fence_bitmap_mark(&bm, first * 8, (last - first + 1) * 8);
	} else {
		first = rnd(4) * 64;
		if (first >= bm.nr_regions)
			return;
		last = bm.nr_regions - first < 64 ? bm.nr_regions - first : 64;
		memset(out, 0, sizeof(out));
		fence_bitmap_fetch(&bm, first, last, out, true);
		for (r = 0; r < last; r++)
			if (out[0] >> r & 1)
				model[first + r] = false;
	}
	if (fence_bitmap_dirty(&bm) > bm.nr_regions)
		nested_bad++;
}

static void random_nested(atomic_long_t *v)
{
	(void)v;
	if (rnd(4))
		return;
	unit_after_atomic = NULL;	/* one level deep */
	random_op();
	unit_after_atomic = random_nested;
}

static void test_random_interleavings(void)
{
	bool set[200];
	u64 r, n;
	int i;

	setup(200, 3);
	memset(model, 0, sizeof(model));
	nested_bad = 0;
	unit_after_atomic = random_nested;
	for (i = 0; i < 20000; i++)
		random_op();
	unit_after_atomic = NULL;
	CHECK(nested_bad == 0);
	n = bits_of(set);
	for (r = 0; r < bm.nr_regions; r++)
		CHECK(set[r] || !model[r]);
	CHECK(fence_bitmap_dirty(&bm) == n);
	fence_bitmap_free(&bm);
}

static void run(const char *name, void (*fn)(void))
{
	int before = failures;

	current = name;
	fn();
	printf("%s %s\n", failures == before ? "ok" : "not ok", name);
}

int main(void)
{
	run("bitmap-geometry", test_geometry);
	run("bitmap-restore-and-set-all", test_restore);
	run("bitmap-too-large-refused", test_too_large);
	run("bitmap-count-never-negative", test_count_never_negative);
	run("bitmap-count-never-above-regions", test_count_never_above_regions);
	run("bitmap-random-interleavings", test_random_interleavings);
	return failures ? 1 : 0;
}
