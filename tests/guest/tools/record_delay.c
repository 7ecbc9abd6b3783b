// SPDX-License-Identifier: GPL-2.0-only
/*
 * LD_PRELOAD shim for tests: the process's first write of a generation
 * record ("generation ...", what fencectl writes to /var/lib/dm-fence/NAME
 * after the kernel changed) first creates the file $RECORD_DELAY_MARK,
 * then waits $RECORD_DELAY_MS (default 2000) milliseconds.  Lets a test
 * put a second fencectl's whole run inside the first one's, between its
 * kernel change and its record.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	static int done;
	const char *mark = getenv("RECORD_DELAY_MARK");
	const char *ms = getenv("RECORD_DELAY_MS");
	struct timespec ts;
	long delay;
	int m;

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (mark && !done && len > 11 && !memcmp(buf, "generation ", 11)) {
		done = 1;
		m = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (m >= 0)
			close(m);
		delay = ms ? atol(ms) : 2000;
		ts.tv_sec = delay / 1000;
		ts.tv_nsec = delay % 1000 * 1000000;
		while (nanosleep(&ts, &ts))
			;
	}
	return real(fd, buf, len);
}
