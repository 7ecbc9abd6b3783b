// SPDX-License-Identifier: GPL-2.0-only
/*
 * driver/dm-fence-epoch.c on the store-buffer model of tso-shim.h: the last
 * two writes of a retired epoch complete on two CPUs.  Every schedule is
 * tried: CPU 1's whole completion runs after each step of CPU 0's, each
 * CPU's store buffer committed there or not.  In every one the drain is
 * reported exactly once (never: the device stays closing for ever; twice:
 * the drain work runs on a freed epoch).
 * Prints "ok <name>" or "not ok <name>" per case; exits 1 on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "../../driver/dm-fence-epoch.h"

void (*unit_after_atomic)(atomic_long_t *v);
unsigned long unit_kvmalloc_refused;

static int failures;

static struct fence_epoch ep;
static int reports, steps, switch_at;
static bool commit0, commit1, switched;

static void other_cpu_completes(void)
{
	if (unit_cpu != 0 || ++steps != switch_at)
		return;
	switched = true;
	unit_step_hook = NULL;
	if (commit0)
		unit_commit(0);
	unit_cpu = 1;
	if (fence_epoch_put(&ep))
		reports++;
	if (commit1)
		unit_commit(1);
	unit_cpu = 0;
	unit_step_hook = other_cpu_completes;
}

/* One schedule; returns false once switch_at is past CPU 0's last step. */
static bool run_schedule(void)
{
	unit_tso_reset();
	memset(&ep, 0, sizeof(ep));
	ep.inflight = alloc_percpu(long);
	ep.inflight[0] = 1;	/* one write in flight from each CPU */
	ep.inflight[1] = 1;
	ep.retired = true;	/* closed: the counters only go down now */
	reports = 0;
	steps = 0;
	switched = false;

	unit_step_hook = other_cpu_completes;
	if (fence_epoch_put(&ep))
		reports++;
	unit_step_hook = NULL;
	unit_commit(0);
	unit_commit(1);
	if (!switched) {
		free_percpu(ep.inflight);
		return false;
	}
	if (reports != 1 || fence_epoch_sum(&ep) != 0) {
		fprintf(stderr,
			"CPU 1 completes after step %d of CPU 0 (CPU 0's buffer %s, CPU 1's %s): drain reported %d times, sum %ld\n",
			switch_at, commit0 ? "committed" : "not committed",
			commit1 ? "committed" : "not committed", reports,
			fence_epoch_sum(&ep));
		failures++;
	}
	free_percpu(ep.inflight);
	return true;
}

static void test_last_two_completions(void)
{
	int before = failures, c;

	for (switch_at = 1; ; switch_at++) {
		bool more = false;

		for (c = 0; c < 4; c++) {
			commit0 = c & 1;
			commit1 = c & 2;
			more |= run_schedule();
		}
		if (!more)
			break;
	}
	printf("%s epoch-drain-reported-once-on-two-cpus\n",
	       failures == before ? "ok" : "not ok");
}

/* A live epoch is never reported, however low its sum goes. */
static void test_live_epoch_not_reported(void)
{
	int before = failures;

	unit_tso_reset();
	memset(&ep, 0, sizeof(ep));
	ep.inflight = alloc_percpu(long);
	ep.inflight[0] = 1;
	if (fence_epoch_put(&ep)) {
		fprintf(stderr, "a live epoch reported drained\n");
		failures++;
	}
	free_percpu(ep.inflight);
	printf("%s epoch-live-not-reported\n", failures == before ? "ok" : "not ok");
}

/*
 * Issue 32 item 9: read during a fence's grace period, CPU 0's count of a
 * write not yet visible and CPU 1's completion of it visible: the sum is
 * -1, and status printed 18446744073709551615 stale writes.  Counted as
 * none.
 */
static void test_count_never_negative(void)
{
	unit_tso_reset();	/* no store left buffered by the cases before */
	memset(&ep, 0, sizeof(ep));
	ep.inflight = alloc_percpu(long);
	ep.inflight[0] = 0;	/* the +1, still in CPU 0's store buffer */
	ep.inflight[1] = -1;	/* the completion on CPU 1 */
	if (fence_epoch_sum(&ep) != -1 || fence_epoch_count(&ep) != 0) {
		printf("not ok epoch-count-never-negative: sum %ld, count %llu\n",
		       fence_epoch_sum(&ep), (unsigned long long)fence_epoch_count(&ep));
		failures++;
	} else {
		printf("ok epoch-count-never-negative\n");
	}
	ep.inflight[0] = 3;
	ep.inflight[1] = -1;
	if (fence_epoch_count(&ep) != 2) {
		printf("not ok epoch-count-positive: %llu\n",
		       (unsigned long long)fence_epoch_count(&ep));
		failures++;
	} else {
		printf("ok epoch-count-positive\n");
	}
}

int main(void)
{
	test_last_two_completions();
	test_live_epoch_not_reported();
	test_count_never_negative();
	return failures ? 1 : 0;
}
