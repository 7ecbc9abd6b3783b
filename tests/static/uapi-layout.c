// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ioctl structs must have one layout for 32- and 64-bit userspace
 * (compat_ptr_ioctl passes them through untranslated).  Compiled, not
 * run, with -m64 and -m32 by tests/static/uapi-layout.sh: a size or offset
 * that differs from the ones below fails the build.
 */
#include <stddef.h>
#include <linux/dm-fence.h>

#define AT(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field)
#define SIZE(type, size) \
	_Static_assert(sizeof(struct type) == (size), "sizeof " #type); \
	_Static_assert(sizeof(struct type) % 8 == 0, #type " padded to 8")

SIZE(dm_fence_ioc_hdr, 16);
AT(dm_fence_ioc_hdr, size, 0);
AT(dm_fence_ioc_hdr, flags, 4);
AT(dm_fence_ioc_hdr, dev_major, 8);
AT(dm_fence_ioc_hdr, dev_minor, 12);

SIZE(dm_fence_info, 128);
AT(dm_fence_info, state, 0);
AT(dm_fence_info, dev_flags, 4);
AT(dm_fence_info, generation, 8);
AT(dm_fence_info, inflight, 16);
AT(dm_fence_info, held, 24);
AT(dm_fence_info, stale_inflight, 32);
AT(dm_fence_info, late_completions, 40);
AT(dm_fence_info, failed_writes, 48);
AT(dm_fence_info, dirty, 56);
AT(dm_fence_info, regions, 64);
AT(dm_fence_info, flush_errors, 72);
AT(dm_fence_info, region_size, 80);
AT(dm_fence_info, length, 88);
AT(dm_fence_info, reopens, 96);
AT(dm_fence_info, clears, 104);
AT(dm_fence_info, closes, 112);
AT(dm_fence_info, call_flags, 120);
AT(dm_fence_info, unknown_fate, 124);

SIZE(dm_fence_status, 152);
AT(dm_fence_status, info, 16);
AT(dm_fence_status, diskseq, 144);
SIZE(dm_fence_close, 152);
AT(dm_fence_close, info, 16);
AT(dm_fence_close, diskseq, 144);
SIZE(dm_fence_reopen, 192);
AT(dm_fence_reopen, info, 16);
AT(dm_fence_reopen, generation, 144);
AT(dm_fence_reopen, reopens, 152);
AT(dm_fence_reopen, closes, 160);
AT(dm_fence_reopen, standby_major, 168);
AT(dm_fence_reopen, standby_minor, 172);
AT(dm_fence_reopen, standby_start, 176);
AT(dm_fence_reopen, diskseq, 184);
_Static_assert(DM_FENCE_REOPEN_SIZE_VER3 == offsetof(struct dm_fence_reopen, diskseq),
	       "version 3 of dm_fence_reopen ends before diskseq");
_Static_assert(DM_FENCE_REOPEN_SIZE_VER2 == offsetof(struct dm_fence_reopen, closes),
	       "version 2 of dm_fence_reopen ends before closes");
_Static_assert(DM_FENCE_REOPEN_SIZE_VER1 == offsetof(struct dm_fence_reopen, reopens),
	       "version 1 of dm_fence_reopen ends before reopens");
_Static_assert(DM_FENCE_REOPEN_SIZE_VER0 == offsetof(struct dm_fence_reopen, generation),
	       "version 0 of dm_fence_reopen ends before generation");

SIZE(dm_fence_drain, 160);
AT(dm_fence_drain, timeout_ms, 16);
AT(dm_fence_drain, reserved, 20);
AT(dm_fence_drain, info, 24);
AT(dm_fence_drain, diskseq, 152);

SIZE(dm_fence_fence, 168);
AT(dm_fence_fence, timeout_ms, 16);
AT(dm_fence_fence, reserved, 20);
AT(dm_fence_fence, generation, 24);
AT(dm_fence_fence, info, 32);
AT(dm_fence_fence, diskseq, 160);

SIZE(dm_fence_get_dirty, 80);
AT(dm_fence_get_dirty, start, 16);
AT(dm_fence_get_dirty, count, 24);
AT(dm_fence_get_dirty, bitmap_ptr, 32);
AT(dm_fence_get_dirty, bitmap_size, 40);
AT(dm_fence_get_dirty, dirty, 48);
AT(dm_fence_get_dirty, reserved, 56);
AT(dm_fence_get_dirty, diskseq, 72);

int main(void)
{
	return 0;
}
