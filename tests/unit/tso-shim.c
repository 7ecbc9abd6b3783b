// SPDX-License-Identifier: GPL-2.0-only
/* The store buffers of include/linux/tso-shim.h. */
#include <stdio.h>
#include <linux/tso-shim.h>

#define UNIT_SB_DEPTH	16

struct unit_store_buffer {
	int n;
	long *addr[UNIT_SB_DEPTH];
	long val[UNIT_SB_DEPTH];
};

static struct unit_store_buffer sb[UNIT_NR_CPUS];
int unit_cpu;
void (*unit_step_hook)(void);

static void unit_tso_step(void)
{
	if (unit_step_hook)
		unit_step_hook();
}

long unit_load_quiet(const long *addr)
{
	struct unit_store_buffer *b = &sb[unit_cpu];
	int i;

	for (i = b->n - 1; i >= 0; i--)
		if (b->addr[i] == addr)
			return b->val[i];
	return *addr;
}

long unit_load(const long *addr)
{
	long v = unit_load_quiet(addr);

	unit_tso_step();
	return v;
}

void unit_store(long *addr, long val)
{
	struct unit_store_buffer *b = &sb[unit_cpu];

	if (b->n == UNIT_SB_DEPTH)
		unit_commit(unit_cpu);
	b->addr[b->n] = addr;
	b->val[b->n] = val;
	b->n++;
	unit_tso_step();
}

void unit_commit(int cpu)
{
	struct unit_store_buffer *b = &sb[cpu];
	int i;

	for (i = 0; i < b->n; i++)
		*b->addr[i] = b->val[i];
	b->n = 0;
}

void unit_mb(void)
{
	unit_commit(unit_cpu);
	unit_tso_step();
}

void unit_tso_reset(void)
{
	int cpu;

	for (cpu = 0; cpu < UNIT_NR_CPUS; cpu++)
		sb[cpu].n = 0;
	unit_cpu = 0;
	unit_step_hook = NULL;
}
