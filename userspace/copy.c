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
#include <syslog.h>
#include <unistd.h>

#include "copy.h"
#include "fencetab.h"
#include "journal.h"

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
	/* progress of the current round, reported every second */
	int round;
	uint64_t round_total, round_done;
	double round_start, reported;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t *cancel_flag;

static void emit(const struct copier *c, const char *event, int round, uint64_t dirty,
		 double seconds)
{
	double el = now() - c->start, rate = el > 0 ? c->copied / el / 1048576 : 0;

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

static void emit_fenced(const struct copier *c, const struct dm_fence_info *info)
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
	double t = now(), el = t - c->round_start, rate, eta;

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

static void round_begin(struct copier *c, int round, uint64_t total)
{
	c->round = round;
	c->round_total = total;
	c->round_done = 0;
	c->round_start = now();
	c->reported = c->round_start;
}

/*
 * Report the first time the source is seen fenced.  Read at most every
 * 50 ms unless @now_please: the final round's many small ranges would
 * otherwise spend as long asking as copying.
 */
static int check_fenced(struct copier *c, int now_please)
{
	struct dm_fence_info info;
	int r;

	if (c->fenced || (!now_please && now() - c->checked < 0.05))
		return 0;
	c->checked = now();
	r = fence_status(c->src, &info);
	if (r || info.state != DM_FENCE_STATE_FENCED)
		return r;
	c->fenced = 1;
	emit_fenced(c, &info);
	return 0;
}

/*
 * After a fence: wait until no write of an older generation is below, so
 * that every late completion has marked its regions.  Polled: the kernel
 * only waits for this inside FENCE, which would raise the generation again.
 */
static int wait_stale_done(struct copier *c)
{
	double deadline = now() + c->o->drain_timeout_ms / 1000.0;
	struct dm_fence_info info;
	int r;

	for (;;) {
		r = fence_status(c->src, &info);
		if (r || !info.stale_inflight)
			return r;
		if (*cancel_flag)
			return -EINTR;
		if (c->o->drain_timeout_ms && now() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/*
 * DRAIN in slices of 200 ms: a signal that lands just before the ioctl
 * starts waiting (the handler ran, nothing is pending any more) would
 * otherwise be noticed only when the whole drain timeout has passed.
 */
static int drain_cancellable(struct copier *c, struct dm_fence_info *info)
{
	double deadline = now() + c->o->drain_timeout_ms / 1000.0;
	int r;

	for (;;) {
		uint32_t slice = 200;

		if (c->o->drain_timeout_ms) {
			double left = (deadline - now()) * 1000;

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
		if (*cancel_flag)
			return -EINTR;
	}
}

/*
 * Start copying bytes [off, off + len) from SRC to DST, honouring --rate;
 * the round that asked waits for them with copyq_drain().
 */
static int copy_range(struct copier *c, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < COPY_CHUNK ? len : COPY_CHUNK;
		int r;

		if (*cancel_flag)
			return -EINTR;
		r = check_fenced(c, 0);
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
			double el = now() - c->round_start;

			if (want > el)
				usleep((useconds_t)((want - el) * 1e6));
		}
	}
	return 0;
}

/* Wait for the round's copies: an error of the round itself is reported first */
static int drain_after(struct copier *c, int r)
{
	int d = copyq_drain(c->q);

	return r ? r : d;
}

/* Copy every region set in bits, merging runs into large I/O. */
static int copy_regions(struct copier *c, const uint64_t *bits)
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
	return drain_after(c, r);
}

/* Add this round's set to what the final round must copy; returns its size. */
static uint64_t merge_pending(struct copier *c)
{
	uint64_t n = 0;

	for (uint64_t w = 0; w < c->words; w++) {
		c->pending[w] |= c->bits[w];
		n += __builtin_popcountll(c->pending[w]);
	}
	return n;
}

/* Fetch and clear the dirty set into c->bits; returns the count or -errno. */
static int64_t fetch(struct copier *c)
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
static int verify(struct copier *c)
{
	char *other = NULL;
	int r = 0;

	if (posix_memalign((void **)&other, ALIGN, CHUNK))
		return -ENOMEM;
	for (uint64_t off = 0; off < c->bytes && !r; off += CHUNK) {
		size_t n = c->bytes - off < CHUNK ? c->bytes - off : CHUNK;

		if (*cancel_flag)
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
static int check_nobody_else(struct copier *c, const struct dm_fence_info *at_close,
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
static int open_dst(const struct fence_device *src, const char *dst_path)
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
static int open_backing(dev_t d)
{
	char path[128], line[128], name[96] = "";
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(d), minor(d));
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "DEVNAME=%95s", name) == 1)
			break;
	fclose(f);
	if (!name[0])
		return -ENODEV;
	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fence_copy(const struct fence_device *src, const char *dst_path, const struct copy_opts *o,
	       volatile sig_atomic_t *cancelled, int *switched_out)
{
	struct copier c = { .src = src, .o = o, .in = -1, .out = -1 };
	struct dm_fence_info info;
	uint64_t dst_bytes = 0;
	int64_t dirty, prev;
	double t0, t1, downtime = 0, drain_time = 0, switch_time = 0, final_time = 0, sync_time = 0;
	int r, round = 0, switched = 0, standby = 0, tab = -ENOENT, reported = 0;
	uint64_t clears_at_start;

	cancel_flag = cancelled;
	r = fence_status(src, &info);
	if (r)
		return r;
	/*
	 * Someone else's close (a migration's destination, a device created
	 * closed at boot, the hook's release) or fence: not the copy's to
	 * take, nor its bitmap to clear, unless the caller says so; and
	 * even then never the copy's to reopen or switch.
	 */
	if (info.state != DM_FENCE_STATE_OPEN && !o->allow_closed) {
		fprintf(stderr, "fencectl: copy: %s: %s by someone else: not started "
			"(--allow-closed copies it and leaves it %s)\n", src->name,
			fence_state_name(info.state), fence_state_name(info.state));
		return -EBUSY;
	}
	c.bytes = info.length * 512;
	c.region = info.region_size * 512;
	c.regions = info.regions;
	c.words = (c.regions + 63) / 64;
	/* the copy reads SRC's backing device: one fence target, all of it */
	r = fence_table_of(src, &c.table);
	if (r) {
		fprintf(stderr, "fencectl: copy: %s: needs one fence target over the whole device\n",
			src->name);
		return r;
	}
	if (o->do_switch) {
		/*
		 * After the switch fencetab must name DST, or the next boot
		 * creates the device on SRC, rolled back to the switch point:
		 * no switch of a fencetab device whose line cannot be changed.
		 */
		r = fencetab_set_backing(src->name, dst_path, 1);
		if (r && r != -ENOENT) {
			fprintf(stderr, "fencectl: copy: %s: %s names it and cannot be changed (%s): "
				"not started (after a switch it must name %s)\n", src->name,
				fencetab_path(), strerror(-r), dst_path);
			return r;
		}
		/* a standby an earlier copy left (it died): let it go first */
		if ((info.dev_flags & DM_FENCE_DEV_STANDBY) && fence_switch_release(src) == 0)
			fprintf(stderr, "fencectl: copy: %s: dropped the standby device an earlier copy left\n",
				src->name);
	}
	c.out = open_dst(src, dst_path);
	if (c.out < 0) {
		r = c.out;
		fprintf(stderr, "fencectl: copy: %s: %s\n", dst_path,
			r == -EXDEV ? "shares sectors with the source (or is the same disk by another path)" :
			r == -EMEDIUMTYPE ? "has a larger logical block size than the source" :
			r == -EBUSY ? "in use (mounted or held)" : strerror(-r));
		goto out;
	}
	c.in = open_backing(c.table.backing);
	c.in_offset = c.table.offset * 512;
	if (c.in < 0) {
		r = c.in;
		fprintf(stderr, "fencectl: copy: cannot open the source's backing device %u:%u: %s\n",
			major(c.table.backing), minor(c.table.backing), strerror(-r));
		goto out;
	}
	if (ioctl(c.out, BLKGETSIZE64, &dst_bytes) || dst_bytes < c.bytes) {
		fprintf(stderr, "fencectl: copy: %s is smaller than %s\n", dst_path, src->name);
		r = -ENOSPC;
		goto out;
	}
	if (o->do_switch) {
		/*
		 * DST becomes the table's standby: held by the device from
		 * now on (so our exclusive open must go first), written by
		 * nobody but us until the switch.
		 */
		close(c.out);
		c.out = -1;
		r = fence_switch_prepare(src, dst_path);
		if (r) {
			fprintf(stderr, "fencectl: copy: %s: cannot load %s as its standby: %s\n",
				src->name, dst_path, strerror(-r));
			goto out;
		}
		standby = 1;
		c.out = open(dst_path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (c.out < 0) {
			r = -errno;
			fprintf(stderr, "fencectl: copy: cannot open %s: %s\n", dst_path, strerror(-r));
			goto out;
		}
	}
	c.bits = calloc(c.words, 8);
	c.pending = calloc(c.words, 8);
	c.q = copyq_new(c.in, c.in_offset, c.out, COPY_DEPTH, COPY_CHUNK, o->sparse ? COPYQ_SPARSE : 0);
	if (!c.bits || !c.pending || !c.q || posix_memalign((void **)&c.buf, ALIGN, CHUNK)) {
		r = -ENOMEM;
		goto out;
	}
	c.start = now();
	clears_at_start = info.clears;
	{
		/* round 0 writes all of DST, and clears the source's bitmap */
		const struct fence_field f[] = {
			{ "COPY_TO", dst_path },
			{ "SWITCH", o->do_switch ? "1" : NULL },
		};

		fence_journal(LOG_NOTICE, "copy-start", src->name, f, 2, "copy to %s started%s",
			      dst_path, o->do_switch ? " (--switch)" : "");
	}

	/* round 0: everything, after clearing what was dirty before */
	dirty = fetch(&c);
	if (dirty < 0) {
		r = (int)dirty;
		goto out;
	}
	t0 = now();
	round_begin(&c, 0, c.bytes);
	r = drain_after(&c, copy_range(&c, 0, c.bytes));
	if (r)
		goto out;
	emit(&c, "precopy", round, c.regions, now() - t0);

	/* pre-copy rounds until the dirty set stops shrinking */
	prev = INT64_MAX;
	for (round = 1; round <= o->max_rounds && !c.fenced; round++) {
		dirty = fetch(&c);
		if (dirty < 0) {
			r = (int)dirty;
			goto out;
		}
		if ((uint64_t)dirty <= o->threshold || dirty >= prev) {
			/* fetched and cleared: copied in the final round */
			merge_pending(&c);
			break;
		}
		t0 = now();
		round_begin(&c, round, (uint64_t)dirty * c.region);
		r = copy_regions(&c, c.bits);
		if (r)
			goto out;
		emit(&c, "precopy", round, (uint64_t)dirty, now() - t0);
		prev = dirty;
	}

	/*
	 * Flushes before the downtime: DST's, so that the final sync has
	 * only the final round's writes to make durable, and SRC's, so that
	 * the drain's flush has only what the consumer wrote since (a disk's
	 * volatile cache full of the consumer's writes took 330 ms to flush
	 * in the bench, all of it downtime).
	 */
	if (fdatasync(c.out) || fdatasync(c.in)) {
		r = -errno;
		goto out;
	}
	/* the control device held open through the downtime */
	fence_hold_control(1);

	/* stop and copy: drain the source, then the last dirty set */
	t0 = now();
	if (!c.fenced) {
		/*
		 * Ours to reopen or switch only if our DRAIN closed it; a
		 * kernel before 1.4 does not say, and then it is ours if it
		 * was open just before (another tool may close it between).
		 */
		r = fence_status(src, &info);
		if (r)
			goto out;
		if (!(info.dev_flags & DM_FENCE_DEV_CLOSES))
			c.closed_by_us = info.state == DM_FENCE_STATE_OPEN;
		r = drain_cancellable(&c, &info);
		/* refused or given up because the source was fenced */
		if (r == -EBUSY && !check_fenced(&c, 1) && c.fenced)
			r = 0;
		if (r)
			goto out;
	}
	if (c.fenced) {
		r = wait_stale_done(&c);
		if (r)
			goto out;
	}
	drain_time = now() - t0;
	dirty = fetch(&c);
	if (dirty < 0) {
		r = (int)dirty;
		goto out;
	}
	dirty = (int64_t)merge_pending(&c);
	t1 = now();
	round_begin(&c, round, (uint64_t)dirty * c.region);
	r = copy_regions(&c, c.pending);
	if (r)
		goto out;
	final_time = now() - t1;
	t1 = now();
	if (fdatasync(c.out)) {
		r = -errno;
		goto out;
	}
	sync_time = now() - t1;
	r = check_fenced(&c, 1);
	if (!r && !c.fenced)
		r = check_nobody_else(&c, &info, clears_at_start);
	if (r)
		goto out;
	if ((o->do_switch || o->reopen) && !c.fenced && !c.closed_by_us) {
		fprintf(stderr, "fencectl: copy: %s was closed by someone else, not by this copy: "
			"left closed on the source, not %s\n", src->name,
			o->do_switch ? "switched" : "reopened");
		r = -EBUSY;
		goto out;
	}
	if (o->do_switch && !c.fenced) {
		if (*cancelled) {
			r = -ECANCELED;
			goto out;
		}
		/*
		 * Switch and reopen in one call, only if nobody reopened the
		 * device since the drain (the kernel compares): the end of
		 * the downtime.  A size changed meanwhile was a reload, which
		 * dropped the standby (ENODEV).
		 */
		struct stat dst_st;

		/* onto DST, the standby we loaded: not one a second copy put there */
		if (fstat(c.out, &dst_st)) {
			r = -errno;
			goto out;
		}
		t1 = now();
		r = fence_switch(src, info.reopens, c.have_close ? &c.my_close : NULL,
				 dst_st.st_rdev, &info);
		switch_time = now() - t1;
		if (r) {
			fprintf(stderr, "fencectl: copy: switch to %s: %s; %s stays on the source\n",
				dst_path, r == -ENODEV ? "the standby was dropped by a reload" :
				r == -ESTALE ? "reopened (or reopened and closed) by someone else, "
				"or its standby replaced" :
				r == -EBUSY ? "another table of it is loaded" : strerror(-r),
				src->name);
			/*
			 * refused (exit 4): not a missing device, nor the
			 * source's fence (-ESTALE is exit 6 to the caller)
			 */
			if (r == -ENODEV || r == -ESTALE)
				r = -EBUSY;
			goto out;
		}
		switched = 1;
		c.closed_by_us = 0;
		{
			char before[24], after[24];
			const struct fence_field f[] = {
				{ "BACKING_BEFORE", before },
				{ "BACKING_AFTER", after },
				{ "BACKING_AFTER_PATH", dst_path },
			};

			snprintf(before, sizeof(before), "%u:%u", major(c.table.backing),
				 minor(c.table.backing));
			snprintf(after, sizeof(after), "%u:%u", major(dst_st.st_rdev),
				 minor(dst_st.st_rdev));
			fence_journal(LOG_NOTICE, "switch", src->name, f, 3,
				      "copy switched it from %s to %s (%s)", before, dst_path, after);
		}
		tab = fencetab_set_backing(src->name, dst_path, 0);
		if (!tab) {
			fprintf(stderr, "fencectl: copy: %s: %s now names %s\n", src->name,
				fencetab_path(), dst_path);
			const struct fence_field f[] = {
				{ "FENCETAB", fencetab_path() },
				{ "BACKING_AFTER_PATH", dst_path },
			};

			fence_journal(LOG_NOTICE, "fencetab", src->name, f, 2, "%s now names %s",
				      fencetab_path(), dst_path);
		} else if (tab != -ENOENT) {
			fprintf(stderr, "fencectl: copy: %s: %s still names the source (%s): make it "
				"name %s before the next boot\n", src->name, fencetab_path(),
				strerror(-tab), dst_path);
			const struct fence_field f[] = {
				{ "FENCETAB", fencetab_path() },
				{ "BACKING_AFTER_PATH", dst_path },
			};

			fence_journal(LOG_ERR, "fencetab", src->name, f, 2,
				      "%s not changed after the switch to %s (%s)",
				      fencetab_path(), dst_path, strerror(-tab));
		}
	} else if (o->reopen) {
		/* the downtime ends here: from now on a signal cancels nothing */
		r = fence_reopen(src, c.have_close ? &c.my_close : NULL, &info);
		c.closed_by_us = 0;
		if (r)
			goto out;
	}
	downtime = now() - t0;
	emit(&c, "final", round, (uint64_t)dirty, downtime);
	if (o->verify) {
		r = verify(&c);
		if (r) {
			fprintf(stderr, "fencectl: copy: verify: %s\n", r == -EILSEQ ?
				"the destination differs from the source" : strerror(-r));
			goto out;
		}
	}
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string("done"));
		json_object_object_add(j, "rounds", json_object_new_int(round));
		json_object_object_add(j, "bytes_copied", json_object_new_uint64(c.copied));
		json_object_object_add(j, "downtime_ms", json_object_new_double(downtime * 1000));
		json_object_object_add(j, "drain_ms", json_object_new_double(drain_time * 1000));
		json_object_object_add(j, "final_copy_ms", json_object_new_double(final_time * 1000));
		json_object_object_add(j, "sync_ms", json_object_new_double(sync_time * 1000));
		json_object_object_add(j, "switch_ms", json_object_new_double(switch_time * 1000));
		json_object_object_add(j, "bytes_zeroed", json_object_new_uint64(copyq_zeroed(c.q)));
		/* 1: io_uring was not available, pread/pwrite one at a time */
		json_object_object_add(j, "queue_depth", json_object_new_int((int)copyq_depth(c.q)));
		json_object_object_add(j, "seconds", json_object_new_double(now() - c.start));
		json_object_object_add(j, "verified", json_object_new_boolean(o->verify));
		json_object_object_add(j, "switched", json_object_new_boolean(switched));
		if (switched)
			json_object_object_add(j, "fencetab", json_object_new_string(
				!tab ? "updated" : tab == -ENOENT ? "not listed" : "not updated"));
		json_object_object_add(j, "source_state",
				       json_object_new_string(c.fenced ? "fenced" :
							      switched || o->reopen ? "open" : "closed"));
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	} else {
		fprintf(stderr, "%scopy done: %d rounds, %.1f MiB copied, downtime %.0f ms%s%s\n",
			isatty(2) ? "\n" : "", round, c.copied / 1048576.0, downtime * 1000,
			switched ? ", running on the destination" : "",
			o->verify ? ", verified" : "");
	}
	if (c.fenced)
		r = -ESTALE;
	/* reported: from here a signal changes nothing (no reopen, exit as said) */
	reported = 1;
out:
	/*
	 * Cancelled or failed after closing the source (and before any
	 * switch): let the VM write again.  A device someone fenced meanwhile
	 * stays fenced: reopen never opens one (ESTALE), whatever we read
	 * before.
	 */
	if (c.closed_by_us && (r || (*cancelled && !reported)))
		fence_reopen(src, c.have_close ? &c.my_close : NULL, &info);
	fence_hold_control(0);
	/*
	 * The standby goes, or after the switch the source: a reload of
	 * the line the kernel prints, outside the downtime.  The device
	 * works either way; what failed is said.
	 */
	if (standby) {
		if (c.out >= 0)
			close(c.out);
		c.out = -1;
		if (fence_switch_release(src))
			fprintf(stderr, "fencectl: copy: %s: could not reload it to let go of %s "
				"(dmsetup table %s | dmsetup reload %s; dmsetup resume %s)\n",
				src->name, switched ? "the source" : dst_path, src->name, src->name,
				src->name);
	}
	/* after the switch the device runs on DST: no "cancelled, source open" */
	if (*cancelled && r && !switched)
		r = -ECANCELED;
	if (switched_out)
		*switched_out = switched;
	if (c.start) {
		const struct fence_field f[] = {
			{ "COPY_TO", dst_path },
			{ "RESULT", !r ? "done" : strerrorname_np(-r) ? strerrorname_np(-r) : "error" },
			{ "SWITCHED", switched ? "1" : NULL },
		};

		fence_journal(r && r != -ESTALE ? LOG_ERR : LOG_NOTICE, "copy-end", src->name, f, 3,
			      "copy to %s ended: %s%s", dst_path, r ? strerror(-r) : "done",
			      switched ? ", running on it" : "");
	}
	copyq_free(c.q);
	free(c.bits);
	free(c.pending);
	free(c.buf);
	if (c.in >= 0)
		close(c.in);
	if (c.out >= 0)
		close(c.out);
	return r;
}
