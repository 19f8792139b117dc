/* test_stack_stub.c: deploy, wait, delete, drift and stuck stacks against
 * tests/tools/cfnstub.py (started here), whose stacks progress over several polls
 * with per-resource events, failures, rollbacks and pagination. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <curl/curl.h>
#include <jansson.h>
#include <ciha.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "check.h"

#define POLL_MS 20

/* Sg, then Db before Vol and Web: when Db fails, Vol and Web are still in progress (cancelled). */
#define TEMPLATE_FMT "{\"Parameters\": {\"Env\": {\"Type\": \"String\"}}, \"Resources\": {" \
	"\"Sg\": {\"Type\": \"AWS::EC2::SecurityGroup\", \"Properties\": {\"GroupDescription\": {\"Ref\": \"Env\"}}}," \
	"\"Db\": {\"Type\": \"AWS::RDS::DBInstance\", \"Properties\": {\"DBInstanceClass\": \"%s\"}}," \
	"\"Vol\": {\"Type\": \"AWS::EC2::Volume\", \"Properties\": {\"Size\": 10}}," \
	"\"Web\": {\"Type\": \"AWS::EC2::Instance\", \"Properties\": {\"ImageId\": \"%s\"}}}," \
	"\"Outputs\": {\"DbId\": {\"Value\": {\"Ref\": \"Db\"}}, \"EnvName\": {\"Value\": {\"Ref\": \"Env\"}}}}"

static char stub_url[64];
static pid_t stub_pid;
static FILE *stub_pipe;
static ciha_client *client;

/* ---- the stub ---------------------------------------------------------------- */

static int stub_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR");
	char cmd[1024], line[128];
	int port = 0;
	snprintf(cmd, sizeof(cmd), "exec python3 %s/tests/tools/cfnstub.py --max-seconds 300", srcdir ? srcdir : ".");
	if (!(stub_pipe = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), stub_pipe)) {
		if (sscanf(line, "PORT %d", &port) == 1)
			continue;
		if (sscanf(line, "PID %d", &stub_pid) == 1)
			break;
	}
	if (!port || !stub_pid)
		return -1;
	snprintf(stub_url, sizeof(stub_url), "http://127.0.0.1:%d", port);
	return 0;
}

static void stub_stop(void)
{
	if (stub_pid)
		kill(stub_pid, SIGTERM);
	if (stub_pipe)
		pclose(stub_pipe);
}

static size_t collect(char *data, size_t size, size_t n, void *payload)
{
	ciha__buf_put(payload, data, size * n);
	return size * n;
}

static char *stub_request(const char *path, const char *body)
{
	ciha__buf out = CIHA__BUF_INIT;
	char url[256];
	CURL *c = curl_easy_init();
	snprintf(url, sizeof(url), "%s%s", stub_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	CHECK_INT(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	return ciha__buf_detach(&out);
}

static void stub_script(const char *json)
{
	ciha__free(stub_request("/__stub/script", json));
}

static void log_clear(void)
{
	ciha__free(stub_request("/__stub/log", ""));
}

/* The requests so far; the caller json_decref()s it. */
static json_t *stub_log(void)
{
	char *text = stub_request("/__stub/log", NULL);
	json_t *log = json_loads(text ? text : "[]", 0, NULL);
	ciha__free(text);
	return log;
}

/* How many logged requests of `action` carry param key=value (value NULL: any). */
static int logged(const char *action, const char *key, const char *value)
{
	json_t *log = stub_log();
	size_t i;
	int n = 0;
	for (i = 0; i < json_array_size(log); i++) {
		const json_t *e = json_array_get(log, i);
		const char *v = key ? json_string_value(json_object_get(json_object_get(e, "params"), key)) : "";
		if (strcmp(json_string_value(json_object_get(e, "action")), action) == 0 && v &&
		    (!value || strcmp(v, value) == 0))
			n++;
	}
	json_decref(log);
	return n;
}

static const char *last_error(void)
{
	return ciha_error_message(ciha_client_error(client));
}

/* ---- fixtures -------------------------------------------------------------------- */

static ciha_stack_spec *spec_for(const char *name, const char *db_class, const char *image, const char *env)
{
	ciha_stack_spec *spec = NULL;
	char tpl[2048];
	snprintf(tpl, sizeof(tpl), TEMPLATE_FMT, db_class, image);
	CHECK_INT(ciha_stack_spec_new(&spec, name), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_template_body(spec, tpl), CIHA_OK);
	if (env)
		CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", env), CIHA_OK);
	else
		CHECK_INT(ciha_stack_spec_use_previous(spec, "Env"), CIHA_OK);
	return spec;
}

typedef struct {
	json_t *ids;       /* delivered event ids in delivery order */
	json_t *statuses;  /* "Logical:STATUS" */
	int stop_after;    /* return 1 after this many events (0: never) */
} recorder;

static int record(const ciha_stack_event *ev, void *payload)
{
	recorder *r = payload;
	char text[256];
	CHECK_INT(ev->version, CIHA_STACK_EVENT_VERSION);
	CHECK(ev->event_id && ev->status && ev->logical_id && ev->resource_type && ev->timestamp > 1500000000);
	json_array_append_new(r->ids, json_string(ev->event_id));
	snprintf(text, sizeof(text), "%s:%s", ev->logical_id, ev->status);
	json_array_append_new(r->statuses, json_string(text));
	return r->stop_after && (int)json_array_size(r->ids) >= r->stop_after;
}

static void recorder_init(recorder *r)
{
	r->ids = json_array();
	r->statuses = json_array();
	r->stop_after = 0;
}

static void recorder_dispose(recorder *r)
{
	json_decref(r->ids);
	json_decref(r->statuses);
}

static int recorded(const recorder *r, const char *what)
{
	size_t i;
	for (i = 0; i < json_array_size(r->statuses); i++)
		if (strcmp(json_string_value(json_array_get(r->statuses, i)), what) == 0)
			return (int)i;
	return -1;
}

static ciha_stack_deploy_options deploy_opts(recorder *r)
{
	ciha_stack_deploy_options o;
	CHECK_INT(ciha_stack_deploy_options_init(&o, CIHA_STACK_DEPLOY_OPTIONS_VERSION), CIHA_OK);
	o.poll_interval_ms = POLL_MS;
	o.timeout_s = 30;
	o.on_event = r ? record : NULL;
	o.payload = r;
	return o;
}

static int deploy(ciha_stack_deployment **out, ciha_stack_spec *spec, const ciha_stack_deploy_options *o)
{
	ciha_stack_deployment *d = NULL;
	int rc = ciha_stack_deploy(&d, client, spec, o);
	ciha_stack_spec_free(spec);
	if (out)
		*out = d;
	else
		ciha_stack_deployment_free(d);
	return rc;
}

/* A stack in CREATE_COMPLETE (Env=ci, db.t3.micro, ami-1). */
static void create_stack(const char *name)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	stub_script("{\"scenario\": \"happy\"}");
	CHECK_INT(deploy(NULL, spec_for(name, "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
}

static char *stack_status(const char *name)
{
	ciha_stack *s = NULL;
	char *status = NULL;
	if (ciha_stack_describe(&s, client, name) == CIHA_OK)
		status = ciha__strdup(ciha_stack_status(s));
	ciha_stack_free(s);
	return status;
}

static ciha_stack_wait_options wait_opts(long timeout_s)
{
	ciha_stack_wait_options w = CIHA_STACK_WAIT_OPTIONS_INIT;
	w.poll_interval_ms = POLL_MS;
	w.timeout_s = timeout_s;
	return w;
}

/* The stack's events, oldest first, newer than its first REVIEW_IN_PROGRESS event. */
static json_t *events_after_review(const char *name)
{
	json_t *all = NULL, *out = json_array(), *events, *params = json_pack("{s:s}", "StackName", name);
	size_t i;
	CHECK_INT(ciha_call_all(&all, client, "cloudformation", "DescribeStackEvents", params), CIHA_OK);
	json_decref(params);
	events = json_object_get(all, "StackEvents");
	for (i = json_array_size(events); i-- > 0;) {
		const json_t *e = json_array_get(events, i);
		if (strcmp(json_string_value(json_object_get(e, "ResourceStatus")), "REVIEW_IN_PROGRESS") != 0)
			json_array_append(out, json_object_get(e, "EventId"));
	}
	json_decref(all);
	return out;
}

/* ---- deploy --------------------------------------------------------------------------- */

static void check_stream_matches_history(const recorder *r, const char *name)
{
	json_t *history = events_after_review(name);
	CHECK_MSG(json_equal(history, r->ids), "delivered %zu events, the stack has %zu after review",
	          json_array_size(r->ids), json_array_size(history));
	json_decref(history);
}

static void test_deploy__create_streams_every_event_once_in_order(void)
{
	recorder r;
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o;
	ciha_stack_spec *spec = spec_for("ci-create", "db.t3.micro", "ami-1", "ci");
	recorder_init(&r);
	o = deploy_opts(&r);
	stub_script("{\"scenario\": \"happy\"}");
	log_clear();
	CHECK_INT(ciha_stack_spec_add_tag(spec, "team", "build"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_capability(spec, "CAPABILITY_IAM"), CIHA_OK);
	CHECK_INT(deploy(&d, spec, &o), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "create");
	CHECK_INT(ciha_stack_deployment_executed(d), 1);
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	CHECK_INT(ciha_stack_deployment_change_count(d), 4);
	CHECK_STR(ciha_stack_deployment_change_action(d, 0), "Add");
	CHECK(ciha_stack_deployment_change_replacement(d, 0) == NULL);
	CHECK(strncmp(ciha_stack_deployment_stack_id(d), "arn:aws:cloudformation:", 23) == 0);
	CHECK(strstr(ciha_stack_deployment_change_set(d), ":changeSet/ciha-") != NULL);
	/* Per-resource progress, in order, each event once. */
	CHECK(recorded(&r, "ci-create:CREATE_IN_PROGRESS") == 0);
	CHECK(recorded(&r, "Db:CREATE_IN_PROGRESS") > 0);
	CHECK(recorded(&r, "Db:CREATE_COMPLETE") > recorded(&r, "Db:CREATE_IN_PROGRESS"));
	CHECK(recorded(&r, "ci-create:CREATE_COMPLETE") == (int)json_array_size(r.ids) - 1);
	CHECK(json_array_size(r.ids) >= 14);
	check_stream_matches_history(&r, "ci-create");
	/* The wire: change set type, tokens, parameters, tags, capabilities. */
	CHECK_INT(logged("CreateChangeSet", "ChangeSetType", "CREATE"), 1);
	CHECK_INT(logged("CreateChangeSet", "ClientToken", NULL), 1);
	CHECK_INT(logged("CreateChangeSet", "Parameters.member.1.ParameterValue", "ci"), 1);
	CHECK_INT(logged("CreateChangeSet", "Tags.member.1.Key", "team"), 1);
	CHECK_INT(logged("CreateChangeSet", "Capabilities.member.1", "CAPABILITY_IAM"), 1);
	CHECK_INT(logged("ExecuteChangeSet", "ClientRequestToken", NULL), 1);
	ciha_stack_deployment_free(d);
	recorder_dispose(&r);
}

static void test_deploy__paginated_events_arrive_once(void)
{
	recorder r;
	ciha_stack_deploy_options o;
	recorder_init(&r);
	o = deploy_opts(&r);
	stub_script("{\"scenario\": \"paged-events\"}");
	log_clear();
	CHECK_INT(deploy(NULL, spec_for("ci-paged", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	check_stream_matches_history(&r, "ci-paged");
	CHECK(logged("DescribeStackEvents", "NextToken", NULL) > 0);
	recorder_dispose(&r);
}

static void test_deploy__update_with_previous_value_and_json(void)
{
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	char *json = NULL;
	json_t *parsed;
	ciha_stack *s = NULL;
	create_stack("ci-update");
	log_clear();
	CHECK_INT(deploy(&d, spec_for("ci-update", "db.t3.micro", "ami-2", NULL), &o), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "update");
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	CHECK_INT(ciha_stack_deployment_change_count(d), 1);
	CHECK_STR(ciha_stack_deployment_change_logical_id(d, 0), "Web");
	CHECK_STR(ciha_stack_deployment_change_replacement(d, 0), "False");
	CHECK_INT(ciha_stack_deployment_change_dangerous(d, 0), 0);
	CHECK_INT(logged("CreateChangeSet", "Parameters.member.1.UsePreviousValue", "true"), 1);
	CHECK_INT(ciha_stack_deployment_json(&json, d), CIHA_OK);
	parsed = json_loads(json ? json : "", 0, NULL);
	CHECK_STR(json_string_value(json_object_get(parsed, "action")), "update");
	CHECK(json_is_true(json_object_get(parsed, "executed")));
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(parsed, "changes"), 0), "type")),
	          "AWS::EC2::Instance");
	json_decref(parsed);
	ciha_free(json);
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_describe(&s, client, "ci-update"), CIHA_OK);
	CHECK_STR(ciha_stack_output(s, "EnvName"), "ci");
	ciha_stack_free(s);
}

static void test_deploy__no_changes_is_success(void)
{
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	create_stack("ci-same");
	log_clear();
	CHECK_INT(deploy(&d, spec_for("ci-same", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "none");
	CHECK_INT(ciha_stack_deployment_executed(d), 0);
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	CHECK_INT(ciha_stack_deployment_change_count(d), 0);
	CHECK_INT(logged("DeleteChangeSet", "ChangeSetName", ciha_stack_deployment_change_set(d)), 1);
	ciha_stack_deployment_free(d);
}

static void test_deploy__guard_refuses_db_replacement_unless_allowed(void)
{
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	size_t i, dangerous = 0;
	create_stack("ci-guard");
	log_clear();
	stub_script("{\"scenario\": \"db-replacement\"}");
	CHECK_INT(deploy(&d, spec_for("ci-guard", "db.m5.large", "ami-1", "ci"), &o), CIHA_ESTATE);
	CHECK(strstr(last_error(), "Db (AWS::RDS::DBInstance): Modify with Replacement True") != NULL);
	CHECK(d != NULL);
	CHECK_INT(ciha_stack_deployment_executed(d), 0);
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	for (i = 0; i < ciha_stack_deployment_change_count(d); i++)
		if (ciha_stack_deployment_change_dangerous(d, i)) {
			dangerous++;
			CHECK_STR(ciha_stack_deployment_change_logical_id(d, i), "Db");
			CHECK_STR(ciha_stack_deployment_change_replacement(d, i), "True");
		}
	CHECK_INT(dangerous, 1);
	CHECK_INT(logged("ExecuteChangeSet", NULL, NULL), 0);
	ciha_stack_deployment_free(d);
	o.allow_replace = 1;
	CHECK_INT(deploy(&d, spec_for("ci-guard", "db.m5.large", "ami-1", "ci"), &o), CIHA_OK);
	CHECK_INT(ciha_stack_deployment_executed(d), 1);
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	ciha_stack_deployment_free(d);
}

static void test_deploy__review_in_progress_is_created_again(void)
{
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	char *first_stack = NULL, *diag = NULL;
	json_t *j;
	stub_script("{\"scenario\": \"happy\"}");
	log_clear();
	o.no_execute = 1;
	CHECK_INT(deploy(&d, spec_for("ci-review", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	CHECK_INT(ciha_stack_deployment_executed(d), 0);
	CHECK_STR(ciha_stack_deployment_status(d), "REVIEW_IN_PROGRESS");
	CHECK_INT(ciha_stack_deployment_change_count(d), 4);
	first_stack = ciha__strdup(ciha_stack_deployment_stack_id(d));
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_diagnose(&diag, client, "ci-review", 0), CIHA_OK);
	j = json_loads(diag ? diag : "", 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "review-in-progress");
	CHECK_STR(json_string_value(json_object_get(j, "action")), "delete");
	json_decref(j);
	ciha_free(diag);
	o.no_execute = 0;
	CHECK_INT(deploy(&d, spec_for("ci-review", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "create");
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	CHECK_INT(logged("DeleteStack", "StackName", first_stack), 1);
	CHECK_INT(logged("CreateChangeSet", "ChangeSetType", "CREATE"), 2);
	CHECK(strcmp(ciha_stack_deployment_stack_id(d), first_stack) != 0);
	ciha_stack_deployment_free(d);
	ciha__free(first_stack);
}

static void test_deploy__create_failure_names_root_cause_not_cascade(void)
{
	recorder r;
	ciha_stack_deployment *d = NULL;
	ciha_stack_deploy_options o;
	const char *msg;
	recorder_init(&r);
	o = deploy_opts(&r);
	stub_script("{\"scenario\": \"create-fails\"}");
	CHECK_INT(deploy(&d, spec_for("ci-fail", "db.t3.micro", "ami-1", "ci"), &o), CIHA_ESTATE);
	msg = last_error();
	CHECK(strstr(msg, "ROLLBACK_COMPLETE") != NULL);
	CHECK(strstr(msg, "Db (AWS::RDS::DBInstance): Resource handler returned message: \"DB Subnet Group") != NULL);
	CHECK_MSG(!strstr(msg, "Vol (") && !strstr(msg, "Web (") && !strstr(msg, "cancelled"), "%s", msg);
	CHECK(recorded(&r, "Vol:CREATE_FAILED") > recorded(&r, "Db:CREATE_FAILED"));
	CHECK(recorded(&r, "ci-fail:ROLLBACK_COMPLETE") == (int)json_array_size(r.ids) - 1);
	CHECK_STR(ciha_stack_deployment_status(d), "ROLLBACK_COMPLETE");
	ciha_stack_deployment_free(d);
	recorder_dispose(&r);
	/* A stack whose creation rolled back cannot be deployed again. */
	stub_script("{\"scenario\": \"happy\"}");
	CHECK_INT(deploy(&d, spec_for("ci-fail", "db.t3.micro", "ami-1", "ci"), &o), CIHA_ESTATE);
	CHECK(d == NULL);
	CHECK(strstr(last_error(), "ROLLBACK_COMPLETE") && strstr(last_error(), "delete"));
}

static void test_deploy__on_failure_delete_and_timeout_minutes(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_spec *spec = spec_for("ci-ondelete", "db.t3.micro", "ami-1", "ci");
	ciha_stack_deployment *d = NULL;
	stub_script("{\"scenario\": \"create-fails\"}");
	log_clear();
	CHECK_INT(ciha_stack_spec_set_on_failure(spec, "DELETE"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_timeout_minutes(spec, 30), CIHA_OK);
	CHECK_INT(deploy(&d, spec, &o), CIHA_ESTATE);
	CHECK(strstr(last_error(), "DELETE_COMPLETE") && strstr(last_error(), "Db (AWS::RDS::DBInstance)"));
	CHECK_STR(ciha_stack_deployment_status(d), "DELETE_COMPLETE");
	CHECK_INT(logged("CreateChangeSet", "OnStackFailure", "DELETE"), 1);
	CHECK_INT(logged("CreateChangeSet", "TimeoutInMinutes", NULL), 0);
	ciha_stack_deployment_free(d);
}

static void test_deploy__update_failure_and_rollback_failure(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_deployment *d = NULL;
	const char *msg;
	create_stack("ci-upfail");
	stub_script("{\"scenario\": \"update-fails\"}");
	CHECK_INT(deploy(&d, spec_for("ci-upfail", "db.t3.micro", "ami-bad", "ci"), &o), CIHA_ESTATE);
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_ROLLBACK_COMPLETE");
	CHECK(strstr(last_error(), "Web (AWS::EC2::Instance): Resource handler returned message: \"The image id") != NULL);
	ciha_stack_deployment_free(d);

	create_stack("ci-rbfail");
	stub_script("{\"scenario\": \"update-rollback-fails\"}");
	CHECK_INT(deploy(&d, spec_for("ci-rbfail", "db.t3.micro", "ami-bad", "qa"), &o), CIHA_ESTATE);
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_ROLLBACK_FAILED");
	msg = last_error();
	CHECK_MSG(strstr(msg, "Web (AWS::EC2::Instance)") && strstr(msg, "Sg (AWS::EC2::SecurityGroup)") &&
	          strstr(msg, "Web (") < strstr(msg, "Sg ("), "%s", msg);
	ciha_stack_deployment_free(d);
	CHECK_INT(deploy(NULL, spec_for("ci-rbfail", "db.t3.micro", "ami-1", "ci"), &o), CIHA_ESTATE);
	CHECK(strstr(last_error(), "UPDATE_ROLLBACK_FAILED") != NULL);
}

static void test_deploy__timeout_names_the_last_status(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_deployment *d = NULL;
	stub_script("{\"scenario\": \"happy\", \"hang\": [\"Web\"]}");
	o.timeout_s = 1;
	CHECK_INT(deploy(&d, spec_for("ci-slow", "db.t3.micro", "ami-1", "ci"), &o), CIHA_ETIMEOUT);
	CHECK(strstr(last_error(), "last status CREATE_IN_PROGRESS") != NULL);
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_IN_PROGRESS");
	ciha_stack_deployment_free(d);
	stub_script("{\"hang\": []}");
}

static void test_deploy__callback_stops_the_wait(void)
{
	recorder r;
	ciha_stack_deploy_options o;
	recorder_init(&r);
	r.stop_after = 3;
	o = deploy_opts(&r);
	stub_script("{\"scenario\": \"happy\"}");
	CHECK_INT(deploy(NULL, spec_for("ci-stop", "db.t3.micro", "ami-1", "ci"), &o), CIHA_EUSER);
	CHECK_INT(json_array_size(r.ids), 3);
	recorder_dispose(&r);
}

static void test_deploy__options_versions(void)
{
	ciha_stack_deploy_options o;
	ciha_stack_wait_options w;
	ciha_stack_delete_options del;
	CHECK_INT(ciha_stack_deploy_options_init(&o, 99), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_stack_wait_options_init(&w, 0), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_stack_delete_options_init(&del, CIHA_STACK_DELETE_OPTIONS_VERSION), CIHA_OK);
	CHECK_INT(del.wait, 1);
	o.version = 7;
	CHECK_INT(ciha_stack_deploy(&(ciha_stack_deployment *){NULL}, client, NULL, &o), CIHA_EINVAL);
}

/* ---- waiting ---------------------------------------------------------------------------------- */

static void test_wait__acceptors_per_kind(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(1);
	char *status = NULL;
	create_stack("ci-wait");
	CHECK_INT(ciha_stack_wait(&status, client, "ci-wait", CIHA_STACK_WAIT_ANY, &w), CIHA_OK);
	CHECK_STR(status, "CREATE_COMPLETE");
	ciha_free(status);
	CHECK_INT(ciha_stack_wait(&status, client, "ci-wait", CIHA_STACK_WAIT_UPDATE, &w), CIHA_ETIMEOUT);
	CHECK(strstr(last_error(), "last status CREATE_COMPLETE") != NULL);
	ciha_free(status);
	/* An update that never finishes: the create waiter already accepts it; the update waiter times out. */
	stub_script("{\"hang\": [\"Web\"]}");
	o.wait = 0;
	CHECK_INT(deploy(NULL, spec_for("ci-wait", "db.t3.micro", "ami-2", "ci"), &o), CIHA_OK);
	CHECK_INT(ciha_stack_wait(&status, client, "ci-wait", CIHA_STACK_WAIT_CREATE, &w), CIHA_OK);
	CHECK_STR(status, "UPDATE_IN_PROGRESS");
	ciha_free(status);
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-wait", CIHA_STACK_WAIT_UPDATE, &w), CIHA_ETIMEOUT);
	CHECK(strstr(last_error(), "last status UPDATE_IN_PROGRESS") != NULL);
	stub_script("{\"hang\": []}");
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-wait", 42, &w), CIHA_EINVAL);
	/* Unknown stack: failure for create, success (ValidationError) for delete. */
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-nosuch", CIHA_STACK_WAIT_CREATE, &w), CIHA_ENOTFOUND);
	CHECK_INT(ciha_stack_wait(&status, client, "ci-nosuch", CIHA_STACK_WAIT_DELETE, &w), CIHA_OK);
	CHECK_STR(status, "DELETE_COMPLETE");
	ciha_free(status);
}

static void test_wait__delete_waiter_fails_on_update_complete(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(5);
	create_stack("ci-wdel");
	CHECK_INT(deploy(NULL, spec_for("ci-wdel", "db.t3.micro", "ami-2", "ci"), &o), CIHA_OK);
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-wdel", CIHA_STACK_WAIT_DELETE, &w), CIHA_ESTATE);
	CHECK(strstr(last_error(), "UPDATE_COMPLETE") != NULL);
}

static void test_wait__public_wait_streams_and_summarises(void)
{
	recorder r;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(10);
	char *status = NULL;
	recorder_init(&r);
	stub_script("{\"scenario\": \"create-fails\"}");
	o.wait = 0;
	CHECK_INT(deploy(NULL, spec_for("ci-pubwait", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	w.on_event = record;
	w.payload = &r;
	CHECK_INT(ciha_stack_wait(&status, client, "ci-pubwait", CIHA_STACK_WAIT_CREATE, &w), CIHA_ESTATE);
	CHECK_STR(status, "ROLLBACK_COMPLETE");
	CHECK(strstr(last_error(), "Db (AWS::RDS::DBInstance)") && !strstr(last_error(), "cancelled"));
	CHECK(recorded(&r, "Db:CREATE_FAILED") >= 0);
	CHECK(recorded(&r, "ci-pubwait:REVIEW_IN_PROGRESS") < 0);
	ciha_free(status);
	/* Already failed before the wait began: the summary still names the root cause. */
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-pubwait", CIHA_STACK_WAIT_ANY, &w), CIHA_ESTATE);
	CHECK(strstr(last_error(), "Db (AWS::RDS::DBInstance)") != NULL);
	recorder_dispose(&r);
}

static void test_wait__throttling_is_retried(void)
{
	ciha_stack_wait_options w = wait_opts(5);
	create_stack("ci-throttle");
	stub_script("{\"throttle\": {\"DescribeStacks\": 1}}");
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-throttle", CIHA_STACK_WAIT_CREATE, &w), CIHA_OK);
}

/* ---- delete, protection ---------------------------------------------------------------------------------- */

static void test_delete__protection_refused_then_deleted(void)
{
	recorder r;
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_delete_options del = CIHA_STACK_DELETE_OPTIONS_INIT;
	ciha_stack_spec *spec = spec_for("ci-protected", "db.t3.micro", "ami-1", "ci");
	char *status = NULL;
	recorder_init(&r);
	stub_script("{\"scenario\": \"happy\"}");
	log_clear();
	CHECK_INT(ciha_stack_spec_set_termination_protection(spec, 1), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_policy_body(spec, "{\"Statement\": []}"), CIHA_OK);
	CHECK_INT(deploy(NULL, spec, &o), CIHA_OK);
	CHECK_INT(logged("UpdateTerminationProtection", "EnableTerminationProtection", "true"), 1);
	CHECK_INT(logged("SetStackPolicy", "StackPolicyBody", "{\"Statement\": []}"), 1);
	del.poll_interval_ms = POLL_MS;
	del.on_event = record;
	del.payload = &r;
	CHECK_INT(ciha_stack_delete(client, "ci-protected", &del), CIHA_ESTATE);
	CHECK(strstr(last_error(), "termination protection") != NULL);
	CHECK_INT(logged("DeleteStack", NULL, NULL), 0);
	status = stack_status("ci-protected");
	CHECK_STR(status, "CREATE_COMPLETE");
	ciha__free(status);
	CHECK_INT(ciha_stack_set_termination_protection(client, "ci-protected", 0), CIHA_OK);
	CHECK_INT(ciha_stack_delete(client, "ci-protected", &del), CIHA_OK);
	CHECK_INT(logged("DeleteStack", "ClientRequestToken", NULL), 1);
	CHECK(recorded(&r, "Db:DELETE_COMPLETE") >= 0);
	CHECK(recorded(&r, "ci-protected:DELETE_COMPLETE") == (int)json_array_size(r.ids) - 1);
	CHECK(stack_status("ci-protected") == NULL);
	/* Deleting what is gone is fine. */
	CHECK_INT(ciha_stack_delete(client, "ci-protected", &del), CIHA_OK);
	recorder_dispose(&r);
}

/* ---- drift ---------------------------------------------------------------------------------- */

static void test_drift__modified_and_deleted_resources(void)
{
	char *json = NULL;
	json_t *j, *resources, *sg = NULL;
	size_t i;
	create_stack("ci-drift");
	log_clear();
	stub_script("{\"scenario\": \"drifted\", \"page_size\": 1}");
	CHECK_INT(ciha_stack_drift(&json, client, "ci-drift", 10), CIHA_OK);
	j = json_loads(json ? json : "", 0, NULL);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "DRIFTED");
	CHECK_INT(json_integer_value(json_object_get(j, "drifted_count")), 2);
	resources = json_object_get(j, "resources");
	CHECK_INT(json_array_size(resources), 2);
	for (i = 0; i < json_array_size(resources); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(resources, i), "logical_id")), "Sg") == 0)
			sg = json_array_get(resources, i);
	CHECK_STR(json_string_value(json_object_get(sg, "status")), "MODIFIED");
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(sg, "differences"), 0), "actual")),
	          "0.0.0.0/0");
	CHECK_INT(logged("DescribeStackResourceDrifts", "StackResourceDriftStatusFilters.member.2", "DELETED"), 2);
	CHECK(logged("DescribeStackDriftDetectionStatus", NULL, NULL) >= 3);
	json_decref(j);
	ciha_free(json);
	stub_script("{\"scenario\": \"happy\"}");
	CHECK_INT(ciha_stack_drift(&json, client, "ci-drift", 10), CIHA_OK);
	CHECK(json && strstr(json, "\"IN_SYNC\""));
	ciha_free(json);
}

/* ---- stuck stacks ---------------------------------------------------------------------------------- */

static json_t *diagnose(const char *name, long stale_after_s)
{
	char *text = NULL;
	json_t *j;
	CHECK_INT(ciha_stack_diagnose(&text, client, name, stale_after_s), CIHA_OK);
	j = json_loads(text ? text : "{}", 0, NULL);
	ciha_free(text);
	return j;
}

static void test_stuck__rollback_complete_is_deleted(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(10);
	json_t *j;
	stub_script("{\"scenario\": \"create-fails\"}");
	CHECK_INT(deploy(NULL, spec_for("ci-rbc", "db.t3.micro", "ami-1", "ci"), &o), CIHA_ESTATE);
	j = diagnose("ci-rbc", 0);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "rollback-complete");
	CHECK_STR(json_string_value(json_object_get(j, "action")), "delete");
	CHECK(json_is_false(json_object_get(j, "holds_data")));
	json_decref(j);
	CHECK_INT(ciha_stack_fix(client, "ci-rbc", 0), CIHA_OK);
	CHECK_INT(ciha_stack_wait(NULL, client, "ci-rbc", CIHA_STACK_WAIT_DELETE, &w), CIHA_OK);
	CHECK(stack_status("ci-rbc") == NULL);
}

static void test_stuck__update_rollback_failed_continues_skipping(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(10);
	char *status = NULL;
	json_t *j, *skip;
	create_stack("ci-urf");
	log_clear();
	stub_script("{\"scenario\": \"update-rollback-fails\"}");
	CHECK_INT(deploy(NULL, spec_for("ci-urf", "db.t3.micro", "ami-bad", "qa"), &o), CIHA_ESTATE);
	j = diagnose("ci-urf", 0);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "update-rollback-failed");
	CHECK_STR(json_string_value(json_object_get(j, "action")), "continue-update-rollback");
	CHECK(json_is_true(json_object_get(j, "holds_data")));
	skip = json_object_get(j, "resources_to_skip");
	CHECK_INT(json_array_size(skip), 1);
	CHECK_STR(json_string_value(json_array_get(skip, 0)), "Sg");
	json_decref(j);
	CHECK_INT(ciha_stack_fix(client, "ci-urf", 0), CIHA_OK);
	CHECK_INT(logged("ContinueUpdateRollback", "ResourcesToSkip.member.1", "Sg"), 1);
	CHECK_INT(ciha_stack_wait(&status, client, "ci-urf", CIHA_STACK_WAIT_ANY, &w), CIHA_ESTATE);
	CHECK_STR(status, "UPDATE_ROLLBACK_COMPLETE");
	ciha_free(status);
	j = diagnose("ci-urf", 0);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "none");
	CHECK_INT(json_array_size(json_object_get(j, "resources_to_skip")), 0);
	json_decref(j);
	CHECK_INT(ciha_stack_fix(client, "ci-urf", 0), CIHA_OK);
	CHECK_INT(logged("DeleteStack", "StackName", NULL), 0);
}

static void test_stuck__stale_update_is_cancelled(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	ciha_stack_wait_options w = wait_opts(10);
	char *status = NULL;
	json_t *j;
	create_stack("ci-stale");
	log_clear();
	stub_script("{\"scenario\": \"stale-update\"}");
	o.wait = 0;
	CHECK_INT(deploy(NULL, spec_for("ci-stale", "db.t3.micro", "ami-2", "ci"), &o), CIHA_OK);
	j = diagnose("ci-stale", 3600);
	CHECK_STR(json_string_value(json_object_get(j, "status")), "UPDATE_IN_PROGRESS");
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "stale-in-progress");
	CHECK_STR(json_string_value(json_object_get(j, "action")), "cancel-update");
	CHECK(json_integer_value(json_object_get(j, "age_s")) >= 7000);
	json_decref(j);
	j = diagnose("ci-stale", 100000);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "none");
	json_decref(j);
	CHECK_INT(ciha_stack_fix(client, "ci-stale", 0), CIHA_OK);
	CHECK_INT(logged("CancelUpdateStack", "ClientRequestToken", NULL), 1);
	CHECK_INT(ciha_stack_wait(&status, client, "ci-stale", CIHA_STACK_WAIT_ANY, &w), CIHA_ESTATE);
	CHECK_STR(status, "UPDATE_ROLLBACK_COMPLETE");
	ciha_free(status);
	stub_script("{\"age_s\": 0}");
}

static void test_stuck__stale_create_can_only_wait(void)
{
	ciha_stack_deploy_options o = deploy_opts(NULL);
	json_t *j;
	stub_script("{\"scenario\": \"happy\", \"hang\": [\"Web\"], \"age_s\": 7200}");
	o.wait = 0;
	CHECK_INT(deploy(NULL, spec_for("ci-stalecreate", "db.t3.micro", "ami-1", "ci"), &o), CIHA_OK);
	j = diagnose("ci-stalecreate", 60);
	CHECK_STR(json_string_value(json_object_get(j, "problem")), "stale-in-progress");
	CHECK_STR(json_string_value(json_object_get(j, "action")), "wait");
	json_decref(j);
	CHECK_INT(ciha_stack_fix(client, "ci-stalecreate", 1), CIHA_ESTATE);
	CHECK(strstr(last_error(), "only waited for") != NULL);
	stub_script("{\"hang\": [], \"age_s\": 0}");
}

static void test_stuck__missing_stack(void)
{
	char *out = NULL;
	CHECK_INT(ciha_stack_diagnose(&out, client, "ci-nothere", 0), CIHA_ENOTFOUND);
	CHECK(out == NULL);
	CHECK_INT(ciha_stack_fix(client, "ci-nothere", 0), CIHA_ENOTFOUND);
}

static ciha_client *new_client(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDSTACKSTUB", "stack-stub-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = stub_url;
	o.credentials = p;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

int main(void)
{
	int rc;
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	if (stub_start() != 0) {
		fprintf(stderr, "test_stack_stub: cannot start tests/tools/cfnstub.py (CIHA_SRCDIR=%s)\n",
		        getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : "unset");
		return 1;
	}
	if (!(client = new_client())) {
		stub_stop();
		return 1;
	}
	RUN(test_deploy__create_streams_every_event_once_in_order);
	RUN(test_deploy__paginated_events_arrive_once);
	RUN(test_deploy__update_with_previous_value_and_json);
	RUN(test_deploy__no_changes_is_success);
	RUN(test_deploy__guard_refuses_db_replacement_unless_allowed);
	RUN(test_deploy__review_in_progress_is_created_again);
	RUN(test_deploy__create_failure_names_root_cause_not_cascade);
	RUN(test_deploy__on_failure_delete_and_timeout_minutes);
	RUN(test_deploy__update_failure_and_rollback_failure);
	RUN(test_deploy__timeout_names_the_last_status);
	RUN(test_deploy__callback_stops_the_wait);
	RUN(test_deploy__options_versions);
	RUN(test_wait__acceptors_per_kind);
	RUN(test_wait__delete_waiter_fails_on_update_complete);
	RUN(test_wait__public_wait_streams_and_summarises);
	RUN(test_wait__throttling_is_retried);
	RUN(test_delete__protection_refused_then_deleted);
	RUN(test_drift__modified_and_deleted_resources);
	RUN(test_stuck__rollback_complete_is_deleted);
	RUN(test_stuck__update_rollback_failed_continues_skipping);
	RUN(test_stuck__stale_update_is_cancelled);
	RUN(test_stuck__stale_create_can_only_wait);
	RUN(test_stuck__missing_stack);
	rc = CHECK_DONE("test_stack_stub");
	ciha_client_free(client);
	stub_stop();
	ciha_global_cleanup();
	return rc;
}
