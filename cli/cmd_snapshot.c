/* cmd_snapshot.c: `ciha snapshot take|run|rotate|list|copy|restore`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const char *const valued[] = { "--volume", "--db", "--cluster", "--tag", "--policy", "--policy-file",
	"--keep", "--keep-days", "--keep-daily", "--keep-weekly", "--keep-monthly", "--min", "--interval-hours",
	"--snapshot-tag", "--copy-region", "--copy-keep", "--kms-key", "--pre-hook", "--post-hook", "--az",
	"--snapshot", "--new-db", "--timeout", "--concurrency", NULL };
static const char *const flags[] = { "--dry-run", "--wait", NULL };
const cli_spec cmd_snapshot_spec = { valued, flags };

static void usage(void)
{
	printf("usage: ciha snapshot take|run|rotate|list|copy TARGETS POLICY [--dry-run] [--wait] [--json]\n"
	       "       ciha snapshot restore --volume ID|--snapshot SNAP --az ZONE [--wait]\n"
	       "       ciha snapshot restore --db ID|--snapshot DBSNAP --new-db ID [--wait]\n\n"
	       "targets:  --volume ID  --db ID  --cluster ID  --tag KEY=VALUE   (each repeatable)\n"
	       "policy:   --policy NAME  --keep N  --keep-days D  --keep-daily N --keep-weekly N --keep-monthly N\n"
	       "          --min N  --interval-hours H  --snapshot-tag KEY=VALUE  --policy-file FILE (JSON)\n"
	       "copy:     --copy-region REGION  --copy-keep N  --kms-key KEY\n"
	       "run:      --pre-hook CMD --post-hook CMD (EBS)  --timeout SECONDS  --concurrency N\n\n"
	       "take      snapshot each target unless its newest one is younger than the interval\n"
	       "rotate    delete what the policy no longer keeps (only snapshots libciha took under it)\n"
	       "run       take, then rotate (a target whose new snapshot failed keeps everything)\n"
	       "list      show every snapshot of the targets\n"
	       "copy      copy each target's newest snapshot to --copy-region and rotate the copies there\n"
	       "restore   make a new volume or DB instance from the newest (or a given) snapshot\n"
	       "exit status: 0 all fine, 1 an item failed (see the report), 2 usage error\n");
}

static int split_tag(const char *arg, char *key, size_t size, const char **value)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg || (size_t)(eq - arg) >= size)
		return cli_usage_error("expected KEY=VALUE, got '%s'", arg);
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	*value = eq + 1;
	return 0;
}


static int build_selector(ciha_snapshot_selector **out, const cli_args *a)
{
	ciha_snapshot_selector *sel = NULL;
	int i, rc = ciha_snapshot_selector_new(&sel);
	for (i = 0; rc == CIHA_OK && i < a->nopts; i++) {
		const char *name = a->opt_names[i], *v = a->opt_values[i];
		if (strncmp(name, "--volume", 8) == 0)
			rc = ciha_snapshot_selector_add_volume(sel, v);
		else if (strncmp(name, "--db", 4) == 0)
			rc = ciha_snapshot_selector_add_db(sel, v);
		else if (strncmp(name, "--cluster", 9) == 0)
			rc = ciha_snapshot_selector_add_cluster(sel, v);
		else if (strncmp(name, "--tag", 5) == 0) {
			char key[256];
			const char *value;
			if (split_tag(v, key, sizeof(key), &value) != 0) {
				ciha_snapshot_selector_free(sel);
				return CLI_EXIT_USAGE;
			}
			rc = ciha_snapshot_selector_add_tag(sel, key, value, 0);
		}
	}
	if (rc != CIHA_OK) {
		ciha_snapshot_selector_free(sel);
		return cli_fail(ciha_error_last());
	}
	*out = sel;
	return 0;
}

static int policy_from_file(ciha_snapshot_policy **out, const char *path)
{
	char *text = cli_read_file(path, "policy file");
	int rc;
	if (!text)
		return CLI_EXIT_ERROR;
	rc = ciha_snapshot_policy_from_json(out, text, path);
	free(text);
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

/* The policy: from --policy-file, then flags override. */
static int build_policy(ciha_snapshot_policy **out, const cli_args *a)
{
	ciha_snapshot_policy *p = NULL;
	const char *file = cli_opt(a, "--policy-file");
	int keep = -1, days = -1, daily = -1, weekly = -1, monthly = -1, min = -1, hours = -1, copy_keep = 7;
	int i, rc;
	if (cli_opt_int(a, "--keep", &keep) || cli_opt_int(a, "--keep-days", &days) ||
	    cli_opt_int(a, "--keep-daily", &daily) || cli_opt_int(a, "--keep-weekly", &weekly) ||
	    cli_opt_int(a, "--keep-monthly", &monthly) || cli_opt_int(a, "--min", &min) ||
	    cli_opt_int(a, "--interval-hours", &hours) || cli_opt_int(a, "--copy-keep", &copy_keep))
		return CLI_EXIT_USAGE;
	if (file) {
		if ((rc = policy_from_file(&p, file)) != 0)
			return rc;
	} else if (ciha_snapshot_policy_new(&p, cli_opt(a, "--policy") ? cli_opt(a, "--policy") : "default") != CIHA_OK) {
		return cli_fail(ciha_error_last());
	}
	rc = CIHA_OK;
	if (keep >= 0)
		rc = ciha_snapshot_policy_set_keep_last(p, keep);
	if (rc == CIHA_OK && days >= 0)
		rc = ciha_snapshot_policy_set_keep_days(p, days);
	if (rc == CIHA_OK && (daily >= 0 || weekly >= 0 || monthly >= 0))
		rc = ciha_snapshot_policy_set_keep_gfs(p, daily > 0 ? daily : 0, weekly > 0 ? weekly : 0, monthly > 0 ? monthly : 0);
	if (rc == CIHA_OK && min >= 0)
		rc = ciha_snapshot_policy_set_min(p, min);
	if (rc == CIHA_OK && hours >= 0)
		rc = ciha_snapshot_policy_set_interval(p, (long)hours * 3600);
	if (rc == CIHA_OK && cli_opt(a, "--copy-region"))
		rc = ciha_snapshot_policy_set_copy(p, cli_opt(a, "--copy-region"), copy_keep, cli_opt(a, "--kms-key"));
	for (i = 0; rc == CIHA_OK && i < a->nopts; i++) {
		if (strncmp(a->opt_names[i], "--snapshot-tag", 14) == 0) {
			char key[256];
			const char *value;
			if (split_tag(a->opt_values[i], key, sizeof(key), &value) != 0) {
				ciha_snapshot_policy_free(p);
				return CLI_EXIT_USAGE;
			}
			rc = ciha_snapshot_policy_add_tag(p, key, value);
		}
	}
	if (rc != CIHA_OK) {
		ciha_snapshot_policy_free(p);
		return cli_fail(ciha_error_last());
	}
	*out = p;
	return 0;
}

static int progress(const ciha_snapshot_event *ev, void *payload)
{
	(void)payload;
	if (ev->progress_percent >= 0)
		fprintf(stderr, "ciha: %s %s: %s (%d%%)\n", ev->target, ev->snapshot_id, ev->state, ev->progress_percent);
	else
		fprintf(stderr, "ciha: %s %s: %s\n", ev->target, ev->snapshot_id, ev->state);
	return 0;
}

static int build_options(ciha_snapshot_options *o, const cli_args *a)
{
	int timeout = 0, concurrency = 0;
	if (cli_opt_int(a, "--timeout", &timeout) || cli_opt_int(a, "--concurrency", &concurrency))
		return CLI_EXIT_USAGE;
	o->dry_run = cli_flag(a, "--dry-run");
	o->wait = cli_flag(a, "--wait");
	o->wait_timeout_s = timeout;
	o->concurrency = concurrency;
	o->pre_hook = cli_opt(a, "--pre-hook");
	o->post_hook = cli_opt(a, "--post-hook");
	o->progress = progress;
	if (getenv("CIHA_POLL_INTERVAL_MS"))
		o->poll_interval_ms = atol(getenv("CIHA_POLL_INTERVAL_MS"));
	return 0;
}

static void print_report_text(const ciha_snapshot_report *r)
{
	size_t i;
	for (i = 0; i < ciha_snapshot_report_count(r); i++) {
		int outcome = ciha_snapshot_report_outcome(r, i);
		const char *id = ciha_snapshot_report_snapshot_id(r, i);
		printf("%-7s %-24s %-36s %s", ciha_snapshot_report_action(r, i), ciha_snapshot_report_target(r, i),
		       id ? id : "-", ciha_snapshot_report_reason(r, i) ? ciha_snapshot_report_reason(r, i) : "");
		if (outcome == CIHA_EAGAIN)
			printf(" [planned]");
		else if (outcome != CIHA_OK)
			printf(" [FAILED: %s]", ciha_snapshot_report_message(r, i) ? ciha_snapshot_report_message(r, i)
			                                                          : ciha_strerror(outcome));
		putchar('\n');
	}
	printf("%zu items, %zu failed\n", ciha_snapshot_report_count(r), ciha_snapshot_report_failures(r));
}

static int print_report(const ciha_snapshot_report *r, int json)
{
	char *text = NULL;
	if (!json) {
		print_report_text(r);
		return 0;
	}
	if (ciha_snapshot_report_json(&text, r) != CIHA_OK)
		return cli_fail(ciha_error_last());
	puts(text);
	ciha_free(text);
	return 0;
}

typedef ciha_result (*run_fn)(ciha_snapshot_report **, ciha_client *, const ciha_snapshot_selector *,
                              const ciha_snapshot_policy *, const ciha_snapshot_options *);

static ciha_result list_fn(ciha_snapshot_report **out, ciha_client *c, const ciha_snapshot_selector *s,
                           const ciha_snapshot_policy *p, const ciha_snapshot_options *o)
{
	(void)o;
	return ciha_snapshot_list(out, c, s, p);
}

static int run_policy_command(const cli_args *a, run_fn fn)
{
	ciha_snapshot_selector *sel = NULL;
	ciha_snapshot_policy *policy = NULL;
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_report *report = NULL;
	ciha_client *client = NULL;
	int rc;
	if ((rc = build_selector(&sel, a)) != 0 || (rc = build_policy(&policy, a)) != 0 ||
	    (rc = build_options(&o, a)) != 0)
		goto done;
	if (!(client = cli_client(a))) {
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	rc = fn(&report, client, sel, policy, &o);
	if (report)
		print_report(report, a->json);
	if (rc != CIHA_OK)
		rc = cli_fail(ciha_client_error(client));
done:
	ciha_snapshot_report_free(report);
	ciha_snapshot_policy_free(policy);
	ciha_snapshot_selector_free(sel);
	ciha_client_free(client);
	return rc;
}

static int restore(const cli_args *a)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	const char *volume = cli_opt(a, "--volume"), *db = cli_opt(a, "--db"), *snapshot = cli_opt(a, "--snapshot");
	const char *az = cli_opt(a, "--az"), *new_db = cli_opt(a, "--new-db");
	ciha_client *client;
	char *id = NULL;
	int rc;
	if (build_options(&o, a) != 0)
		return CLI_EXIT_USAGE;
	o.wait = 1;
	if (!!volume + !!db + !!snapshot != 1 || (az && new_db) || (!az && !new_db))
		return cli_usage_error("restore needs one of --volume/--db/--snapshot and either --az (volume) or "
		                       "--new-db (database)");
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (az)
		rc = ciha_snapshot_restore_volume(&id, client, volume ? volume : snapshot, az, &o);
	else
		rc = ciha_snapshot_restore_db(&id, client, db ? db : snapshot, new_db, &o);
	if (rc == CIHA_OK) {
		if (a->json)
			printf("{\"%s\": \"%s\"}\n", az ? "volume_id" : "db_instance_id", id);
		else
			printf("%s\n", id);
	} else {
		rc = cli_fail(ciha_client_error(client));
	}
	ciha_free(id);
	ciha_client_free(client);
	return rc;
}

int cmd_snapshot(const cli_args *a)
{
	static const struct {
		const char *name;
		run_fn fn;
	} verbs[] = {
		{ "take", ciha_snapshot_take }, { "run", ciha_snapshot_run }, { "rotate", ciha_snapshot_rotate },
		{ "list", list_fn }, { "copy", ciha_snapshot_copy },
	};
	size_t i;
	if (a->help || a->argc == 0) {
		usage();
		return a->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (a->argc > 1)
		return cli_usage_error("unexpected argument '%s'", a->argv[1]);
	if (strcmp(a->argv[0], "restore") == 0)
		return restore(a);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(a->argv[0], verbs[i].name) == 0)
			return run_policy_command(a, verbs[i].fn);
	return cli_usage_error("unknown snapshot command '%s'", a->argv[0]);
}
