// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for tests: the first DM_TABLE_LOAD ioctl the process
 * makes fails with EINVAL (as a table the kernel refuses would), every
 * other ioctl goes through.  Lets a test reach fencectl copy --switch's
 * failure path between the suspend and the resume.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/dm-ioctl.h>
#include <stdarg.h>
#include <sys/ioctl.h>

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	static int failed;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (request == DM_TABLE_LOAD && !failed) {
		failed = 1;
		errno = EINVAL;
		return -1;
	}
	return real(fd, request, arg);
}
