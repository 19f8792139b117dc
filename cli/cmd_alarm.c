/* cmd_alarm.c: `ciha alarm apply|list|drill|topic|subscribe`, `ciha probe mounts|snapshot-age`
 * and `ciha pagerduty trigger|ack|resolve`. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const char *const alarm_valued[] = { "--prefix", "--endpoint", "--resolve-after-ms", NULL };
static const char *const alarm_flags[] = { "--dry-run", "--allow-http", NULL };
const cli_spec cmd_alarm_spec = { alarm_valued, alarm_flags };

static const char *const probe_valued[] = { "--host", "--expect", "--mountinfo", NULL };
static const char *const probe_flags[] = { "--no-publish", NULL };
const cli_spec cmd_probe_spec = { probe_valued, probe_flags };

/* --routing-key is listed only to refuse it with the reason. */
static const char *const pd_valued[] = { "--dedup-key", "--summary", "--source", "--severity", "--details",
	"--routing-key-file", "--routing-key", "--pagerduty-url", NULL };
const cli_spec cmd_pagerduty_spec = { pd_valued, NULL };


/* ---- shared pieces ------------------------------------------------------------------------ */


static int expect_args(const cli_args *a, int min, int max, const char *usage_line)
{
	if (a->argc - 1 < min)
		return cli_usage_error("usage: %s", usage_line);
	if (a->argc - 1 > max)
		return cli_usage_error("unexpected argument '%s'", a->argv[max + 1]);
	return 0;
}

static int print_text_or_json(const char *json_text, int json, void (*text)(const json_t *))
{
	json_t *doc;
	if (json) {
		puts(json_text);
		return 0;
	}
	if (!(doc = json_loads(json_text, 0, NULL)))
		return cli_usage_error("cannot read the library's JSON");
	text(doc);
	json_decref(doc);
	return 0;
}

/* One result: `line` as text, or `doc` (taken over) as JSON with --json. */
static int print_result(const cli_args *a, const char *line, json_t *doc)
{
	int rc = 0;
	if (a->json)
		rc = doc ? cli_print_json(doc) : cli_usage_error("out of memory");
	else
		puts(line);
	json_decref(doc);
	return rc;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ---- ciha alarm --------------------------------------------------------------------------- */

static void alarm_usage(void)
{
	printf("usage: ciha alarm apply FILE [--dry-run] [--json]\n"
	       "       ciha alarm list [--prefix P] [--json]\n"
	       "       ciha alarm drill FILE --endpoint URL [--allow-http] [--resolve-after-ms N] [--json]\n"
	       "       ciha alarm topic NAME\n"
	       "       ciha alarm subscribe TOPIC_ARN URL [--allow-http]\n\n"
	       "apply     reconcile the alarms of FILE (JSON: prefix, topic_arn, alarms) under its prefix: create the\n"
	       "          missing, update the changed, delete stale ones libciha manages; --dry-run shows the plan only\n"
	       "list      alarms under the prefix with state, ALARM/OK actions and missing-data treatment\n"
	       "drill     check FILE's alarms send ALARM and OK to the topic and the topic has a confirmed subscription\n"
	       "          to URL, then page through the topic and resolve (proves the path to PagerDuty end to end)\n"
	       "topic     create the SNS topic NAME if missing; prints its ARN\n"
	       "subscribe subscribe a PagerDuty CloudWatch integration URL (https) to the topic once; prints the\n"
	       "          subscription and whether it is confirmed\n"
	       "--allow-http  accept a plain http:// URL (a local receiver in tests)\n"
	       "exit status: 0 success, 1 error (a failed item, a failed drill check), 2 usage error\n");
}

static int load_set(ciha_alarm_set **out, const char *path)
{
	char *text = cli_read_file(path, "alarm file");
	int rc;
	if (!text)
		return CLI_EXIT_ERROR;
	rc = ciha_alarm_set_from_json(out, text, path);
	free(text);
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

static void print_plan_text(const ciha_alarm_plan *plan, int dry_run)
{
	size_t i, n = ciha_alarm_plan_count(plan), changes = 0, failed = 0;
	for (i = 0; i < n; i++) {
		const char *action = ciha_alarm_plan_action(plan, i), *diff = ciha_alarm_plan_diff(plan, i);
		int outcome = ciha_alarm_plan_outcome(plan, i);
		printf("%-9s %s", action, ciha_alarm_plan_name(plan, i));
		if (diff && *diff)
			printf("  (%s)", diff);
		if (outcome == CIHA_EAGAIN)
			printf(" [planned]");
		else if (outcome != CIHA_OK)
			printf(" [FAILED: %s]", ciha_strerror(outcome));
		putchar('\n');
		changes += strcmp(action, "unchanged") != 0;
		failed += outcome != CIHA_OK && outcome != CIHA_EAGAIN;
	}
	printf("%zu alarms, %zu changes%s, %zu failed\n", n, changes, dry_run ? " planned" : "", failed);
}

static int alarm_apply(const cli_args *a, ciha_client *client)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_plan *plan = NULL;
	char *json = NULL;
	int dry_run = cli_flag(a, "--dry-run"), rc;
	if ((rc = expect_args(a, 1, 1, "ciha alarm apply FILE [--dry-run]")) != 0 || (rc = load_set(&set, a->argv[1])) != 0)
		return rc;
	rc = ciha_alarm_apply(&plan, client, set, dry_run);
	if (plan && a->json) {
		if (ciha_alarm_plan_json(&json, plan) == CIHA_OK)
			puts(json);
		ciha_free(json);
	} else if (plan) {
		print_plan_text(plan, dry_run);
	}
	rc = rc == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
	return rc;
}

static void print_alarms_text(const json_t *alarms)
{
	size_t i;
	for (i = 0; i < json_array_size(alarms); i++) {
		const json_t *al = json_array_get(alarms, i);
		printf("%-40s %-17s missing-data=%-12s ALARM->%zu OK->%zu%s\n", str(al, "name"), str(al, "state"),
		       str(al, "missing_data"), json_array_size(json_object_get(al, "alarm_actions")),
		       json_array_size(json_object_get(al, "ok_actions")),
		       json_is_true(json_object_get(al, "managed")) ? " managed" : "");
	}
	printf("%zu alarms\n", json_array_size(alarms));
}

static int alarm_list(const cli_args *a, ciha_client *client)
{
	char *json = NULL;
	int rc = expect_args(a, 0, 0, "ciha alarm list [--prefix P]");
	if (rc != 0)
		return rc;
	if (ciha_alarm_list(&json, client, cli_opt(a, "--prefix") ? cli_opt(a, "--prefix") : "") != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	rc = print_text_or_json(json, a->json, print_alarms_text);
	ciha_free(json);
	return rc;
}

static int check_url_scheme(const cli_args *a, const char *url)
{
	if (strncmp(url, "https://", 8) == 0 || (cli_flag(a, "--allow-http") && strncmp(url, "http://", 7) == 0))
		return 0;
	return cli_usage_error("the endpoint must be an https:// URL (--allow-http accepts http:// for a local receiver)");
}

static void print_steps_text(const json_t *steps)
{
	size_t i;
	for (i = 0; i < json_array_size(steps); i++) {
		const json_t *s = json_array_get(steps, i);
		printf("%-4s %-14s %s\n", json_is_true(json_object_get(s, "ok")) ? "ok" : "FAIL", str(s, "step"),
		       str(s, "detail"));
	}
}

static int alarm_drill(const cli_args *a, ciha_client *client)
{
	const char *endpoint = cli_opt(a, "--endpoint");
	ciha_alarm_set *set = NULL;
	char *json = NULL;
	int resolve_after_ms = 1000, rc;
	if ((rc = expect_args(a, 1, 1, "ciha alarm drill FILE --endpoint URL")) != 0 ||
	    (rc = cli_opt_int(a, "--resolve-after-ms", &resolve_after_ms)) != 0)
		return rc;
	if (!endpoint)
		return cli_usage_error("drill needs --endpoint URL (the PagerDuty integration URL subscribed to the topic)");
	if ((rc = check_url_scheme(a, endpoint)) != 0 || (rc = load_set(&set, a->argv[1])) != 0)
		return rc;
	rc = ciha_alarm_drill(&json, client, set, endpoint, resolve_after_ms);
	if (json)
		print_text_or_json(json, a->json, print_steps_text);
	rc = rc == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
	ciha_free(json);
	ciha_alarm_set_free(set);
	return rc;
}

static int alarm_topic(const cli_args *a, ciha_client *client)
{
	char *arn = NULL;
	int rc = expect_args(a, 1, 1, "ciha alarm topic NAME");
	if (rc != 0)
		return rc;
	if (ciha_alarm_topic_ensure(&arn, client, a->argv[1]) != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	rc = print_result(a, arn, json_pack("{s:s}", "topic_arn", arn));
	ciha_free(arn);
	return rc;
}

static int alarm_subscribe(const cli_args *a, ciha_client *client)
{
	char *arn = NULL, line[1200];
	int confirmed = -1, rc = expect_args(a, 2, 2, "ciha alarm subscribe TOPIC_ARN URL [--allow-http]");
	if (rc != 0)
		return rc;
	if (ciha_alarm_subscribe(&arn, client, a->argv[1], a->argv[2], cli_flag(a, "--allow-http")) != CIHA_OK ||
	    ciha_alarm_subscription_status(&confirmed, client, a->argv[1], a->argv[2]) != CIHA_OK) {
		ciha_free(arn);
		return cli_fail(ciha_client_error(client));
	}
	snprintf(line, sizeof(line), "%s %s", arn, confirmed == 1 ? "confirmed" : "pending-confirmation");
	rc = print_result(a, line, json_pack("{s:s, s:b}", "subscription_arn", arn, "confirmed", confirmed == 1));
	ciha_free(arn);
	return rc;
}

typedef int (*verb_fn)(const cli_args *a, ciha_client *client);

/* Find the verb, make the client, run. */
static int dispatch(const cli_args *a, const char *command, const char *const *names, const verb_fn *fns,
                    void (*usage)(void))
{
	ciha_client *client;
	size_t i;
	int rc;
	if (a->help || a->argc == 0) {
		usage();
		return a->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	for (i = 0; names[i] && strcmp(names[i], a->argv[0]) != 0; i++)
		;
	if (!names[i])
		return cli_usage_error("unknown %s command '%s'", command, a->argv[0]);
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	rc = fns[i](a, client);
	ciha_client_free(client);
	return rc;
}

int cmd_alarm(const cli_args *a)
{
	static const char *const names[] = { "apply", "list", "drill", "topic", "subscribe", NULL };
	static const verb_fn fns[] = { alarm_apply, alarm_list, alarm_drill, alarm_topic, alarm_subscribe };
	return dispatch(a, "alarm", names, fns, alarm_usage);
}

/* ---- ciha probe ------------------------------------------------------------------------------ */

static void probe_usage(void)
{
	printf("usage: ciha probe mounts PATH... [--host H] [--expect PATH=SOURCE]... [--mountinfo FILE] [--no-publish]\n"
	       "       ciha probe snapshot-age TARGET [--no-publish]\n\n"
	       "mounts        check each PATH is itself a mount point (from /proc/self/mountinfo), on SOURCE when\n"
	       "              --expect names one (a device such as /dev/nvme1n1, a symlink to it, or a file system type);\n"
	       "              publishes CIHA/VolumeMounted 1 or 0 with dimensions Host (--host, default this machine's\n"
	       "              name) and MountPoint, which the volume-not-mounted alarm preset watches\n"
	       "snapshot-age  age of the newest completed snapshot of TARGET (vol-... or a DB instance identifier);\n"
	       "              publishes CIHA/SnapshotAgeSeconds with dimension Target (the snapshot-too-old preset)\n"
	       "--no-publish  only check and print; nothing is sent to CloudWatch\n"
	       "run both from cron: every 5 minutes for mounts, hourly for snapshot-age\n"
	       "exit status: 0 all as expected, 1 a mount point missing or wrong, no snapshot or an error, 2 usage error\n");
}

/* The --expect value for mount point `path` ("PATH=SOURCE"), or NULL. */
static const char *expected_for(const cli_args *a, const char *path)
{
	size_t n = strlen(path);
	const char *found = NULL;
	int i;
	for (i = 0; i < a->nopts; i++)
		if (strncmp(a->opt_names[i], "--expect", 8) == 0 && strncmp(a->opt_values[i], path, n) == 0 &&
		    a->opt_values[i][n] == '=')
			found = a->opt_values[i] + n + 1;
	return found;
}

static int check_expectations(const cli_args *a)
{
	int i, j;
	for (i = 0; i < a->nopts; i++) {
		const char *v = a->opt_values[i];
		int matched = 0;
		if (strncmp(a->opt_names[i], "--expect", 8) != 0)
			continue;
		for (j = 1; j < a->argc; j++)
			matched |= strncmp(v, a->argv[j], strlen(a->argv[j])) == 0 && v[strlen(a->argv[j])] == '=';
		if (!matched)
			return cli_usage_error("--expect '%s' names no PATH of the command (expected PATH=SOURCE)", v);
	}
	return 0;
}

static void print_mounts_text(const json_t *report)
{
	const json_t *mounts = json_object_get(report, "mounts");
	size_t i;
	for (i = 0; i < json_array_size(mounts); i++) {
		const json_t *m = json_array_get(mounts, i);
		printf("%-7s %-32s %s\n", json_is_true(json_object_get(m, "ok")) ? "ok" : "MISSING", str(m, "mount_point"),
		       str(m, "detail"));
	}
	printf("host %s, %s\n", str(report, "host"),
	       json_is_true(json_object_get(report, "published")) ? "published to CloudWatch" : "not published");
}

static int probe_mounts(const cli_args *a, ciha_client *client)
{
	size_t n = (size_t)(a->argc - 1), i;
	const char **points, **expected;
	char *json = NULL;
	int rc;
	if (a->argc < 2)
		return cli_usage_error("usage: ciha probe mounts PATH... [--expect PATH=SOURCE]");
	if ((rc = check_expectations(a)) != 0)
		return rc;
	points = calloc(n, sizeof(*points));
	expected = calloc(n, sizeof(*expected));
	if (!points || !expected) {
		free(points);
		free(expected);
		return cli_usage_error("out of memory");
	}
	for (i = 0; i < n; i++) {
		points[i] = a->argv[i + 1];
		expected[i] = expected_for(a, points[i]);
	}
	rc = ciha_probe_mounts(&json, client, cli_opt(a, "--host"), points, expected, n, cli_opt(a, "--mountinfo"),
	                       !cli_flag(a, "--no-publish"));
	if (json)
		print_text_or_json(json, a->json, print_mounts_text);
	rc = rc == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
	ciha_free(json);
	free(points);
	free(expected);
	return rc;
}

static int probe_snapshot_age(const cli_args *a, ciha_client *client)
{
	int64_t age = 0;
	char line[1200];
	int publish = !cli_flag(a, "--no-publish");
	int rc = expect_args(a, 1, 1, "ciha probe snapshot-age TARGET [--no-publish]");
	if (rc != 0)
		return rc;
	if (ciha_probe_snapshot_age(&age, client, a->argv[1], publish) != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	snprintf(line, sizeof(line), "%s: newest completed snapshot is %lld s old (%s)", a->argv[1], (long long)age,
	         publish ? "published to CloudWatch" : "not published");
	return print_result(a, line, json_pack("{s:s, s:I, s:b}", "target", a->argv[1], "age_seconds", (json_int_t)age,
	                                       "published", publish));
}

int cmd_probe(const cli_args *a)
{
	static const char *const names[] = { "mounts", "snapshot-age", NULL };
	static const verb_fn fns[] = { probe_mounts, probe_snapshot_age };
	return dispatch(a, "probe", names, fns, probe_usage);
}

/* ---- ciha pagerduty ------------------------------------------------------------------------------ */

static void pagerduty_usage(void)
{
	printf("usage: ciha pagerduty trigger --summary S [--dedup-key K] [--source S] [--severity S] [--details JSON]\n"
	       "       ciha pagerduty ack|resolve --dedup-key K\n"
	       "       routing key: --routing-key-file FILE, or the environment variable CIHA_PAGERDUTY_ROUTING_KEY\n\n"
	       "trigger   open (or add to) the incident of the dedup key; prints the dedup key PagerDuty used\n"
	       "ack       acknowledge the incident of the dedup key\n"
	       "resolve   resolve it\n"
	       "--source    the affected host or service (default: this machine's name)\n"
	       "--severity  critical, error (default), warning or info\n"
	       "--details   custom details as JSON\n"
	       "--pagerduty-url URL  the Events API v2 endpoint (default: CIHA_PAGERDUTY_URL, then\n"
	       "                     https://events.pagerduty.com/v2/enqueue)\n"
	       "The routing key is never taken on the command line: arguments are visible to every user of the\n"
	       "machine (ps, /proc) and end up in shell history. Keep it in a file only you can read, or in the\n"
	       "environment.\n"
	       "exit status: 0 accepted by PagerDuty, 1 refused or unreachable, 2 usage error\n");
}

/* The routing key from --routing-key-file or CIHA_PAGERDUTY_ROUTING_KEY (free with wipe_free), or NULL. */
static char *routing_key(const cli_args *a, int *rc)
{
	const char *file = cli_opt(a, "--routing-key-file"), *env = getenv("CIHA_PAGERDUTY_ROUTING_KEY");
	char *key = NULL;
	size_t start, end;
	*rc = 0;
	if (cli_opt(a, "--routing-key")) {
		*rc = cli_usage_error("--routing-key is refused: a key on the command line is visible to every user (ps) "
		                      "and kept in shell history; use --routing-key-file FILE or CIHA_PAGERDUTY_ROUTING_KEY");
		return NULL;
	}
	if (file)
		key = cli_read_file(file, "routing key file");
	else if (env && *env)
		key = strdup(env);
	else
		*rc = cli_usage_error("no PagerDuty routing key: give --routing-key-file FILE or set "
		                      "CIHA_PAGERDUTY_ROUTING_KEY");
	if (!key) {
		*rc = *rc ? *rc : CLI_EXIT_ERROR;
		return NULL;
	}
	for (start = 0; key[start] == ' ' || key[start] == '\t' || key[start] == '\n' || key[start] == '\r'; start++)
		;
	end = strlen(key);
	while (end > start && (key[end - 1] == ' ' || key[end - 1] == '\t' || key[end - 1] == '\n' || key[end - 1] == '\r'))
		end--;
	memmove(key, key + start, end - start);
	key[end - start] = '\0';
	return key;
}

static void wipe_free(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

static int pd_trigger(const cli_args *a, ciha_pagerduty *pd)
{
	char host[256], *dedup = NULL;
	const char *source = cli_opt(a, "--source");
	int rc;
	if (!cli_opt(a, "--summary"))
		return cli_usage_error("trigger needs --summary TEXT");
	if (!source) {
		if (gethostname(host, sizeof(host)) != 0)
			snprintf(host, sizeof(host), "ciha");
		host[sizeof(host) - 1] = '\0';
		source = host;
	}
	if (ciha_pagerduty_trigger(&dedup, pd, cli_opt(a, "--dedup-key"), cli_opt(a, "--summary"), source,
	                           cli_opt(a, "--severity") ? cli_opt(a, "--severity") : "error",
	                           cli_opt(a, "--details")) != CIHA_OK)
		return cli_fail(ciha_error_last());
	rc = print_result(a, dedup, json_pack("{s:s, s:s}", "action", "trigger", "dedup_key", dedup));
	ciha_free(dedup);
	return rc;
}

static int pd_follow_up(const cli_args *a, ciha_pagerduty *pd, int resolve)
{
	const char *dedup = cli_opt(a, "--dedup-key");
	char line[300];
	int rc;
	if (!dedup)
		return cli_usage_error("%s needs --dedup-key KEY", resolve ? "resolve" : "ack");
	rc = resolve ? ciha_pagerduty_resolve(pd, dedup) : ciha_pagerduty_acknowledge(pd, dedup);
	if (rc != CIHA_OK)
		return cli_fail(ciha_error_last());
	snprintf(line, sizeof(line), "%s %s", resolve ? "resolved" : "acknowledged", dedup);
	return print_result(a, line, json_pack("{s:s, s:s}", "action", resolve ? "resolve" : "acknowledge", "dedup_key",
	                                       dedup));
}

/* PagerDuty needs no AWS region; the client only lends timeouts, the CA bundle and the log. */
static int with_pager(const cli_args *a, int verb)
{
	cli_args settings = *a;
	ciha_client *client;
	ciha_pagerduty *pd = NULL;
	char *key;
	int rc;
	if ((key = routing_key(a, &rc)) == NULL)
		return rc;
	settings.region = a->region ? a->region : "us-east-1";
	if (!(client = cli_client(&settings))) {
		wipe_free(key);
		return CLI_EXIT_ERROR;
	}
	if (ciha_pagerduty_new(&pd, key, cli_opt(a, "--pagerduty-url"), client) != CIHA_OK)
		rc = cli_fail(ciha_error_last());
	else
		rc = verb == 0 ? pd_trigger(a, pd) : pd_follow_up(a, pd, verb == 2);
	wipe_free(key);
	ciha_pagerduty_free(pd);
	ciha_client_free(client);
	return rc;
}

int cmd_pagerduty(const cli_args *a)
{
	static const char *const verbs[] = { "trigger", "ack", "resolve", NULL };
	int i;
	if (a->help || a->argc == 0) {
		pagerduty_usage();
		return a->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (a->argc > 1)
		return cli_usage_error("unexpected argument '%s'", a->argv[1]);
	for (i = 0; verbs[i]; i++)
		if (strcmp(a->argv[0], verbs[i]) == 0 || (i == 1 && strcmp(a->argv[0], "acknowledge") == 0))
			return with_pager(a, i);
	return cli_usage_error("unknown pagerduty command '%s'", a->argv[0]);
}
