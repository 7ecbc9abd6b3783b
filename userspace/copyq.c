// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copying byte ranges from one file descriptor to another with several
 * requests in flight: each slot reads its range, then writes it, through
 * io_uring.  One synchronous 4 MiB request at a time leaves a disk with
 * latency idle most of the time; sixteen 1 MiB slots, about half of them
 * reading and half writing at any time, keep both disks' queues as busy
 * as fio at QD8 on each.
 * Where io_uring is not available (kernel.io_uring_disabled, seccomp), one
 * slot copies with pread/pwrite.
 *
 * A chunk read as all zeros is not written: DST's range is zeroed with
 * fallocate(ZERO_RANGE) (REQ_OP_WRITE_ZEROES where the device has it, the
 * kernel writing zero pages where not), or with COPYQ_SPARSE deallocated
 * with PUNCH_HOLE (a discard that reads back as zeros; ZERO_RANGE where
 * the device cannot).
 *
 * Ranges added between two copyq_drain() calls must not overlap: their
 * writes may complete in any order.  copy.c drains at the end of each
 * round, so a region copied again by a later round is never overtaken by
 * its older copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy.h"

struct slot {
	char *buf;
	uint64_t off;
	size_t len;
	int writing;
	int busy;
};

struct copyq {
	int in, out;
	int uring;			/* 0: pread/pwrite, one slot */
	int sparse;			/* punch holes for zero chunks */
	uint64_t zeroed;		/* bytes zeroed rather than written */
	struct io_uring ring;
	unsigned int depth, inflight;
	struct slot *slots;
	int err;			/* the first failure, sticky */
};

struct copyq *copyq_new(int in, int out, unsigned int depth, size_t chunk, int flags)
{
	struct copyq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->in = in;
	q->out = out;
	q->sparse = flags & COPYQ_SPARSE;
	q->uring = !io_uring_queue_init(depth, &q->ring, 0);
	q->depth = q->uring ? depth : 1;
	q->slots = calloc(q->depth, sizeof(*q->slots));
	if (!q->slots)
		goto fail;
	for (unsigned int i = 0; i < q->depth; i++)
		if (posix_memalign((void **)&q->slots[i].buf, 4096, chunk))
			goto fail;
	return q;
fail:
	copyq_free(q);
	return NULL;
}

unsigned int copyq_depth(const struct copyq *q)
{
	return q->depth;
}

uint64_t copyq_zeroed(const struct copyq *q)
{
	return q->zeroed;
}

static int all_zero(const char *buf, size_t len)
{
	/* len is a multiple of 512: compare with the first 16 bytes, then on */
	static const char zero[16];

	return !memcmp(buf, zero, sizeof(zero)) && !memcmp(buf, buf + sizeof(zero), len - sizeof(zero));
}

/* DST's [off, off + len) reads as zeros afterwards, or -errno */
static int zero_range(struct copyq *q, uint64_t off, size_t len)
{
	int mode = FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE;

	if (q->sparse && !fallocate(q->out, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE,
				    (off_t)off, (off_t)len))
		goto done;
	if (fallocate(q->out, mode, (off_t)off, (off_t)len))
		return -errno;
done:
	q->zeroed += len;
	return 0;
}

static void fail_with(struct copyq *q, int err)
{
	if (!q->err)
		q->err = err;
}

static void submit(struct copyq *q, struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
	int r;

	/* never NULL: at most depth slots are in flight, each one SQE */
	if (s->writing)
		io_uring_prep_write(sqe, q->out, s->buf, s->len, s->off);
	else
		io_uring_prep_read(sqe, q->in, s->buf, s->len, s->off);
	io_uring_sqe_set_data(sqe, s);
	/*
	 * Issued from io_uring's workers, not inline: a memory-backed or
	 * otherwise CPU-heavy driver does its work in the submitter, and
	 * inline every request of the copy would run on this one CPU (0.67
	 * of fio's two jobs under TCG; 1.15 with the workers).
	 */
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	do
		r = io_uring_submit(&q->ring);
	while (r == -EINTR);
	if (r < 0) {
		fail_with(q, r);
		s->busy = 0;
		q->inflight--;
	}
}

/* Wait for one completion: a read becomes its write, a write frees its slot. */
static void reap_one(struct copyq *q)
{
	struct io_uring_cqe *cqe;
	struct slot *s;
	int r;

	do
		r = io_uring_wait_cqe(&q->ring, &cqe);
	while (r == -EINTR);
	if (r < 0) {
		/* the ring itself failed: nothing more will complete */
		fail_with(q, r);
		for (unsigned int i = 0; i < q->depth; i++)
			q->slots[i].busy = 0;
		q->inflight = 0;
		return;
	}
	s = io_uring_cqe_get_data(cqe);
	r = cqe->res;
	io_uring_cqe_seen(&q->ring, cqe);
	if (r != (int)s->len)
		fail_with(q, r < 0 ? r : -EIO);
	if (r == (int)s->len && !s->writing && !q->err) {
		if (!all_zero(s->buf, s->len)) {
			s->writing = 1;
			submit(q, s);
			return;
		}
		r = zero_range(q, s->off, s->len);
		if (r)
			fail_with(q, r);
	}
	s->busy = 0;
	q->inflight--;
}

static int copy_sync(struct copyq *q, uint64_t off, size_t len)
{
	char *buf = q->slots[0].buf;
	ssize_t r = pread(q->in, buf, len, (off_t)off);

	if (r != (ssize_t)len)
		return r < 0 ? -errno : -EIO;
	if (all_zero(buf, len))
		return zero_range(q, off, len);
	r = pwrite(q->out, buf, len, (off_t)off);
	if (r != (ssize_t)len)
		return r < 0 ? -errno : -EIO;
	return 0;
}

/*
 * Start copying [off, off + len) (len at most the chunk size), waiting for
 * a free slot.  0, or the -errno of a request that failed since the last
 * drain.
 */
int copyq_add(struct copyq *q, uint64_t off, size_t len)
{
	struct slot *s = NULL;

	if (q->err)
		return q->err;
	if (!q->uring)
		return q->err = copy_sync(q, off, len);
	while (q->inflight == q->depth && !q->err)
		reap_one(q);
	if (q->err)
		return q->err;
	for (unsigned int i = 0; i < q->depth && !s; i++)
		if (!q->slots[i].busy)
			s = &q->slots[i];
	s->busy = 1;
	s->writing = 0;
	s->off = off;
	s->len = len;
	q->inflight++;
	submit(q, s);
	return q->err;
}

/* Wait until nothing is in flight; 0, or the first failure (then cleared). */
int copyq_drain(struct copyq *q)
{
	int r;

	while (q->inflight)
		reap_one(q);
	r = q->err;
	q->err = 0;
	return r;
}

void copyq_free(struct copyq *q)
{
	if (!q)
		return;
	if (q->slots) {
		if (q->uring)
			copyq_drain(q);
		for (unsigned int i = 0; i < q->depth; i++)
			free(q->slots[i].buf);
		free(q->slots);
	}
	if (q->uring)
		io_uring_queue_exit(&q->ring);
	free(q);
}
