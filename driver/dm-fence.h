/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-fence: shared definitions of the target (dm-fence-target.c) and of the
 * per-mapped-device state machine (dm-fence-dev.c).
 *
 * The state (open/closing/closed/fenced), the generation, the hold queue and
 * the in-flight counts belong to the mapped device, not to one table: a
 * table reload must never reopen a closed device nor lower its generation.
 * struct fence_dev is therefore shared by every fence target instance that
 * maps the same dev_t, and lives as long as one of them does.
 */
#ifndef DM_FENCE_H
#define DM_FENCE_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/dm-fence.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "dm-fence-bitmap.h"
#include "dm-fence-epoch.h"

enum fence_state {
	FENCE_OPEN = DM_FENCE_STATE_OPEN,
	FENCE_CLOSING = DM_FENCE_STATE_CLOSING,
	FENCE_CLOSED = DM_FENCE_STATE_CLOSED,
	FENCE_FENCED = DM_FENCE_STATE_FENCED,
};

struct fence_c;

/*
 * Closes (and fences) whose writes are still below that an open may add
 * to: each is an epoch on fdev->retired, summed under the lock with
 * interrupts off.  Storage that does not answer while a tool closes and
 * reopens in a loop would grow that list without bound; past this many an
 * open is refused (EBUSY) until the storage answers.
 */
#define FENCE_MAX_RETIRED	32

struct fence_dev {
	/*
	 * Read by every write, in map() and end_io(), and written only by
	 * state changes: a read-mostly cache line of its own, away from the
	 * lock and the counters the control path and the slow path write.
	 * The bitmap's words are written only when a clean region turns
	 * dirty, and its count sits on a line of its own (struct fence_bitmap).
	 */
	struct fence_epoch __rcu *live;	/* non-NULL exactly when open */
	u64 generation;			/* written under lock, WRITE_ONCE */
	enum fence_state state;		/* likewise (fence_set_state) */
	struct fence_bitmap bitmap;

	struct list_head list ____cacheline_aligned_in_smp; /* on fence_devs */
	dev_t devt;
	u64 diskseq;			/* the mapped device's disk; constant */
	unsigned int users;		/* targets attached, under fence_devs_mutex */
	refcount_t ref;			/* the registry's, control calls', a flush's */
	wait_queue_head_t state_wq;	/* woken on state changes and drains */

	struct mutex msg_mutex;		/* serialises state changes that sleep */
	/*
	 * Guards targets and orphans.  Never held across I/O: the flush work
	 * takes references to the devices it flushes and lets go first, so
	 * that status, messages and ioctls never wait for a disk.
	 */
	struct mutex target_mutex;
	struct list_head targets;
	struct list_head orphans;	/* see struct fence_orphan */
	struct fence_c *live_fc;	/* the target last resumed: the live table's */
	dev_t switched_from;		/* the backing device a switch left, or 0 */

	/*
	 * Guards everything below, and the writes of live, generation and
	 * state above.
	 */
	spinlock_t lock;
	bool close_fail;		/* writes fail at once while closed */
	bool suspending;		/* between presuspend and resume */
	bool suspend_noflush;		/* ... of a --noflush suspend */
	bool flushing;			/* the closing flush is being issued */
	bool dying;			/* destroy: drain and flush queue no more */
	/*
	 * Writes dm core may still hold from before a fence (see
	 * dm-fence-replay.c): unfence waits for the marker that replay_vec
	 * identifies, or with it NULL, for the next resume's.
	 */
	bool replay_pending;
	struct bio_vec *replay_vec;
	u64 suspend_generation;		/* the generation at presuspend */
	struct list_head retired;	/* epochs with writes maybe below */
	unsigned int nr_retired;	/* on it (at most FENCE_MAX_RETIRED + 1) */
	struct bio_list held;
	unsigned long nr_held;
	struct bio_list to_submit;	/* released by reopen, for submit_work */
	u64 close_seq;			/* closes from open (info->closes) */
	u64 flush_errors;
	u64 reopens;			/* opens after creation: reopen, unfence */
	/*
	 * An error from below does not say that a write did not reach the
	 * storage (an NFS WRITE failed by a soft time-out or a forced
	 * shutdown is still in TCP's send queue, and lands when the
	 * network heals).  write_errors: writes of the current generation
	 * that completed with an error; a fence moves them into
	 * unknown_fate, which also counts the writes of an older generation
	 * that complete with an error after it.  Both reset only when an
	 * unfence opens the device.  storage_fenced: the caller confirmed
	 * that the storage itself refuses this host's writes (since the
	 * last fence; see fence_dev_settled_locked()).
	 */
	u64 write_errors;
	u64 unknown_fate;
	bool storage_fenced;
	atomic64_t clears;		/* fetches of the bitmap that cleared it */

	atomic64_t failed_writes;
	atomic64_t late_completions;
	/*
	 * 1 + the state in which an ioctl passthrough was last refused and
	 * logged (fence_prepare_ioctl): logged once per state, not once per
	 * ioctl (a mount and an fsck send several).  No lock: xchg.
	 */
	atomic_t ioctl_refusal_logged;

	/*
	 * The device's own queue for the three works below, reclaim-safe
	 * (WQ_MEM_RECLAIM, as dm-delay's and dm-mpath's): the writes that
	 * submit_work dispatches may be the writeback that frees memory.
	 */
	struct workqueue_struct *wq;
	struct work_struct drain_work;	/* frees drained epochs, starts the flush */
	struct work_struct flush_work;	/* the closing flush; may wait for ever */
	struct work_struct submit_work;	/* dispatches writes reopen released */
	struct work_struct release_work; /* destroy after the flush's last ref */

	/*
	 * The bitmap above and the length it covers.  A reload may grow them
	 * (fence_dev_grow, at preresume: no write is mapped or completes
	 * then), so the control path reads them under bitmap_sem; the write
	 * path needs no lock.
	 */
	struct rw_semaphore bitmap_sem;
	sector_t len;
};

/*
 * A backing device that a table no longer in use wrote to since the last
 * closing flush (it was live while the device was open, closing or fenced):
 * the closing flush must still reach it, or 'closed' would claim writes
 * durable that sit in its volatile cache.  Holds the block device open
 * (read-only, not exclusive: a loop device with autoclear stays attached),
 * or on kernels without a way we know to open it by number, a reference
 * to it; let go once a closing flush succeeded (fence_orphan_put()).
 */
struct fence_orphan {
	struct list_head list;
	struct block_device *bdev;
#ifdef FENCE_HAVE_BDEV_FILE
	struct file *file;
#endif
	bool opened;
};

/* A device a table can write to, and where the target starts on it. */
struct fence_backing {
	struct dm_dev *dev;
	sector_t start;
};

/* One instance of the target in a table. */
struct fence_c {
	struct dm_target *ti;
	/*
	 * backing[0] is the line's <dev_path> <offset>; backing[1] its
	 * 'standby <dev_path> <offset>', if any (dev NULL otherwise), which a
	 * switch (REOPEN with DM_FENCE_REOPEN_SWITCH) makes the device write
	 * to instead.  @active points at the one in use: map() reads it
	 * without a lock, a switch changes it under fdev->lock while the
	 * device is closed, once.
	 */
	struct fence_backing backing[2];
	struct fence_backing *active;
	struct fence_dev *fdev;
	struct list_head fd_list;	/* on fdev->targets */

	u64 table_generation;		/* as given on the table line */
	struct fence_bitmap grown;	/* for a reload that grows the device */
	unsigned int region_size;
	unsigned int region_shift;
	bool start_closed;
	bool start_close_fail;
	bool start_fenced;
	bool fence_reads;
	bool allow_switched_from;	/* may name the device a switch left */
	/*
	 * Resumed once: dm core has mapped writes through it (it never does
	 * through a table only loaded).  Under fdev->target_mutex.
	 */
	bool went_live;
};

/* Per-bio data: what a write carries from map() to end_io(). */
struct fence_pb {
	struct fence_epoch *ep;		/* counted in this epoch, or NULL */
	sector_t sector;		/* target-relative, for the bitmap */
	unsigned int nr_sectors;	/* (the bio's own iter is consumed) */
	bool requeue;			/* released by a noflush presuspend */
};

struct fence_counts {
	enum fence_state state;
	u64 generation;
	u64 inflight;
	u64 held;
	u64 stale_inflight;
	u64 late_completions;
	u64 failed_writes;
	u64 flush_errors;
	u64 reopens;
	u64 clears;
	u64 closes;
	bool close_fail;
	bool replay_pending;	/* unfence waits for a resume's marker */
	bool storage_fenced;
	bool settled;		/* fenced, and no older write can land */
	u64 unknown_fate;
	u64 dirty;
	u64 regions;
	sector_t len;
};

/* dm-fence-registry.c: finding, creating and destroying a fence_dev */
int fence_dev_caches_init(void);
void fence_dev_caches_exit(void);
struct fence_dev *fence_dev_attach(struct fence_c *fc, struct gendisk *disk,
				   char **error, bool *grow);
void fence_dev_detach(struct fence_c *fc);
int fence_dev_grow(struct fence_dev *fdev, struct fence_c *fc);
int fence_table_bitmap_init(struct fence_bitmap *bm, struct fence_c *fc,
			    char **error);
struct fence_dev *fence_dev_get(dev_t devt);
void fence_dev_put(struct fence_dev *fdev);
void fence_dev_put_flush(struct fence_dev *fdev);
void fence_dev_release_exit(void);

/* dm-fence-dev.c: the state machine */
int fence_dev_map_write(struct fence_c *fc, struct bio *bio,
			struct fence_pb *pb, bool noflush_suspending);
void fence_dev_end_write(struct fence_dev *fdev, struct fence_pb *pb,
			 bool error);
int fence_dev_close(struct fence_dev *fdev, bool fail, bool if_open,
		    bool *closed);
int fence_dev_open(struct fence_dev *fdev, bool unfence, u64 generation,
		   bool force, const u64 *closes);
int fence_dev_fence(struct fence_dev *fdev, u64 generation);
void fence_fail_bios(struct fence_dev *fdev, struct bio_list *bios);
unsigned long fence_open_locked(struct fence_dev *fdev, struct fence_epoch *ep);
struct fence_epoch *fence_open_begin(struct fence_dev *fdev);
void fence_open_end(struct fence_dev *fdev, struct fence_epoch *unused,
		    unsigned long submit, bool changed);

/*
 * State changes are made under fdev->lock; map() of a read on a fence_reads
 * table, DRAIN's wait and the orphan check read the state without it
 * (READ_ONCE), so every change is one marked store.
 */
static inline void fence_set_state(struct fence_dev *fdev, enum fence_state state)
{
	lockdep_assert_held(&fdev->lock);
	WRITE_ONCE(fdev->state, state);
}

/* dm-fence-fate.c: writes of unknown fate, settled, and the counts */
void fence_dev_write_error(struct fence_dev *fdev, struct fence_epoch *ep);
int fence_dev_storage_fenced(struct fence_dev *fdev, u64 generation);
bool fence_dev_settled(struct fence_dev *fdev, bool *final);
void fence_dev_counts(struct fence_dev *fdev, struct fence_counts *c);
void fence_dev_info(struct fence_dev *fdev, struct dm_fence_info *info);
u64 fence_dev_flush_errors(struct fence_dev *fdev);

/* dm-fence-retire.c: an epoch's life */
int fence_epoch_cache_init(void);
void fence_epoch_cache_exit(void);
struct fence_epoch *fence_epoch_alloc(struct fence_dev *fdev, u64 generation);
void fence_epoch_free(struct fence_epoch *ep);
void fence_epoch_free_rcu(struct rcu_head *rcu);
struct fence_epoch *fence_unpublish(struct fence_dev *fdev);
void fence_epoch_retire(struct fence_epoch *ep);
u64 fence_stale_inflight_locked(struct fence_dev *fdev);

/* dm-fence-drain.c: the drain, flush and submit work, and state events */
void fence_drain_work(struct work_struct *work);
void fence_flush_work(struct work_struct *work);
void fence_submit_work(struct work_struct *work);
void fence_orphans_free(struct list_head *orphans);
void fence_orphan_put(struct fence_orphan *o);
void fence_raise_event(struct fence_dev *fdev);

/* dm-fence-switch.c */
int fence_dev_switch(struct fence_dev *fdev, u64 reopens, const u64 *closes,
		     dev_t standby, sector_t standby_start);

/* dm-fence-replay.c: suspend, resume and what dm core parks across them */
void fence_dev_presuspend(struct fence_dev *fdev, bool noflush);
void fence_dev_resume(struct fence_dev *fdev, struct fence_c *fc);
int fence_replay_init(void);
void fence_replay_exit(void);
void fence_replay_arm(struct fence_dev *fdev, struct dm_target *ti);
void fence_replay_undo(struct fence_dev *fdev);
void fence_replay_map(struct fence_dev *fdev, struct bio *bio);
extern struct page *fence_replay_page;

/* A read into the markers' page is one (map() of every read asks). */
static inline bool fence_replay_is_marker(struct bio *bio)
{
	return bio->bi_io_vec && bio->bi_io_vec->bv_page == fence_replay_page;
}

/* dm-fence-message.c: status, table line and messages */
void fence_status(struct dm_target *ti, status_type_t type,
		  unsigned int status_flags, char *result, unsigned int maxlen);
int fence_message(struct dm_target *ti, unsigned int argc, char **argv,
		  char *result, unsigned int maxlen);

static inline int fence_parse_u64(const char *s, u64 *v)
{
	return kstrtou64(s, 10, v);
}

/* dm-fence-ctl.c */
int fence_ctl_init(void);
void fence_ctl_exit(void);
const char *fence_state_name(enum fence_state state);

/*
 * The fast path of a write: count it in the live epoch, lock-free.  Returns
 * false when the device is not open and the caller must take the slow path.
 */
static inline bool fence_dev_try_count(struct fence_dev *fdev,
				       struct fence_pb *pb)
{
	struct fence_epoch *ep;

	rcu_read_lock();
	ep = rcu_dereference(fdev->live);
	if (likely(ep))
		this_cpu_inc(*ep->inflight);
	rcu_read_unlock();
	pb->ep = ep;
	return ep;
}

/*
 * Send @bio to the backing device in use, at its place there.  @sector is
 * target-relative.
 */
static inline void fence_remap(struct fence_c *fc, struct bio *bio,
			       sector_t sector)
{
	struct fence_backing *b = READ_ONCE(fc->active);

	bio_set_dev(bio, b->dev->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = b->start + sector;
}

static inline void fence_pb_mark(struct fence_dev *fdev, struct fence_pb *pb)
{
	fence_bitmap_mark(&fdev->bitmap, pb->sector, pb->nr_sectors);
}

#endif /* DM_FENCE_H */
