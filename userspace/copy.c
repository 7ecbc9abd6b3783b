// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl copy: storage live migration of a fence device onto another
 * block device.  Round 0 clears the dirty bitmap and copies everything;
 * each further round fetches-and-clears the dirty regions and copies them,
 * until the dirty set stops shrinking or falls under a threshold; then the
 * source is drained (closed, every earlier write durable), the last dirty
 * set copied (the only downtime), optionally verified, and the source left
 * closed for the caller to switch the VM over (or reopened with --reopen),
 * or, with --switch, switched to DST and reopened there (DST was loaded as
 * the table's standby before round 0, switch.c): its consumer goes on
 * writing, to DST, and never sees an error.  A signal at any point before
 * the switch reopens the source if the copy closed it.  --verify runs after that, with writes going on: a
 * difference counts only where the dirty bitmap does not say the region
 * was written since.
 *
 * If someone fences the source meanwhile (a failover elsewhere), the copy
 * says so at once and finishes without pre-copy or drain: no write of this
 * host can land any more but the writes that were already below, so it
 * waits for those (stale_inflight 0), and copies their regions, which their
 * late completions marked dirty.  DST then holds everything this host ever
 * wrote, and the copy returns -ESTALE: not a hand-over, since the new owner
 * of the generation may write the source.
 *
 * This file holds what the phases use (reading the bitmap, copying,
 * checking, verifying); the phases themselves, in order, are in copyrun.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "copy-int.h"
#include "copy.h"


double copy_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

volatile sig_atomic_t *copy_cancel_flag;

void copy_emit(const struct copier *c, const char *event, int round, uint64_t dirty,
		 double seconds)
{
	double el = copy_now() - c->start, rate = el > 0 ? c->copied / el / 1048576 : 0;

	if (c->o->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string(event));
		json_object_object_add(o, "round", json_object_new_int(round));
		json_object_object_add(o, "dirty_regions", json_object_new_uint64(dirty));
		json_object_object_add(o, "bytes_copied", json_object_new_uint64(c->copied));
		json_object_object_add(o, "seconds", json_object_new_double(seconds));
		json_object_object_add(o, "rate_mib_s", json_object_new_double(rate));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(o);
	} else {
		fprintf(stderr, "%s%s round %d: %" PRIu64 " dirty regions, %.1f MiB copied, %.1f MiB/s%s",
			isatty(2) ? "\r" : "", event, round, dirty, c->copied / 1048576.0, rate,
			isatty(2) ? "   " : "\n");
	}
}

void copy_emit_fenced(const struct copier *c, const struct dm_fence_info *info)
{
	if (c->o->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string("fenced"));
		json_object_object_add(o, "generation", json_object_new_uint64(info->generation));
		json_object_object_add(o, "stale_inflight",
				       json_object_new_uint64(info->stale_inflight));
		json_object_object_add(o, "late_completions",
				       json_object_new_uint64(info->late_completions));
		json_object_object_add(o, "bytes_copied", json_object_new_uint64(c->copied));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(o);
	} else {
		fprintf(stderr, "%ssource fenced (generation %" PRIu64 ", %" PRIu64
			" stale writes below): copying what this host wrote, no hand-over\n",
			isatty(2) ? "\n" : "", (uint64_t)info->generation,
			(uint64_t)info->stale_inflight);
	}
}

/*
 * Every second of a round: how far it is, on a terminal as one line
 * rewritten in place, with --json as a "progress" object.
 */
static void progress(struct copier *c)
{
	double t = copy_now(), el = t - c->round_start, rate, eta;

	if (t - c->reported < 1)
		return;
	c->reported = t;
	rate = el > 0 ? c->round_done / el : 0;
	eta = rate > 0 ? (c->round_total - c->round_done) / rate : -1;
	if (c->o->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string("progress"));
		json_object_object_add(o, "round", json_object_new_int(c->round));
		json_object_object_add(o, "bytes_done", json_object_new_uint64(c->round_done));
		json_object_object_add(o, "bytes_total", json_object_new_uint64(c->round_total));
		json_object_object_add(o, "rate_mib_s", json_object_new_double(rate / 1048576));
		json_object_object_add(o, "eta_s", json_object_new_double(eta));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		fflush(stdout);
		json_object_put(o);
	} else if (isatty(2)) {
		fprintf(stderr, "\rround %d: %3.0f%% %.1f/%.1f MiB, %.1f MiB/s, ETA %.0f s   ",
			c->round, c->round_total ? 100.0 * c->round_done / c->round_total : 100.0,
			c->round_done / 1048576.0, c->round_total / 1048576.0, rate / 1048576,
			eta < 0 ? 0 : eta);
	}
}

void copy_round_begin(struct copier *c, int round, uint64_t total)
{
	c->round = round;
	c->round_total = total;
	c->round_done = 0;
	c->round_start = copy_now();
	c->reported = c->round_start;
}

/*
 * Report the first time the source is seen fenced.  Read at most every
 * 50 ms unless @now_please: the final round's many small ranges would
 * otherwise spend as long asking as copying.
 */
int copy_check_fenced(struct copier *c, int now_please)
{
	struct dm_fence_info info;
	int r;

	if (c->fenced || (!now_please && copy_now() - c->checked < 0.05))
		return 0;
	c->checked = copy_now();
	r = fence_status(c->src, &info);
	if (r || info.state != DM_FENCE_STATE_FENCED)
		return r;
	c->fenced = 1;
	copy_emit_fenced(c, &info);
	return 0;
}

/*
 * After a fence: wait until no write of an older generation is below, so
 * that every late completion has marked its regions.  Polled: the kernel
 * only waits for this inside FENCE, which would raise the generation again.
 */
int copy_wait_stale_done(struct copier *c)
{
	double deadline = copy_now() + c->o->drain_timeout_ms / 1000.0;
	struct dm_fence_info info;
	int r;

	for (;;) {
		r = fence_status(c->src, &info);
		if (r || !info.stale_inflight)
			return r;
		if (*copy_cancel_flag)
			return -EINTR;
		if (c->o->drain_timeout_ms && copy_now() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/*
 * DRAIN in slices of 200 ms: a signal that lands just before the ioctl
 * starts waiting (the handler ran, nothing is pending any more) would
 * otherwise be noticed only when the whole drain timeout has passed.
 */
int copy_drain_cancellable(struct copier *c, struct dm_fence_info *info)
{
	double deadline = copy_now() + c->o->drain_timeout_ms / 1000.0;
	int r;

	for (;;) {
		uint32_t slice = 200;

		if (c->o->drain_timeout_ms) {
			double left = (deadline - copy_now()) * 1000;

			if (left < 1)
				return -ETIMEDOUT;
			if (left < slice)
				slice = (uint32_t)left;
		}
		r = fence_drain(c->src, 0, slice, info);
		if ((info->dev_flags & DM_FENCE_DEV_CLOSES) &&
		    (info->call_flags & DM_FENCE_CALL_CLOSED)) {
			c->closed_by_us = 1;
			c->have_close = 1;
			c->my_close = info->closes;
		}
		if (r != -ETIMEDOUT)
			return r;
		if (*copy_cancel_flag)
			return -EINTR;
	}
}

/*
 * Start copying bytes [off, off + len) from SRC to DST, honouring --rate;
 * the round that asked waits for them with copyq_drain().
 */
int copy_range(struct copier *c, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < COPY_CHUNK ? len : COPY_CHUNK;
		int r;

		if (*copy_cancel_flag)
			return -EINTR;
		r = copy_check_fenced(c, 0);
		if (r)
			return r;
		r = copyq_add(c->q, off, n);
		if (r)
			return r;
		off += n;
		len -= n;
		c->copied += n;
		c->round_done += n;
		progress(c);
		if (c->o->rate_mib_s) {
			/*
			 * Per round: a round that ran late (the copy stopped,
			 * a slow disk) gives the next one no credit to burst
			 */
			double want = c->round_done / (c->o->rate_mib_s * 1048576.0);
			double el = copy_now() - c->round_start;

			if (want > el)
				usleep((useconds_t)((want - el) * 1e6));
		}
	}
	return 0;
}

/* Wait for the round's copies: an error of the round itself is reported first */
int copy_drain_after(struct copier *c, int r)
{
	int d = copyq_drain(c->q);

	return r ? r : d;
}

/* Copy every region set in bits, merging runs into large I/O. */
int copy_regions(struct copier *c, const uint64_t *bits)
{
	uint64_t i = 0, first;
	int r = 0;	/* an empty set (an idle disk's final round) is copied */

	while (i < c->regions) {
		if (!(bits[i / 64] >> (i % 64) & 1)) {
			i++;
			continue;
		}
		first = i;
		while (i < c->regions && (bits[i / 64] >> (i % 64) & 1))
			i++;
		uint64_t off = first * c->region, end = i * c->region;

		if (end > c->bytes)
			end = c->bytes;
		r = copy_range(c, off, end - off);
		if (r)
			break;
	}
	/* all of this round on DST before the next fetch: see copyq.c */
	return copy_drain_after(c, r);
}

/* Add this round's set to what the final round must copy; returns its size. */
uint64_t copy_merge_pending(struct copier *c)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < c->words; w++) {
		c->pending[w] |= c->bits[w];
		n += __builtin_popcountll(c->pending[w]);
	}
	return n;
}

/* Fetch and clear the dirty set into c->bits; returns the count or -errno. */
int64_t copy_fetch(struct copier *c)
{
	uint64_t dirty;
	int r = fence_get_dirty(c->src, 0, c->regions, c->bits, 1, &dirty);

	c->clears++;
	return r ? r : (int64_t)dirty;
}

/*
 * Whether bytes [off, off + n) of @a and @b differ in a region that no
 * write changed since the final round (the dirty bitmap, read without
 * clearing, after the compare: a write marks its region before it
 * changes a byte, so a difference it made is always seen as dirty).
 */
static int differs_clean(struct copier *c, const char *a, const char *b, uint64_t off,
			 size_t n)
{
	uint64_t first = off / c->region, last = (off + n - 1) / c->region;
	uint64_t dirty;
	int r;

	if (!memcmp(a, b, n))
		return 0;
	r = fence_get_dirty(c->src, 0, c->regions, c->bits, 0, &dirty);
	if (r)
		return r;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t lo = i * c->region > off ? i * c->region - off : 0;
		uint64_t hi = (i + 1) * c->region - off < n ? (i + 1) * c->region - off : n;

		if (!(c->bits[i / 64] >> (i % 64) & 1) && memcmp(a + lo, b + lo, hi - lo))
			return 1;
	}
	return 0;
}

/*
 * Compare the source with DST, after the copy: SRC's backing device and
 * DST, both read directly (after a switch the device writes to DST, and may
 * be closed by another actor: no read of ours waits on it).  A signal
 * cancels it.
 */
int copy_verify(struct copier *c)
{
	char *other = NULL;
	int r = 0;

	if (posix_memalign((void **)&other, ALIGN, CHUNK))
		return -ENOMEM;
	for (uint64_t off = 0; off < c->bytes && !r; off += CHUNK) {
		size_t n = c->bytes - off < CHUNK ? c->bytes - off : CHUNK;

		if (*copy_cancel_flag)
			r = -ECANCELED;
		else if (pread(c->in, c->buf, n, (off_t)(c->in_offset + off)) != (ssize_t)n ||
			 pread(c->out, other, n, (off_t)off) != (ssize_t)n)
			r = -EIO;
		else if ((r = differs_clean(c, c->buf, other, off, n)) == 1)
			r = -EILSEQ;
	}
	free(other);
	return r;
}

/*
 * After the final round: DST is complete only if the device still is the
 * table the copy read (its size, its backing device and offset), nobody
 * opened the source since the drain closed it (writes would have passed to
 * SRC after the last fetch) and nobody but this copy cleared its bitmap
 * (the regions it took were never copied).  Kernels without the counters:
 * the state only.
 */
int copy_check_nobody_else(struct copier *c, const struct dm_fence_info *at_close,
			     uint64_t clears_at_start)
{
	struct dm_fence_info now_info;
	struct fence_table t;
	const char *why = NULL;
	int r = fence_status(c->src, &now_info);

	if (r)
		return r;
	if (now_info.length * 512 != c->bytes)
		why = "was resized during the copy";
	else if (fence_table_of(c->src, &t) || t.backing != c->table.backing ||
		 t.offset != c->table.offset)
		why = "was reloaded onto another device during the copy";
	else if (now_info.state != DM_FENCE_STATE_CLOSED ||
	    ((now_info.dev_flags & DM_FENCE_DEV_SEQ) && now_info.reopens != at_close->reopens))
		why = "reopened by someone else during the final round";
	else if ((now_info.dev_flags & DM_FENCE_DEV_SEQ) &&
		 now_info.clears - clears_at_start != c->clears)
		why = "its dirty bitmap was cleared by another reader during the copy";
	if (!why)
		return 0;
	fprintf(stderr, "fencectl: copy: %s %s: the destination may miss writes\n",
		c->src->name, why);
	return -EBUSY;
}

/*
 * Open DST: exclusively (the kernel refuses a mounted disk, or one a dm
 * device or md holds), and never a device that shares a sector with the
 * fence device or anything below it.
 */
int copy_open_dst(const struct fence_device *src, const char *dst_path)
{
	struct stat st;
	int fd, r;

	if (stat(dst_path, &st))
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	r = blockdev_overlap(makedev(src->major, src->minor), st.st_rdev);
	if (r)
		return r < 0 ? r : -EXDEV;
	/*
	 * The consumer's writes are aligned to SRC's logical block size: a
	 * DST with a larger one would refuse some of them after a switch,
	 * and the copy's own I/O of the last partial block.
	 */
	if (blockdev_lbs(st.st_rdev) > blockdev_lbs(makedev(src->major, src->minor)))
		return -EMEDIUMTYPE;
	/* read back by --verify */
	fd = open(dst_path, O_RDWR | O_DIRECT | O_EXCL | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* SRC's backing device by number: what the copy reads */
int copy_open_backing(dev_t d)
{
	char dir[64], path[128];
	int fd, r;

	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(d), minor(d));
	r = blockdev_devname(dir, path, sizeof(path));
	if (r)
		return r;
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
