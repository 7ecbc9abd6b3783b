/* SPDX-License-Identifier: GPL-2.0-only */
/* Userspace shim of <linux/cache.h> for tests/unit/. */
#ifndef _SHIM_LINUX_CACHE_H
#define _SHIM_LINUX_CACHE_H

#define ____cacheline_aligned_in_smp __attribute__((__aligned__(64)))

#endif
