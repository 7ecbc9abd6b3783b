/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Just enough of the kernel for driver/dm-fence-bitmap.c to build and run
 * in userspace (the approach of tools/testing/radix-tree/).  Every atomic
 * operation calls unit_after_atomic() once it is done, so a test can run
 * another operation between two steps of one call: the interleavings that
 * a race on two CPUs produces only now and then, produced every time.
 */
#ifndef UNIT_KERNEL_SHIM_H
#define UNIT_KERNEL_SHIM_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef uint64_t u64;
typedef u64 sector_t;
typedef unsigned int gfp_t;

#define GFP_KERNEL	0u
#define __GFP_NOWARN	1u
#define __GFP_ACCOUNT	2u

#define BITS_PER_LONG	64
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define BUILD_BUG_ON(c)	((void)sizeof(char[1 - 2 * !!(c)]))
#define DIV_ROUND_UP_ULL(n, d)	(((n) + (d) - 1) / (d))
#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define hweight_long(x)	__builtin_popcountl(x)

typedef struct {
	long counter;
} atomic_long_t;

/* set by the test; called after every atomic operation on @v */
extern void (*unit_after_atomic)(atomic_long_t *v);

static inline void unit_step(atomic_long_t *v)
{
	if (unit_after_atomic)
		unit_after_atomic(v);
}

static inline long atomic_long_read(const atomic_long_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic_long_set(atomic_long_t *v, long i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_long_add(long i, atomic_long_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST);
	unit_step(v);
}

static inline void atomic_long_sub(long i, atomic_long_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST);
	unit_step(v);
}

static inline long atomic_long_fetch_or(long i, atomic_long_t *v)
{
	long old = __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST);

	unit_step(v);
	return old;
}

static inline long atomic_long_fetch_andnot(long i, atomic_long_t *v)
{
	long old = __atomic_fetch_and(&v->counter, ~i, __ATOMIC_SEQ_CST);

	unit_step(v);
	return old;
}

/* kvmalloc() warns of (and refuses) more than INT_MAX bytes: fail here */
extern unsigned long unit_kvmalloc_refused;

static inline void *kvcalloc(size_t n, size_t size, gfp_t flags)
{
	(void)flags;
	if (n && size > INT_MAX / n) {
		unit_kvmalloc_refused++;
		return NULL;
	}
	return calloc(n, size);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif
