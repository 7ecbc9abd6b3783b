// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer for the fence target's table lines and messages, through
 * libdevmapper (no dmsetup process per input, so that 100k inputs fit in a
 * stress run).  Table lines are built from words the constructor knows and
 * words it must refuse; each is loaded into a new device, which must then
 * report a sane status, or be refused with no device left behind.  Messages
 * of random words go to a live device: a refused one must leave its status
 * as it was, and the generation must never go down.  The kernel log is
 * checked by the test.  Prints the seed so that a failure can be replayed.
 *
 * usage: table_fuzz SEED ITERATIONS BACKING_DEV BACKING_SECTORS LIVE_NAME
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seeded_rng.h"

#define FUZZ_DEV "fz_table"


static const char *pick(const char *const *v, size_t n)
{
	return v[rnd() % n];
}

#define PICK(v) pick(v, sizeof(v) / sizeof(v[0]))

static const char *backing;
static uint64_t backing_len;
static char numbuf[8][32];
static unsigned int numslot;

static const char *number(void)
{
	static const char *const edge[] = { "0", "1", "2", "3", "7", "8", "16", "24", "4096",
		"2097152", "2097153", "4294967296", "9223372036854775807",
		"9223372036854775808", "18446744073709551615", "18446744073709551616",
		"-1", "+1", "0x10", "1e3", "08", " ", "" };
	char *b = numbuf[numslot++ % 8];

	if (rnd() % 4)
		return PICK(edge);
	snprintf(b, 32, "%" PRIu64, rnd() >> (rnd() % 64));
	return b;
}

static const char *word(void)
{
	static const char *const words[] = { "generation", "region_size", "closed",
		"fence_reads", "close", "fail", "reopen", "fence", "get_dirty", "clear",
		"closedd", "GENERATION", "generation=2", "abc", "\xff\xfe", "fence\tx" };

	return rnd() % 3 ? PICK(words) : number();
}

static void quiet_log(int level, const char *file, int line, int dm_errno,
		      const char *f, ...)
{
	(void)level; (void)file; (void)line; (void)dm_errno; (void)f;
}

static int run_task(struct dm_task *dmt)
{
	int ok = dm_task_run(dmt);

	dm_task_destroy(dmt);
	return ok;
}

static int exists(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
	struct dm_info info = { 0 };

	if (!dmt || !dm_task_set_name(dmt, name) || !dm_task_run(dmt) ||
	    !dm_task_get_info(dmt, &info))
		info.exists = 0;
	if (dmt)
		dm_task_destroy(dmt);
	return info.exists;
}

static int remove_dev(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_REMOVE);

	return dmt && dm_task_set_name(dmt, name) && run_task(dmt);
}

/* The fence target's status line of NAME into buf; 0 on success. */
static int status(const char *name, char *buf, size_t len)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_STATUS);
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	int r = -1;

	if (!dmt || !dm_task_set_name(dmt, name) || !dm_task_run(dmt))
		goto out;
	dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	if (type && params && !strcmp(type, "fence")) {
		snprintf(buf, len, "%s", params);
		r = 0;
	}
out:
	if (dmt)
		dm_task_destroy(dmt);
	return r;
}

static int sane_status(const char *st)
{
	static const char *const states[] = { "open ", "closing ", "closed ", "fenced " };

	for (size_t i = 0; i < 4; i++)
		if (!strncmp(st, states[i], strlen(states[i])))
			return 1;
	return 0;
}

static unsigned long bad;

static void complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "BAD: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	bad++;
}

/* One random table line: mostly well-formed heads, random tails. */
static void table_line(char *line, size_t len, uint64_t *length)
{
	static const char *const devs[] = { "/dev/null", "/dev/nonexistent", "1:3", "0:0", "" };
	int n = 0, nfeat = (int)(rnd() % 8);
	const char *dev = rnd() % 4 ? backing : PICK(devs);

	*length = rnd() % 4 ? backing_len : rnd() % 3 ? backing_len + 8 : (rnd() % backing_len) + 1;
	n += snprintf(line + n, len - n, "%s %s", dev, rnd() % 3 ? "0" : number());
	if (rnd() % 8)
		n += snprintf(line + n, len - n, " %d", rnd() % 4 ? nfeat : (int)(rnd() % 20) - 2);
	for (int i = 0; i < nfeat + (int)(rnd() % 2) && n < (int)len - 64; i++)
		n += snprintf(line + n, len - n, " %s", word());
}

static void fuzz_table(unsigned long *accepted, unsigned long *refused)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_CREATE);
	char line[512], st[512];
	uint64_t length;

	table_line(line, sizeof(line), &length);
	if (!dmt || !dm_task_set_name(dmt, FUZZ_DEV) ||
	    !dm_task_add_target(dmt, 0, length, "fence", line)) {
		complain("cannot build a task for '%s'", line);
		if (dmt)
			dm_task_destroy(dmt);
		return;
	}
	if (run_task(dmt)) {
		(*accepted)++;
		if (status(FUZZ_DEV, st, sizeof(st)) || !sane_status(st))
			complain("table '%s' accepted, status '%s'", line, st);
		if (!remove_dev(FUZZ_DEV))
			complain("table '%s': cannot remove", line);
	} else {
		(*refused)++;
		if (exists(FUZZ_DEV)) {
			complain("table '%s' refused, device left behind", line);
			remove_dev(FUZZ_DEV);
		}
	}
}

static uint64_t generation_of(const char *st)
{
	const char *sp = strchr(st, ' ');

	return sp ? strtoull(sp + 1, NULL, 10) : 0;
}

static void fuzz_message(const char *live, unsigned long *accepted, unsigned long *refused)
{
	static const char *const verbs[] = { "close", "reopen", "fence", "get_dirty" };
	struct dm_task *dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	char msg[256], before[512], after[512];
	int n = 0, words = (int)(rnd() % 4);

	n += snprintf(msg, sizeof(msg), "%s", rnd() % 4 ? PICK(verbs) : word());
	for (int i = 0; i < words; i++)
		n += snprintf(msg + n, sizeof(msg) - n, " %s", word());
	if (status(live, before, sizeof(before)))
		complain("no status of %s", live);
	if (!dmt || !dm_task_set_name(dmt, live) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, msg)) {
		complain("cannot build a message task");
		if (dmt)
			dm_task_destroy(dmt);
		return;
	}
	if (run_task(dmt)) {
		(*accepted)++;
		/* a close drains in the background: let it settle first */
		for (int i = 0; i < 1000 && !status(live, after, sizeof(after)) &&
		     !strncmp(after, "closing ", 8); i++)
			usleep(1000);
	} else {
		(*refused)++;
		if (status(live, after, sizeof(after)) || strcmp(before, after))
			complain("message '%s' refused, status '%s' -> '%s'", msg, before, after);
	}
	if (status(live, after, sizeof(after)) || !sane_status(after))
		complain("message '%s': status '%s'", msg, after);
	else if (generation_of(after) < generation_of(before))
		complain("message '%s': generation went down: '%s' -> '%s'", msg, before, after);
}

int main(int argc, char **argv)
{
	unsigned long iters, ta = 0, tr = 0, ma = 0, mr = 0;
	uint64_t seed;

	if (argc != 6) {
		fprintf(stderr, "usage: %s SEED ITERATIONS BACKING_DEV BACKING_SECTORS LIVE_NAME\n",
			argv[0]);
		return 1;
	}
	seed = strtoull(argv[1], NULL, 0);
	rnd_seed(seed * 2654435761u + 1);
	iters = strtoul(argv[2], NULL, 0);
	backing = argv[3];
	backing_len = strtoull(argv[4], NULL, 0);
	dm_log_with_errno_init(quiet_log);
	dm_udev_set_sync_support(0);
	for (unsigned long i = 0; i < iters; i++) {
		if (rnd() % 2)
			fuzz_table(&ta, &tr);
		else
			fuzz_message(argv[5], &ma, &mr);
	}
	printf("table fuzz: seed %" PRIu64 ": %lu tables (%lu accepted, %lu refused), "
	       "%lu messages (%lu accepted, %lu refused), %lu bad\n",
	       seed, ta + tr, ta, tr, ma + mr, ma, mr, bad);
	return bad ? 1 : 0;
}
