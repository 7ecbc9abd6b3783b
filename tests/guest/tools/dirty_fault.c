// SPDX-License-Identifier: GPL-2.0-only
/*
 * A GET_DIRTY with clear whose user buffer faults part way: its first page
 * is writable, the rest is not, so the kernel copies (and clears) the
 * first chunk before the copy of a later one fails.  Prints the errno the
 * call returned; the test then checks that no dirty bit was lost.
 *
 * usage: dirty_fault FENCE_MAJ:MIN REGIONS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/dm-fence.h>

int main(int argc, char **argv)
{
	struct dm_fence_get_dirty g = { .hdr = { .size = sizeof(g) } };
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long regions;
	size_t words, len;
	uint8_t *buf;
	int ctl;

	if (argc != 3 || sscanf(argv[1], "%u:%u", &g.hdr.dev_major, &g.hdr.dev_minor) != 2 ||
	    sscanf(argv[2], "%llu", &regions) != 1 || !regions) {
		fprintf(stderr, "usage: dirty_fault MAJ:MIN REGIONS\n");
		return 2;
	}
	words = (regions + 63) / 64;
	len = (words * 8 + page - 1) / page * page;
	if (len < 2 * (size_t)page) {
		fprintf(stderr, "dirty_fault: the window must span two pages\n");
		return 2;
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || mprotect(buf + page, len - page, PROT_NONE)) {
		perror("mmap");
		return 2;
	}
	ctl = open("/dev/dm-fence", O_RDWR);
	if (ctl < 0) {
		perror("/dev/dm-fence");
		return 2;
	}
	g.hdr.flags = DM_FENCE_DIRTY_CLEAR;
	g.start = 0;
	g.count = regions;
	g.bitmap_ptr = (uintptr_t)buf;
	g.bitmap_size = words * 8;
	if (ioctl(ctl, DM_FENCE_IOC_GET_DIRTY, &g) == 0) {
		printf("0\n");
		return 0;
	}
	printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	return 0;
}
