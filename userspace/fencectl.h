/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fencectl, inside: what its files share.  fencectl.c parses the command
 * line and runs a command from its table; output.c says what happened
 * (JSON or text, exit codes); commands.c holds the commands that are more
 * than one call (dirty, watch, create/remove).
 */
#ifndef FENCECTL_H
#define FENCECTL_H

#include <json-c/json.h>
#include <signal.h>
#include <stdint.h>

#include "libfence.h"

enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,
	EXIT_NODEV = 2,
	EXIT_TIMEOUT = 3,
	EXIT_REFUSED = 4,
	EXIT_CANCELLED = 5,	/* copy: a signal cancelled it, the source is open */
	EXIT_FENCED = 6,	/* copy: complete, but the source was fenced meanwhile */
	EXIT_SWITCHED = 7,	/* copy --switch: runs on DST, then failed (verify) */
	/*
	 * fence --wait, storage-fenced --wait: fenced, but writes of an older
	 * generation ended with an error below and may still land
	 */
	EXIT_UNSETTLED = 8,
};

struct opts {
	const char *by, *only_by;	/* fence --by WHO, unfence --only-by WHO */
	int fail, force, wait, clear, allow_open, has_closes;
	uint64_t closes;
	uint32_t timeout_ms;
	const char *until;
};

/* --json: one JSON object per result (output.c) */
extern int json_output;
/* a signal arrived: waits and copies end (commands.c) */
extern volatile sig_atomic_t interrupted;

void print_json(struct json_object *o);
const char *errno_name(int err);
int report_error(const char *device, const char *cmd, int err, const char *message, int code);
void print_info(const struct fence_device *dev, const struct dm_fence_info *i,
		const char *what, int err);
int exit_for(int err);

/* a usage error: what was wrong, then the usage text; EXIT_USAGE (fencectl.c) */
int usage(const char *why);

void on_signal(int sig);
void log_change(const char *name, const char *cmd, const struct dm_fence_info *before,
		const struct dm_fence_info *after);
int cmd_dirty(const struct fence_device *dev, const struct opts *o);
int cmd_watch(const struct fence_device *dev, const struct opts *o);
int cmd_fencetab(const char *cmd, int n, char **names);

#endif
