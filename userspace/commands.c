// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl: the commands that are more than one call: dirty (the bitmap as
 * ranges), watch (state changes as dm events), create and remove (the
 * devices of fencetab), and the journal entry of every change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fencectl.h"
#include "fencetab.h"
#include "journal.h"

int cmd_dirty(const struct fence_device *dev, const struct opts *o)
{
	struct dm_fence_info info;
	uint64_t *bits, dirty, words, r0 = 0;
	struct json_object *jo = NULL, *ranges = NULL;
	int r, in = 0, first = 1;

	/* every error as the other commands give it: JSON under --json */
	r = fence_status(dev, &info);
	if (r)
		return report_error(dev->name, "dirty", -r, strerror(-r), exit_for(r));
	words = (info.regions + 63) / 64;
	bits = calloc(words ? words : 1, sizeof(*bits));
	if (!bits)
		return report_error(dev->name, "dirty", ENOMEM, strerror(ENOMEM), EXIT_REFUSED);
	r = fence_get_dirty(dev, 0, info.regions, bits, o->clear, &dirty);
	if (r) {
		free(bits);
		return report_error(dev->name, "dirty", -r, strerror(-r), exit_for(r));
	}
	if (o->clear) {
		/* what a copy would have had to copy again is forgotten now */
		char n[24];
		const struct fence_field f[] = { { "CLEARED", n } };

		snprintf(n, sizeof(n), "%" PRIu64, dirty);
		fence_journal(LOG_NOTICE, "dirty-clear", dev->name, f, 1,
			      "dirty --clear: %s dirty region%s cleared", n, dirty == 1 ? "" : "s");
	}
	if (json_output) {
		jo = json_object_new_object();
		ranges = json_object_new_array();
	}
	/* print runs of dirty regions as ranges */
	for (uint64_t i = 0; i <= info.regions; i++) {
		int set = i < info.regions && (bits[i / 64] >> (i % 64) & 1);

		if (set && !in) {
			r0 = i;
			in = 1;
		} else if (!set && in) {
			in = 0;
			if (json_output) {
				struct json_object *pair = json_object_new_array();

				json_object_array_add(pair, json_object_new_uint64(r0));
				json_object_array_add(pair, json_object_new_uint64(i - 1));
				json_object_array_add(ranges, pair);
			} else if (r0 == i - 1) {
				printf(first ? "%" PRIu64 : " %" PRIu64, r0);
				first = 0;
			} else {
				printf(first ? "%" PRIu64 "-%" PRIu64 : " %" PRIu64 "-%" PRIu64,
				       r0, i - 1);
				first = 0;
			}
		}
	}
	free(bits);
	if (json_output) {
		json_object_object_add(jo, "device", json_object_new_string(dev->name));
		json_object_object_add(jo, "dirty", json_object_new_uint64(dirty));
		json_object_object_add(jo, "regions", json_object_new_uint64(info.regions));
		json_object_object_add(jo, "region_size",
				       json_object_new_uint64(info.region_size));
		json_object_object_add(jo, "cleared", json_object_new_boolean(o->clear));
		json_object_object_add(jo, "ranges", ranges);
		print_json(jo);
	} else {
		putchar('\n');
	}
	return EXIT_OK;
}

volatile sig_atomic_t interrupted;

void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int cmd_watch(const struct fence_device *dev, const struct opts *o)
{
	struct dm_fence_info info;
	int until = -1, last = -1, r;
	uint32_t nr;

	if (o->until) {
		until = fence_state_from_name(o->until);
		if (until < 0)
			return usage("--until takes open, closing, closed or fenced");
	}
	for (;;) {
		/* read the counter first: an event after it wakes the wait */
		r = fence_event_nr(dev, &nr);
		if (!r)
			r = fence_status(dev, &info);
		if (r)
			return exit_for(r);
		if ((int)info.state != last) {
			print_info(dev, &info, "watch", 0);
			last = (int)info.state;
		}
		if (until >= 0 && last == until)
			return EXIT_OK;
		if (interrupted)
			return EXIT_OK;
		r = fence_wait_event(dev, &nr);
		if (r || interrupted)
			return interrupted ? EXIT_OK : exit_for(r);
	}
}

/* Every change fencectl causes goes to the journal: what, old and new (journal.c). */
void log_change(const char *name, const char *cmd, const struct dm_fence_info *before,
		       const struct dm_fence_info *after)
{
	char gb[24], ga[24];
	const struct fence_field f[] = {
		{ "STATE_BEFORE", fence_state_name(before->state) },
		{ "STATE_AFTER", fence_state_name(after->state) },
		{ "GENERATION_BEFORE", gb },
		{ "GENERATION_AFTER", ga },
		{ "STORAGE_FENCED", after->dev_flags & DM_FENCE_DEV_STORAGE_FENCED ? "1" : NULL },
	};

	snprintf(gb, sizeof(gb), "%" PRIu64, (uint64_t)before->generation);
	snprintf(ga, sizeof(ga), "%" PRIu64, (uint64_t)after->generation);
	fence_journal(LOG_NOTICE, cmd, name, f, sizeof(f) / sizeof(f[0]),
		      "%s: %s -> %s, generation %s -> %s%s", cmd, fence_state_name(before->state),
		      fence_state_name(after->state), gb, ga,
		      after->dev_flags & DM_FENCE_DEV_STORAGE_FENCED ?
		      ", the storage refuses this host" : "");
}

static int listed(const char *name, int n, char **names)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return 1;
	return !n;
}

/* create / remove [NAME...]: fencetab's devices, all or those named */
int cmd_fencetab(const char *cmd, int n, char **names)
{
	struct fencetab_entry *v = NULL;
	size_t count = 0;
	int r, lock, worst = EXIT_OK, found = 0, create = !strcmp(cmd, "create");
	unsigned int bad = 0;
	char line[512];

	fence_dm_quiet();
	/* a bad line is reported and skipped: the others are still acted on */
	r = fencetab_load(&v, &count, &bad);
	if (r)
		return report_error(fencetab_path(), cmd, -r, strerror(-r), EXIT_NODEV);
	for (size_t i = 0; i < count; i++) {
		const char *what;

		if (!listed(v[i].name, n, names))
			continue;
		found++;
		line[0] = '\0';
		/* not while a copy (or another create/remove) works on it */
		lock = fence_lock_device(v[i].name);
		if (lock != -EBUSY)
			r = create ? fencetab_create(&v[i], line, sizeof(line)) :
				     fencetab_remove(v[i].name);
		else
			r = lock;
		if (lock >= 0)
			close(lock);
		what = r == -EBUSY && lock == -EBUSY ?
			"busy: a copy, create or remove of it runs (left as it is)" :
		       r == -EACCES ? "permission denied (device-mapper needs CAP_SYS_ADMIN)" :
		       r == -ENODEV ? "device-mapper is not in the kernel (modprobe dm-mod)" :
		       r == -EMEDIUMTYPE ? "exists and is not a fence device: left as it is" :
		       r == -EXDEV ? "exists on another backing device: left as it is" :
		       create ? (r == -EEXIST ? "exists, left as it is" : r ? strerror(-r) :
				 strstr(line, " fenced") ? "created fenced" : "created closed") :
			(r == -ENXIO ? "not there" : r ? strerror(-r) : "removed");
		if (r == -EEXIST || r == -ENXIO)
			r = 0;
		if (!r && line[0]) {
			const struct fence_field f[] = {
				{ "TABLE", line },
				{ "BACKING_AFTER", v[i].backing },
			};

			fence_journal(LOG_NOTICE, "create", v[i].name, f, 2,
				      "created from fencetab: %s", line);
		}
		if (json_output) {
			struct json_object *j = json_object_new_object();

			json_object_object_add(j, "device", json_object_new_string(v[i].name));
			json_object_object_add(j, "command", json_object_new_string(cmd));
			json_object_object_add(j, "result", json_object_new_string(what));
			if (line[0])
				json_object_object_add(j, "table", json_object_new_string(line));
			if (r)
				json_object_object_add(j, "error",
						       json_object_new_string(errno_name(-r)));
			print_json(j);
		} else {
			if (r)
				fprintf(stderr, "fencectl: %s: %s%s%s\n", v[i].name,
					create ? v[i].backing : "", create ? ": " : "", what);
			else
				printf("%s: %s%s%s\n", v[i].name, what, line[0] ? ": " : "", line);
		}
		if (r)
			worst = exit_for(r) > worst ? exit_for(r) : worst;
	}
	free(v);
	if (n && found < n)
		return report_error(NULL, cmd, ENOENT, "a NAME is not in fencetab", EXIT_NODEV);
	/* the bad lines were skipped and said: the run did not do all it should */
	return bad && worst < EXIT_USAGE ? EXIT_USAGE : worst;
}
