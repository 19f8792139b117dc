/* cmd_stack.c: `ciha stack deploy|status|outputs|events|delete|drift|protect|policy|check|diagnose|fix|list|
 * schedule|scale|recover`. Results go to stdout, stack events as they stream to stderr. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli_int.h"

static const char *const valued[] = { "--template", "--param", "--previous", "--snapshot-param", "--tag",
	"--capability", "--notification-arn", "--policy", "--role-arn", "--timeout-minutes", "--on-failure",
	"--timeout", "--set", "--stop", "--start", "--tz", "--day-size", "--night-size", "--max-size", "--max", NULL };
static const char *const flags[] = { "--protect", "--allow-replace", "--no-execute", "--follow", "--final-snapshots",
	"--no-wait", "--generate", "--force", "--list", "--remove", "--include-deleted", NULL };
const cli_spec cmd_stack_spec = { valued, flags };

static void usage(void)
{
	printf("usage: ciha stack deploy NAME --template FILE [--param K=V ...] [--previous K ...]\n"
	       "                [--snapshot-param K=rds:DB|ebs:VOLUME ...] [--tag K=V ...] [--capability C ...]\n"
	       "                [--notification-arn ARN ...] [--protect] [--policy FILE] [--allow-replace] [--no-execute]\n"
	       "                [--role-arn ARN] [--timeout-minutes N] [--on-failure ROLLBACK|DELETE|DO_NOTHING]\n"
	       "       ciha stack recover NAME --template FILE --snapshot-param K=rds:DB|ebs:VOLUME ... [deploy options]\n"
	       "       ciha stack status|outputs|drift|diagnose NAME\n"
	       "       ciha stack events NAME [--follow] [--max N]\n"
	       "       ciha stack delete NAME [--final-snapshots] [--no-wait]\n"
	       "       ciha stack protect NAME on|off\n"
	       "       ciha stack policy NAME [--set FILE | --generate [--template FILE]]\n"
	       "       ciha stack check --template FILE\n"
	       "       ciha stack fix NAME [--force]\n"
	       "       ciha stack list [--include-deleted]\n"
	       "       ciha stack schedule GROUP --stop CRON --start CRON [--tz ZONE] [--day-size N] [--max-size N]\n"
	       "                [--night-size N] | --list | --remove\n"
	       "       ciha stack scale GROUP N\n\n"
	       "deploy    create or update through a change set: print its changes ('!' marks replacing or removing\n"
	       "          a resource that holds data, refused without --allow-replace), execute, stream the events\n"
	       "recover   deploy with the parameters set to the newest snapshot of a DB instance or volume\n"
	       "check     list stateful resources without DeletionPolicy/UpdateReplacePolicy Snapshot or Retain\n"
	       "diagnose  classify a stuck stack and name the safe action; fix applies it\n"
	       "schedule  stop the agents at night and start them in the morning (Auto Scaling scheduled actions)\n"
	       "--timeout SECONDS bounds every wait; --json prints results as JSON\n"
	       "exit status: 0 success (also 'no changes'), 1 error or failed stack, 2 usage error\n");
}

/* ---- small helpers --------------------------------------------------------- */

static int opt_is(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}


/* "KEY=VALUE": a new copy of KEY in *key, VALUE borrowed from arg. */
static int split_pair(const char *arg, const char *option, char **key, const char **value)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return cli_usage_error("%s expects KEY=VALUE, got '%s'", option, arg);
	if (!(*key = malloc((size_t)(eq - arg) + 1)))
		return cli_usage_error("out of memory");
	memcpy(*key, arg, (size_t)(eq - arg));
	(*key)[eq - arg] = '\0';
	*value = eq + 1;
	return 0;
}

static long poll_interval_ms(void)
{
	const char *v = getenv("CIHA_POLL_INTERVAL_MS");
	return v ? atol(v) : 0;
}

static void format_time(char *buf, size_t size, int64_t when)
{
	time_t t = (time_t)when;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)when);
}

static void write_event(FILE *to, const ciha_stack_event *ev)
{
	char when[32];
	format_time(when, sizeof(when), ev->timestamp);
	fprintf(to, "%s  %-28s %-36s %-20s %s\n", when, ev->logical_id ? ev->logical_id : "-",
	        ev->resource_type ? ev->resource_type : "-", ev->status ? ev->status : "-", ev->reason ? ev->reason : "");
	fflush(to);
}

/* Progress while waiting: to stderr, as the events arrive. */
static int print_event(const ciha_stack_event *ev, void *payload)
{
	(void)payload;
	write_event(stderr, ev);
	return 0;
}

static int print_json_text(const char *text)
{
	puts(text);
	return CLI_EXIT_OK;
}

/* Exactly `n` positionals after the verb, the first being the subject. */
static int want_args(const cli_args *a, int n, const char *shape)
{
	if (a->argc < n + 1)
		return cli_usage_error("usage: ciha stack %s", shape);
	if (a->argc > n + 1)
		return cli_usage_error("unexpected argument '%s'", a->argv[n + 1]);
	return 0;
}

static int fail_client(ciha_client *client)
{
	int rc = cli_fail(ciha_client_error(client));
	ciha_client_free(client);
	return rc;
}

/* ---- deploy and recover ------------------------------------------------------ */

static int add_snapshot_param(ciha_stack_spec *spec, const char *arg)
{
	const char *value, *colon;
	char *key = NULL, kind[8];
	int rc;
	if (split_pair(arg, "--snapshot-param", &key, &value) != 0)
		return CLI_EXIT_USAGE;
	colon = strchr(value, ':');
	if (!colon || colon[1] == '\0' || (size_t)(colon - value) >= sizeof(kind) ||
	    (strncmp(value, "rds:", 4) != 0 && strncmp(value, "ebs:", 4) != 0)) {
		free(key);
		return cli_usage_error("--snapshot-param expects KEY=rds:DB-INSTANCE or KEY=ebs:VOLUME-ID, got '%s'", arg);
	}
	memcpy(kind, value, (size_t)(colon - value));
	kind[colon - value] = '\0';
	rc = ciha_stack_spec_add_snapshot_parameter(spec, key, kind, colon + 1);
	free(key);
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

static int add_pair(ciha_stack_spec *spec, const char *option, const char *arg)
{
	const char *value;
	char *key = NULL;
	int rc;
	if (split_pair(arg, option, &key, &value) != 0)
		return CLI_EXIT_USAGE;
	rc = strcmp(option, "--tag") == 0 ? ciha_stack_spec_add_tag(spec, key, value)
	                                   : ciha_stack_spec_add_parameter(spec, key, value);
	free(key);
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

/* One repeatable deploy option onto the spec. */
static int add_list_option(ciha_stack_spec *spec, const char *name, const char *v)
{
	int rc = CIHA_OK;
	if (opt_is(name, "--param"))
		return add_pair(spec, "--param", v);
	if (opt_is(name, "--tag"))
		return add_pair(spec, "--tag", v);
	if (opt_is(name, "--snapshot-param"))
		return add_snapshot_param(spec, v);
	if (opt_is(name, "--previous"))
		rc = ciha_stack_spec_use_previous(spec, v);
	else if (opt_is(name, "--capability"))
		rc = ciha_stack_spec_add_capability(spec, v);
	else if (opt_is(name, "--notification-arn"))
		rc = ciha_stack_spec_add_notification_arn(spec, v);
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

static int add_settings(ciha_stack_spec *spec, const cli_args *a)
{
	const char *policy_file = cli_opt(a, "--policy");
	int minutes = 0, rc = CIHA_OK;
	if (cli_opt_int(a, "--timeout-minutes", &minutes))
		return CLI_EXIT_USAGE;
	if (cli_opt(a, "--role-arn"))
		rc = ciha_stack_spec_set_role_arn(spec, cli_opt(a, "--role-arn"));
	if (rc == CIHA_OK && minutes > 0)
		rc = ciha_stack_spec_set_timeout_minutes(spec, minutes);
	if (rc == CIHA_OK && cli_opt(a, "--on-failure"))
		rc = ciha_stack_spec_set_on_failure(spec, cli_opt(a, "--on-failure"));
	if (rc == CIHA_OK && cli_flag(a, "--protect"))
		rc = ciha_stack_spec_set_termination_protection(spec, 1);
	if (rc == CIHA_OK && policy_file) {
		char *policy = cli_read_file(policy_file, "policy file");
		if (!policy)
			return CLI_EXIT_ERROR;
		rc = ciha_stack_spec_set_policy_body(spec, policy);
		free(policy);
	}
	return rc == CIHA_OK ? 0 : cli_fail(ciha_error_last());
}

static int build_spec(ciha_stack_spec **out, const cli_args *a, const char *name)
{
	ciha_stack_spec *spec = NULL;
	const char *template_file = cli_opt(a, "--template");
	int i, rc;
	if (!template_file)
		return cli_usage_error("stack %s needs --template FILE", a->argv[0]);
	if (ciha_stack_spec_new(&spec, name) != CIHA_OK || ciha_stack_spec_set_template_file(spec, template_file) != CIHA_OK) {
		ciha_stack_spec_free(spec);
		return cli_fail(ciha_error_last());
	}
	rc = add_settings(spec, a);
	for (i = 0; rc == 0 && i < a->nopts; i++)
		rc = add_list_option(spec, a->opt_names[i], a->opt_values[i]);
	if (rc != 0) {
		ciha_stack_spec_free(spec);
		return rc;
	}
	*out = spec;
	return 0;
}

static void print_changes(const ciha_stack_deployment *d, const char *name)
{
	size_t i, n = ciha_stack_deployment_change_count(d);
	if (n == 0)
		return;
	printf("changes to %s (%s):\n", name, ciha_stack_deployment_action(d));
	for (i = 0; i < n; i++) {
		const char *replacement = ciha_stack_deployment_change_replacement(d, i);
		int dangerous = ciha_stack_deployment_change_dangerous(d, i);
		printf("%c %-8s %-28s %-36s", dangerous ? '!' : ' ', ciha_stack_deployment_change_action(d, i),
		       ciha_stack_deployment_change_logical_id(d, i), ciha_stack_deployment_change_type(d, i));
		if (replacement)
			printf(" replacement=%s", replacement);
		if (dangerous)
			printf("  <- replaces or removes a resource that holds data");
		putchar('\n');
	}
}

static int print_deployment_json(const ciha_stack_deployment *d)
{
	char *text = NULL;
	if (ciha_stack_deployment_json(&text, d) != CIHA_OK)
		return cli_fail(ciha_error_last());
	print_json_text(text);
	ciha_free(text);
	return CLI_EXIT_OK;
}

static void init_deploy_options(ciha_stack_deploy_options *o, const cli_args *a, int timeout_s)
{
	ciha_stack_deploy_options_init(o, CIHA_STACK_DEPLOY_OPTIONS_VERSION);
	o->allow_replace = cli_flag(a, "--allow-replace");
	o->timeout_s = timeout_s;
	o->poll_interval_ms = poll_interval_ms();
}

/* An existing stack gets a review change set first, shown before anything runs. A new
 * stack is created in one go (its changes can only add): a second CREATE change set
 * would meet the first one's REVIEW_IN_PROGRESS stack. */
static int stack_exists(ciha_client *client, const char *name)
{
	ciha_stack *s = NULL;
	int exists = ciha_stack_describe(&s, client, name) == CIHA_OK &&
	             strcmp(ciha_stack_status(s), "REVIEW_IN_PROGRESS") != 0;
	ciha_stack_free(s);
	return exists;
}

/* The review ended the deploy: failed, no changes, or --no-execute. */
static int review_ends(const ciha_stack_deployment *review, int rc, const cli_args *a)
{
	return rc != CIHA_OK || strcmp(ciha_stack_deployment_action(review), "none") == 0 || cli_flag(a, "--no-execute");
}

static int report_review(ciha_client *client, const ciha_stack_deployment *review, int rc, const cli_args *a,
                         const char *name)
{
	if (rc != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	if (a->json)
		return print_deployment_json(review);
	if (strcmp(ciha_stack_deployment_action(review), "none") == 0)
		printf("%s: no changes\n", name);
	else
		printf("%s: change set %s ready for review, not executed\n", name,
		       ciha_stack_deployment_change_set(review) ? ciha_stack_deployment_change_set(review) : "-");
	return CLI_EXIT_OK;
}

static int run_deploy(ciha_client *client, const ciha_stack_spec *spec, const cli_args *a, int timeout_s)
{
	ciha_stack_deploy_options o;
	ciha_stack_deployment *review = NULL, *done = NULL;
	const char *name = ciha_stack_spec_name(spec);
	int rc, reviewed = stack_exists(client, name) || cli_flag(a, "--no-execute");
	if (reviewed) {
		init_deploy_options(&o, a, timeout_s);
		o.no_execute = 1;
		rc = ciha_stack_deploy(&review, client, spec, &o);
		if (review && !a->json)
			print_changes(review, name);
		if (review_ends(review, rc, a)) {
			rc = report_review(client, review, rc, a, name);
			ciha_stack_deployment_free(review);
			return rc;
		}
		ciha_stack_deployment_free(review);
	}
	init_deploy_options(&o, a, timeout_s);
	o.on_event = print_event;
	rc = ciha_stack_deploy(&done, client, spec, &o);
	if (done && !reviewed && !a->json)
		print_changes(done, name);
	if (rc != CIHA_OK)
		rc = cli_fail(ciha_client_error(client));
	else if (a->json)
		rc = print_deployment_json(done);
	else if (strcmp(ciha_stack_deployment_action(done), "none") == 0)
		printf("%s: no changes\n", name);
	else
		printf("%s: %s %s\n", name, ciha_stack_deployment_action(done), ciha_stack_deployment_status(done));
	ciha_stack_deployment_free(done);
	return rc;
}

static int deploy(const cli_args *a, int recover)
{
	ciha_stack_spec *spec = NULL;
	ciha_client *client;
	int rc, timeout = 0;
	if ((rc = want_args(a, 1, recover ? "recover NAME --template FILE --snapshot-param K=rds:DB ..."
	                                  : "deploy NAME --template FILE [options]")) != 0 ||
	    (rc = cli_opt_int(a, "--timeout", &timeout)) != 0)
		return rc;
	if (recover && !cli_opt(a, "--snapshot-param"))
		return cli_usage_error("stack recover needs at least one --snapshot-param KEY=rds:DB or KEY=ebs:VOLUME");
	if ((rc = build_spec(&spec, a, a->argv[1])) != 0)
		return rc;
	if (!(client = cli_client(a))) {
		ciha_stack_spec_free(spec);
		return CLI_EXIT_ERROR;
	}
	rc = run_deploy(client, spec, a, timeout);
	ciha_stack_spec_free(spec);
	ciha_client_free(client);
	return rc;
}

/* ---- describe ------------------------------------------------------------------ */

static void print_stack_text(const ciha_stack *s)
{
	size_t i;
	printf("name        %s\nid          %s\nstatus      %s\n", ciha_stack_name(s), ciha_stack_id(s), ciha_stack_status(s));
	if (ciha_stack_status_reason(s))
		printf("reason      %s\n", ciha_stack_status_reason(s));
	printf("protection  %s\n", ciha_stack_termination_protection(s) ? "on" : "off");
	for (i = 0; i < ciha_stack_outputs_count(s); i++)
		printf("output      %s = %s\n", ciha_stack_output_key_at(s, i), ciha_stack_output_value_at(s, i));
}

static void print_outputs(const ciha_stack *s, int json)
{
	size_t i;
	json_t *map = json ? json_object() : NULL;
	for (i = 0; i < ciha_stack_outputs_count(s); i++) {
		if (map)
			json_object_set_new(map, ciha_stack_output_key_at(s, i), json_string(ciha_stack_output_value_at(s, i)));
		else
			printf("%-28s %s\n", ciha_stack_output_key_at(s, i), ciha_stack_output_value_at(s, i));
	}
	if (map)
		cli_print_json(map);
	json_decref(map);
}

static int describe(const cli_args *a, int outputs_only)
{
	ciha_client *client;
	ciha_stack *s = NULL;
	char *text = NULL;
	int rc;
	if ((rc = want_args(a, 1, outputs_only ? "outputs NAME" : "status NAME")) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_describe(&s, client, a->argv[1]) != CIHA_OK)
		return fail_client(client);
	rc = CLI_EXIT_OK;
	if (outputs_only)
		print_outputs(s, a->json);
	else if (!a->json)
		print_stack_text(s);
	else if (ciha_stack_json(&text, s) == CIHA_OK)
		print_json_text(text);
	else
		rc = cli_fail(ciha_error_last());
	ciha_free(text);
	ciha_stack_free(s);
	ciha_client_free(client);
	return rc;
}

static void print_events_text(const json_t *events)
{
	size_t i = json_array_size(events);
	while (i-- > 0) {  /* oldest first */
		const json_t *e = json_array_get(events, i);
		ciha_stack_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.logical_id = json_string_value(json_object_get(e, "logical_id"));
		ev.resource_type = json_string_value(json_object_get(e, "type"));
		ev.status = json_string_value(json_object_get(e, "status"));
		ev.reason = json_string_value(json_object_get(e, "reason"));
		ev.timestamp = json_integer_value(json_object_get(e, "timestamp"));
		write_event(stdout, &ev);
	}
}

static int follow(ciha_client *client, const char *stack, int timeout_s)
{
	ciha_stack_wait_options o;
	char *status = NULL;
	int rc;
	ciha_stack_wait_options_init(&o, CIHA_STACK_WAIT_OPTIONS_VERSION);
	o.on_event = print_event;
	o.timeout_s = timeout_s;
	o.poll_interval_ms = poll_interval_ms();
	rc = ciha_stack_wait(&status, client, stack, CIHA_STACK_WAIT_ANY, &o);
	if (rc != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	fprintf(stderr, "%s: %s\n", stack, status);
	ciha_free(status);
	return CLI_EXIT_OK;
}

static int events(const cli_args *a)
{
	ciha_client *client;
	char *text = NULL;
	json_t *list;
	int rc, max = 0, timeout = 0;
	if ((rc = want_args(a, 1, "events NAME [--follow] [--max N]")) != 0 || (rc = cli_opt_int(a, "--max", &max)) != 0 ||
	    (rc = cli_opt_int(a, "--timeout", &timeout)) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_events(&text, client, a->argv[1], (size_t)max) != CIHA_OK)
		return fail_client(client);
	list = a->json ? NULL : json_loads(text, 0, NULL);
	if (a->json)
		print_json_text(text);
	else
		print_events_text(list);
	json_decref(list);
	ciha_free(text);
	rc = cli_flag(a, "--follow") ? follow(client, a->argv[1], timeout) : CLI_EXIT_OK;
	ciha_client_free(client);
	return rc;
}

static int list_stacks(const cli_args *a)
{
	ciha_client *client;
	char *text = NULL;
	json_t *list;
	size_t i;
	if (a->argc > 1)
		return cli_usage_error("unexpected argument '%s'", a->argv[1]);
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_list(&text, client, cli_flag(a, "--include-deleted")) != CIHA_OK)
		return fail_client(client);
	if (a->json) {
		print_json_text(text);
	} else {
		list = json_loads(text, 0, NULL);
		for (i = 0; i < json_array_size(list); i++) {
			const json_t *s = json_array_get(list, i);
			const char *updated = json_string_value(json_object_get(s, "updated"));
			printf("%-32s %-28s %s\n", json_string_value(json_object_get(s, "name")),
			       json_string_value(json_object_get(s, "status")), updated ? updated : "");
		}
		json_decref(list);
	}
	ciha_free(text);
	ciha_client_free(client);
	return CLI_EXIT_OK;
}

/* ---- delete, protection, policy ------------------------------------------------- */

static int delete_stack(const cli_args *a)
{
	ciha_stack_delete_options o;
	ciha_client *client;
	int rc, timeout = 0;
	if ((rc = want_args(a, 1, "delete NAME [--final-snapshots] [--no-wait]")) != 0 ||
	    (rc = cli_opt_int(a, "--timeout", &timeout)) != 0)
		return rc;
	ciha_stack_delete_options_init(&o, CIHA_STACK_DELETE_OPTIONS_VERSION);
	o.wait = !cli_flag(a, "--no-wait");
	o.final_snapshots = cli_flag(a, "--final-snapshots");
	o.timeout_s = timeout;
	o.poll_interval_ms = poll_interval_ms();
	o.on_event = print_event;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_delete(client, a->argv[1], &o) != CIHA_OK)
		return fail_client(client);
	if (a->json)
		printf("{\"stack\": \"%s\", \"deleted\": %s}\n", a->argv[1], o.wait ? "true" : "false");
	else
		printf("%s: %s\n", a->argv[1], o.wait ? "deleted" : "delete started");
	ciha_client_free(client);
	return CLI_EXIT_OK;
}

static int protect(const cli_args *a)
{
	ciha_client *client;
	int rc, on;
	if ((rc = want_args(a, 2, "protect NAME on|off")) != 0)
		return rc;
	if (strcmp(a->argv[2], "on") != 0 && strcmp(a->argv[2], "off") != 0)
		return cli_usage_error("stack protect expects 'on' or 'off', got '%s'", a->argv[2]);
	on = strcmp(a->argv[2], "on") == 0;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_set_termination_protection(client, a->argv[1], on) != CIHA_OK)
		return fail_client(client);
	if (a->json)
		printf("{\"stack\": \"%s\", \"protection\": %s}\n", a->argv[1], on ? "true" : "false");
	else
		printf("%s: termination protection %s\n", a->argv[1], on ? "on" : "off");
	ciha_client_free(client);
	return CLI_EXIT_OK;
}

/* The template to generate a policy from: --template FILE, else the stack's own (GetTemplate). */
static char *policy_template(ciha_client *client, const cli_args *a)
{
	json_t *params, *r = NULL;
	const char *body;
	char *copy = NULL;
	if (cli_opt(a, "--template"))
		return cli_read_file(cli_opt(a, "--template"), "template file");
	params = json_pack("{s:s}", "StackName", a->argv[1]);
	if (ciha_call(&r, client, "cloudformation", "GetTemplate", params) != CIHA_OK)
		cli_fail(ciha_client_error(client));
	else if ((body = json_string_value(json_object_get(r, "TemplateBody"))) != NULL)
		copy = strdup(body);
	json_decref(params);
	json_decref(r);
	return copy;
}

static int policy_get(ciha_client *client, const cli_args *a)
{
	char *text = NULL;
	if (ciha_stack_policy_get(&text, client, a->argv[1]) != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	if (text)
		print_json_text(text);
	else if (a->json)
		puts("null");
	else
		printf("%s: no stack policy\n", a->argv[1]);
	ciha_free(text);
	return CLI_EXIT_OK;
}

static int policy_generate_and_set(ciha_client *client, const cli_args *a)
{
	char *tpl = policy_template(client, a), *policy = NULL;
	int rc = CLI_EXIT_OK;
	if (!tpl)
		return CLI_EXIT_ERROR;
	if (ciha_stack_policy_generate(&policy, tpl) != CIHA_OK)
		rc = cli_fail(ciha_error_last());
	else if (ciha_stack_policy_set(client, a->argv[1], policy) != CIHA_OK)
		rc = cli_fail(ciha_client_error(client));
	else
		print_json_text(policy);
	ciha_free(policy);
	free(tpl);
	return rc;
}

static int policy(const cli_args *a)
{
	ciha_client *client;
	const char *file = cli_opt(a, "--set");
	char *text;
	int rc;
	if ((rc = want_args(a, 1, "policy NAME [--set FILE | --generate [--template FILE]]")) != 0)
		return rc;
	if (file && cli_flag(a, "--generate"))
		return cli_usage_error("stack policy takes --set FILE or --generate, not both");
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (cli_flag(a, "--generate")) {
		rc = policy_generate_and_set(client, a);
	} else if (!file) {
		rc = policy_get(client, a);
	} else if (!(text = cli_read_file(file, "policy file"))) {
		rc = CLI_EXIT_ERROR;
	} else {
		rc = ciha_stack_policy_set(client, a->argv[1], text) == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
		if (rc == CLI_EXIT_OK && !a->json)
			printf("%s: stack policy set from %s\n", a->argv[1], file);
		free(text);
	}
	ciha_client_free(client);
	return rc;
}

/* ---- template check, drift, stuck stacks ------------------------------------------ */

static int check_template(const cli_args *a)
{
	const char *file = cli_opt(a, "--template");
	char *body, *text = NULL;
	json_t *problems;
	size_t i, n;
	if (a->argc > 1)
		return cli_usage_error("unexpected argument '%s'", a->argv[1]);
	if (!file)
		return cli_usage_error("stack check needs --template FILE");
	if (!(body = cli_read_file(file, "template file")))
		return CLI_EXIT_ERROR;
	if (ciha_stack_template_check(&text, body) != CIHA_OK) {
		free(body);
		return cli_fail(ciha_error_last());
	}
	free(body);
	problems = json_loads(text, 0, NULL);
	n = json_array_size(problems);
	if (a->json)
		print_json_text(text);
	for (i = 0; !a->json && i < n; i++) {
		const json_t *p = json_array_get(problems, i);
		printf("%s: %s (%s): %s\n", file, json_string_value(json_object_get(p, "logical_id")),
		       json_string_value(json_object_get(p, "type")), json_string_value(json_object_get(p, "problem")));
	}
	if (!a->json)
		printf("%s: %zu stateful resource%s without a safe DeletionPolicy/UpdateReplacePolicy\n", file, n,
		       n == 1 ? "" : "s");
	json_decref(problems);
	ciha_free(text);
	return n == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static void print_drift_text(const char *stack, const json_t *drift)
{
	const json_t *resources = json_object_get(drift, "resources");
	size_t i;
	printf("%s: %s\n", stack, json_string_value(json_object_get(drift, "status")));
	for (i = 0; i < json_array_size(resources); i++) {
		const json_t *r = json_array_get(resources, i);
		printf("  %-28s %-36s %s\n", json_string_value(json_object_get(r, "logical_id")),
		       json_string_value(json_object_get(r, "type")), json_string_value(json_object_get(r, "status")));
	}
}

static void print_diagnosis_text(const char *stack, const json_t *d)
{
	const json_t *skip = json_object_get(d, "resources_to_skip");
	size_t i;
	printf("%s: %s\nproblem     %s\naction      %s\nholds data  %s\n", stack,
	       json_string_value(json_object_get(d, "status")), json_string_value(json_object_get(d, "problem")),
	       json_string_value(json_object_get(d, "action")), json_is_true(json_object_get(d, "holds_data")) ? "yes" : "no");
	for (i = 0; i < json_array_size(skip); i++)
		printf("skip        %s\n", json_string_value(json_array_get(skip, i)));
}

typedef void (*text_printer)(const char *stack, const json_t *result);

static int print_result(const cli_args *a, char *text, text_printer printer)
{
	json_t *result;
	if (a->json)
		return print_json_text(text);
	result = json_loads(text, 0, NULL);
	printer(a->argv[1], result);
	json_decref(result);
	return CLI_EXIT_OK;
}

static int drift(const cli_args *a)
{
	ciha_client *client;
	char *text = NULL;
	int rc, timeout = 0;
	if ((rc = want_args(a, 1, "drift NAME")) != 0 || (rc = cli_opt_int(a, "--timeout", &timeout)) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_drift(&text, client, a->argv[1], timeout) != CIHA_OK)
		return fail_client(client);
	rc = print_result(a, text, print_drift_text);
	ciha_free(text);
	ciha_client_free(client);
	return rc;
}

static int diagnose(const cli_args *a)
{
	ciha_client *client;
	char *text = NULL;
	int rc;
	if ((rc = want_args(a, 1, "diagnose NAME")) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_diagnose(&text, client, a->argv[1], 0) != CIHA_OK)
		return fail_client(client);
	rc = print_result(a, text, print_diagnosis_text);
	ciha_free(text);
	ciha_client_free(client);
	return rc;
}

static int fix(const cli_args *a)
{
	ciha_client *client;
	int rc;
	if ((rc = want_args(a, 1, "fix NAME [--force]")) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_stack_fix(client, a->argv[1], cli_flag(a, "--force")) != CIHA_OK)
		return fail_client(client);
	printf(a->json ? "{\"stack\": \"%s\", \"fixed\": true}\n" : "%s: fixed\n", a->argv[1]);
	ciha_client_free(client);
	return CLI_EXIT_OK;
}

/* ---- agents ------------------------------------------------------------------------ */

static void print_schedules_text(const char *group, const json_t *list)
{
	size_t i;
	if (json_array_size(list) == 0)
		printf("%s: no scheduled actions\n", group);
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *s = json_array_get(list, i);
		const char *recurrence = json_string_value(json_object_get(s, "recurrence"));
		const char *tz = json_string_value(json_object_get(s, "time_zone"));
		printf("%-14s %-20s %-16s min=%lld desired=%lld max=%lld%s\n", json_string_value(json_object_get(s, "name")),
		       recurrence ? recurrence : "-", tz ? tz : "UTC", json_integer_value(json_object_get(s, "min_size")),
		       json_integer_value(json_object_get(s, "desired_capacity")),
		       json_integer_value(json_object_get(s, "max_size")),
		       json_is_true(json_object_get(s, "managed")) ? "" : "  (not ours)");
	}
}

static int schedule_list(ciha_client *client, const cli_args *a)
{
	char *text = NULL;
	int rc;
	if (ciha_agents_schedule_list(&text, client, a->argv[1]) != CIHA_OK)
		return cli_fail(ciha_client_error(client));
	rc = print_result(a, text, print_schedules_text);
	ciha_free(text);
	return rc;
}

static int schedule_from_options(ciha_agent_schedule *s, const cli_args *a)
{
	int day = 1, night = 0, max = -1;
	if (cli_opt_int(a, "--day-size", &day) || cli_opt_int(a, "--night-size", &night) ||
	    cli_opt_int(a, "--max-size", &max))
		return CLI_EXIT_USAGE;
	if (!cli_opt(a, "--stop") || !cli_opt(a, "--start"))
		return cli_usage_error("stack schedule needs --stop CRON and --start CRON (or --list, --remove)");
	s->group = a->argv[1];
	s->stop_recurrence = cli_opt(a, "--stop");
	s->start_recurrence = cli_opt(a, "--start");
	if (cli_opt(a, "--tz"))
		s->time_zone = cli_opt(a, "--tz");
	s->day_min = s->day_desired = day;
	s->day_max = max > day ? max : day;
	s->night_min = s->night_desired = s->night_max = night;
	return 0;
}

static int schedule(const cli_args *a)
{
	ciha_agent_schedule s = CIHA_AGENT_SCHEDULE_INIT;
	ciha_client *client;
	int rc, list = cli_flag(a, "--list"), remove = cli_flag(a, "--remove");
	if ((rc = want_args(a, 1, "schedule GROUP --stop CRON --start CRON [...] | --list | --remove")) != 0)
		return rc;
	if (list + remove + !!cli_opt(a, "--stop") > 1)
		return cli_usage_error("stack schedule: choose one of --stop/--start, --list and --remove");
	if (!list && !remove && (rc = schedule_from_options(&s, a)) != 0)
		return rc;
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (list)
		rc = schedule_list(client, a);
	else if (remove)
		rc = ciha_agents_schedule_remove(client, a->argv[1]) == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
	else
		rc = ciha_agents_schedule_set(client, &s) == CIHA_OK ? CLI_EXIT_OK : cli_fail(ciha_client_error(client));
	if (rc == CLI_EXIT_OK && !list && !a->json)
		printf("%s: %s\n", a->argv[1], remove ? "schedule removed" : "schedule set (ciha-stop, ciha-start)");
	ciha_client_free(client);
	return rc;
}

static int scale(const cli_args *a)
{
	ciha_client *client;
	char *end;
	long n;
	int rc;
	if ((rc = want_args(a, 2, "scale GROUP N")) != 0)
		return rc;
	n = strtol(a->argv[2], &end, 10);
	if (*a->argv[2] == '\0' || *end != '\0' || n < 0 || n > 10000)
		return cli_usage_error("stack scale expects a number of agents, got '%s'", a->argv[2]);
	if (!(client = cli_client(a)))
		return CLI_EXIT_ERROR;
	if (ciha_agents_scale(client, a->argv[1], (int)n) != CIHA_OK)
		return fail_client(client);
	printf(a->json ? "{\"group\": \"%s\", \"desired\": %ld}\n" : "%s: desired capacity %ld\n", a->argv[1], n);
	ciha_client_free(client);
	return CLI_EXIT_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static int deploy_verb(const cli_args *a)
{
	return deploy(a, 0);
}

static int recover_verb(const cli_args *a)
{
	return deploy(a, 1);
}

static int status_verb(const cli_args *a)
{
	return describe(a, 0);
}

static int outputs_verb(const cli_args *a)
{
	return describe(a, 1);
}

int cmd_stack(const cli_args *a)
{
	static const struct {
		const char *name;
		int (*run)(const cli_args *a);
	} verbs[] = {
		{ "deploy", deploy_verb }, { "recover", recover_verb }, { "status", status_verb },
		{ "outputs", outputs_verb }, { "events", events }, { "delete", delete_stack }, { "drift", drift },
		{ "protect", protect }, { "policy", policy }, { "check", check_template }, { "diagnose", diagnose },
		{ "fix", fix }, { "list", list_stacks }, { "schedule", schedule }, { "scale", scale },
	};
	size_t i;
	if (a->help || a->argc == 0) {
		usage();
		return a->help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(a->argv[0], verbs[i].name) == 0)
			return verbs[i].run(a);
	return cli_usage_error("unknown stack command '%s'", a->argv[0]);
}
