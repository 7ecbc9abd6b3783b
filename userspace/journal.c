// SPDX-License-Identifier: GPL-2.0-only
/*
 * fence_journal(): every change fencectl makes to a device (state,
 * generation, the disk it runs on, the dirty bitmap) as one journal entry
 * with structured fields, through libsystemd's sd_journal_sendv().  Where
 * no journal runs (no socket: sd_journal_sendv() would drop the entry and
 * say 0), syslog() gets the same text with the fields appended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "journal.h"

#define MAX_FIELDS 24

/* Who asked: our parent's command name (a migration script, the agent). */
static const char *caller(void)
{
	static char comm[64];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)getppid());
	f = fopen(path, "re");
	if (!f || !fgets(comm, sizeof(comm), f))
		snprintf(comm, sizeof(comm), "?");
	if (f)
		fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return comm;
}

void fence_journal(int priority, const char *action, const char *device,
		   const struct fence_field *fields, int n, const char *message, ...)
{
	char *text[MAX_FIELDS + 8], uid[32], msg[512], flat[1024];
	struct iovec iov[MAX_FIELDS + 8];
	struct fence_field all[MAX_FIELDS + 4];
	int i, k = 0, m = 0;
	size_t len;
	va_list ap;

	va_start(ap, message);
	vsnprintf(msg, sizeof(msg), message, ap);
	va_end(ap);
	snprintf(uid, sizeof(uid), "%d", (int)getuid());
	all[m++] = (struct fence_field){ "ACTION", action };
	all[m++] = (struct fence_field){ "DEVICE", device };
	all[m++] = (struct fence_field){ "UID", uid };
	all[m++] = (struct fence_field){ "CALLER", caller() };
	for (i = 0; i < n && m < MAX_FIELDS + 4; i++)
		if (fields[i].value)
			all[m++] = fields[i];

	if (asprintf(&text[k], "MESSAGE=%s: %s", device, msg) < 0)
		goto fallback;
	k++;
	if (asprintf(&text[k], "PRIORITY=%d", priority) < 0)
		goto fallback;
	k++;
	if (asprintf(&text[k], "SYSLOG_IDENTIFIER=fencectl") < 0)
		goto fallback;
	k++;
	for (i = 0; i < m; i++) {
		if (asprintf(&text[k], "DM_FENCE_%s=%s", all[i].name, all[i].value) < 0)
			goto fallback;
		k++;
	}
	for (i = 0; i < k; i++)
		iov[i] = (struct iovec){ .iov_base = text[i], .iov_len = strlen(text[i]) };
	/* sd_journal_sendv() says 0 when no journal listens: ask first */
	if (!access("/run/systemd/journal/socket", W_OK) && !sd_journal_sendv(iov, k)) {
		for (i = 0; i < k; i++)
			free(text[i]);
		return;
	}
fallback:
	for (i = 0; i < k; i++)
		free(text[i]);
	len = (size_t)snprintf(flat, sizeof(flat), "%s: %s", device, msg);
	for (i = 2; i < m && len < sizeof(flat); i++)
		len += (size_t)snprintf(flat + len, sizeof(flat) - len, " %s=%s", all[i].name,
					all[i].value);
	syslog(priority, "%s", flat);
}
