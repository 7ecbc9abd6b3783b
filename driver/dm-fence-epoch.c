// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-fence: the per-CPU write counts of an epoch, summed only when someone
 * asks (as dm core counts its in-flight bios), and the one report that an
 * epoch no longer counting up has nothing left below.
 */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/percpu.h>

#include "dm-fence-epoch.h"

/*
 * Exact once the epoch is retired (its counters only decrease, so a sum
 * read CPU by CPU can only over-estimate); approximate for the live epoch
 * under load, exact at rest.  Other CPUs write these counters while we
 * read them: READ_ONCE, each read whole.
 */
long fence_epoch_sum(struct fence_epoch *ep)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(ep->inflight, cpu));
	return sum;
}

/*
 * What status reports of one epoch.  During the grace period after a fence
 * a CPU may still count a write in the unpublished epoch while another
 * completes it: read CPU by CPU, the sum can then be below zero (the
 * completion seen, the count not yet).  That is none in flight, not 2^64-1.
 */
u64 fence_epoch_count(struct fence_epoch *ep)
{
	long sum = fence_epoch_sum(ep);

	return sum > 0 ? sum : 0;
}

/*
 * True exactly once: for the first caller that sees the sum of a retired
 * epoch at zero.  That caller reports the drain.
 */
bool fence_epoch_drained(struct fence_epoch *ep)
{
	return fence_epoch_sum(ep) == 0 && !test_and_set_bit(0, &ep->drained);
}
