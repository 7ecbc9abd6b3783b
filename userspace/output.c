// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl: what it says of a result, as text or one JSON object per
 * result (--json), and the exit code each kernel answer maps to.
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

int json_output;

void print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

/* The errno's name, stable for scripts ("ETIMEDOUT"), where strerror is not. */
const char *errno_name(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "EUNKNOWN";
}

/*
 * A failure that filled no counts: one line on standard error, or with
 * --json one object on standard output (device and command where known,
 * the errno's name, the message, the exit status).  Returns @code.
 */
int report_error(const char *device, const char *cmd, int err, const char *message,
			int code)
{
	if (json_output) {
		struct json_object *o = json_object_new_object();

		if (device)
			json_object_object_add(o, "device", json_object_new_string(device));
		if (cmd)
			json_object_object_add(o, "command", json_object_new_string(cmd));
		json_object_object_add(o, "error", json_object_new_string(errno_name(err)));
		json_object_object_add(o, "message", json_object_new_string(message));
		json_object_object_add(o, "exit", json_object_new_int(code));
		print_json(o);
	} else if (device) {
		fprintf(stderr, "fencectl: %s: %s%s%s\n", device, cmd ? cmd : "", cmd ? ": " : "",
			message);
	} else {
		fprintf(stderr, "fencectl: %s\n", message);
	}
	return code;
}

static struct json_object *info_json(const struct fence_device *dev,
				     const struct dm_fence_info *i)
{
	struct json_object *o = json_object_new_object();
	char devt[32];

	snprintf(devt, sizeof(devt), "%u:%u", dev->major, dev->minor);
	json_object_object_add(o, "device", json_object_new_string(dev->name));
	json_object_object_add(o, "devt", json_object_new_string(devt));
	/* the disk the calls are bound to (kernels since 1.5; 0 before) */
	if (dev->diskseq)
		json_object_object_add(o, "diskseq", json_object_new_uint64(dev->diskseq));
	json_object_object_add(o, "state", json_object_new_string(fence_state_name(i->state)));
#define ADD(field) json_object_object_add(o, #field, json_object_new_uint64(i->field))
	ADD(generation);
	ADD(inflight);
	ADD(held);
	ADD(stale_inflight);
	ADD(late_completions);
	ADD(failed_writes);
	ADD(dirty);
	ADD(regions);
	ADD(flush_errors);
	ADD(region_size);
	ADD(length);
	if (i->dev_flags & DM_FENCE_DEV_SEQ) {
		ADD(reopens);
		ADD(clears);
	}
	if (i->dev_flags & DM_FENCE_DEV_CLOSES)
		ADD(closes);
	/* writes of an older generation that failed below: they may still land */
	if (i->dev_flags & DM_FENCE_DEV_UNKNOWN)
		ADD(unknown_fate);
#undef ADD
	json_object_object_add(o, "fence_reads",
			       json_object_new_boolean(i->dev_flags & DM_FENCE_DEV_FENCE_READS));
	json_object_object_add(o, "close_fail",
			       json_object_new_boolean(i->dev_flags & DM_FENCE_DEV_CLOSE_FAIL));
	/* unfence waits for the writes dm core parked across a suspend */
	json_object_object_add(o, "replay_pending",
			       json_object_new_boolean(i->dev_flags & DM_FENCE_DEV_REPLAY_PENDING));
	if (i->dev_flags & DM_FENCE_DEV_UNKNOWN) {
		/* fenced, and no write of an older generation can land any more */
		json_object_object_add(o, "settled",
				       json_object_new_boolean(i->dev_flags & DM_FENCE_DEV_SETTLED));
		json_object_object_add(o, "storage_fenced",
				       json_object_new_boolean(i->dev_flags &
							       DM_FENCE_DEV_STORAGE_FENCED));
	}
	/* a copy --switch's destination, loaded and not switched to yet */
	json_object_object_add(o, "standby",
			       json_object_new_boolean(i->dev_flags & DM_FENCE_DEV_STANDBY));
	return o;
}

void print_info(const struct fence_device *dev, const struct dm_fence_info *i,
		       const char *what, int err)
{
	if (json_output) {
		struct json_object *o = info_json(dev, i);
		/* status only: one more dm ioctl, for what nothing else prints */
		int n = what && !strcmp(what, "status") ? fence_open_count(dev) : -1;

		if (n >= 0)
			json_object_object_add(o, "open_count", json_object_new_int(n));
		if (i->state == DM_FENCE_STATE_FENCED) {
			/* who fenced it at this generation, by this host's record */
			char by[FENCE_BY_MAX];

			fence_record_fenced_by(dev->name, i->generation, by);
			if (by[0])
				json_object_object_add(o, "fenced_by", json_object_new_string(by));
		}
		if (what)
			json_object_object_add(o, "command", json_object_new_string(what));
		/* whose close it is: a reopen --closes N undoes only this one */
		if (what && (!strcmp(what, "close") || !strcmp(what, "drain")) &&
		    (i->dev_flags & DM_FENCE_DEV_CLOSES))
			json_object_object_add(o, "closed_by_call",
					       json_object_new_boolean(i->call_flags &
								       DM_FENCE_CALL_CLOSED));
		json_object_object_add(o, "result",
				       json_object_new_string(err ? strerror(-err) : "ok"));
		if (err)
			json_object_object_add(o, "error", json_object_new_string(errno_name(-err)));
		print_json(o);
		return;
	}
	printf("%s: %s generation %" PRIu64 ", %" PRIu64 " in flight, %" PRIu64
	       " held, %" PRIu64 " stale in flight, %" PRIu64 " late, %" PRIu64
	       " failed, %" PRIu64 "/%" PRIu64 " regions dirty, %" PRIu64 " flush errors\n",
	       dev->name, fence_state_name(i->state), (uint64_t)i->generation,
	       (uint64_t)i->inflight, (uint64_t)i->held, (uint64_t)i->stale_inflight,
	       (uint64_t)i->late_completions, (uint64_t)i->failed_writes,
	       (uint64_t)i->dirty, (uint64_t)i->regions, (uint64_t)i->flush_errors);
	if (i->state == DM_FENCE_STATE_FENCED && (i->dev_flags & DM_FENCE_DEV_UNKNOWN))
		printf("%s: %s; %" PRIu32 " write%s of unknown fate%s\n", dev->name,
		       i->dev_flags & DM_FENCE_DEV_SETTLED ? "settled: no write of an older "
		       "generation can land" : "not settled: a write of an older generation "
		       "may still land", i->unknown_fate, i->unknown_fate == 1 ? "" : "s",
		       i->dev_flags & DM_FENCE_DEV_STORAGE_FENCED ?
		       ", the storage refuses this host" : "");
}

/* Map a kernel answer to the exit code the contract gives it. */
int exit_for(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -ETIMEDOUT:
	case -EINTR:
		return EXIT_TIMEOUT;
	case -ENXIO:
	case -ENODEV:
	case -ENOENT:
		return EXIT_NODEV;
	case -ENOLINK:
		return EXIT_UNSETTLED;
	default:
		return EXIT_REFUSED;
	}
}
