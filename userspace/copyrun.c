// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl copy, the run: its phases in order, each a function that leaves
 * what the next needs in struct copier, and one end (copy_finish) that
 * undoes what the state says was done, whichever phase stopped:
 *
 *   copy_prepare   the source may be copied; DST opened (and loaded as
 *                  the table's standby for --switch); buffers
 *   copy_rounds    round 0 (everything) and the pre-copy rounds
 *   copy_downtime  drain the source (or, fenced, wait for its stale
 *                  writes), copy the last dirty set, make DST durable,
 *                  check nobody else moved
 *   copy_switch    --switch: run the device on DST (the point of no return)
 *   copy_handover  --reopen: reopen the source; otherwise leave it closed
 *   copy_verify    --verify
 *   copy_report    the last line (JSON or text)
 *   copy_finish    reopen the source if the copy closed it and did not
 *                  finish, release the standby (or the source after a
 *                  switch), journal the end, free
 *
 * The helpers each phase uses (reading, copying, checking) are in copy.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <unistd.h>

#include "copy-int.h"
#include "copy.h"
#include "fencetab.h"
#include "journal.h"

static int copy_prepare(struct copier *c)
{
	const struct fence_device *src = c->src;
	const struct copy_opts *o = c->o;
	uint64_t dst_bytes = 0;
	int r;

	r = fence_status(src, &c->info);
	if (r)
		return r;
	/*
	 * Someone else's close (a migration's destination, a device created
	 * closed at boot, the hook's release) or fence: not the copy's to
	 * take, nor its bitmap to clear, unless the caller says so; and
	 * even then never the copy's to reopen or switch.
	 */
	if (c->info.state != DM_FENCE_STATE_OPEN && !o->allow_closed) {
		fprintf(stderr, "fencectl: copy: %s: %s by someone else: not started "
			"(--allow-closed copies it and leaves it %s)\n", src->name,
			fence_state_name(c->info.state), fence_state_name(c->info.state));
		return -EBUSY;
	}
	c->bytes = c->info.length * 512;
	c->region = c->info.region_size * 512;
	c->regions = c->info.regions;
	c->words = (c->regions + 63) / 64;
	/* the copy reads SRC's backing device: one fence target, all of it */
	r = fence_table_of(src, &c->table);
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
		r = fencetab_set_backing(src->name, c->dst_path, 1);
		if (r && r != -ENOENT) {
			fprintf(stderr, "fencectl: copy: %s: %s names it and cannot be changed (%s): "
				"not started (after a switch it must name %s)\n", src->name,
				fencetab_path(), strerror(-r), c->dst_path);
			return r;
		}
		/* a standby an earlier copy left (it died): let it go first */
		if ((c->info.dev_flags & DM_FENCE_DEV_STANDBY) && fence_switch_release(src) == 0)
			fprintf(stderr, "fencectl: copy: %s: dropped the standby device an earlier copy left\n",
				src->name);
	}
	c->out = copy_open_dst(src, c->dst_path);
	if (c->out < 0) {
		r = c->out;
		fprintf(stderr, "fencectl: copy: %s: %s\n", c->dst_path,
			r == -EXDEV ? "shares sectors with the source (or is the same disk by another path)" :
			r == -EMEDIUMTYPE ? "has a larger logical block size than the source" :
			r == -EBUSY ? "in use (mounted or held)" : strerror(-r));
		return r;
	}
	c->in = copy_open_backing(c->table.backing);
	c->in_offset = c->table.offset * 512;
	if (c->in < 0) {
		r = c->in;
		fprintf(stderr, "fencectl: copy: cannot open the source's backing device %u:%u: %s\n",
			major(c->table.backing), minor(c->table.backing), strerror(-r));
		return r;
	}
	if (ioctl(c->out, BLKGETSIZE64, &dst_bytes) || dst_bytes < c->bytes) {
		fprintf(stderr, "fencectl: copy: %s is smaller than %s\n", c->dst_path, src->name);
		return -ENOSPC;
	}
	if (o->do_switch) {
		/*
		 * DST becomes the table's standby: held by the device from
		 * now on (so our exclusive open must go first), written by
		 * nobody but us until the switch.
		 */
		close(c->out);
		c->out = -1;
		r = fence_switch_prepare(src, c->dst_path);
		if (r) {
			fprintf(stderr, "fencectl: copy: %s: cannot load %s as its standby: %s\n",
				src->name, c->dst_path, strerror(-r));
			return r;
		}
		c->standby = 1;
		c->out = open(c->dst_path, O_RDWR | O_DIRECT | O_CLOEXEC);
		if (c->out < 0) {
			r = -errno;
			fprintf(stderr, "fencectl: copy: cannot open %s: %s\n", c->dst_path,
				strerror(-r));
			return r;
		}
	}
	c->bits = calloc(c->words, 8);
	c->pending = calloc(c->words, 8);
	c->q = copyq_new(c->in, c->in_offset, c->out, COPY_DEPTH, COPY_CHUNK,
			 o->sparse ? COPYQ_SPARSE : 0);
	if (!c->bits || !c->pending || !c->q || posix_memalign((void **)&c->buf, ALIGN, CHUNK))
		return -ENOMEM;
	return 0;
}

static int copy_rounds(struct copier *c)
{
	const struct copy_opts *o = c->o;
	int64_t prev;
	double t0;
	int r;

	c->start = copy_now();
	c->clears_at_start = c->info.clears;
	{
		/* round 0 writes all of DST, and clears the source's bitmap */
		const struct fence_field f[] = {
			{ "COPY_TO", c->dst_path },
			{ "SWITCH", o->do_switch ? "1" : NULL },
		};

		fence_journal(LOG_NOTICE, "copy-start", c->src->name, f, 2, "copy to %s started%s",
			      c->dst_path, o->do_switch ? " (--switch)" : "");
	}

	/* round 0: everything, after clearing what was dirty before */
	c->dirty = copy_fetch(c);
	if (c->dirty < 0)
		return (int)c->dirty;
	t0 = copy_now();
	copy_round_begin(c, 0, c->bytes);
	r = copy_drain_after(c, copy_range(c, 0, c->bytes));
	if (r)
		return r;
	copy_emit(c, "precopy", 0, c->regions, copy_now() - t0);

	/* pre-copy rounds until the dirty set stops shrinking */
	prev = INT64_MAX;
	for (c->rounds = 1; c->rounds <= o->max_rounds && !c->fenced; c->rounds++) {
		c->dirty = copy_fetch(c);
		if (c->dirty < 0)
			return (int)c->dirty;
		if ((uint64_t)c->dirty <= o->threshold || c->dirty >= prev) {
			/* fetched and cleared: copied in the final round */
			copy_merge_pending(c);
			break;
		}
		t0 = copy_now();
		copy_round_begin(c, c->rounds, (uint64_t)c->dirty * c->region);
		r = copy_regions(c, c->bits);
		if (r)
			return r;
		copy_emit(c, "precopy", c->rounds, (uint64_t)c->dirty, copy_now() - t0);
		prev = c->dirty;
	}
	return 0;
}

static int copy_downtime(struct copier *c)
{
	const struct copy_opts *o = c->o;
	double t1;
	int r;

	/*
	 * Flushes before the downtime: DST's, so that the final sync has
	 * only the final round's writes to make durable, and SRC's, so that
	 * the drain's flush has only what the consumer wrote since (a disk's
	 * volatile cache full of the consumer's writes took 330 ms to flush
	 * in the bench, all of it downtime).
	 */
	if (fdatasync(c->out) || fdatasync(c->in))
		return -errno;
	/* the control device held open through the downtime */
	fence_hold_control(1);

	/* stop and copy: drain the source, then the last dirty set */
	c->t0 = copy_now();
	if (!c->fenced) {
		/*
		 * Ours to reopen or switch only if our DRAIN closed it; a
		 * kernel before 1.4 does not say, and then it is ours if it
		 * was open just before (another tool may close it between).
		 */
		r = fence_status(c->src, &c->info);
		if (r)
			return r;
		if (!(c->info.dev_flags & DM_FENCE_DEV_CLOSES))
			c->closed_by_us = c->info.state == DM_FENCE_STATE_OPEN;
		r = copy_drain_cancellable(c, &c->info);
		/* refused or given up because the source was fenced */
		if (r == -EBUSY && !copy_check_fenced(c, 1) && c->fenced)
			r = 0;
		if (r)
			return r;
	}
	if (c->fenced) {
		r = copy_wait_stale_done(c);
		if (r)
			return r;
	}
	c->drain_time = copy_now() - c->t0;
	c->dirty = copy_fetch(c);
	if (c->dirty < 0)
		return (int)c->dirty;
	c->dirty = (int64_t)copy_merge_pending(c);
	t1 = copy_now();
	copy_round_begin(c, c->rounds, (uint64_t)c->dirty * c->region);
	r = copy_regions(c, c->pending);
	if (r)
		return r;
	c->final_time = copy_now() - t1;
	t1 = copy_now();
	if (fdatasync(c->out))
		return -errno;
	c->sync_time = copy_now() - t1;
	r = copy_check_fenced(c, 1);
	if (!r && !c->fenced)
		r = copy_check_nobody_else(c, &c->info, c->clears_at_start);
	if (r)
		return r;
	if ((o->do_switch || o->reopen) && !c->fenced && !c->closed_by_us) {
		fprintf(stderr, "fencectl: copy: %s was closed by someone else, not by this copy: "
			"left closed on the source, not %s\n", c->src->name,
			o->do_switch ? "switched" : "reopened");
		return -EBUSY;
	}
	return 0;
}

/* After the switch: the journal, and fencetab names DST */
static void copy_switched(struct copier *c, dev_t dst)
{
	const char *name = c->src->name, *dst_path = c->dst_path;
	char before[24], after[24];
	const struct fence_field f[] = {
		{ "BACKING_BEFORE", before },
		{ "BACKING_AFTER", after },
		{ "BACKING_AFTER_PATH", dst_path },
	};
	const struct fence_field t[] = {
		{ "FENCETAB", fencetab_path() },
		{ "BACKING_AFTER_PATH", dst_path },
	};

	snprintf(before, sizeof(before), "%u:%u", major(c->table.backing),
		 minor(c->table.backing));
	snprintf(after, sizeof(after), "%u:%u", major(dst), minor(dst));
	fence_journal(LOG_NOTICE, "switch", name, f, 3, "copy switched it from %s to %s (%s)",
		      before, dst_path, after);
	c->tab = fencetab_set_backing(name, dst_path, 0);
	if (!c->tab) {
		fprintf(stderr, "fencectl: copy: %s: %s now names %s\n", name, fencetab_path(),
			dst_path);
		fence_journal(LOG_NOTICE, "fencetab", name, t, 2, "%s now names %s",
			      fencetab_path(), dst_path);
	} else if (c->tab != -ENOENT) {
		fprintf(stderr, "fencectl: copy: %s: %s still names the source (%s): make it "
			"name %s before the next boot\n", name, fencetab_path(),
			strerror(-c->tab), dst_path);
		fence_journal(LOG_ERR, "fencetab", name, t, 2,
			      "%s not changed after the switch to %s (%s)",
			      fencetab_path(), dst_path, strerror(-c->tab));
	}
}

static int copy_switch(struct copier *c)
{
	struct stat dst_st;
	double t1;
	int r;

	if (*c->cancelled)
		return -ECANCELED;
	/*
	 * Switch and reopen in one call, only if nobody reopened the device
	 * since the drain (the kernel compares): the end of the downtime.  A
	 * size changed meanwhile was a reload, which dropped the standby
	 * (ENODEV).  Onto DST, the standby we loaded: not one a second copy
	 * put there.
	 */
	if (fstat(c->out, &dst_st))
		return -errno;
	t1 = copy_now();
	r = fence_switch(c->src, c->info.reopens, c->have_close ? &c->my_close : NULL,
			 dst_st.st_rdev, &c->info);
	c->switch_time = copy_now() - t1;
	if (r) {
		fprintf(stderr, "fencectl: copy: switch to %s: %s; %s stays on the source\n",
			c->dst_path, r == -ENODEV ? "the standby was dropped by a reload" :
			r == -ESTALE ? "reopened (or reopened and closed) by someone else, "
			"or its standby replaced" :
			r == -EBUSY ? "another table of it is loaded" : strerror(-r),
			c->src->name);
		/*
		 * refused (exit 4): not a missing device, nor the source's
		 * fence (-ESTALE is exit 6 to the caller)
		 */
		return r == -ENODEV || r == -ESTALE ? -EBUSY : r;
	}
	c->switched = 1;
	c->closed_by_us = 0;
	copy_switched(c, dst_st.st_rdev);
	return 0;
}

static int copy_handover(struct copier *c)
{
	int r = 0;

	if (c->o->reopen) {
		/* the downtime ends here: from now on a signal cancels nothing */
		r = fence_reopen(c->src, c->have_close ? &c->my_close : NULL, &c->info);
		c->closed_by_us = 0;
	}
	return r;
}

static int copy_verify_phase(struct copier *c)
{
	int r;

	if (!c->o->verify)
		return 0;
	r = copy_verify(c);
	if (r)
		fprintf(stderr, "fencectl: copy: verify: %s\n", r == -EILSEQ ?
			"the destination differs from the source" : strerror(-r));
	return r;
}

static void copy_report(struct copier *c)
{
	const struct copy_opts *o = c->o;

	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string("done"));
		json_object_object_add(j, "rounds", json_object_new_int(c->rounds));
		json_object_object_add(j, "bytes_copied", json_object_new_uint64(c->copied));
		json_object_object_add(j, "downtime_ms", json_object_new_double(c->downtime * 1000));
		json_object_object_add(j, "drain_ms", json_object_new_double(c->drain_time * 1000));
		json_object_object_add(j, "final_copy_ms",
				       json_object_new_double(c->final_time * 1000));
		json_object_object_add(j, "sync_ms", json_object_new_double(c->sync_time * 1000));
		json_object_object_add(j, "switch_ms", json_object_new_double(c->switch_time * 1000));
		json_object_object_add(j, "bytes_zeroed", json_object_new_uint64(copyq_zeroed(c->q)));
		/* 1: io_uring was not available, pread/pwrite one at a time */
		json_object_object_add(j, "queue_depth", json_object_new_int((int)copyq_depth(c->q)));
		json_object_object_add(j, "seconds", json_object_new_double(copy_now() - c->start));
		json_object_object_add(j, "verified", json_object_new_boolean(o->verify));
		json_object_object_add(j, "switched", json_object_new_boolean(c->switched));
		if (c->switched)
			json_object_object_add(j, "fencetab", json_object_new_string(
				!c->tab ? "updated" : c->tab == -ENOENT ? "not listed" : "not updated"));
		json_object_object_add(j, "source_state",
				       json_object_new_string(c->fenced ? "fenced" :
							      c->switched || o->reopen ? "open" :
							      "closed"));
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
		json_object_put(j);
	} else {
		fprintf(stderr, "%scopy done: %d rounds, %.1f MiB copied, downtime %.0f ms%s%s\n",
			isatty(2) ? "\n" : "", c->rounds, c->copied / 1048576.0, c->downtime * 1000,
			c->switched ? ", running on the destination" : "",
			o->verify ? ", verified" : "");
	}
	/* from here a signal changes nothing (no reopen, exit as said) */
	c->told = 1;
}

/* Whichever phase stopped the run (@r): undo what the state says, free. */
static int copy_finish(struct copier *c, int r)
{
	const struct fence_device *src = c->src;
	struct dm_fence_info info;

	/*
	 * Cancelled or failed after closing the source (and before any
	 * switch): let the VM write again.  A device someone fenced meanwhile
	 * stays fenced: reopen never opens one (ESTALE), whatever we read
	 * before.
	 */
	if (c->closed_by_us && (r || (*c->cancelled && !c->told)))
		fence_reopen(src, c->have_close ? &c->my_close : NULL, &info);
	fence_hold_control(0);
	/*
	 * The standby goes, or after the switch the source: a reload of the
	 * line the kernel prints, outside the downtime.  The device works
	 * either way; what failed is said.
	 */
	if (c->standby) {
		if (c->out >= 0)
			close(c->out);
		c->out = -1;
		if (fence_switch_release(src))
			fprintf(stderr, "fencectl: copy: %s: could not reload it to let go of %s "
				"(dmsetup table %s | dmsetup reload %s; dmsetup resume %s)\n",
				src->name, c->switched ? "the source" : c->dst_path, src->name,
				src->name, src->name);
	}
	/* after the switch the device runs on DST: no "cancelled, source open" */
	if (*c->cancelled && r && !c->switched)
		r = -ECANCELED;
	if (c->start) {
		const struct fence_field f[] = {
			{ "COPY_TO", c->dst_path },
			{ "RESULT", !r ? "done" : strerrorname_np(-r) ? strerrorname_np(-r) : "error" },
			{ "SWITCHED", c->switched ? "1" : NULL },
		};

		fence_journal(r && r != -ESTALE ? LOG_ERR : LOG_NOTICE, "copy-end", src->name, f, 3,
			      "copy to %s ended: %s%s", c->dst_path, r ? strerror(-r) : "done",
			      c->switched ? ", running on it" : "");
	}
	copyq_free(c->q);
	free(c->bits);
	free(c->pending);
	free(c->buf);
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	return r;
}

int fence_copy(const struct fence_device *src, const char *dst_path, const struct copy_opts *o,
	       volatile sig_atomic_t *cancelled, int *switched_out)
{
	struct copier c = {
		.src = src, .o = o, .in = -1, .out = -1, .dst_path = dst_path,
		.cancelled = cancelled, .tab = -ENOENT,
	};
	int r;

	copy_cancel_flag = cancelled;
	r = copy_prepare(&c);
	if (!r)
		r = copy_rounds(&c);
	if (!r)
		r = copy_downtime(&c);
	if (!r)
		r = o->do_switch && !c.fenced ? copy_switch(&c) : copy_handover(&c);
	if (!r) {
		c.downtime = copy_now() - c.t0;
		copy_emit(&c, "final", c.rounds, (uint64_t)c.dirty, c.downtime);
		r = copy_verify_phase(&c);
	}
	if (!r) {
		copy_report(&c);
		if (c.fenced)
			r = -ESTALE;
	}
	r = copy_finish(&c, r);
	if (switched_out)
		*switched_out = c.switched;
	return r;
}
