// SPDX-License-Identifier: GPL-2.0-only
/*
 * fencectl: drive dm-fence from migration scripts and toolstacks.
 *
 *   fencectl [--json] status DEV
 *   fencectl [--json] close DEV [--fail]
 *   fencectl [--json] drain DEV [--timeout MS] [--fail]
 *   fencectl [--json] reopen DEV
 *   fencectl [--json] unfence DEV GENERATION [--force] [--allow-open]
 *   fencectl [--json] fence DEV GENERATION [--wait] [--timeout MS]
 *   fencectl [--json] storage-fenced DEV GENERATION [--wait] [--timeout MS]
 *   fencectl [--json] cut DEV GENERATION [--force] [--wait] [--timeout MS]
 *   fencectl [--json] dirty DEV [--clear]
 *   fencectl [--json] watch DEV [--until STATE]
 *   fencectl [--json] copy DEV DST [options]
 *   fencectl [--json] create [NAME...]     from fencetab, closed or fenced
 *   fencectl [--json] remove [NAME...]
 *
 * Exit codes: 0 success, 1 usage, 2 device missing or not a fence target,
 * 3 timed out or interrupted (drain or fence wait incomplete), 4 refused by
 * the kernel, 5-7 copy (see the usage text), 8 fenced but not settled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "copy.h"
#include "cut.h"
#include "fencectl.h"
#include "fencetab.h"
#include "generator.h"
#include "journal.h"
#include "libfence.h"

static const char usage_text[] =
	"usage: fencectl [--json] COMMAND DEV [options]\n"
	"  status DEV                        print the state and counters\n"
	"  close DEV [--fail]                hold (or fail) new writes, start draining\n"
	"  drain DEV [--timeout MS] [--fail] close, wait until closed (exit 3 on time-out)\n"
	"  reopen DEV [--closes N]           let writes pass again (closing/closed);\n"
	"                                    with N, only after close number N (the\n"
	"                                    caller's: close/drain --json closes)\n"
	"  unfence DEV GEN [--force] [--allow-open] [--only-by WHO]\n"
	"                                    open a device fenced at GEN (still at GEN),\n"
	"                                    not while anything has it open (--only-by:\n"
	"                                    only if WHO fenced it, as recorded here)\n"
	"  fence DEV GEN [--wait] [--timeout MS] [--by WHO]\n"
	"                                    raise the generation; --wait: until no write\n"
	"                                    of an older one can land (exit 8: some\n"
	"                                    ended with an error below and still may)\n"
	"  storage-fenced DEV GEN [--wait] [--timeout MS]\n"
	"                                    confirm the storage refuses this host's\n"
	"                                    writes, for the fence at GEN\n"
	"  cut DEV GEN [--force] [--wait] [--timeout MS]\n"
	"                                    the host-side step: shut down the NFS\n"
	"                                    mount below, destroy its connections,\n"
	"                                    then confirm as storage-fenced does\n"
	"  dirty DEV [--clear]               print the dirty regions (and clear them)\n"
	"  watch DEV [--until STATE]         print each state change (dm events)\n"
	"  copy DEV DST [--threshold N] [--max-rounds N] [--drain-timeout MS]\n"
	"       [--rate MIB/S] [--verify] [--sparse] [--reopen | --switch]\n"
	"       [--allow-closed]\n"
	"                                    live-copy DEV onto block device DST\n"
	"                                    (--switch: and run DEV on DST)\n"
	"  create [NAME...]                  create fencetab's devices (all, or NAME),\n"
	"                                    closed, or fenced if fenced when last seen\n"
	"  remove [NAME...]                  remove fencetab's devices\n"
	"DEV is /dev/mapper/NAME, NAME or MAJOR:MINOR.\n"
	"exit: 0 ok, 1 usage, 2 no such fence device, 3 timed out, 4 refused,\n"
	"      5 copy cancelled, 6 copy complete but the source was fenced,\n"
	"      7 copy --switch switched, then failed (verify),\n"
	"      8 fenced, but writes of unknown fate may still land\n";

int usage(const char *why)
{
	if (why)
		report_error(NULL, NULL, EINVAL, why, EXIT_USAGE);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int parse_timeout(const char *s, uint32_t *ms)
{
	uint64_t v;

	if (fence_parse_u64(s, &v) || v > UINT32_MAX)
		return -1;
	*ms = (uint32_t)v;
	return 0;
}

/* One run of a command on one device: what main parsed, what the kernel said. */
struct ctx {
	const char *cmd;
	struct fence_device dev;
	struct opts o;
	struct copy_opts co;
	const char *arg;		/* the second operand: GENERATION or DST */
	uint64_t gen;			/* parsed, for CMD_GENERATION */
	struct dm_fence_info info;	/* the answer of the call */
	int exit;			/* with done: the command said it all */
	int done;
};

/* The command said everything itself (a refusal before any call): exit @code. */
static int ctx_done(struct ctx *c, int code)
{
	c->done = 1;
	c->exit = code;
	return 0;
}

static int run_status(struct ctx *c)
{
	return fence_status(&c->dev, &c->info);
}

static int run_close(struct ctx *c)
{
	return fence_close(&c->dev, c->o.fail, &c->info);
}

static int run_drain(struct ctx *c)
{
	return fence_drain(&c->dev, c->o.fail, c->o.timeout_ms, &c->info);
}

static int run_reopen(struct ctx *c)
{
	return fence_reopen(&c->dev, c->o.has_closes ? &c->o.closes : NULL, &c->info);
}

static int run_unfence(struct ctx *c)
{
	/*
	 * A host fenced at the storage level is often not rebooted
	 * (Pacemaker leaves its qemu running): whatever still holds the
	 * device open would write again the moment it is unfenced
	 * (fence_scsi checks the same).  Not a kernel rule: a fenced device
	 * can be opened, and is by udev's probe.
	 */
	int n = c->o.allow_open ? 0 : fence_open_count(&c->dev);
	char by[FENCE_BY_MAX];

	/*
	 * --only-by WHO: only what WHO fenced, at this generation, by this
	 * host's record (a disk that dm-fence-migrate fenced when its VM left
	 * is not the fence agent's to open when Pacemaker unfences the node).
	 */
	if (c->o.only_by)
		fence_record_fenced_by(c->dev.name, c->gen, by);
	if (c->o.only_by && strcmp(by, c->o.only_by)) {
		char why[200];

		snprintf(why, sizeof(why), "refused: fenced at %" PRIu64 " by %s, not by %s: "
			 "left fenced", c->gen, by[0] ? by : "someone else", c->o.only_by);
		return ctx_done(c, report_error(c->dev.name, c->cmd, EPERM, why, EXIT_REFUSED));
	}
	if (n > 0) {
		char why[200];

		snprintf(why, sizeof(why), "refused: the device is open (%d opener%s): "
			 "what runs on it would write again; stop it, or --allow-open",
			 n, n == 1 ? "" : "s");
		return ctx_done(c, report_error(c->dev.name, c->cmd, EBUSY, why, EXIT_REFUSED));
	}
	return fence_unfence(&c->dev, c->gen, c->o.force, &c->info);
}

static int run_fence(struct ctx *c)
{
	return fence_fence(&c->dev, c->gen, c->o.wait, c->o.timeout_ms, &c->info);
}

static int run_storage_fenced(struct ctx *c)
{
	return fence_storage_fenced(&c->dev, c->gen, c->o.wait, c->o.timeout_ms, &c->info);
}

/*
 * The host-side step (cut.c): only once nothing queued below can leave
 * this host is the kernel told, as after a storage-side fence.
 */
static int run_cut(struct ctx *c)
{
	struct fence_cut_result res;
	char gen[24];
	int r;

	r = fence_cut_below(&c->dev, c->gen, c->o.force, &res);
	snprintf(gen, sizeof(gen), "%" PRIu64, c->gen);

	const struct fence_field f[] = {
		{ "GENERATION", gen }, { "MOUNTS", res.mounts[0] ? res.mounts : NULL },
	};

	if (r) {
		if (res.mounts[0])
			fence_journal(LOG_WARNING, "cut", c->dev.name, f, 2,
				      "%s: host-side cut at generation %s failed after shutting down "
				      "%s: %s", c->dev.name, gen, res.mounts, res.why);
		return ctx_done(c, report_error(c->dev.name, c->cmd, -r, res.why,
						r == -ESTALE || r == -EOPNOTSUPP || r == -EBUSY ?
						EXIT_REFUSED : exit_for(r)));
	}
	fence_journal(LOG_NOTICE, "cut", c->dev.name, f, 2,
		      "%s: host-side cut at generation %s: %s shut down, connections "
		      "destroyed: no older write can leave this host", c->dev.name, gen,
		      res.mounts);
	return fence_storage_fenced(&c->dev, c->gen, c->o.wait, c->o.timeout_ms, &c->info);
}

static int run_dirty(struct ctx *c)
{
	return ctx_done(c, cmd_dirty(&c->dev, &c->o));
}

static int run_watch(struct ctx *c)
{
	return ctx_done(c, cmd_watch(&c->dev, &c->o));
}

static int run_copy(struct ctx *c)
{
	const char *name = c->dev.name, *dst = c->arg;
	int r, code, lock, switched = 0;

	c->co.json = json_output;
	/* one copy per device: a second would replace the first's standby */
	lock = fence_lock_device(name);
	if (lock == -EBUSY)
		return ctx_done(c, report_error(name, "copy", EBUSY,
						"another copy, create or remove of it runs: not started",
						EXIT_REFUSED));
	r = lock < 0 ? lock : fence_copy(&c->dev, dst, &c->co, &interrupted, &switched);
	if (lock >= 0)
		close(lock);
	/* past the switch, whatever ended it: the device runs on DST */
	code = r && switched ? EXIT_SWITCHED : r == -ECANCELED ? EXIT_CANCELLED :
	       r == -ESTALE ? EXIT_FENCED : exit_for(r);
	if (r && r != -ESTALE && json_output) {
		/*
		 * The last line says how it ended, with the errno's name (a
		 * copy the source's fence ended is "done").
		 */
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "event", json_object_new_string("error"));
		json_object_object_add(j, "error", json_object_new_string(errno_name(-r)));
		json_object_object_add(j, "message", json_object_new_string(strerror(-r)));
		json_object_object_add(j, "exit", json_object_new_int(code));
		/* past the point of no return: the device runs on DST */
		json_object_object_add(j, "switched", json_object_new_boolean(switched));
		print_json(j);
	} else if (r && switched) {
		fprintf(stderr, "fencectl: %s: copy: %s, after the switch: the device runs "
			"on %s\n", name, strerror(-r), dst);
	} else if (r == -ENXIO) {
		/* the calls name the disk resolved at the start */
		fprintf(stderr, "fencectl: %s: copy: the device went away (removed, or "
			"removed and created again: another disk now); nothing done to "
			"it since\n", name);
	} else if (r && r != -ECANCELED && r != -ESTALE) {
		fprintf(stderr, "fencectl: %s: copy: %s\n", name, strerror(-r));
	}
	return ctx_done(c, code);
}

#define CMD_CHANGES	0x1	/* may change the device: logged, before/after */
#define CMD_GENERATION	0x2	/* the second operand is a GENERATION */
#define CMD_RECORD	0x4	/* the generation it leaves is recorded for boot */

static const struct command {
	const char *name;
	int nargs;		/* operands: the device, and one more? */
	const char *options;	/* the command options it takes (getopt letters) */
	unsigned int flags;
	int (*run)(struct ctx *c);
} commands[] = {
	{ "status", 1, "", 0, run_status },
	{ "close", 1, "f", CMD_CHANGES, run_close },
	{ "drain", 1, "ft", CMD_CHANGES, run_drain },
	{ "reopen", 1, "C", CMD_CHANGES, run_reopen },
	{ "unfence", 2, "FAY", CMD_CHANGES | CMD_GENERATION | CMD_RECORD, run_unfence },
	{ "fence", 2, "wtB", CMD_CHANGES | CMD_GENERATION | CMD_RECORD, run_fence },
	{ "storage-fenced", 2, "wt", CMD_CHANGES | CMD_GENERATION, run_storage_fenced },
	{ "cut", 2, "Fwt", CMD_CHANGES | CMD_GENERATION, run_cut },
	{ "dirty", 1, "c", 0, run_dirty },
	{ "watch", 1, "u", 0, run_watch },
	{ "copy", 2, "TMDRVOSPL", 0, run_copy },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The command options, in any order with the operands. */
static int parse_command_options(int argc, char **argv, const struct command *cmd,
				 struct ctx *c)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "fail", no_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "allow-open", no_argument, NULL, 'A' },
		{ "wait", no_argument, NULL, 'w' },
		{ "clear", no_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "until", required_argument, NULL, 'u' },
		{ "threshold", required_argument, NULL, 'T' },
		{ "max-rounds", required_argument, NULL, 'M' },
		{ "drain-timeout", required_argument, NULL, 'D' },
		{ "rate", required_argument, NULL, 'R' },
		{ "verify", no_argument, NULL, 'V' },
		{ "reopen", no_argument, NULL, 'O' },
		{ "switch", no_argument, NULL, 'S' },
		{ "sparse", no_argument, NULL, 'P' },
		{ "allow-closed", no_argument, NULL, 'L' },
		{ "closes", required_argument, NULL, 'C' },
		{ "by", required_argument, NULL, 'B' },
		{ "only-by", required_argument, NULL, 'Y' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int o;

	/* optind 0 re-initialises getopt for this argument vector */
	optind = 0;
	while ((o = getopt_long(argc, argv, "j", longopts, NULL)) != -1) {
		if (o == 'j') {
			json_output = 1;
			continue;
		}
		if (o == '?' || !strchr(cmd->options, o))
			return usage("option not valid for this command");
		switch (o) {
		case 'f': c->o.fail = 1; break;
		case 'F': c->o.force = 1; break;
		case 'A': c->o.allow_open = 1; break;
		case 'w': c->o.wait = 1; break;
		case 'c': c->o.clear = 1; break;
		case 'u': c->o.until = optarg; break;
		case 't':
			if (parse_timeout(optarg, &c->o.timeout_ms))
				return usage("--timeout takes milliseconds");
			break;
		case 'D':
			if (parse_timeout(optarg, &c->co.drain_timeout_ms))
				return usage("--drain-timeout takes milliseconds");
			break;
		case 'T':
			if (fence_parse_u64(optarg, &c->co.threshold))
				return usage("--threshold takes a number of regions");
			break;
		case 'M':
			if (fence_parse_u64(optarg, &v) || v > 100000)
				return usage("--max-rounds takes a number");
			c->co.max_rounds = (int)v;
			break;
		case 'R':
			if (fence_parse_u64(optarg, &v) || !v)
				return usage("--rate takes MiB per second");
			c->co.rate_mib_s = (double)v;
			break;
		case 'V': c->co.verify = 1; break;
		case 'O': c->co.reopen = 1; break;
		case 'S': c->co.do_switch = 1; break;
		case 'P': c->co.sparse = 1; break;
		case 'L': c->co.allow_closed = 1; break;
		case 'B':
		case 'Y':
			if (!fence_by_valid(optarg))
				return usage("--by and --only-by take a name of up to 31 letters, "
					     "digits, '_', '.' or '-'");
			*(o == 'B' ? &c->o.by : &c->o.only_by) = optarg;
			break;
		case 'C':
			if (fence_parse_u64(optarg, &c->o.closes))
				return usage("--closes takes the close number");
			c->o.has_closes = 1;
			break;
		}
	}
	if (argc - optind != cmd->nargs)
		return usage("wrong number of arguments");
	if (c->co.reopen && c->co.do_switch)
		return usage("--switch reopens the device on DST: no --reopen with it");
	if (cmd->nargs > 1)
		c->arg = argv[optind + 1];
	if ((cmd->flags & CMD_GENERATION) &&
	    (fence_parse_u64(c->arg, &c->gen) || !c->gen || c->gen > DM_FENCE_MAX_GENERATION))
		return usage("GENERATION must be a number from 1 to 2^63-1");
	return EXIT_OK;
}

static int resolve_or_report(const char *arg, struct fence_device *dev)
{
	int r = fence_resolve(arg, dev);

	if (r == FENCE_NO_DEVICE)
		return report_error(arg, NULL, ENXIO, "no such device-mapper device", EXIT_NODEV);
	if (r == FENCE_NOT_FENCE)
		return report_error(arg, NULL, ENXIO, "not a fence device", EXIT_NODEV);
	if (r == FENCE_NO_PERMISSION)
		return report_error(arg, NULL, EACCES,
				    "permission denied (device-mapper needs CAP_SYS_ADMIN)",
				    EXIT_REFUSED);
	return EXIT_OK;
}

/* What a call that changed the device leaves behind: the journal, the record. */
static void after_change(const struct command *cmd, struct ctx *c,
			 const struct dm_fence_info *before, int r)
{
	const struct dm_fence_info *info = &c->info;
	/* the fence happened also when its wait timed out or found writes of unknown fate */
	int happened = !r || r == -ETIMEDOUT || r == -EINTR || r == -ENOLINK;

	if (happened && (info->state != before->state || info->generation != before->generation ||
			 (info->dev_flags & DM_FENCE_DEV_STORAGE_FENCED) !=
			 (before->dev_flags & DM_FENCE_DEV_STORAGE_FENCED)))
		log_change(c->dev.name, c->cmd, before, info);
	/*
	 * Recorded for the next boot (fencectl create): a fenced device comes
	 * back fenced at its generation (also when --wait timed out: the
	 * generation was raised).  The fence itself stands either way.
	 */
	if ((cmd->flags & CMD_RECORD) &&
	    ((!strcmp(c->cmd, "fence") && info->state == DM_FENCE_STATE_FENCED && happened) ||
	     (!strcmp(c->cmd, "unfence") && !r))) {
		int w = fence_record_put(c->dev.name, info->generation,
					 info->state == DM_FENCE_STATE_FENCED, c->o.by);

		if (w)
			fprintf(stderr, "fencectl: %s: cannot record generation %" PRIu64
				" under %s: %s (a reboot recreates it closed)\n", c->dev.name,
				(uint64_t)info->generation, fence_state_dir(), strerror(-w));
	}
}

int main(int argc, char **argv)
{
	static const struct option mainopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c = { .co = { .max_rounds = 30 } };
	const struct command *cmd;
	struct dm_fence_info before;
	const char *me = strrchr(argv[0], '/');
	int o, r, base;

	/* systemd runs us as a generator through a link of that name */
	if (!strcmp(me ? me + 1 : argv[0], "dm-fence-generator"))
		return fence_generator(argc, argv);

	while ((o = getopt_long(argc, argv, "+jh", mainopts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json_output = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return usage(NULL);
		}
	}
	if (optind >= argc)
		return usage("no command");
	c.cmd = argv[optind++];
	openlog("fencectl", LOG_PID, LOG_DAEMON);
	if (!strcmp(c.cmd, "create") || !strcmp(c.cmd, "remove"))
		return cmd_fencetab(c.cmd, argc - optind, argv + optind);
	cmd = find_command(c.cmd);
	if (!cmd)
		return usage("unknown command");
	/* the command's own argument vector starts at the command */
	base = optind - 1;
	r = parse_command_options(argc - base, argv + base, cmd, &c);
	if (r)
		return r;
	r = resolve_or_report(argv[base + optind], &c.dev);
	if (r)
		return r;

	/* no SA_RESTART: a signal ends a wait in the kernel with EINTR */
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a lost terminal or reader cancels too, rather than killing a copy */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);

	memset(&before, 0, sizeof(before));
	if (cmd->flags & CMD_CHANGES)
		fence_status(&c.dev, &before);
	r = cmd->run(&c);
	if (c.done)
		return c.exit;
	if (cmd->flags & CMD_CHANGES)
		after_change(cmd, &c, &before, r);
	/* a refusal that filled nothing (bad input, no permission): no counts */
	if (r && r != -ETIMEDOUT && r != -EINTR && r != -EBUSY && r != -EINVAL &&
	    r != -EIO && r != -ESTALE && r != -ENOLINK)
		return report_error(c.dev.name, c.cmd, -r, strerror(-r), exit_for(r));
	if (r && !json_output)
		fprintf(stderr, "fencectl: %s: %s: %s\n", c.dev.name, c.cmd,
			r == -ETIMEDOUT ? "timed out" :
			r == -ENOLINK ? "fenced, but not settled: writes of an older generation "
			"ended with an error below and may still land (fence the storage, "
			"then storage-fenced)" : strerror(-r));
	print_info(&c.dev, &c.info, c.cmd, r);
	return exit_for(r);
}
