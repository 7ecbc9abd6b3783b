/* SPDX-License-Identifier: GPL-2.0-only */
/* fencectl cut: the host-side step of a fence (cut.c). */
#ifndef FENCE_CUT_H
#define FENCE_CUT_H

#include <stdint.h>

#include "libfence.h"

struct fence_cut_result {
	char why[400];		/* why it was refused or failed */
	char mounts[600];	/* what was cut: "MOUNT (SERVER), ..." */
};

/*
 * For @dev fenced at @generation: shut down the NFS mounts below it and
 * destroy their connections to the server, so that no write of an older
 * generation can leave this host.  0, or -errno with @res->why:
 * -ESTALE not fenced at @generation; -EOPNOTSUPP nothing it can cut
 * (not NFS, or no forced shutdown in this kernel); -EBUSY another loop
 * device on a mount is not under a fenced device (@force: cut anyway), or
 * a connection is still there after the cut.  Refusals come before
 * anything is done; an error after the first shutdown leaves it done.
 */
int fence_cut_below(const struct fence_device *dev, uint64_t generation, int force,
		    struct fence_cut_result *res);

#endif
