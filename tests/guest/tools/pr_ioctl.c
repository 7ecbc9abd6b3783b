// SPDX-License-Identifier: GPL-2.0-only
/*
 * The block layer's persistent-reservation ioctls (<linux/pr.h>), the way
 * QEMU's pr-manager or a cluster fence agent issues them, with nothing in
 * between: util-linux on Debian 12 has no blkpr yet.  Prints the errno
 * name (or 0) so that a test can tell a refusal from a SCSI answer.
 *
 * usage: pr_ioctl DEV register NEWKEY | reserve KEY | release KEY |
 *                 clear KEY        (keys in hex, type: write exclusive)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pr.h>

int main(int argc, char **argv)
{
	unsigned long long key;
	int fd, r;

	if (argc != 4 || sscanf(argv[3], "%llx", &key) != 1) {
		fprintf(stderr, "usage: pr_ioctl DEV register|reserve|release|clear KEY\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	if (!strcmp(argv[2], "register")) {
		struct pr_registration reg = { .old_key = 0, .new_key = key };

		r = ioctl(fd, IOC_PR_REGISTER, &reg);
	} else if (!strcmp(argv[2], "reserve")) {
		struct pr_reservation rsv = { .key = key, .type = PR_WRITE_EXCLUSIVE };

		r = ioctl(fd, IOC_PR_RESERVE, &rsv);
	} else if (!strcmp(argv[2], "release")) {
		struct pr_reservation rsv = { .key = key, .type = PR_WRITE_EXCLUSIVE };

		r = ioctl(fd, IOC_PR_RELEASE, &rsv);
	} else if (!strcmp(argv[2], "clear")) {
		struct pr_clear clr = { .key = key };

		r = ioctl(fd, IOC_PR_CLEAR, &clr);
	} else {
		fprintf(stderr, "pr_ioctl: unknown operation %s\n", argv[2]);
		return 2;
	}
	if (r < 0)
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
	else
		printf("%d\n", r);
	return 0;
}
