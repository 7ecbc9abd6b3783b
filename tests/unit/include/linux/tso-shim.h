/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-CPU variables on a model of x86-TSO, the memory model of the CPUs
 * dm-fence runs on: each CPU has a store buffer (FIFO) that its own loads
 * look through and that other CPUs do not see until it is committed; a
 * full barrier or a locked read-modify-write commits it.  A test runs code
 * "on" CPU unit_cpu and chooses where the other CPU runs and when buffers
 * commit (tso-shim.c), so store-buffering races happen every run.  Only
 * longs go through the buffers (the per-CPU counters); everything else is
 * plain memory.
 */
#ifndef UNIT_TSO_SHIM_H
#define UNIT_TSO_SHIM_H

#include "kernel-shim.h"

#define UNIT_NR_CPUS	2

extern int unit_cpu;
/* called after every load, store and barrier of the model */
extern void (*unit_step_hook)(void);

long unit_load(const long *addr);
void unit_store(long *addr, long val);
void unit_commit(int cpu);
void unit_mb(void);
void unit_tso_reset(void);

#define __percpu
#define alloc_percpu(type)	((type *)calloc(UNIT_NR_CPUS, sizeof(type)))
#define alloc_percpu_gfp(type, gfp)	alloc_percpu(type)
#define free_percpu(p)		free(p)
#define per_cpu_ptr(p, cpu)	(&(p)[cpu])
#define for_each_possible_cpu(cpu) \
	for ((cpu) = 0; (cpu) < UNIT_NR_CPUS; (cpu)++)
/* one unlocked instruction on the CPU's own slot: the store is buffered */
#define this_cpu_add(pcp, i) \
	unit_store(&(pcp) + unit_cpu, unit_load_quiet(&(pcp) + unit_cpu) + (i))
#define this_cpu_inc(pcp)	this_cpu_add(pcp, 1)
#define this_cpu_dec(pcp)	this_cpu_add(pcp, -1)
#define this_cpu_sub(pcp, i)	this_cpu_add(pcp, -(long)(i))

long unit_load_quiet(const long *addr);

#define READ_ONCE(x) _Generic((x), long: unit_load((const long *)&(x)), default: (x))
#define WRITE_ONCE(x, v) ((x) = (v))
#define smp_mb()	unit_mb()

/* locked instructions: a full barrier on x86 */
static inline bool test_and_set_bit(unsigned int nr, unsigned long *addr)
{
	bool old;

	unit_mb();
	old = *addr >> nr & 1;
	*addr |= 1UL << nr;
	return old;
}

static inline void set_bit(unsigned int nr, unsigned long *addr)
{
	unit_mb();
	*addr |= 1UL << nr;
}

static inline bool test_bit(unsigned int nr, const unsigned long *addr)
{
	return *addr >> nr & 1;
}

struct list_head {
	struct list_head *next, *prev;
};

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

#endif
