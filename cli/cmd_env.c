/* cmd_env.c: `ciha env plan|apply|audit|drill FILE`: the whole environment as one spec. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const char *const valued[] = { "--pagerduty-url", "--timeout", NULL };
static const char *const flags[] = { "--keep", NULL };
const cli_spec cmd_env_spec = { valued, flags };

static void usage(void)
{
	printf("usage: ciha env plan|apply|audit|drill FILE [--json] [--pagerduty-url URL] [--timeout SECONDS] [--keep]\n\n"
	       "plan      show every change apply would make (stacks, alarms, schedules, snapshots); nothing executed\n"
	       "apply     deploy the stacks in order, wire topic, subscription and alarms, set agent schedules,\n"
	       "          take, rotate and copy snapshots; safe to re-run\n"
	       "audit     check the invariants (security groups chained, no public ingress, termination protection,\n"
	       "          deletion and stack policies, fresh snapshots, alarm actions, subscription, schedules)\n"
	       "drill     restore the databases and volumes from their newest snapshots into scratch resources,\n"
	       "          check them, report recovery time and RPO, publish both, delete the scratch resources\n"
	       "          (--keep leaves them); Ctrl-C cleans up before exiting\n\n"
	       "--pagerduty-url URL   subscribe/check this endpoint instead of the spec's\n"
	       "progress goes to stderr; --json prints the report as JSON\n"
	       "exit status: 0 done (audit: every check passed), 1 failure (audit: a check failed), 2 usage error\n");
}

static void progress(const char *step, const char *detail, void *payload)
{
	(void)payload;
	fprintf(stderr, "%s: %s\n", step, detail);
	fflush(stderr);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* ---- text output ---------------------------------------------------------------------- */

static void print_named(const json_t *list, const char *key)
{
	json_t *item;
	size_t i;
	json_array_foreach(list, i, item) {
		const char *extra = *str(item, "error") ? str(item, "error") : *str(item, "diff") ? str(item, "diff") :
		                    str(item, "reason");
		printf("  %-10s %s%s%s\n", str(item, "action"), str(item, key), *extra ? "  " : "", extra);
	}
}

static void print_snapshots(const json_t *list)
{
	json_t *report, *item;
	size_t i, j;
	json_array_foreach(list, i, report) {
		if (*str(report, "action"))
			printf("  %-10s policy %s  %s\n", str(report, "action"), str(report, "policy"),
			       *str(report, "error") ? str(report, "error") : str(report, "reason"));
		json_array_foreach(json_object_get(report, "items"), j, item)
			if (strcmp(str(item, "action"), "keep") != 0)
				printf("  %-10s %s %s  %s\n", str(item, "action"), str(item, "target"), str(item, "snapshot_id"),
				       str(item, "reason"));
	}
}

static void print_changes(const json_t *doc)
{
	const json_t *topic = json_object_get(doc, "topic"), *sub = json_object_get(doc, "subscription");
	const json_t *alarms = json_object_get(doc, "alarms");
	if (json_object_get(alarms, "items"))
		alarms = json_object_get(alarms, "items");
	printf("stacks:\n");
	print_named(json_object_get(doc, "stacks"), "name");
	if (topic)
		printf("topic:\n  %-10s %s\n", str(topic, "action"), str(topic, "name"));
	if (sub)
		printf("subscription:\n  %-10s %s\n", str(sub, "action"), str(sub, "status"));
	if (json_is_array(alarms)) {
		printf("alarms:\n");
		print_named(alarms, "name");
	} else if (alarms)
		printf("alarms:\n  %-10s %s\n", str(alarms, "action"), *str(alarms, "error") ? str(alarms, "error") :
		       str(alarms, "reason"));
	printf("schedules:\n");
	print_named(json_object_get(doc, "schedules"), "group");
	printf("snapshots:\n");
	print_snapshots(json_object_get(doc, "snapshots"));
	printf("%lld change(s)\n", (long long)json_integer_value(json_object_get(doc, "changes")));
}

static void print_audit(const json_t *doc)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(doc, "checks"), i, c)
		printf("%s  %-24s %-28s %s\n", json_is_true(json_object_get(c, "ok")) ? "PASS" : "FAIL", str(c, "check"),
		       str(c, "subject"), str(c, "evidence"));
	printf("%lld passed, %lld failed\n", (long long)json_integer_value(json_object_get(doc, "passed")),
	       (long long)json_integer_value(json_object_get(doc, "failed")));
}

static void print_drill(const json_t *doc)
{
	json_t *r, *c;
	size_t i, j;
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		printf("%-6s %s: %s from %s into %s in %.1f s, RPO %lld s, cleanup %s\n", str(r, "kind"), str(r, "source"),
		       json_is_true(json_object_get(r, "ok")) ? "restored" : "FAILED", str(r, "snapshot"), str(r, "scratch"),
		       json_number_value(json_object_get(r, "restore_seconds")),
		       (long long)json_integer_value(json_object_get(r, "rpo_seconds")), str(r, "cleanup"));
		json_array_foreach(json_object_get(r, "checks"), j, c)
			printf("         %s %-10s %s\n", json_is_true(json_object_get(c, "ok")) ? "ok  " : "FAIL", str(c, "check"),
			       str(c, "detail"));
	}
	printf("recovery time %.1f s, recovery point age %.0f s, metrics %s%s\n",
	       json_number_value(json_object_get(doc, "recovery_time_seconds")),
	       json_number_value(json_object_get(doc, "recovery_point_age_seconds")),
	       json_is_true(json_object_get(doc, "metrics_published")) ? "published" : "not published",
	       json_is_true(json_object_get(doc, "interrupted")) ? " (interrupted)" : "");
}

/* ---- running ---------------------------------------------------------------------------- */

typedef ciha_result (*env_fn)(char **, ciha_client *, const ciha_env *, const ciha_env_options *);

static int run(const cli_args *a, const char *verb, env_fn fn, void (*print)(const json_t *), const ciha_env *env)
{
	ciha_env_options o = CIHA_ENV_OPTIONS_INIT;
	ciha_client *client;
	char *text = NULL;
	json_t *doc;
	int rc;
	const char *poll = getenv("CIHA_POLL_INTERVAL_MS");
	if (cli_opt_int(a, "--timeout", &rc) != 0)
		return CLI_EXIT_USAGE;
	o.timeout_s = cli_opt(a, "--timeout") ? rc : 0;
	o.progress = progress;
	o.poll_interval_ms = poll ? atol(poll) : 0;
	o.pagerduty_url = cli_opt(a, "--pagerduty-url");
	o.keep_drill_resources = cli_flag(a, "--keep");
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	fprintf(stderr, "%s: environment %s\n", verb, ciha_env_name(env));
	rc = fn(&text, client, env, &o);
	if (text && (doc = json_loads(text, 0, NULL)) != NULL) {
		if (a->json)
			cli_print_json(doc);
		else
			print(doc);
		json_decref(doc);
	}
	ciha_free(text);
	if (rc != CIHA_OK)
		rc = cli_fail(ciha_client_error(client));
	ciha_client_free(client);
	return rc == CIHA_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

int cmd_env(const cli_args *a)
{
	static const struct {
		const char *verb;
		env_fn fn;
		void (*print)(const json_t *);
	} verbs[] = {
		{ "plan", ciha_env_plan, print_changes },
		{ "apply", ciha_env_apply, print_changes },
		{ "audit", ciha_env_audit, print_audit },
		{ "drill", ciha_env_drill, print_drill },
	};
	ciha_env *env = NULL;
	size_t i;
	int rc;
	if (a->help) {
		usage();
		return CLI_EXIT_OK;
	}
	if (a->argc < 1)
		return cli_usage_error("env needs a verb: plan, apply, audit or drill (ciha env --help)");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(a->argv[0], verbs[i].verb) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return cli_usage_error("unknown env verb '%s' (plan, apply, audit, drill)", a->argv[0]);
	if (a->argc != 2)
		return cli_usage_error("ciha env %s needs exactly one FILE (the environment spec)", a->argv[0]);
	if (ciha_env_load(&env, a->argv[1]) != CIHA_OK)
		return cli_fail(ciha_error_last());
	rc = run(a, verbs[i].verb, verbs[i].fn, verbs[i].print, env);
	ciha_env_free(env);
	return rc;
}
