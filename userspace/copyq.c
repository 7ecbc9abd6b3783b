// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copying byte ranges from one file descriptor to another with several
 * requests in flight.  One synchronous 4 MiB request at a time leaves a
 * disk with latency idle most of the time; sixteen 2 MiB slots, about half
 * of them reading and half writing at any time, keep both disks' queues
 * at least as busy as fio at QD8 x 1 MiB on each.
 *
 * Two threads, each with an io_uring of its own, as fio's two jobs: the
 * caller's thread reads into free slots and hands each chunk it read to a
 * writer thread, which writes it and frees the slot.  Each submits its
 * requests inline: a memory-backed or otherwise CPU-heavy driver does its
 * copying in the submitting thread, so reading and writing run on two
 * CPUs.  (Issued inline from one thread the whole copy ran on one CPU,
 * 0.67 of fio; through io_uring's workers, IOSQE_ASYNC, 0.87 of fio on 6.1,
 * a handoff to a worker for every request.)  Each thread waits on its own
 * ring only: an eventfd read kept armed in each ring is how the other
 * thread wakes it (a chunk to write; a slot freed).
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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "copy.h"

struct slot {
	char *buf;
	uint64_t off;
	size_t len;
	struct slot *next;
};

/* One thread's ring, and the eventfd by which the other thread wakes it. */
struct side {
	struct io_uring ring;
	int ring_ok;
	int wake_fd;
	uint64_t wake_buf;		/* the armed read's target */
};

struct copyq {
	int in, out;
	uint64_t in_off;		/* bytes: where offset 0 is in @in */
	int uring;			/* 0: pread/pwrite, one slot */
	int sparse;			/* punch holes for zero chunks */
	uint64_t zeroed;		/* bytes zeroed rather than written */
	unsigned int depth;
	struct slot *slots;
	struct side rd, wr;
	unsigned int reading;		/* the caller's thread only */
	pthread_t writer;
	int writer_started;
	pthread_mutex_t lock;
	/* under lock */
	struct slot *free, *todo, **todo_tail;
	unsigned int writing;		/* handed to the writer, not yet free */
	int stop;
	int err;			/* the first failure, sticky until drained */
};

static void fail_locked(struct copyq *q, int err)
{
	if (!q->err)
		q->err = err;
}

static void fail_with(struct copyq *q, int err)
{
	pthread_mutex_lock(&q->lock);
	fail_locked(q, err);
	pthread_mutex_unlock(&q->lock);
}

/* The eventfd's read completes (user data NULL) when the other thread writes it. */
static void arm_wake(struct side *sd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&sd->ring);

	/* never NULL: each ring has one entry more than the slots */
	io_uring_prep_read(sqe, sd->wake_fd, &sd->wake_buf, sizeof(sd->wake_buf), 0);
	io_uring_sqe_set_data(sqe, NULL);
}

static void wake(struct side *sd)
{
	uint64_t one = 1;

	/* fails only if the counter would overflow: it is awake then */
	if (write(sd->wake_fd, &one, sizeof(one)) < 0)
		return;
}

static int submit(struct side *sd)
{
	int r;

	do
		r = io_uring_submit(&sd->ring);
	while (r == -EINTR);
	return r < 0 ? r : 0;
}

/* Wait for a completion on @sd's ring: its slot (NULL: a wake-up) and result. */
static int wait_one(struct side *sd, struct slot **s, int *res)
{
	struct io_uring_cqe *cqe;
	int r;

	do
		r = io_uring_wait_cqe(&sd->ring, &cqe);
	while (r == -EINTR);
	if (r < 0)
		return r;
	*s = io_uring_cqe_get_data(cqe);
	*res = cqe->res;
	io_uring_cqe_seen(&sd->ring, cqe);
	if (!*s) {
		arm_wake(sd);
		return submit(sd);
	}
	return 0;
}

/*
 * The writer's ring failed: what it holds will not complete here.  Give up
 * on it (the error says so) and let the caller's thread stop waiting.
 */
static void *writer_failed(struct copyq *q, int err)
{
	pthread_mutex_lock(&q->lock);
	fail_locked(q, err);
	q->todo = NULL;
	q->todo_tail = &q->todo;
	q->writing = 0;
	pthread_mutex_unlock(&q->lock);
	wake(&q->rd);
	return NULL;
}

static void *writer_main(void *arg)
{
	struct copyq *q = arg;
	unsigned int inflight = 0;
	struct slot *s, *list;
	int r, res, stop;

	for (;;) {
		r = wait_one(&q->wr, &s, &res);
		if (r < 0)
			return writer_failed(q, r);
		if (s) {
			inflight--;
			pthread_mutex_lock(&q->lock);
			if (res != (int)s->len)
				fail_locked(q, res < 0 ? res : -EIO);
			s->next = q->free;
			q->free = s;
			q->writing--;
			pthread_mutex_unlock(&q->lock);
			wake(&q->rd);
			continue;
		}
		pthread_mutex_lock(&q->lock);
		list = q->todo;
		q->todo = NULL;
		q->todo_tail = &q->todo;
		stop = q->stop;
		pthread_mutex_unlock(&q->lock);
		if (stop && !list && !inflight)
			return NULL;
		for (; list; list = list->next) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&q->wr.ring);

			io_uring_prep_write(sqe, q->out, list->buf, list->len, list->off);
			io_uring_sqe_set_data(sqe, list);
			inflight++;
		}
		r = submit(&q->wr);
		if (r < 0)
			return writer_failed(q, r);
	}
}

static int side_init(struct side *sd, unsigned int entries)
{
	sd->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (sd->wake_fd < 0)
		return -errno;
	if (io_uring_queue_init(entries, &sd->ring, 0))
		return -ENOSYS;
	sd->ring_ok = 1;
	arm_wake(sd);
	return submit(sd);
}

/* Also undoes a side_init that failed half-way; leaves the side unused. */
static void side_exit(struct side *sd)
{
	if (sd->ring_ok)
		io_uring_queue_exit(&sd->ring);
	if (sd->wake_fd >= 0)
		close(sd->wake_fd);
	sd->ring_ok = 0;
	sd->wake_fd = -1;
}

struct copyq *copyq_new(int in, uint64_t in_off, int out, unsigned int depth, size_t chunk,
			int flags)
{
	struct copyq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->in = in;
	q->in_off = in_off;
	q->out = out;
	q->sparse = flags & COPYQ_SPARSE;
	q->rd.wake_fd = -1;
	q->wr.wake_fd = -1;
	q->todo_tail = &q->todo;
	pthread_mutex_init(&q->lock, NULL);
	q->uring = !side_init(&q->rd, depth + 1) && !side_init(&q->wr, depth + 1);
	if (!q->uring) {
		side_exit(&q->rd);
		side_exit(&q->wr);
	}
	q->depth = q->uring ? depth : 1;
	q->slots = calloc(q->depth, sizeof(*q->slots));
	if (!q->slots)
		goto fail;
	for (unsigned int i = 0; i < q->depth; i++) {
		if (posix_memalign((void **)&q->slots[i].buf, 4096, chunk))
			goto fail;
		q->slots[i].next = q->free;
		q->free = &q->slots[i];
	}
	if (q->uring) {
		if (pthread_create(&q->writer, NULL, writer_main, q))
			goto fail;
		q->writer_started = 1;
	}
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

/*
 * The caller's thread: wait for a read, which goes to the writer (or, all
 * zeros, is zeroed here), or for the writer's word that it freed a slot.
 */
static void reader_wait(struct copyq *q)
{
	struct slot *s;
	int r, res;

	r = wait_one(&q->rd, &s, &res);
	if (r < 0) {
		/* the ring failed: no read will complete, nor a wake-up */
		fail_with(q, r);
		q->reading = 0;
		return;
	}
	if (!s)
		return;
	q->reading--;
	if (res != (int)s->len)
		r = res < 0 ? res : -EIO;
	else if (all_zero(s->buf, s->len))
		r = zero_range(q, s->off, s->len);
	else
		r = 1;
	pthread_mutex_lock(&q->lock);
	if (r == 1 && !q->err) {
		s->next = NULL;
		*q->todo_tail = s;
		q->todo_tail = &s->next;
		q->writing++;
		pthread_mutex_unlock(&q->lock);
		wake(&q->wr);
		return;
	}
	if (r < 0)
		fail_locked(q, r);
	s->next = q->free;
	q->free = s;
	pthread_mutex_unlock(&q->lock);
}

static int copy_sync(struct copyq *q, uint64_t off, size_t len)
{
	char *buf = q->slots[0].buf;
	ssize_t r = pread(q->in, buf, len, (off_t)(q->in_off + off));

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
	struct io_uring_sqe *sqe;
	struct slot *s;
	int r;

	if (!q->uring) {
		if (!q->err)
			q->err = copy_sync(q, off, len);
		return q->err;
	}
	for (;;) {
		pthread_mutex_lock(&q->lock);
		r = q->err;
		s = q->free;
		if (!r && s)
			q->free = s->next;
		pthread_mutex_unlock(&q->lock);
		if (r)
			return r;
		if (s)
			break;
		reader_wait(q);
	}
	s->off = off;
	s->len = len;
	sqe = io_uring_get_sqe(&q->rd.ring);
	io_uring_prep_read(sqe, q->in, s->buf, len, q->in_off + off);
	io_uring_sqe_set_data(sqe, s);
	q->reading++;
	r = submit(&q->rd);
	if (r < 0) {
		q->reading--;
		pthread_mutex_lock(&q->lock);
		fail_locked(q, r);
		s->next = q->free;
		q->free = s;
		pthread_mutex_unlock(&q->lock);
	}
	return r;
}

/* Wait until nothing is in flight; 0, or the first failure (then cleared). */
int copyq_drain(struct copyq *q)
{
	unsigned int writing;
	int r;

	for (;;) {
		pthread_mutex_lock(&q->lock);
		writing = q->writing;
		pthread_mutex_unlock(&q->lock);
		if (!q->reading && !writing)
			break;
		reader_wait(q);
	}
	pthread_mutex_lock(&q->lock);
	r = q->err;
	q->err = 0;
	pthread_mutex_unlock(&q->lock);
	return r;
}

void copyq_free(struct copyq *q)
{
	if (!q)
		return;
	if (q->writer_started) {
		copyq_drain(q);
		pthread_mutex_lock(&q->lock);
		q->stop = 1;
		pthread_mutex_unlock(&q->lock);
		wake(&q->wr);
		pthread_join(q->writer, NULL);
	}
	if (q->slots) {
		for (unsigned int i = 0; i < q->depth; i++)
			free(q->slots[i].buf);
		free(q->slots);
	}
	side_exit(&q->rd);
	side_exit(&q->wr);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
