/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fencectl copy, inside: the state of one copy (struct copier) shared by
 * the helpers that read, copy and check (copy.c) and the phases that run
 * them in order (copyrun.c).
 */
#ifndef FENCECTL_COPY_INT_H
#define FENCECTL_COPY_INT_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "copy.h"
#include "libfence.h"

#define CHUNK		(4u << 20)	/* bytes per read by --verify */
#define ALIGN		4096
#define COPY_CHUNK	(2u << 20)	/* bytes per copy request */
#define COPY_DEPTH	16		/* copy slots in flight: ~8 reading, ~8 writing */

struct copier {
	const struct fence_device *src;
	const struct copy_opts *o;
	/*
	 * SRC's backing device, read at in_offset + the device's offset,
	 * never the fence device itself: an O_DIRECT read of a block device
	 * first writes back and waits on the dirty page-cache pages in its
	 * range, and once the source is closed their writes are the ones it
	 * holds (issue 35).  What the backing device holds is what completed
	 * there, each write marked dirty before it was sent.
	 */
	int in, out;
	uint64_t in_offset;		/* bytes: where the device starts in @in */
	struct fence_table table;	/* the table read at the start */
	uint64_t bytes;			/* device size */
	uint64_t region;		/* bytes per region */
	uint64_t regions, words;
	uint64_t *bits;			/* this round's dirty set */
	uint64_t *pending;		/* fetched, not copied yet */
	char *buf;			/* --verify's */
	struct copyq *q;
	uint64_t copied;		/* bytes written to DST */
	double start;
	/*
	 * The source was closed by this copy's DRAIN (the kernel says so
	 * since 1.4), as close number @my_close: only then does the copy
	 * reopen or switch it, and only that close (@have_close: the kernel
	 * compares).  Someone else's close (a migration, the libvirt hook,
	 * fencectl create) is left as it is.
	 */
	int closed_by_us;
	int have_close;
	uint64_t my_close;
	int fenced;			/* the source was seen fenced */
	uint64_t clears;		/* fetches with clear made by this copy */
	double checked;			/* when the state was last read */
	/* the run (copyrun.c): what one phase leaves for the next */
	const char *dst_path;
	volatile sig_atomic_t *cancelled;
	struct dm_fence_info info;	/* the source, as last read */
	uint64_t clears_at_start;
	int64_t dirty;			/* the last dirty set's size */
	int rounds;			/* the round the downtime copies in */
	double t0;			/* the downtime's start */
	double downtime, drain_time, final_time, sync_time, switch_time;
	int standby;			/* DST is loaded as the table's standby */
	int switched;			/* switched to DST: past the point of no return */
	int tab;			/* fencetab_set_backing() after the switch */
	int told;			/* the end said: a signal changes nothing */
	/* progress of the current round, reported every second */
	int round;
	uint64_t round_total, round_done;
	double round_start, reported;
};

extern volatile sig_atomic_t *copy_cancel_flag;

double copy_now(void);
void copy_emit(const struct copier *c, const char *event, int round, uint64_t dirty,
	  double seconds);
void copy_emit_fenced(const struct copier *c, const struct dm_fence_info *info);
void copy_round_begin(struct copier *c, int round, uint64_t total);
int copy_check_fenced(struct copier *c, int now_please);
int copy_wait_stale_done(struct copier *c);
int copy_drain_cancellable(struct copier *c, struct dm_fence_info *info);
int copy_range(struct copier *c, uint64_t off, uint64_t len);
int copy_drain_after(struct copier *c, int r);
int copy_regions(struct copier *c, const uint64_t *bits);
uint64_t copy_merge_pending(struct copier *c);
int64_t copy_fetch(struct copier *c);
int copy_verify(struct copier *c);
int copy_check_nobody_else(struct copier *c, const struct dm_fence_info *at_close,
		      uint64_t clears_at_start);
int copy_open_dst(const struct fence_device *src, const char *dst_path);
int copy_open_backing(dev_t d);

#endif
