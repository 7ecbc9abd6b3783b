/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * dm-fence user API: constants of the table line and status, and the
 * ioctls of the control device /dev/dm-fence.
 *
 * The ioctl structs follow Documentation/process/botching-up-ioctls.rst:
 * fixed-size types only, every field naturally aligned and every struct a
 * multiple of 8 bytes (the same layout for 32- and 64-bit userspace, so no
 * compat translation is needed), user pointers as __u64, a 'flags' word
 * whose unknown bits are refused with EINVAL, reserved fields that must be
 * zero (EINVAL otherwise), and a 'size' field first: userspace sets it to
 * sizeof() the struct it was built with, so the struct can grow at the end
 * (the kernel refuses sizes below the first version with EINVAL, and a
 * larger size only if the extra bytes are zero, with E2BIG).  Since 1.4
 * 'size' must also be the size the ioctl number carries (EINVAL): both
 * come from the same sizeof().  A call that changes the device checks
 * first that its answer can be written back (EFAULT, nothing changed).
 *
 * Every call names the device-mapper device by its major:minor.  A device
 * that exists but is not a fence target, or does not exist, gets ENXIO.
 * A major:minor is reused when a device is removed and another created:
 * since 1.5 every struct ends with @diskseq, the disk sequence number of
 * the mapped device the call acted on (out; as in /sys/block/dm-N/diskseq,
 * unique per disk since boot).  With DM_FENCE_DISKSEQ in hdr.flags it is
 * also in: the call acts only on that disk, ENXIO if the major:minor is
 * another one now (removed and created again), as if it were gone.  A
 * tool reads it once (STATUS) and passes it to every later call about the
 * same device.  Without the flag @diskseq is zero in (EINVAL otherwise);
 * kernels before 1.5 refuse the flag (EINVAL) or, with a nonzero
 * @diskseq, the larger struct (E2BIG), and leave the field zero.
 * Every call needs CAP_SYS_ADMIN (EPERM otherwise).
 */
#ifndef _UAPI_LINUX_DM_FENCE_H
#define _UAPI_LINUX_DM_FENCE_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define DM_FENCE_VERSION_MAJOR		1
/*
 * minor 1: unfence, REOPEN v1; 2: reopens, clears; 3: switch, REOPEN v2;
 * 4: closes, call_flags, REOPEN v3 (a compare-and-swap on closes, SWITCH
 *    naming its standby); 5: diskseq at the end of every struct;
 * 6: unknown_fate, settled, FENCE with STORAGE (a storage-side fence)
 */
#define DM_FENCE_VERSION_MINOR		6

/* Table line limits (512-byte sectors). */
#define DM_FENCE_MIN_REGION_SIZE	8
#define DM_FENCE_MAX_REGION_SIZE	2097152
#define DM_FENCE_DEFAULT_REGION_SIZE	128
#define DM_FENCE_MAX_GENERATION		((__u64)-1 >> 1)

/* States, as reported by status and the STATUS ioctl. */
#define DM_FENCE_STATE_OPEN		0
#define DM_FENCE_STATE_CLOSING		1
#define DM_FENCE_STATE_CLOSED		2
#define DM_FENCE_STATE_FENCED		3

/* The control device, a misc device. */
#define DM_FENCE_CONTROL_NAME		"dm-fence"

/*
 * What every call reports back: the status line's fields and the device's
 * geometry.  Filled on success, and on ETIMEDOUT/EINTR of the waiting
 * calls, so the caller sees what remains.
 */
struct dm_fence_info {
	__u32 state;			/* DM_FENCE_STATE_* */
	__u32 dev_flags;		/* DM_FENCE_DEV_* */
	__u64 generation;
	__u64 inflight;
	__u64 held;
	__u64 stale_inflight;
	__u64 late_completions;
	__u64 failed_writes;
	__u64 dirty;			/* dirty regions now */
	__u64 regions;			/* regions in the device */
	__u64 flush_errors;
	__u64 region_size;		/* sectors */
	__u64 length;			/* sectors */
	/*
	 * Filled when dev_flags has DM_FENCE_DEV_SEQ (zero from kernels
	 * before it): how often the device was opened again (reopen or
	 * unfence) and how often its bitmap was cleared (GET_DIRTY with
	 * clear, or the get_dirty clear message), since it was created.  A
	 * copy tool compares them around its final round: a change it did
	 * not make means someone else reopened the device or took dirty bits.
	 */
	__u64 reopens;
	__u64 clears;
	/*
	 * Filled when dev_flags has DM_FENCE_DEV_CLOSES (zero from kernels
	 * before 1.4): how often the device was closed from open since it
	 * was created.  A close of a device already closing or closed, and
	 * a DRAIN of one, do not count.  REOPEN with DM_FENCE_REOPEN_CLOSES
	 * names it, so that a tool reopens only the close it made.
	 */
	__u64 closes;
	__u32 call_flags;		/* DM_FENCE_CALL_*: what this call did */
	/*
	 * Filled when dev_flags has DM_FENCE_DEV_UNKNOWN (since 1.6; zero
	 * before): writes of an older generation that completed with an
	 * error below, since the last unfence (including the errors of the
	 * generation a fence ended).  An error is no proof that the write
	 * did not reach the storage: each may still land.  Saturates at
	 * 2^32 - 1.
	 */
	__u32 unknown_fate;
};

#define DM_FENCE_DEV_FENCE_READS	_BITUL(0)	/* reads fail when fenced */
#define DM_FENCE_DEV_CLOSE_FAIL		_BITUL(1)	/* closed with 'fail' */
#define DM_FENCE_DEV_SEQ		_BITUL(2)	/* reopens, clears filled */
#define DM_FENCE_DEV_STANDBY		_BITUL(3)	/* a standby not switched to */
#define DM_FENCE_DEV_CLOSES		_BITUL(4)	/* closes filled (since 1.4) */
/*
 * Since 1.5, only while fenced: writes dm core parked across a suspend
 * may predate the last fence and have not been mapped again yet; unfence
 * is refused (EBUSY) until the next resume has passed them (the status
 * line ends with "replay_pending" too).
 */
#define DM_FENCE_DEV_REPLAY_PENDING	_BITUL(5)
/* Since 1.6: unknown_fate is filled (zero means none). */
#define DM_FENCE_DEV_UNKNOWN		_BITUL(6)
/*
 * Since 1.6: a caller confirmed (FENCE with DM_FENCE_FENCE_STORAGE) that
 * no write of this host can reach the storage any more, since the last
 * fence: the storage refuses this host, or this host's path to it was cut
 * (fencectl cut: the NFS mount shut down, its connections destroyed).
 */
#define DM_FENCE_DEV_STORAGE_FENCED	_BITUL(7)
/*
 * Since 1.6: fenced, and no write of an older generation can land any more:
 * every one dispatched below completed successfully (stale_inflight and
 * unknown_fate are 0), or the storage refuses this host (STORAGE_FENCED).
 * The only state in which a tool may say "nothing can land".
 */
#define DM_FENCE_DEV_SETTLED		_BITUL(8)

/*
 * call_flags (since 1.4; zero before): DM_FENCE_CALL_CLOSED, this CLOSE or
 * DRAIN closed the device (from open): the close numbered @closes is the
 * caller's.  Without it the device was closing, closed or fenced already:
 * someone else's close, which the caller must not undo.
 */
#define DM_FENCE_CALL_CLOSED		_BITUL(0)

/*
 * In hdr.flags of every call (since 1.5): act only on the disk whose
 * sequence number is @diskseq (ENXIO otherwise).
 */
#define DM_FENCE_DISKSEQ		_BITUL(31)

/* The head of every ioctl struct. */
struct dm_fence_ioc_hdr {
	__u32 size;			/* sizeof(struct) as userspace knows it */
	__u32 flags;			/* per call; unknown bits: EINVAL */
	__u32 dev_major;
	__u32 dev_minor;
};

/* DM_FENCE_IOC_STATUS: no flags. */
struct dm_fence_status {
	struct dm_fence_ioc_hdr hdr;
	struct dm_fence_info info;	/* out */
	__u64 diskseq;			/* in/out, since 1.5 */
};

/* DM_FENCE_IOC_CLOSE */
#define DM_FENCE_CLOSE_FAIL		_BITUL(0)	/* fail writes, not hold */
#define DM_FENCE_CLOSE_FLAGS		DM_FENCE_CLOSE_FAIL

struct dm_fence_close {
	struct dm_fence_ioc_hdr hdr;
	struct dm_fence_info info;	/* out */
	__u64 diskseq;			/* in/out, since 1.5 */
};

/*
 * DM_FENCE_IOC_DRAIN: close if open (with DM_FENCE_CLOSE_FAIL: fail
 * writes), then wait until the device is closed or timeout_ms passed
 * (ETIMEDOUT), or a signal arrives (EINTR).  The device stays closing or
 * closed either way; nothing is lost.  timeout_ms 0 waits forever.
 */
#define DM_FENCE_DRAIN_FLAGS		DM_FENCE_CLOSE_FAIL

struct dm_fence_drain {
	struct dm_fence_ioc_hdr hdr;
	__u32 timeout_ms;
	__u32 reserved;			/* zero */
	struct dm_fence_info info;	/* out */
	__u64 diskseq;			/* in/out, since 1.5 */
};

/*
 * DM_FENCE_IOC_REOPEN: from closing or closed, let writes pass again (the
 * held ones first, in arrival order); ESTALE from fenced, 0 if already
 * open.  With DM_FENCE_REOPEN_UNFENCE instead: unfence, only from fenced
 * at @generation (ESTALE otherwise: a fence landed since the caller
 * looked), and only with no write of an older generation still below
 * (EBUSY), unless DM_FENCE_REOPEN_FORCE.  FORCE means nothing without
 * UNFENCE.
 *
 * With DM_FENCE_REOPEN_SWITCH instead (since 1.3): switch the device to the
 * standby device its live table names (feature 'standby <dev> <offset>')
 * and reopen there, in one step: the held writes and every later one go
 * to the standby, none to the old device again.  Only from closed (EBUSY
 * while closing or suspended, ESTALE from open or fenced), only if the
 * device's reopens count (dm_fence_info) is still @reopens (ESTALE: someone
 * reopened it since the caller looked, and may have written), and only
 * once per table (ENODEV: no standby, or already switched).
 *
 * With DM_FENCE_REOPEN_CLOSES (since 1.4), a plain reopen or a switch
 * happens only if the device's closes count is still @closes, the one the
 * caller's CLOSE or DRAIN returned with DM_FENCE_CALL_CLOSED (ESTALE: it
 * was reopened and closed again since, by someone else); an open device
 * stays open (0), as without it.  Not with UNFENCE (EINVAL).
 *
 * With DM_FENCE_REOPEN_STANDBY and SWITCH (since 1.4), the switch happens
 * only onto the standby the caller copied to: the live table's standby
 * must be @standby_major:@standby_minor at sector @standby_start (ESTALE
 * otherwise: a second copy or a reload replaced it).  Since 1.4 SWITCH is
 * refused (EBUSY) while another table of the device is loaded (inactive):
 * resumed after the switch, it would write to the old device.
 *
 * Version 0 of the struct (DM_FENCE_REOPEN_SIZE_VER0, before 1.1) ends at
 * @info: it cannot carry UNFENCE (EINVAL); version 1 (..._VER1, before 1.3)
 * ends at @generation: it cannot carry SWITCH (EINVAL).  Kernels before 1.1
 * refuse the UNFENCE flag (EINVAL) and a nonzero @generation (E2BIG),
 * kernels before 1.3 the SWITCH flag (EINVAL) and a nonzero @reopens
 * (E2BIG), kernels before 1.4 the CLOSES and STANDBY flags (EINVAL) and
 * nonzero fields after @reopens (E2BIG); version 2 (..._VER2) ends at
 * @reopens and cannot carry CLOSES or STANDBY (EINVAL); version 3
 * (..._VER3, before 1.5) ends at @standby_start.  @generation is
 * zero without UNFENCE, @reopens without SWITCH, @closes without CLOSES,
 * the standby fields without STANDBY (EINVAL otherwise).
 */
#define DM_FENCE_REOPEN_FORCE		_BITUL(0)	/* even with stale writes below */
#define DM_FENCE_REOPEN_UNFENCE		_BITUL(1)	/* since 1.1 */
#define DM_FENCE_REOPEN_SWITCH		_BITUL(2)	/* since 1.3 */
#define DM_FENCE_REOPEN_CLOSES		_BITUL(3)	/* since 1.4 */
#define DM_FENCE_REOPEN_STANDBY		_BITUL(4)	/* since 1.4, with SWITCH */
#define DM_FENCE_REOPEN_FLAGS		(DM_FENCE_REOPEN_FORCE | DM_FENCE_REOPEN_UNFENCE | \
					 DM_FENCE_REOPEN_SWITCH | DM_FENCE_REOPEN_CLOSES | \
					 DM_FENCE_REOPEN_STANDBY)

struct dm_fence_reopen {
	struct dm_fence_ioc_hdr hdr;
	struct dm_fence_info info;	/* out */
	__u64 generation;		/* in, with UNFENCE; since 1.1 */
	__u64 reopens;			/* in, with SWITCH; since 1.3 */
	__u64 closes;			/* in, with CLOSES; since 1.4 */
	__u32 standby_major;		/* in, with STANDBY; since 1.4 */
	__u32 standby_minor;
	__u64 standby_start;		/* sectors */
	__u64 diskseq;			/* in/out, since 1.5 */
};

#define DM_FENCE_REOPEN_SIZE_VER0	144
#define DM_FENCE_REOPEN_SIZE_VER1	152
#define DM_FENCE_REOPEN_SIZE_VER2	160
#define DM_FENCE_REOPEN_SIZE_VER3	184

/*
 * DM_FENCE_IOC_FENCE: raise the generation to @generation (EINVAL unless
 * above the current one and below 2^63).  With DM_FENCE_FENCE_WAIT, then
 * wait until the device is settled (DM_FENCE_DEV_SETTLED), or until
 * nothing below can settle it any more: no write of an older generation
 * is in flight but some ended with an error (unknown_fate), ENOLINK: they
 * may still land, only a storage-side fence can tell; or timeout_ms passed
 * (ETIMEDOUT) or a signal arrived (EINTR); ESTALE if the device was
 * unfenced meanwhile.  The fence itself has happened in all these cases.
 * With DM_FENCE_FENCE_STORAGE (since 1.6) nothing is raised: the caller
 * confirms that the storage now refuses this host's writes, for the fence
 * at @generation; ESTALE unless the device is fenced at exactly that
 * generation.  The next fence or an unfence undoes it.  WAIT may be given
 * with it.
 */
#define DM_FENCE_FENCE_WAIT		_BITUL(0)
#define DM_FENCE_FENCE_STORAGE		_BITUL(1)
#define DM_FENCE_FENCE_FLAGS		(DM_FENCE_FENCE_WAIT | DM_FENCE_FENCE_STORAGE)

struct dm_fence_fence {
	struct dm_fence_ioc_hdr hdr;
	__u32 timeout_ms;
	__u32 reserved;			/* zero */
	__u64 generation;
	struct dm_fence_info info;	/* out */
	__u64 diskseq;			/* in/out, since 1.5 */
};

/*
 * DM_FENCE_IOC_GET_DIRTY: copy the bits of regions [start, start + count)
 * to the user buffer at @bitmap_ptr, @bitmap_size bytes long: 64 regions
 * per little-endian __u64, bit i of word j is region start + 64 * j + i.
 * @start must be a multiple of 64, @count at least 1 and start + count at
 * most the number of regions; the buffer must hold (count + 63) / 64
 * words (EINVAL otherwise).  With DM_FENCE_DIRTY_CLEAR the bits copied are
 * cleared, atomically with respect to racing writes.  @dirty returns how
 * many regions of the window were dirty.  The kernel copies through a
 * buffer of bounded size, whatever the window.
 */
#define DM_FENCE_DIRTY_CLEAR		_BITUL(0)
#define DM_FENCE_DIRTY_FLAGS		DM_FENCE_DIRTY_CLEAR

struct dm_fence_get_dirty {
	struct dm_fence_ioc_hdr hdr;
	__u64 start;			/* first region, a multiple of 64 */
	__u64 count;			/* regions */
	__u64 bitmap_ptr;		/* user pointer */
	__u64 bitmap_size;		/* bytes */
	__u64 dirty;			/* out */
	__u64 reserved[2];		/* zero */
	__u64 diskseq;			/* in/out, since 1.5 */
};

#define DM_FENCE_IOC_MAGIC		0xDF

#define DM_FENCE_IOC_STATUS	_IOWR(DM_FENCE_IOC_MAGIC, 0x00, struct dm_fence_status)
#define DM_FENCE_IOC_CLOSE	_IOWR(DM_FENCE_IOC_MAGIC, 0x01, struct dm_fence_close)
#define DM_FENCE_IOC_DRAIN	_IOWR(DM_FENCE_IOC_MAGIC, 0x02, struct dm_fence_drain)
#define DM_FENCE_IOC_REOPEN	_IOWR(DM_FENCE_IOC_MAGIC, 0x03, struct dm_fence_reopen)
#define DM_FENCE_IOC_FENCE	_IOWR(DM_FENCE_IOC_MAGIC, 0x04, struct dm_fence_fence)
#define DM_FENCE_IOC_GET_DIRTY	_IOWR(DM_FENCE_IOC_MAGIC, 0x05, struct dm_fence_get_dirty)

#endif /* _UAPI_LINUX_DM_FENCE_H */
