/* SPDX-License-Identifier: GPL-2.0-only */
/* fencectl copy: storage live migration of a fence device (copy.c). */
#ifndef FENCECTL_COPY_H
#define FENCECTL_COPY_H

#include <signal.h>
#include <stdint.h>

#include "libfence.h"

struct copy_opts {
	int json;
	int verify;			/* compare SRC and DST after the final round */
	int reopen;			/* reopen SRC at the end instead of leaving it closed */
	int max_rounds;			/* pre-copy rounds at most */
	uint64_t threshold;		/* stop pre-copy at this many dirty regions */
	uint32_t drain_timeout_ms;	/* 0: wait for the drain as long as it takes */
	double rate_mib_s;		/* 0: unlimited */
};

/*
 * Returns 0, or -errno: -ETIMEDOUT (drain, or the stale writes after a
 * fence, timed out), -ECANCELED (a signal set *cancelled), -ESTALE (the
 * source was fenced: DST holds all this host wrote, late completions
 * included, but it is no hand-over), -EILSEQ (verify found a difference).
 * On every failure the source is open again if the copy had closed it and
 * nobody fenced it.
 */
int fence_copy(const struct fence_device *src, const char *dst_path,
	       const struct copy_opts *o, volatile sig_atomic_t *cancelled);

#endif /* FENCECTL_COPY_H */
