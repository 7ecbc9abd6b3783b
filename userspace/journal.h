/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What fencectl changes, for the journal: one entry per change, with a
 * readable MESSAGE and fields a tool can select on (journalctl
 * DM_FENCE_DEVICE=vm1).  See journal.c.
 */
#ifndef FENCE_JOURNAL_H
#define FENCE_JOURNAL_H

/* One field: NAME (without the DM_FENCE_ prefix) and its value, or NULL. */
struct fence_field {
	const char *name;
	const char *value;
};

/*
 * Log @message (a printf format) at syslog @priority with @fields (@n of
 * them; a NULL value is left out), and DM_FENCE_ACTION=@action,
 * DM_FENCE_DEVICE=@device, DM_FENCE_UID and DM_FENCE_CALLER.  To the
 * journal's native socket; where there is no journal, to syslog with the
 * fields as KEY=value after the message.
 */
void fence_journal(int priority, const char *action, const char *device,
		   const struct fence_field *fields, int n, const char *message, ...)
	__attribute__((format(printf, 6, 7)));

#endif
