/* test_moto_env.c: the environment spec: load errors with document paths, then
 * against moto server (CIHA_TEST_ENDPOINT) with tests/tools/pdreceiver.py as the
 * PagerDuty endpoint: plan on an empty account, apply, a second apply that
 * changes nothing, audit, invariants broken on purpose, and drills (complete,
 * interrupted in-process, and a child process interrupted by SIGINT). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ciha.h>
#include "check.h"

#define PD_KEY "0123456789abcdef0123456789abcdef"

static ciha_client *client;
static char srcdir[512], templates[600], env_name[32], receiver_url[200];
static pid_t receiver_pid = -1;
static ciha_env *env;
static char *spec_text;

/* ---- helpers ----------------------------------------------------------------------- */

static ciha_client *new_client(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDENV", "env-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = getenv("CIHA_TEST_ENDPOINT");
	o.credentials = p;
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

static json_t *call(const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	if (ciha_call(&out, client, service, action, params) != CIHA_OK)
		fprintf(stderr, "  %s %s: %s\n", service, action, ciha_error_message(ciha_client_error(client)));
	json_decref(params);
	return out;
}

static int parse_error(const char *text, const char *expected_part)
{
	ciha_env *e = NULL;
	int rc = ciha_env_parse(&e, text, "env.json", templates);
	const char *msg = ciha_error_message(ciha_error_last());
	ciha_env_free(e);
	if (rc != CIHA_EINVAL || !msg || !strstr(msg, expected_part)) {
		fprintf(stderr, "    rc %d, message: %s\n    expected: %s\n", rc, msg ? msg : "(none)", expected_part);
		return 0;
	}
	return 1;
}

static json_t *as_json(const char *text)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	return doc ? doc : json_null();
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *find_by(const json_t *list, const char *key, const char *value)
{
	json_t *item;
	size_t i;
	json_array_foreach(list, i, item)
		if (strcmp(str(item, key), value) == 0)
			return item;
	return NULL;
}

static int count_action(const json_t *list, const char *action)
{
	json_t *item;
	size_t i;
	int n = 0;
	json_array_foreach(list, i, item)
		n += strcmp(str(item, "action"), action) == 0;
	return n;
}

static ciha_env_options options(void)
{
	ciha_env_options o = CIHA_ENV_OPTIONS_INIT;
	o.poll_interval_ms = 50;
	o.timeout_s = 60;
	o.pagerduty_url = receiver_url;
	return o;
}

/* ---- the PagerDuty stand-in ----------------------------------------------------------------- */

static int start_receiver(void)
{
	char script[700], line[64];
	int fds[2], port = 0;
	FILE *f;
	snprintf(script, sizeof(script), "%s/tests/tools/pdreceiver.py", srcdir);
	if (pipe(fds) != 0)
		return -1;
	receiver_pid = fork();
	if (receiver_pid == 0) {
		const char *py = getenv("CIHA_PYTHON") ? getenv("CIHA_PYTHON") : "python3";
		dup2(fds[1], 1);
		close(fds[0]);
		execlp(py, py, script, "--max-seconds", "300", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (!(f = fdopen(fds[0], "r")))
		return -1;
	if (fgets(line, sizeof(line), f) && sscanf(line, "PORT %d", &port) != 1)
		port = 0;
	if (!fgets(line, sizeof(line), f))   /* "PID n": read before closing, or its print fails */
		port = 0;
	fclose(f);
	if (!port)
		return -1;
	snprintf(receiver_url, sizeof(receiver_url), "http://127.0.0.1:%d/integration/" PD_KEY "/enqueue", port);
	return 0;
}

static void stop_receiver(void)
{
	if (receiver_pid > 0) {
		kill(receiver_pid, SIGTERM);
		waitpid(receiver_pid, NULL, 0);
	}
}

/* ---- the spec under test: the seed environment, renamed for this run ------------------------ */

/* The seed spec with this run's name. moto cannot switch termination protection on
 * (no UpdateTerminationProtection), so only the network stack keeps "protect": it is
 * created beforehand with EnableTerminationProtection by CreateStack. */
static char *test_spec(void)
{
	char path[700], *text;
	json_t *doc, *stack;
	size_t i;
	snprintf(path, sizeof(path), "%s/examples/env/ci.json", srcdir);
	if (!(doc = json_load_file(path, JSON_PRESERVE_ORDER, NULL)))
		return NULL;
	json_object_set_new(doc, "name", json_string(env_name));
	json_array_foreach(json_object_get(doc, "stacks"), i, stack)
		if (i > 0)
			json_object_set_new(stack, "protect", json_false());
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return text;
}

static void create_protected_network(void)
{
	char path[700], name[64], *body;
	FILE *f;
	long n;
	snprintf(path, sizeof(path), "%s/network.yaml", templates);
	snprintf(name, sizeof(name), "%s-network", env_name);
	if (!(f = fopen(path, "rb")))
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	body = calloc(1, (size_t)n + 1);
	if (body && fread(body, 1, (size_t)n, f) == (size_t)n)
		json_decref(call("cloudformation", "CreateStack", json_pack("{s:s, s:s, s:b, s:[{s:s, s:s}], s:[{s:s, s:s}, "
		                 "{s:s, s:s}]}", "StackName", name, "TemplateBody", body, "EnableTerminationProtection", 1,
		                 "Parameters", "ParameterKey", "Env", "ParameterValue", env_name, "Tags", "Key", "team", "Value",
		                 "ci", "Key", "environment", "Value", env_name)));
	free(body);
	fclose(f);
}

/* ---- load and validation ------------------------------------------------------------------ */

static void test_load__seed_environment(void)
{
	char path[700];
	ciha_env *e = NULL;
	snprintf(path, sizeof(path), "%s/examples/env/ci.json", srcdir);
	CHECK_INT(ciha_env_load(&e, path), CIHA_OK);
	CHECK_STR(ciha_env_name(e), "ci");
	ciha_env_free(e);
}

static void test_load__errors_name_the_path(void)
{
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"network.yaml\"}, {\"name\": \"b\", "
	                  "\"template\": \"network.yaml\"}, {\"name\": \"c\", \"template\": 5}]}",
	                  "env.json: $.stacks[2].template: expected a string naming a template file, got a number"));
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"missing.yaml\"}]}",
	                  "env.json: $.stacks[0].template: cannot read template"));
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"network.yaml\", \"parameters\": "
	                  "{\"P\": {\"stack\": \"b\", \"resource\": \"R\"}}}, {\"name\": \"b\", \"template\": \"network.yaml\"}]}",
	                  "$.stacks[0].parameters.P.stack: 'b' is deployed after this stack"));
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"network.yaml\", \"parameters\": "
	                  "{\"P\": [\"one\", {\"stack\": \"nope\", \"resource\": \"R\"}]}}]}",
	                  "$.stacks[0].parameters.P[1].stack: 'nope' is not a stack of this environment"));
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"network.yaml\", \"parameters\": "
	                  "{\"P\": {\"snapshot\": \"s3:bucket\"}}}]}", "$.stacks[0].parameters.P.snapshot: expected \"rds:DB-ID\""));
	CHECK(parse_error("{\"name\": \"x\", \"stacks\": [{\"name\": \"a\", \"template\": \"network.yaml\", \"protect\": \"yes\"}]}",
	                  "$.stacks[0].protect: expected true or false, got a string"));
	CHECK(parse_error("{\"name\": \"x\", \"snapshots\": [{\"policy\": {\"name\": \"p\", \"keep\": -1}, \"targets\": "
	                  "{\"dbs\": [\"db\"]}}]}", "env.json: $.snapshots[0].policy.keep"));
	CHECK(parse_error("{\"name\": \"x\", \"snapshots\": [{\"policy\": {\"name\": \"p\", \"keep\": 2}, \"targets\": {}}]}",
	                  "$.snapshots[0].targets: expected at least one target"));
	CHECK(parse_error("{\"name\": \"x\", \"alarms\": {\"prefix\": \"x-\", \"topic\": \"t\", \"alarms\": [{\"name\": \"a\", "
	                  "\"preset\": \"no-such-preset\"}]}}", "env.json: $.alarms.alarms[0].preset: unknown preset"));
	CHECK(parse_error("{\"name\": \"x\", \"alarms\": {\"prefix\": \"x-\", \"topic\": \"t\", \"alarms\": [{\"name\": \"a\", "
	                  "\"preset\": \"asg-below-min\", \"group\": {\"stack\": \"gone\", \"resource\": \"G\"}, \"min\": 1}]}}",
	                  "$.alarms.alarms[0].group.stack: 'gone' is not a stack of this environment"));
	CHECK(parse_error("{\"name\": \"x\", \"schedules\": [{\"group\": \"g\", \"stop\": \"0 20 * * *\", \"start\": 7}]}",
	                  "$.schedules[0].start: expected a cron expression, got a number"));
	CHECK(parse_error("{\"name\": \"x\", \"audit\": {\"security_groups\": {\"bastion\": \"sg-1\"}}}",
	                  "$.audit.security_groups: unknown key 'bastion' (known: master, agents, database, nexus, elb)"));
	CHECK(parse_error("{\"name\": \"x\", \"stackz\": []}", "env.json: $: unknown key 'stackz'"));
	CHECK(parse_error("{\"name\": \"Bad Name\"}", "env.json: $.name: 'Bad Name' is not a name"));
	CHECK(parse_error("{\"name\": \"x\",\n \"stacks\": [}", "env.json:2:"));
}

static void test_load__yaml_and_name_expansion(void)
{
	ciha_env *e = NULL;
	const char *yaml = "name: y1\nstacks:\n  - name: ${name}-network\n    template: network.yaml\n"
	                   "    parameters:\n      Env: ${name}\n";
	CHECK_INT(ciha_env_parse(&e, yaml, "env.yaml", templates), CIHA_OK);
	CHECK_STR(ciha_env_name(e), "y1");
	ciha_env_free(e);
	CHECK(parse_error("name: y1\nstacks:\n  - name: a\n    template: [1]\n", "env.json: $.stacks[0].template"));
}

/* ---- against moto --------------------------------------------------------------------------- */

static void test_plan__empty_account_lists_creates(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc;
	CHECK_INT(ciha_env_plan(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK_INT(count_action(json_object_get(doc, "stacks"), "create"), 5);
	CHECK(json_array_size(json_object_get(json_array_get(json_object_get(doc, "stacks"), 0), "changes")) >= 8);
	CHECK_STR(str(json_object_get(doc, "topic"), "action"), "create");
	CHECK_STR(str(json_object_get(doc, "alarms"), "action"), "pending");
	CHECK(json_integer_value(json_object_get(doc, "changes")) >= 7);
	json_decref(doc);
	ciha_free(text);
}

static void test_apply__deploys_everything(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc, *snaps;
	create_protected_network();
	CHECK_INT(ciha_env_apply(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK(json_is_true(json_object_get(doc, "ok")));
	CHECK_INT(count_action(json_object_get(doc, "stacks"), "create"), 4);
	CHECK_INT(count_action(json_object_get(doc, "stacks"), "unchanged"), 1);   /* the network made by CreateStack */
	CHECK_STR(str(json_object_get(doc, "topic"), "action"), "created");
	CHECK_STR(str(json_object_get(doc, "subscription"), "action"), "subscribed");
	CHECK_INT(count_action(json_object_get(json_object_get(doc, "alarms"), "items"), "create"), 7);
	CHECK_INT(count_action(json_object_get(doc, "schedules"), "set"), 1);
	snaps = json_object_get(doc, "snapshots");
	CHECK_INT(json_array_size(snaps), 4);   /* run and copy per policy */
	CHECK_INT(count_action(json_object_get(json_array_get(snaps, 0), "items"), "create"), 2);
	CHECK_INT(count_action(json_object_get(json_array_get(snaps, 1), "items"), "copy"), 2);
	CHECK_INT(count_action(json_object_get(json_array_get(snaps, 2), "items"), "create"), 1);
	json_decref(doc);
	ciha_free(text);
}

static void test_apply__again_changes_nothing(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc;
	CHECK_INT(ciha_env_apply(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK_INT(json_integer_value(json_object_get(doc, "changes")), 0);
	CHECK_INT(count_action(json_object_get(doc, "stacks"), "unchanged"), 5);
	CHECK_INT(count_action(json_object_get(json_object_get(doc, "alarms"), "items"), "unchanged"), 7);
	CHECK_INT(count_action(json_object_get(doc, "schedules"), "unchanged"), 1);
	json_decref(doc);
	ciha_free(text);
	CHECK_INT(ciha_env_plan(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK_INT(json_integer_value(json_object_get(doc, "changes")), 0);
	json_decref(doc);
	ciha_free(text);
}

static void test_audit__passes(void)
{
	ciha_env_options o = options();
	char *text = NULL, name[64];
	json_t *doc, *checks, *c;
	CHECK_INT(ciha_env_audit(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	checks = json_object_get(doc, "checks");
	CHECK_INT(json_integer_value(json_object_get(doc, "failed")), 0);
	CHECK(json_integer_value(json_object_get(doc, "passed")) >= 28);
	snprintf(name, sizeof(name), "%s-network", env_name);
	c = find_by(checks, "check", "termination-protection");
	CHECK(c && strcmp(str(c, "subject"), name) == 0 && strstr(str(c, "evidence"), "EnableTerminationProtection=true"));
	c = find_by(checks, "subject", "database");
	CHECK(c && strstr(str(c, "evidence"), "tcp 5432 from sg-") && strstr(str(c, "evidence"), "(master)"));
	CHECK(find_by(checks, "check", "pagerduty-subscription") &&
	      strstr(str(find_by(checks, "check", "pagerduty-subscription"), "evidence"), "confirmed") &&
	      !strstr(text, PD_KEY));
	CHECK_INT(json_array_size(checks), json_integer_value(json_object_get(doc, "passed")));
	json_decref(doc);
	ciha_free(text);
}

static char *resource_id(const char *stack_suffix, const char *logical)
{
	char name[64];
	json_t *r;
	char *id = NULL;
	size_t i;
	snprintf(name, sizeof(name), "%s-%s", env_name, stack_suffix);
	r = call("cloudformation", "ListStackResources", json_pack("{s:s}", "StackName", name));
	for (i = 0; i < json_array_size(json_object_get(r, "StackResourceSummaries")); i++) {
		json_t *m = json_array_get(json_object_get(r, "StackResourceSummaries"), i);
		if (strcmp(str(m, "LogicalResourceId"), logical) == 0)
			id = strdup(str(m, "PhysicalResourceId"));
	}
	json_decref(r);
	return id;
}

static void drop_ok_action(const char *alarm_name)
{
	json_t *r = call("cloudwatch", "DescribeAlarms", json_pack("{s:[s]}", "AlarmNames", alarm_name));
	json_t *a = json_array_get(json_object_get(r, "MetricAlarms"), 0), *dims = json_array(), *d;
	size_t i;
	if (!a) {   /* a PutMetricAlarm without the alarm's fields would leave moto unable to list alarms */
		json_decref(r);
		json_decref(dims);
		return;
	}
	json_array_foreach(json_object_get(a, "Dimensions"), i, d)
		json_array_append_new(dims, json_pack("{s:s, s:s}", "Name", str(d, "Name"), "Value", str(d, "Value")));
	json_decref(call("cloudwatch", "PutMetricAlarm", json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:O, "
	                 "s:[]}", "AlarmName", alarm_name, "Namespace", str(a, "Namespace"), "MetricName", str(a, "MetricName"),
	                 "Statistic", str(a, "Statistic"), "Period", str(a, "Period"), "EvaluationPeriods",
	                 str(a, "EvaluationPeriods"), "Threshold", str(a, "Threshold"), "ComparisonOperator",
	                 str(a, "ComparisonOperator"), "Dimensions", dims, "AlarmActions", json_object_get(a, "AlarmActions"),
	                 "OKActions")));
	json_decref(r);
}

static void delete_snapshots(const char *volume, const char *db)
{
	json_t *r = call("ec2", "DescribeSnapshots", json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name", "volume-id", "Value",
	                                                       volume)), *s;
	size_t i;
	json_array_foreach(json_object_get(r, "snapshotSet"), i, s)
		json_decref(call("ec2", "DeleteSnapshot", json_pack("{s:s}", "SnapshotId", str(s, "snapshotId"))));
	json_decref(r);
	r = call("rds", "DescribeDBSnapshots", json_pack("{s:s, s:s}", "DBInstanceIdentifier", db, "SnapshotType", "manual"));
	json_array_foreach(json_object_get(r, "DBSnapshots"), i, s)
		json_decref(call("rds", "DeleteDBSnapshot", json_pack("{s:s}", "DBSnapshotIdentifier",
		                                                        str(s, "DBSnapshotIdentifier"))));
	json_decref(r);
}

static int failed_check(const json_t *checks, const char *check, const char *subject)
{
	json_t *c;
	size_t i;
	json_array_foreach(checks, i, c)
		if (strcmp(str(c, "check"), check) == 0 && strcmp(str(c, "subject"), subject) == 0)
			return !json_is_true(json_object_get(c, "ok"));
	return 0;
}

static void test_audit__broken_invariants_fail_loudly(void)
{
	ciha_env_options o = options();
	char *sg = resource_id("network", "DatabaseSecurityGroup"), *vol = resource_id("master", "DataVolume");
	char alarm[96], db[64], *text = NULL;
	const char *msg;
	json_t *doc, *checks;
	snprintf(alarm, sizeof(alarm), "%s-agents-below-min", env_name);
	snprintf(db, sizeof(db), "%s-db", env_name);
	json_decref(call("ec2", "AuthorizeSecurityGroupIngress", json_pack("{s:s, s:[{s:s, s:i, s:i, s:[{s:s}]}]}", "GroupId",
	                 sg, "IpPermissions", "IpProtocol", "tcp", "FromPort", 5432, "ToPort", 5432, "IpRanges", "CidrIp",
	                 "0.0.0.0/0")));
	drop_ok_action(alarm);
	delete_snapshots(vol, db);
	CHECK_INT(ciha_env_audit(&text, client, env, &o), CIHA_ESTATE);
	msg = ciha_error_message(ciha_client_error(client));
	doc = as_json(text);
	checks = json_object_get(doc, "checks");
	CHECK(failed_check(checks, "security-group-chain", "database"));
	CHECK(failed_check(checks, "no-public-ingress", "database"));
	CHECK(strstr(str(find_by(checks, "subject", "database"), "evidence"), "from 0.0.0.0/0") != NULL);
	CHECK(failed_check(checks, "alarm-actions", alarm));
	CHECK(failed_check(checks, "snapshot-fresh", vol));
	CHECK(failed_check(checks, "snapshot-fresh", db));
	CHECK(!failed_check(checks, "security-group-chain", "master"));
	CHECK_INT(json_integer_value(json_object_get(doc, "failed")), 5);
	CHECK_MSG(msg && strstr(msg, "5 of") && strstr(msg, "no-public-ingress database") && strstr(msg, alarm) &&
	          strstr(msg, "snapshot-fresh") && strstr(msg, db), "%s", msg ? msg : "(none)");
	json_decref(doc);
	ciha_free(text);
	free(sg);
	free(vol);
}

static void test_apply__repairs_what_it_owns(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc;
	CHECK_INT(ciha_env_apply(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK_INT(count_action(json_object_get(json_object_get(doc, "alarms"), "items"), "update"), 1);
	CHECK_INT(json_integer_value(json_object_get(doc, "changes")) >= 4, 1);   /* alarm, 3 snapshots (+ copies) */
	json_decref(doc);
	ciha_free(text);
}

/* The scratch resources of a drill report are gone. */
static int scratch_gone(const json_t *doc)
{
	json_t *r, *out = NULL;
	size_t i;
	int gone = 1;
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		const char *scratch = str(r, "scratch");
		int rc;
		if (!*scratch)
			continue;
		int db = strcmp(str(r, "kind"), "db") == 0;
		json_t *p = db ? json_pack("{s:s}", "DBInstanceIdentifier", scratch) : json_pack("{s:[s]}", "VolumeId", scratch);
		rc = ciha_call(&out, client, db ? "rds" : "ec2", db ? "DescribeDBInstances" : "DescribeVolumes", p);
		json_decref(p);
		json_decref(out);
		out = NULL;
		gone &= rc == CIHA_ENOTFOUND && strcmp(str(r, "cleanup"), "deleted") == 0;
	}
	return gone;
}

static void test_drill__restores_checks_and_cleans_up(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc, *r, *stats;
	size_t i;
	CHECK_INT(ciha_env_drill(&text, client, env, &o), CIHA_OK);
	doc = as_json(text);
	CHECK(json_is_true(json_object_get(doc, "ok")));
	CHECK(json_is_false(json_object_get(doc, "interrupted")));
	CHECK_INT(json_array_size(json_object_get(doc, "resources")), 3);
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		CHECK(json_is_true(json_object_get(r, "ok")));
		CHECK(json_integer_value(json_object_get(r, "rpo_seconds")) >= 0);
		CHECK(json_array_size(json_object_get(r, "checks")) >= 2);
	}
	CHECK(strstr(str(json_array_get(json_object_get(doc, "resources"), 2), "scratch"), "-drill-") != NULL);
	CHECK(json_is_true(json_object_get(doc, "metrics_published")));
	CHECK(scratch_gone(doc));
	stats = call("cloudwatch", "GetMetricStatistics", json_pack("{s:s, s:s, s:[{s:s, s:s}], s:s, s:s, s:i, s:[s]}",
	             "Namespace", "CIHA", "MetricName", "RecoveryPointAgeSeconds", "Dimensions", "Name", "Environment",
	             "Value", env_name, "StartTime", "2020-01-01T00:00:00Z", "EndTime", "2099-01-01T00:00:00Z", "Period", 60,
	             "Statistics", "Maximum"));
	CHECK(json_array_size(json_object_get(stats, "Datapoints")) >= 1);
	json_decref(stats);
	json_decref(doc);
	ciha_free(text);
}

static void raise_after_first_restore(const char *step, const char *detail, void *payload)
{
	int *raised = payload;
	(void)step;
	if (!*raised && strstr(detail, " restored from ")) {
		*raised = 1;
		raise(SIGINT);
	}
}

static void test_drill__interrupted_cleans_up(void)
{
	ciha_env_options o = options();
	char *text = NULL;
	json_t *doc;
	int raised = 0;
	o.progress = raise_after_first_restore;
	o.payload = &raised;
	CHECK_INT(ciha_env_drill(&text, client, env, &o), CIHA_EUSER);
	CHECK(strstr(ciha_error_message(ciha_client_error(client)), "interrupted by signal 2") != NULL);
	doc = as_json(text);
	CHECK(json_is_true(json_object_get(doc, "interrupted")));
	CHECK_INT(json_array_size(json_object_get(doc, "resources")), 1);
	CHECK(json_is_false(json_object_get(doc, "metrics_published")));
	CHECK(scratch_gone(doc));
	json_decref(doc);
	ciha_free(text);
}

/* A child runs the drill, pauses after the first restore until the parent's SIGINT arrives. */
static int notify_fd = -1;

static void pause_after_first_restore(const char *step, const char *detail, void *payload)
{
	struct timespec ts = { 10, 0 };
	(void)step;
	(void)payload;
	if (notify_fd >= 0 && strstr(detail, " restored from ")) {
		if (write(notify_fd, "r", 1) != 1)
			_exit(5);
		close(notify_fd);
		notify_fd = -1;
		nanosleep(&ts, NULL);   /* the signal ends it early */
	}
}

static void test_drill__child_interrupted_by_sigint_cleans_up(void)
{
	char report_path[] = "/tmp/ciha-env-drill-XXXXXX", c;
	int fds[2], status = 0, fd = mkstemp(report_path);
	json_t *doc;
	pid_t pid;
	if (fd < 0 || pipe(fds) != 0)
		return;
	close(fd);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		ciha_env_options o = options();
		ciha_client *own = new_client();
		char *text = NULL;
		FILE *f;
		int rc;
		close(fds[0]);
		notify_fd = fds[1];
		o.progress = pause_after_first_restore;
		rc = ciha_env_drill(&text, own, env, &o);
		if ((f = fopen(report_path, "w")) != NULL) {
			fputs(text ? text : "", f);
			fclose(f);
		}
		/* Freed so a memcheck run of the child (valgrind follows fork) finds no leak to fail on. */
		ciha_free(text);
		ciha_client_free(own);
		_exit(rc == CIHA_EUSER ? 3 : 4);
	}
	close(fds[1]);
	CHECK_INT(read(fds[0], &c, 1), 1);
	close(fds[0]);
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	doc = json_load_file(report_path, 0, NULL);
	CHECK(json_is_true(json_object_get(doc, "interrupted")));
	CHECK_INT(json_array_size(json_object_get(doc, "resources")), 1);
	CHECK(scratch_gone(doc));
	json_decref(doc);
	unlink(report_path);
}

static void find_srcdir(void)
{
	const char *s = getenv("CIHA_SRCDIR");
	snprintf(srcdir, sizeof(srcdir), "%s", s && *s ? s : ".");
	snprintf(templates, sizeof(templates), "%s/examples/templates", srcdir);
}

int main(void)
{
	find_srcdir();
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	RUN(test_load__seed_environment);
	RUN(test_load__errors_name_the_path);
	RUN(test_load__yaml_and_name_expansion);
	if (!getenv("CIHA_TEST_ENDPOINT") || !*getenv("CIHA_TEST_ENDPOINT")) {
		ciha_global_cleanup();
		CHECK_SKIP("test_moto_env needs CIHA_TEST_ENDPOINT (a moto server; tests/run starts one); "
		           "the load tests passed: %d", check__passed);
	}
	snprintf(env_name, sizeof(env_name), "e%ld%ld", (long)getpid() % 100000, (long)time(NULL) % 10000);
	client = new_client();
	spec_text = test_spec();
	if (!client || !spec_text || ciha_env_parse(&env, spec_text, "ci.json", templates) != CIHA_OK ||
	    start_receiver() != 0) {
		fprintf(stderr, "test_moto_env: setup failed: %s\n", ciha_error_message(ciha_error_last()));
		stop_receiver();
		return 1;
	}
	RUN(test_plan__empty_account_lists_creates);
	RUN(test_apply__deploys_everything);
	RUN(test_apply__again_changes_nothing);
	RUN(test_audit__passes);
	RUN(test_audit__broken_invariants_fail_loudly);
	RUN(test_apply__repairs_what_it_owns);
	RUN(test_drill__restores_checks_and_cleans_up);
	RUN(test_drill__interrupted_cleans_up);
	RUN(test_drill__child_interrupted_by_sigint_cleans_up);
	stop_receiver();
	ciha_env_free(env);
	free(spec_text);
	ciha_client_free(client);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_env");
}
