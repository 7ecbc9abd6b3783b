// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for tests: a fault at one device-mapper ioctl of the
 * process, chosen by DM_IOCTL_FAULT:
 *   fail-load        the first DM_TABLE_LOAD fails with EINVAL (as a table
 *                    the kernel refuses would)
 *   kill-at-load     the process dies (SIGKILL) at its DM_IOCTL_FAULT_LOAD'th
 *                    DM_TABLE_LOAD (default the first), after the suspend
 *                    before it
 *   kill-at-resume   it dies at the first resume (DM_DEV_SUSPEND without
 *                    DM_SUSPEND_FLAG) that follows a DM_TABLE_LOAD
 *   fail-get-dirty   the first DM_FENCE_IOC_GET_DIRTY fails with EIO
 * Every other ioctl goes through.  Lets a test reach fencectl copy
 * --switch's failure paths and its crashes between suspend and resume of
 * each of its reloads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/dm-ioctl.h>
#include <linux/dm-fence.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

int ioctl(int fd, unsigned long request, ...)
{
	static int (*real)(int, unsigned long, ...);
	static int loaded, loads, done;
	const char *mode = getenv("DM_IOCTL_FAULT");
	struct dm_ioctl *dmi;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (!mode || done)
		return real(fd, request, arg);
	if (request == DM_FENCE_IOC_GET_DIRTY && !strcmp(mode, "fail-get-dirty")) {
		done = 1;
		errno = EIO;
		return -1;
	}
	if (request == DM_TABLE_LOAD) {
		if (!strcmp(mode, "fail-load")) {
			done = 1;
			errno = EINVAL;
			return -1;
		}
		if (!strcmp(mode, "kill-at-load") &&
		    ++loads >= (getenv("DM_IOCTL_FAULT_LOAD") ? atoi(getenv("DM_IOCTL_FAULT_LOAD")) : 1))
			raise(SIGKILL);
		loaded = 1;
	}
	dmi = arg;
	if (request == DM_DEV_SUSPEND && loaded && !(dmi->flags & DM_SUSPEND_FLAG) &&
	    !strcmp(mode, "kill-at-resume"))
		raise(SIGKILL);
	return real(fd, request, arg);
}
