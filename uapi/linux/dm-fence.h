/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * dm-fence user API: constants shared by the target and userspace.
 * The control device ioctls (/dev/dm-fence) are added here by the control
 * plane; see Documentation/dm-fence.rst.
 */
#ifndef _UAPI_LINUX_DM_FENCE_H
#define _UAPI_LINUX_DM_FENCE_H

#include <linux/types.h>

#define DM_FENCE_VERSION_MAJOR		1
#define DM_FENCE_VERSION_MINOR		0

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

#endif /* _UAPI_LINUX_DM_FENCE_H */
