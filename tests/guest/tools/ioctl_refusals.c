// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every refusal of the control device: each bad call gets its errno and
 * changes nothing (the STATUS before and after are the same).
 *
 * usage: ioctl_refusals FENCE_MAJ:MIN OTHER_DM_MAJ:MIN   (as root)
 *        ioctl_refusals --unprivileged FENCE_MAJ:MIN     (without CAP_SYS_ADMIN)
 *        ioctl_refusals --diskseq FENCE_MAJ:MIN OLD_SEQ SEQ
 *            (the device was removed and created again: OLD_SEQ was the
 *            removed one's diskseq, SEQ is the device's now)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dm-fence.h>

static int ctl, failures;
static uint32_t fmaj, fmin;

static int call(unsigned long cmd, void *arg)
{
	return ioctl(ctl, cmd, arg) ? errno : 0;
}

static struct dm_fence_info status(void)
{
	struct dm_fence_status s = { .hdr = { sizeof(s), 0, fmaj, fmin } };

	if (call(DM_FENCE_IOC_STATUS, &s)) {
		perror("STATUS");
		exit(2);
	}
	return s.info;
}

static void expect(const char *what, unsigned long cmd, void *arg, int want)
{
	struct dm_fence_info before = status(), after;
	int got = call(cmd, arg);

	after = status();
	if (got != want) {
		printf("FAIL %s: got %s, want %s\n", what, strerror(got), strerror(want));
		failures++;
	} else if (memcmp(&before, &after, sizeof(before))) {
		printf("FAIL %s: refused, but the device changed\n", what);
		failures++;
	} else {
		printf("ok %s: %s\n", what, strerror(got));
	}
}

#define HDR(s, f) ((struct dm_fence_ioc_hdr){ sizeof(s), (f), fmaj, fmin })
/* a command number of @size bytes, as a binary built with that struct has */
#define CMD(nr, size) _IOC(_IOC_READ | _IOC_WRITE, DM_FENCE_IOC_MAGIC, (nr), (size))

/* every call bound to a disk that is gone: ENXIO, nothing changed */
static void diskseq(uint64_t old, uint64_t now)
{
	const uint32_t g = DM_FENCE_DISKSEQ;
	uint64_t b[64];

	{ struct dm_fence_status s = { .hdr = HDR(s, g), .diskseq = old };
	  expect("STATUS of a replaced disk", DM_FENCE_IOC_STATUS, &s, ENXIO); }
	{ struct dm_fence_close s = { .hdr = HDR(s, g), .diskseq = old };
	  expect("CLOSE of a replaced disk", DM_FENCE_IOC_CLOSE, &s, ENXIO); }
	{ struct dm_fence_drain s = { .hdr = HDR(s, g), .timeout_ms = 1, .diskseq = old };
	  expect("DRAIN of a replaced disk", DM_FENCE_IOC_DRAIN, &s, ENXIO); }
	{ struct dm_fence_reopen s = { .hdr = HDR(s, g), .diskseq = old };
	  expect("REOPEN of a replaced disk", DM_FENCE_IOC_REOPEN, &s, ENXIO); }
	{ struct dm_fence_fence s = { .hdr = HDR(s, g), .generation = 1000, .diskseq = old };
	  expect("FENCE of a replaced disk", DM_FENCE_IOC_FENCE, &s, ENXIO); }
	{ struct dm_fence_get_dirty s = { .hdr = HDR(s, g | DM_FENCE_DIRTY_CLEAR), .count = 1,
		  .bitmap_ptr = (uintptr_t)b, .bitmap_size = sizeof(b), .diskseq = old };
	  expect("GET_DIRTY clear of a replaced disk", DM_FENCE_IOC_GET_DIRTY, &s, ENXIO); }
	{ struct dm_fence_status s = { .hdr = HDR(s, g) };
	  expect("DISKSEQ without a diskseq", DM_FENCE_IOC_STATUS, &s, EINVAL); }
	{ struct dm_fence_close s = { .hdr = HDR(s, 0), .diskseq = now };
	  expect("a diskseq without DISKSEQ", DM_FENCE_IOC_CLOSE, &s, EINVAL); }
	/* a binary built before 1.5: its struct ends before diskseq */
	{ struct dm_fence_status s = { .hdr = HDR(s, 0) };
	  s.hdr.size = offsetof(struct dm_fence_status, diskseq);
	  expect("STATUS of a binary before 1.5",
		 CMD(0x00, offsetof(struct dm_fence_status, diskseq)), &s, 0);
	  s.hdr.flags = g;
	  expect("DISKSEQ in a struct before 1.5",
		 CMD(0x00, offsetof(struct dm_fence_status, diskseq)), &s, EINVAL); }
	{ struct dm_fence_status s = { .hdr = HDR(s, g), .diskseq = now };

	  expect("STATUS of the disk there now", DM_FENCE_IOC_STATUS, &s, 0);
	  if (s.diskseq != now) {
		printf("FAIL STATUS answered diskseq %llu, want %llu\n",
		       (unsigned long long)s.diskseq, (unsigned long long)now);
		failures++;
	  } }
}

static void unprivileged(void)
{
	struct dm_fence_status s = { .hdr = HDR(s, 0) };
	struct dm_fence_fence f = { .hdr = HDR(f, 0), .generation = 99 };

	if (call(DM_FENCE_IOC_STATUS, &s) != EPERM) {
		printf("FAIL unprivileged STATUS not refused with EPERM\n");
		failures++;
	}
	if (call(DM_FENCE_IOC_FENCE, &f) != EPERM) {
		printf("FAIL unprivileged FENCE not refused with EPERM\n");
		failures++;
	}
}

int main(int argc, char **argv)
{
	uint32_t omaj, omin;
	uint64_t *bits;
	char *page;

	if (argc == 5 && !strcmp(argv[1], "--diskseq")) {
		unsigned long long old, now;

		if (sscanf(argv[2], "%u:%u", &fmaj, &fmin) != 2 ||
		    sscanf(argv[3], "%llu", &old) != 1 || sscanf(argv[4], "%llu", &now) != 1)
			return 2;
		ctl = open("/dev/dm-fence", O_RDWR);
		if (ctl < 0) {
			perror("/dev/dm-fence");
			return 2;
		}
		diskseq(old, now);
		return failures ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--unprivileged")) {
		sscanf(argv[2], "%u:%u", &fmaj, &fmin);
		ctl = open("/dev/dm-fence", O_RDWR);
		if (ctl < 0) {
			/* the node is 0600 root: refusing the open is refusing too */
			printf("ok unprivileged open refused: %s\n", strerror(errno));
			return 0;
		}
		unprivileged();
		return failures ? 1 : 0;
	}
	if (argc != 3 || sscanf(argv[1], "%u:%u", &fmaj, &fmin) != 2 ||
	    sscanf(argv[2], "%u:%u", &omaj, &omin) != 2) {
		fprintf(stderr, "usage: ioctl_refusals FENCE_MAJ:MIN OTHER_MAJ:MIN\n");
		return 2;
	}
	ctl = open("/dev/dm-fence", O_RDWR);
	if (ctl < 0) {
		perror("/dev/dm-fence");
		return 2;
	}

	/* unknown flag bits */
	{ struct dm_fence_status s = { .hdr = HDR(s, 1) };
	  expect("STATUS unknown flag", DM_FENCE_IOC_STATUS, &s, EINVAL); }
	{ struct dm_fence_close s = { .hdr = HDR(s, 2) };
	  expect("CLOSE unknown flag", DM_FENCE_IOC_CLOSE, &s, EINVAL); }
	{ struct dm_fence_drain s = { .hdr = HDR(s, 0x40000000u), .timeout_ms = 1 };
	  expect("DRAIN unknown flag", DM_FENCE_IOC_DRAIN, &s, EINVAL); }
	{ struct dm_fence_reopen s = { .hdr = HDR(s, 0x10) };
	  expect("REOPEN unknown flag", DM_FENCE_IOC_REOPEN, &s, EINVAL); }
	{ struct dm_fence_fence s = { .hdr = HDR(s, 4), .generation = 1000 };
	  expect("FENCE unknown flag", DM_FENCE_IOC_FENCE, &s, EINVAL); }
	/* a storage-side fence confirmed for a fence that is not there */
	{ struct dm_fence_fence s = { .hdr = HDR(s, DM_FENCE_FENCE_STORAGE), .generation = 1 };
	  expect("FENCE STORAGE of an open device", DM_FENCE_IOC_FENCE, &s, ESTALE); }
	{ struct dm_fence_get_dirty s = { .hdr = HDR(s, 8) };
	  expect("GET_DIRTY unknown flag", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL); }

	/* reserved fields */
	{ struct dm_fence_drain s = { .hdr = HDR(s, 0), .timeout_ms = 1, .reserved = 1 };
	  expect("DRAIN reserved", DM_FENCE_IOC_DRAIN, &s, EINVAL); }
	{ struct dm_fence_fence s = { .hdr = HDR(s, 0), .generation = 1000, .reserved = 7 };
	  expect("FENCE reserved", DM_FENCE_IOC_FENCE, &s, EINVAL); }
	{ uint64_t b[64];
	  struct dm_fence_get_dirty s = { .hdr = HDR(s, DM_FENCE_DIRTY_CLEAR), .count = 1,
		  .bitmap_ptr = (uintptr_t)b, .bitmap_size = sizeof(b) };
	  s.reserved[1] = 1;
	  expect("GET_DIRTY reserved", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL); }

	/* sizes */
	{ struct dm_fence_status s = { .hdr = HDR(s, 0) };
	  s.hdr.size = 0;
	  expect("size 0", DM_FENCE_IOC_STATUS, &s, EINVAL);
	  s.hdr.size = offsetof(struct dm_fence_status, diskseq) - 8;
	  expect("size one field short of the first version",
		 CMD(0x00, offsetof(struct dm_fence_status, diskseq) - 8), &s, EINVAL);
	  s.hdr.size = 1 << 20;
	  expect("size 1 MiB", DM_FENCE_IOC_STATUS, &s, E2BIG);
	  s.hdr.size = sizeof(s) + 8;
	  expect("size other than the command number's", DM_FENCE_IOC_STATUS, &s, EINVAL);
	  s.hdr.size = sizeof(s);
	  expect("command number's size other than the struct's", CMD(0x00, sizeof(s) + 8), &s, EINVAL); }
	{ struct { struct dm_fence_status s; uint64_t more; } big = {
		.s = { .hdr = HDR(big, 0) }, .more = 1 };
	  expect("larger size, unknown bytes set", CMD(0x00, sizeof(big)), &big, E2BIG);
	  big.more = 0;
	  expect("larger size, unknown bytes zero (a newer userspace)", CMD(0x00, sizeof(big)), &big, 0); }

	/* pointers */
	expect("NULL argument", DM_FENCE_IOC_STATUS, NULL, EFAULT);
	expect("unmapped argument", DM_FENCE_IOC_STATUS, (void *)16, EFAULT);
	page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	{ struct dm_fence_get_dirty s = { .hdr = HDR(s, DM_FENCE_DIRTY_CLEAR), .count = 64,
		  .bitmap_ptr = 0, .bitmap_size = 8 };
	  expect("GET_DIRTY NULL buffer (clear)", DM_FENCE_IOC_GET_DIRTY, &s, EFAULT);
	  s.bitmap_ptr = (uintptr_t)page;
	  expect("GET_DIRTY PROT_NONE buffer (clear)", DM_FENCE_IOC_GET_DIRTY, &s, EFAULT); }
	/*
	 * An answer that cannot be written back: refused before the device
	 * changes (issue 32 item 10: CLOSE closed it, then said EFAULT)
	 */
	{ struct dm_fence_close c = { .hdr = HDR(c, 0) };
	  struct dm_fence_fence f = { .hdr = HDR(f, 0), .generation = status().generation + 1 };
	  struct dm_fence_reopen o = { .hdr = HDR(o, 0) };
	  char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	  memcpy(ro, &c, sizeof(c));
	  memcpy(ro + 1024, &f, sizeof(f));
	  memcpy(ro + 2048, &o, sizeof(o));
	  mprotect(ro, 4096, PROT_READ);
	  expect("CLOSE into a read-only buffer", DM_FENCE_IOC_CLOSE, ro, EFAULT);
	  expect("FENCE into a read-only buffer", DM_FENCE_IOC_FENCE, ro + 1024, EFAULT);
	  expect("REOPEN into a read-only buffer", DM_FENCE_IOC_REOPEN, ro + 2048, EFAULT);
	  munmap(ro, 4096); }

	/* windows */
	bits = calloc(1 << 16, 8);
	{ struct dm_fence_info i = status();
	  struct dm_fence_get_dirty s = { .hdr = HDR(s, DM_FENCE_DIRTY_CLEAR),
		  .bitmap_ptr = (uintptr_t)bits, .bitmap_size = 8ull << 16 };
	  s.start = 1; s.count = 1;
	  expect("GET_DIRTY start not a multiple of 64", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL);
	  s.start = 0; s.count = 0;
	  expect("GET_DIRTY count 0", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL);
	  s.count = i.regions + 1;
	  expect("GET_DIRTY window past the end", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL);
	  s.start = (i.regions + 63) / 64 * 64; s.count = 1;
	  expect("GET_DIRTY start past the end", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL);
	  s.start = 0; s.count = UINT64_MAX;
	  expect("GET_DIRTY huge count", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL);
	  s.count = i.regions; s.bitmap_size = (i.regions + 63) / 64 * 8 - 8;
	  expect("GET_DIRTY buffer too small", DM_FENCE_IOC_GET_DIRTY, &s, EINVAL); }

	/* devices */
	{ struct dm_fence_status s = { .hdr = { sizeof(s), 0, omaj, omin } };
	  expect("not a fence device", DM_FENCE_IOC_STATUS, &s, ENXIO);
	  s.hdr.dev_minor = 1000000;
	  expect("nonexistent dev_t", DM_FENCE_IOC_STATUS, &s, ENXIO);
	  s.hdr.dev_major = 5000;
	  expect("major out of range", DM_FENCE_IOC_STATUS, &s, ENXIO); }
	{ struct dm_fence_fence s = { .hdr = { sizeof(s), 0, omaj, omin }, .generation = 50 };
	  expect("FENCE not a fence device", DM_FENCE_IOC_FENCE, &s, ENXIO); }

	/* generations */
	{ struct dm_fence_info i = status();
	  struct dm_fence_fence s = { .hdr = HDR(s, 0), .generation = 0 };
	  expect("FENCE generation 0", DM_FENCE_IOC_FENCE, &s, EINVAL);
	  s.generation = (uint64_t)1 << 63;
	  expect("FENCE generation 2^63", DM_FENCE_IOC_FENCE, &s, EINVAL);
	  s.generation = i.generation;
	  expect("FENCE same generation", DM_FENCE_IOC_FENCE, &s, EINVAL); }

	/* reopen and unfence (the device is open) */
	{ struct dm_fence_info i = status();
	  struct dm_fence_reopen s = { .hdr = HDR(s, DM_FENCE_REOPEN_UNFENCE), .generation = i.generation };
	  s.hdr.size = DM_FENCE_REOPEN_SIZE_VER0;
	  expect("REOPEN UNFENCE in a version 0 struct (no generation)",
		 CMD(0x03, DM_FENCE_REOPEN_SIZE_VER0), &s, EINVAL);
	  s.hdr.size = sizeof(s);
	  s.generation = 0;
	  expect("REOPEN UNFENCE generation 0", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.generation = (uint64_t)1 << 63;
	  expect("REOPEN UNFENCE generation 2^63", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.generation = i.generation;
	  expect("REOPEN UNFENCE of an open device", DM_FENCE_IOC_REOPEN, &s, ESTALE);
	  s.hdr.flags = 0;
	  expect("REOPEN generation without UNFENCE", DM_FENCE_IOC_REOPEN, &s, EINVAL); }

	/* switch (the device is open, its table has no standby) */
	{ struct dm_fence_info i = status();
	  struct dm_fence_reopen s = { .hdr = HDR(s, DM_FENCE_REOPEN_SWITCH), .reopens = i.reopens };
	  s.hdr.size = DM_FENCE_REOPEN_SIZE_VER1;
	  expect("REOPEN SWITCH in a version 1 struct (no reopens)",
		 CMD(0x03, DM_FENCE_REOPEN_SIZE_VER1), &s, EINVAL);
	  s.hdr.size = sizeof(s);
	  s.hdr.flags = DM_FENCE_REOPEN_SWITCH | DM_FENCE_REOPEN_UNFENCE;
	  s.generation = i.generation;
	  expect("REOPEN SWITCH with UNFENCE", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.generation = 0;
	  s.hdr.flags = DM_FENCE_REOPEN_SWITCH | DM_FENCE_REOPEN_FORCE;
	  expect("REOPEN SWITCH with FORCE", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.hdr.flags = 0;
	  s.reopens = 1;
	  expect("REOPEN reopens without SWITCH", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.hdr.flags = DM_FENCE_REOPEN_SWITCH;
	  s.reopens = i.reopens;
	  expect("REOPEN SWITCH with no standby", DM_FENCE_IOC_REOPEN, &s, ENODEV); }

	/* reopen naming the caller's close (since 1.4; the device is open) */
	{ struct dm_fence_info i = status();
	  struct dm_fence_reopen s = { .hdr = HDR(s, DM_FENCE_REOPEN_CLOSES), .closes = i.closes };
	  s.hdr.size = DM_FENCE_REOPEN_SIZE_VER2;
	  expect("REOPEN CLOSES in a version 2 struct (no closes)",
		 CMD(0x03, DM_FENCE_REOPEN_SIZE_VER2), &s, EINVAL);
	  s.hdr.size = sizeof(s);
	  s.hdr.flags = DM_FENCE_REOPEN_CLOSES | DM_FENCE_REOPEN_UNFENCE;
	  s.generation = i.generation;
	  expect("REOPEN CLOSES with UNFENCE", DM_FENCE_IOC_REOPEN, &s, EINVAL);
	  s.generation = 0;
	  s.hdr.flags = 0;
	  s.closes = 1;
	  expect("REOPEN closes without CLOSES", DM_FENCE_IOC_REOPEN, &s, EINVAL); }

	/* commands */
	{ struct dm_fence_status s = { .hdr = HDR(s, 0) };
	  expect("unknown command number", _IOWR(DM_FENCE_IOC_MAGIC, 0x3f, struct dm_fence_status), &s, ENOTTY);
	  expect("other ioctl type", _IOWR(0xfd, 0x00, struct dm_fence_status), &s, ENOTTY);
	  expect("wrong direction", _IOR(DM_FENCE_IOC_MAGIC, 0x00, struct dm_fence_status), &s, ENOTTY); }

	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
