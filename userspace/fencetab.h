/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fencetab: the fence devices a host recreates at boot (fencetab(5)), and
 * the generation and state each was last left at by fencectl on this host
 * (/var/lib/dm-fence/NAME), so that a device fenced before a reboot comes
 * back fenced, at its generation, and every other one closed.
 */
#ifndef FENCETAB_H
#define FENCETAB_H

#include <stddef.h>
#include <stdint.h>

#define FENCETAB_PATH	"/etc/dm-fence/fencetab"
#define FENCE_STATE_DIR	"/var/lib/dm-fence"

struct fencetab_entry {
	char name[128];
	char backing[256];
	uint64_t generation;		/* 0: none given */
	uint64_t region_size;		/* sectors, 0: the target's default */
	int fence_reads;
};

/* The path in use: $FENCECTL_FENCETAB, $FENCECTL_STATE_DIR, or the default. */
const char *fencetab_path(void);
const char *fence_state_dir(void);

/*
 * Read the fencetab: *v (free() it) gets *n entries.  0, or -errno if it
 * cannot be read.  A bad line (its form, an option, a second line for a
 * NAME or a BACKING device) is said on standard error with its number and
 * why, skipped, and counted in *bad.
 */
int fencetab_load(struct fencetab_entry **v, size_t *n, unsigned int *bad);

/*
 * What fencectl last did to NAME on this host: 0, or -ENOENT if never.
 * @by (FENCE_BY_MAX bytes, may be NULL): who fenced it ("fence --by"), or
 * "" when not said.
 */
#define FENCE_BY_MAX 32
int fence_record_get(const char *name, uint64_t *generation, int *fenced, char *by);
/*
 * Record it, durably (written, fsynced, renamed, directory fsynced); @by
 * (NULL or a word of [A-Za-z0-9_.-], shorter than FENCE_BY_MAX) names who
 * fenced it.
 */
int fence_record_put(const char *name, uint64_t generation, int fenced, const char *by);
/*
 * Who fenced NAME at @generation, by this host's record, into @by
 * (FENCE_BY_MAX bytes): "" when the record says nobody (or is of another
 * generation, or open, or not there).
 */
void fence_record_fenced_by(const char *name, uint64_t generation, char *by);
/* Is @by a name fence_record_put() takes? */
int fence_by_valid(const char *by);

/*
 * Create the device of one entry, closed, or fenced if its record says so,
 * at the highest generation of the record and the entry.  Writes the line
 * it used into line (size len).  0, -EEXIST if NAME exists as this entry's
 * fence device, -EMEDIUMTYPE if it exists as another kind of device,
 * -EXDEV if as a fence device on another backing device, or -errno.
 */
int fencetab_create(const struct fencetab_entry *e, char *line, size_t len);
/* Remove NAME: 0, -ENXIO if it does not exist, or -errno (EBUSY: open). */
int fencetab_remove(const char *name);

/*
 * After a switch: NAME's fencetab line names @backing from now on (the
 * line's other words and every other line as they were), so that the next
 * boot re-creates the device on the disk it runs on.  Atomic (a new file
 * fsynced and renamed over the old, the directory fsynced).  0, -ENOENT if
 * fencetab has no line for NAME (nothing to do), or -errno.  With
 * @check_only: nothing written, 0 if it could be (the file and directory
 * writable), -ENOENT, or -errno.
 */
int fencetab_set_backing(const char *name, const char *backing, int check_only);

#endif
