// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencetab(5) and the per-device records of what fencectl last did.
 *
 * A fencetab line, like a crypttab line:
 *
 *   NAME  BACKING  [OPTIONS]
 *
 * OPTIONS comma-separated: generation=G (the least generation to create it
 * at), region_size=S (sectors), fence_reads, or "-" for none.  '#' starts
 * a comment.
 *
 * A record, /var/lib/dm-fence/NAME, one line: "generation G fenced|open".
 * Written on every fence and unfence by fencectl; read by fencectl create,
 * which recreates the device fenced at G if it was fenced, closed at G
 * otherwise: a host never comes back writable by itself after a reboot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "fencetab.h"

const char *fencetab_path(void)
{
	const char *p = getenv("FENCECTL_FENCETAB");

	return p && *p ? p : FENCETAB_PATH;
}

const char *fence_state_dir(void)
{
	const char *p = getenv("FENCECTL_STATE_DIR");

	return p && *p ? p : FENCE_STATE_DIR;
}

/* NAME=VALUE with VALUE a number (digits only): 1 and *v set, 0 if not NAME */
static int option_number(const char *o, const char *name, uint64_t *v)
{
	size_t len = strlen(name);

	if (strncmp(o, name, len) || o[len] != '=')
		return 0;
	return fence_parse_u64(o + len + 1, v) ? -1 : 1;
}

/* The options field; what is wrong with it in *why. */
static int parse_options(char *opts, struct fencetab_entry *e, const char **why)
{
	char *save = NULL, *o;
	int r;

	if (!strcmp(opts, "-"))
		return 0;
	for (o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		r = option_number(o, "generation", &e->generation);
		if (r) {
			if (r < 0 || !e->generation || e->generation > DM_FENCE_MAX_GENERATION) {
				*why = "generation= takes a number from 1 to 2^63-1";
				return -EINVAL;
			}
			continue;
		}
		r = option_number(o, "region_size", &e->region_size);
		if (r) {
			/* what the target takes (its ctr says the same) */
			if (r < 0 || e->region_size < DM_FENCE_MIN_REGION_SIZE ||
			    e->region_size > DM_FENCE_MAX_REGION_SIZE ||
			    (e->region_size & (e->region_size - 1))) {
				*why = "region_size= takes a power of two from 8 to 2097152 (sectors)";
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(o, "fence_reads")) {
			e->fence_reads = 1;
			continue;
		}
		*why = "unknown option";
		return -EINVAL;
	}
	return 0;
}

/* Two backing paths that name one device: the same path, or one block device. */
static int same_backing(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return 1;
	return !stat(a, &sa) && !stat(b, &sb) && S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode) &&
	       sa.st_rdev == sb.st_rdev;
}

/* Is line @e fit to join @all? What is wrong with it in *why. */
static int check_entry(const struct fencetab_entry *e, const struct fencetab_entry *all,
		       size_t count, const char **why)
{
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(all[i].name, e->name)) {
			*why = "a second line for this NAME";
			return -EINVAL;
		}
		if (same_backing(all[i].backing, e->backing)) {
			*why = "a second line for this BACKING device";
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * As crypttab is read at boot: a bad line is said (file, line, why) and
 * skipped, the others are kept; the first of two lines naming one device
 * (or one backing device) is the one kept.  *bad counts the skipped lines.
 */
int fencetab_load(struct fencetab_entry **v, size_t *n, unsigned int *bad)
{
	FILE *f = fopen(fencetab_path(), "re");
	struct fencetab_entry *all = NULL, *grown;
	char *line = NULL;
	size_t cap = 0, count = 0;
	unsigned int lineno = 0;
	int r = 0;

	*bad = 0;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		char name[128], backing[256], opts[512] = "-", extra[2];
		struct fencetab_entry e = { 0 };
		const char *why = "want NAME BACKING [OPTIONS]";
		int words;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		words = sscanf(line, "%127s %255s %511s %1s", name, backing, opts, extra);
		if (words <= 0)
			continue;		/* blank or comment */
		if (words >= 2 && words <= 3) {
			snprintf(e.name, sizeof(e.name), "%s", name);
			snprintf(e.backing, sizeof(e.backing), "%s", backing);
		}
		if (words < 2 || words > 3 || parse_options(opts, &e, &why) ||
		    check_entry(&e, all, count, &why)) {
			fprintf(stderr, "fencectl: %s:%u: %s: line skipped\n",
				fencetab_path(), lineno, why);
			++*bad;
			continue;
		}
		grown = realloc(all, (count + 1) * sizeof(*all));
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		all = grown;
		all[count++] = e;
	}
	free(line);
	fclose(f);
	if (r) {
		free(all);
		return r;
	}
	*v = all;
	*n = count;
	return 0;
}

static int record_path(const char *name, char *path, size_t len)
{
	/* a dm name has no '/': it cannot leave the directory */
	if (!*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	return snprintf(path, len, "%s/%s", fence_state_dir(), name) < (int)len ? 0 : -ENAMETOOLONG;
}

int fence_by_valid(const char *by)
{
	size_t n = strlen(by);

	return n && n < FENCE_BY_MAX &&
	       strspn(by, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

int fence_record_get(const char *name, uint64_t *generation, int *fenced, char *by)
{
	char path[PATH_MAX], state[16], who[FENCE_BY_MAX] = "";
	FILE *f;
	int r, n;

	r = record_path(name, path, sizeof(path));
	if (r)
		return r;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* "generation G fenced|open [by WHO]": records before WHO have two words */
	n = fscanf(f, "generation %" SCNu64 " %15s by %31s", generation, state, who);
	r = n >= 2 ? 0 : -EINVAL;
	fclose(f);
	if (!r)
		*fenced = !strcmp(state, "fenced");
	if (by)
		strcpy(by, !r && fence_by_valid(who) ? who : "");
	return r;
}

/* Is this line (comments and all) NAME's?  Its BACKING word's span if so. */
static int line_names(const char *line, const char *name, size_t *b0, size_t *b1)
{
	size_t i = strspn(line, " \t"), n = strcspn(line + i, " \t#\n");

	if (n != strlen(name) || strncmp(line + i, name, n))
		return 0;
	i += n;
	i += strspn(line + i, " \t");
	*b0 = i;
	*b1 = i + strcspn(line + i, " \t#\n");
	return *b1 > *b0;
}

int fencetab_set_backing(const char *name, const char *backing, int check_only)
{
	const char *path = fencetab_path();
	char tmp[PATH_MAX + 8], dirpath[PATH_MAX], *line = NULL, *slash;
	size_t cap = 0, b0, b1;
	int r = -ENOENT, fd = -1, dir;
	struct stat st;
	FILE *in, *out = NULL;

	in = fopen(path, "re");
	if (!in)
		return errno == ENOENT ? -ENOENT : -errno;
	snprintf(dirpath, sizeof(dirpath), "%s", path);
	slash = strrchr(dirpath, '/');
	if (slash)
		*(slash == dirpath ? slash + 1 : slash) = '\0';
	else
		snprintf(dirpath, sizeof(dirpath), ".");
	while (getline(&line, &cap, in) >= 0)
		if (line_names(line, name, &b0, &b1))
			r = 0;
	if (r || check_only) {
		if (!r && (access(path, W_OK) || access(dirpath, W_OK)))
			r = -errno;
		goto out;
	}
	rewind(in);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fstat(fileno(in), &st) || fchmod(fd, st.st_mode & 07777)) {
		r = -errno;
		goto out;
	}
	out = fdopen(fd, "w");
	if (!out) {
		r = -errno;
		goto out;
	}
	fd = -1;
	while (getline(&line, &cap, in) >= 0) {
		if (line_names(line, name, &b0, &b1))
			fprintf(out, "%.*s%s%s", (int)b0, line, backing, line + b1);
		else
			fputs(line, out);
	}
	if (fflush(out) || fsync(fileno(out)))
		r = -errno;
	if (fclose(out) && !r)
		r = -errno;
	out = NULL;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		goto out;
	}
	dir = open(dirpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		if (fsync(dir))
			r = -errno;
		close(dir);
	}
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (out)
		fclose(out);
	free(line);
	fclose(in);
	return r;
}

/*
 * Under an exclusive flock of the state directory, so that two fencectl
 * runs (an agent's fence beside an admin's unfence) neither mix their
 * writes nor undo each other: the temporary file is each run's own, and
 * a record never goes back to a lower generation.  Two runs change the
 * kernel in one order and may reach here in the other; the higher
 * generation is the later change, so it stands.  At one generation the
 * last writer wins (fence and unfence at one G: at worst the record says
 * fenced while the device is open, and the next boot creates it fenced,
 * the safe side).
 */
void fence_record_fenced_by(const char *name, uint64_t generation, char *by)
{
	uint64_t g = 0;
	int fenced = 0;

	if (fence_record_get(name, &g, &fenced, by) || !fenced || g != generation)
		by[0] = '\0';
}

int fence_record_put(const char *name, uint64_t generation, int fenced, const char *by)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], text[64 + FENCE_BY_MAX];
	uint64_t cur = 0;
	int fd, dir, r, len, cur_fenced;

	r = record_path(name, path, sizeof(path));
	if (r)
		return r;
	if (mkdir(fence_state_dir(), 0755) && errno != EEXIST)
		return -errno;
	dir = open(fence_state_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (flock(dir, LOCK_EX)) {
		r = -errno;
		goto out;
	}
	if (!fence_record_get(name, &cur, &cur_fenced, NULL) && cur > generation)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	by = fenced && by && fence_by_valid(by) ? by : NULL;
	len = snprintf(text, sizeof(text), "generation %" PRIu64 " %s%s%s\n", generation,
		       fenced ? "fenced" : "open", by ? " by " : "", by ? by : "");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fchmod(fd, 0644) || write(fd, text, (size_t)len) != len || fsync(fd))
		r = errno ? -errno : -EIO;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		goto out;
	}
	/* the rename itself durable too */
	if (fsync(dir))
		r = -errno;
out:
	close(dir);
	return r;
}

/* create or remove NAME, waiting for udev as dmsetup does */
static int dm_named(int type, const char *name, uint64_t length, const char *params)
{
	struct fence_device dev = { 0 };

	snprintf(dev.name, sizeof(dev.name), "%s", name);
	return fence_dm_run(&dev, type, 0, params, length);
}

/*
 * 1 if dm has a device @name, 0 if it has none, or why it cannot tell (no
 * permission, no device-mapper in the kernel): "not there" must be what dm
 * said, never what a failed ask looks like.
 */
static int dm_exists(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_INFO);
	struct dm_info info = { 0 };
	int r;

	if (!dmt)
		return fence_dm_unreachable();
	if (!dm_task_set_name(dmt, name))
		r = -EINVAL;
	else if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info))
		r = dm_task_get_errno(dmt) ? -dm_task_get_errno(dmt) : -ENODEV;
	else
		r = info.exists;
	dm_task_destroy(dmt);
	return r;
}

/*
 * NAME exists already: left as it is, and said so, but fine (-EEXIST) only
 * if it is what the line describes, a fence device on that backing device;
 * -EMEDIUMTYPE if it is another kind of device, -EXDEV if it sits on
 * another device (or cannot be told to sit on this one).
 */
static int check_existing(const struct fencetab_entry *e)
{
	struct fence_device dev;
	struct fence_table t;
	struct stat st;

	if (fence_resolve(e->name, &dev) || fence_table_of(&dev, &t))
		return -EMEDIUMTYPE;
	if (stat(e->backing, &st) || !S_ISBLK(st.st_mode) || st.st_rdev != t.backing)
		return -EXDEV;
	return -EEXIST;
}

int fencetab_create(const struct fencetab_entry *e, char *line, size_t len)
{
	uint64_t gen = e->generation ? e->generation : 1, rec_gen = 0, bytes = 0;
	char features[160], params[sizeof(e->backing) + sizeof(features) + 16];
	int fenced = 0, words = 3, fd, r;

	r = dm_exists(e->name);
	if (r)
		return r < 0 ? r : check_existing(e);
	r = fence_record_get(e->name, &rec_gen, &fenced, NULL);
	if (r && r != -ENOENT)
		return r;
	if (!r && rec_gen > gen)
		gen = rec_gen;
	fd = open(e->backing, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = ioctl(fd, BLKGETSIZE64, &bytes) ? -errno : 0;
	close(fd);
	if (r)
		return r;
	if (bytes < 512)
		return -ENOSPC;
	/* closed, or fenced if it was: it writes nothing until told to */
	snprintf(features, sizeof(features), "generation %" PRIu64 " %s", gen,
		 fenced ? "fenced" : "closed");
	if (e->region_size) {
		snprintf(features + strlen(features), sizeof(features) - strlen(features),
			 " region_size %" PRIu64, e->region_size);
		words += 2;
	}
	if (e->fence_reads) {
		strcat(features, " fence_reads");
		words++;
	}
	snprintf(params, sizeof(params), "%s 0 %d %s", e->backing, words, features);
	snprintf(line, len, "0 %" PRIu64 " fence %s", bytes / 512, params);
	return dm_named(DM_DEVICE_CREATE, e->name, bytes / 512, params);
}

int fencetab_remove(const char *name)
{
	int r = dm_exists(name);

	if (r <= 0)
		return r < 0 ? r : -ENXIO;
	return dm_named(DM_DEVICE_REMOVE, name, 0, NULL);
}
