// SPDX-License-Identifier: GPL-2.0-only
/*
 * A seeded fuzzer for /dev/dm-fence: random commands, sizes, flags,
 * reserved words, dev_t (the fence device, another dm device, made up
 * ones), generations, windows and pointers (valid, NULL, unmapped,
 * PROT_NONE, straddling into a PROT_NONE page).  Every call that fails must
 * leave the device's status as it was.  The kernel log is checked by the
 * test runner.  Prints the seed so that a failure can be replayed.
 *
 * usage: ioctl_fuzz SEED ITERATIONS FENCE_MAJ:MIN OTHER_MAJ:MIN
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/dm-fence.h>

#include "seeded_rng.h"


static uint64_t pick(const uint64_t *v, unsigned int n)
{
	return v[rnd() % n];
}

static int ctl;
static uint32_t fmaj, fmin, omaj, omin;
static char *arena;		/* 2 pages read-write, then 1 PROT_NONE */

static int status(struct dm_fence_info *info)
{
	struct dm_fence_status s = { .hdr = { sizeof(s), 0, fmaj, fmin } };

	if (ioctl(ctl, DM_FENCE_IOC_STATUS, &s))
		return -errno;
	*info = s.info;
	return 0;
}

/*
 * A close returns before the device is closed: the drain and the flush
 * finish in the kernel's own time.  Let that settle before a call, so that
 * 'the device changed' can only be the call's doing.
 */
static int settled_status(struct dm_fence_info *info)
{
	struct timespec ms = { 0, 1000000 };
	int i, r;

	for (i = 0; i < 2000; i++) {
		r = status(info);
		if (r || info->state != DM_FENCE_STATE_CLOSING)
			return r;
		nanosleep(&ms, NULL);
	}
	return 0;
}

static uint64_t edge(void)
{
	static const uint64_t v[] = { 0, 1, 2, 63, 64, 65, 4095, 4096,
		UINT32_MAX, (uint64_t)UINT32_MAX + 1, INT64_MAX, (uint64_t)INT64_MAX + 1,
		UINT64_MAX, UINT64_MAX - 1 };

	return rnd() % 3 ? pick(v, sizeof(v) / sizeof(v[0])) : rnd();
}

static uint64_t pointer(void)
{
	switch (rnd() % 6) {
	case 0: return 0;
	case 1: return 16;
	case 2: return (uintptr_t)(arena + 8192);		/* PROT_NONE */
	case 3: return (uintptr_t)(arena + 8192 - 8);		/* straddles */
	case 4: return rnd();
	default: return (uintptr_t)arena;
	}
}

int main(int argc, char **argv)
{
	static const unsigned long cmds[] = {
		DM_FENCE_IOC_STATUS, DM_FENCE_IOC_CLOSE, DM_FENCE_IOC_DRAIN,
		DM_FENCE_IOC_REOPEN, DM_FENCE_IOC_FENCE, DM_FENCE_IOC_GET_DIRTY,
	};
	uint64_t seed, iters, refused = 0, accepted = 0, bad = 0;
	uint64_t buf[64];

	if (argc != 5 || sscanf(argv[3], "%u:%u", &fmaj, &fmin) != 2 ||
	    sscanf(argv[4], "%u:%u", &omaj, &omin) != 2) {
		fprintf(stderr, "usage: ioctl_fuzz SEED ITERATIONS FENCE_MAJ:MIN OTHER_MAJ:MIN\n");
		return 2;
	}
	seed = strtoull(argv[1], NULL, 0);
	iters = strtoull(argv[2], NULL, 0);
	rnd_seed(seed);
	printf("ioctl fuzz: seed %llu, %llu iterations\n",
	       (unsigned long long)seed, (unsigned long long)iters);
	ctl = open("/dev/dm-fence", O_RDWR);
	if (ctl < 0) {
		perror("/dev/dm-fence");
		return 2;
	}
	arena = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(arena + 8192, 4096, PROT_NONE);

	for (uint64_t it = 0; it < iters; it++) {
		struct dm_fence_info before, after;
		struct dm_fence_ioc_hdr *h = (void *)buf;
		unsigned long cmd;
		void *arg = buf;
		int r;

		/* random bytes, then a plausible header most of the time */
		for (unsigned int i = 0; i < 64; i++)
			buf[i] = rnd() % 4 ? 0 : rnd();
		cmd = rnd() % 8 ? pick(cmds, 6) : (unsigned long)rnd();
		/* the command number's size most of the time, as a binary has */
		h->size = rnd() % 4 ? _IOC_SIZE(cmd) + (rnd() % 4 ? 0 : (rnd() % 3) * 8) :
			  (uint32_t)edge();
		h->flags = rnd() % 2 ? 0 : rnd() % 2 ? 1u << (rnd() % 32) : (uint32_t)rnd();
		switch (rnd() % 4) {
		case 0: h->dev_major = omaj; h->dev_minor = omin; break;
		case 1: h->dev_major = (uint32_t)edge(); h->dev_minor = (uint32_t)edge(); break;
		default: h->dev_major = fmaj; h->dev_minor = fmin; break;
		}
		if (cmd == DM_FENCE_IOC_DRAIN || cmd == DM_FENCE_IOC_FENCE) {
			/* bounded waits: a drain with no write below finishes at once */
			buf[2] = rnd() % 50;
			if (cmd == DM_FENCE_IOC_FENCE)
				buf[3] = rnd() % 4 ? 0 : edge();
			if (rnd() % 2)
				buf[2] |= 0;	/* reserved stays zero */
			else
				buf[2] |= rnd() << 32;
		}
		if (cmd == DM_FENCE_IOC_GET_DIRTY) {
			buf[2] = rnd() % 2 ? (rnd() % 8) * 64 : edge();	/* start */
			buf[3] = rnd() % 2 ? rnd() % 600 : edge();	/* count */
			buf[4] = pointer();				/* bitmap_ptr */
			buf[5] = rnd() % 2 ? 4096 : edge();		/* bitmap_size */
			buf[7] = rnd() % 3 ? 0 : rnd();
		}
		if (rnd() % 50 == 0)
			arg = (void *)(uintptr_t)pointer();

		if (settled_status(&before))
			return 2;
		r = ioctl(ctl, cmd, arg) ? errno : 0;
		if (status(&after))
			return 2;
		if (!r) {
			accepted++;
		} else {
			refused++;
			/* a refusal changes nothing; a wait that ended is not a refusal */
			if (r != ETIMEDOUT && r != EINTR && memcmp(&before, &after, sizeof(before))) {
				printf("iteration %llu: cmd %#lx refused (%s) but the device changed\n",
				       (unsigned long long)it, cmd, strerror(r));
				bad++;
			}
		}
		/* keep the device usable: reopen or unfence it now and then */
		if (rnd() % 16 == 0) {
			struct dm_fence_status st = { .hdr = { sizeof(st), 0, fmaj, fmin } };
			struct dm_fence_reopen ro = { .hdr = { sizeof(ro), 0, fmaj, fmin } };

			if (!ioctl(ctl, DM_FENCE_IOC_STATUS, &st) &&
			    st.info.state == DM_FENCE_STATE_FENCED) {
				ro.hdr.flags = DM_FENCE_REOPEN_UNFENCE | DM_FENCE_REOPEN_FORCE;
				ro.generation = st.info.generation;
			}
			ioctl(ctl, DM_FENCE_IOC_REOPEN, &ro);
		}
	}
	printf("ioctl fuzz: seed %llu: %llu accepted, %llu refused, %llu bad\n",
	       (unsigned long long)seed, (unsigned long long)accepted,
	       (unsigned long long)refused, (unsigned long long)bad);
	return bad ? 1 : 0;
}
