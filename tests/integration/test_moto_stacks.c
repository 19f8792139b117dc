/* test_moto_stacks.c: the stack lifecycle's happy paths against moto server
 * (CIHA_TEST_ENDPOINT, started by tests/run): create through a change set,
 * updates, "no changes", previous parameter values, outputs, delete, final
 * snapshots of a volume and a DB instance, and recovery of a stack left in
 * REVIEW_IN_PROGRESS. moto finishes everything at once and has no
 * per-resource events, termination protection calls or drift calls: those
 * paths are covered by test_stack_stub against tests/tools/cfnstub.py. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <ciha.h>
#include "check.h"

#define POLL_MS 50

#define TOPIC_TEMPLATE "{\"Parameters\": {\"Env\": {\"Type\": \"String\"}}, \"Resources\": {" \
	"\"Topic\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"TopicName\": " \
	"{\"Fn::Join\": [\"-\", [\"ciha\", {\"Ref\": \"Env\"}, \"%s\"]]}}}%s}, " \
	"\"Outputs\": {\"EnvName\": {\"Value\": {\"Ref\": \"Env\"}}, \"TopicArn\": {\"Value\": {\"Ref\": \"Topic\"}}}}"
#define SECOND_TOPIC ", \"Audit\": {\"Type\": \"AWS::SNS::Topic\"}"

static ciha_client *client;
static char suffix[32];

static const char *last_error(void)
{
	return ciha_error_message(ciha_client_error(client));
}

static void stack_name(char *out, size_t size, const char *what)
{
	snprintf(out, size, "ciha-%s-%s", what, suffix);
}

static ciha_stack_spec *topic_spec(const char *name, const char *env, int second_topic)
{
	ciha_stack_spec *spec = NULL;
	char tpl[1024];
	snprintf(tpl, sizeof(tpl), TOPIC_TEMPLATE, suffix, second_topic ? SECOND_TOPIC : "");
	CHECK_INT(ciha_stack_spec_new(&spec, name), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_template_body(spec, tpl), CIHA_OK);
	if (env)
		CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", env), CIHA_OK);
	else
		CHECK_INT(ciha_stack_spec_use_previous(spec, "Env"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_tag(spec, "team", "build"), CIHA_OK);
	return spec;
}

static int count_events(const ciha_stack_event *ev, void *payload)
{
	int *n = payload;
	CHECK(ev->status != NULL && ev->event_id != NULL);
	++*n;
	return 0;
}

static int deploy(ciha_stack_deployment **out, ciha_stack_spec *spec, int no_execute, int *events)
{
	ciha_stack_deploy_options o = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	ciha_stack_deployment *d = NULL;
	int rc;
	o.poll_interval_ms = POLL_MS;
	o.timeout_s = 30;
	o.no_execute = no_execute;
	o.on_event = events ? count_events : NULL;
	o.payload = events;
	rc = ciha_stack_deploy(&d, client, spec, &o);
	if (rc != CIHA_OK)
		fprintf(stderr, "  deploy %s: %s\n", ciha_stack_spec_name(spec), last_error());
	ciha_stack_spec_free(spec);
	if (out)
		*out = d;
	else
		ciha_stack_deployment_free(d);
	return rc;
}

static char *output_of(const char *name, const char *key)
{
	ciha_stack *s = NULL;
	char *value = NULL;
	if (ciha_stack_describe(&s, client, name) == CIHA_OK && ciha_stack_output(s, key))
		value = strdup(ciha_stack_output(s, key));
	ciha_stack_free(s);
	return value;
}

static void delete_stack(const char *name)
{
	ciha_stack_delete_options del = CIHA_STACK_DELETE_OPTIONS_INIT;
	del.poll_interval_ms = POLL_MS;
	del.timeout_s = 30;
	CHECK_MSG(ciha_stack_delete(client, name, &del) == CIHA_OK, "%s", last_error());
}

static json_t *call(const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	CHECK_MSG(ciha_call(&out, client, service, action, params) == CIHA_OK, "%s %s: %s", service, action,
	          last_error());
	json_decref(params);
	return out ? out : json_object();
}

/* ---- deploy ------------------------------------------------------------------------ */

static void test_stack__create_update_nochange_previous_outputs_delete(void)
{
	char name[64];
	ciha_stack_deployment *d = NULL;
	ciha_stack *s = NULL;
	int events = 0;
	stack_name(name, sizeof(name), "life");
	CHECK_INT(deploy(&d, topic_spec(name, "ci", 0), 0, &events), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "create");
	CHECK_INT(ciha_stack_deployment_executed(d), 1);
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	CHECK_INT(ciha_stack_deployment_change_count(d), 1);
	CHECK_STR(ciha_stack_deployment_change_action(d, 0), "Add");
	CHECK_STR(ciha_stack_deployment_change_type(d, 0), "AWS::SNS::Topic");
	CHECK(events >= 2);   /* moto: the stack's CREATE_IN_PROGRESS and CREATE_COMPLETE */
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_OK);
	CHECK_STR(ciha_stack_parameter(s, "Env"), "ci");
	ciha_stack_free(s);

	/* A parameter change. */
	CHECK_INT(deploy(&d, topic_spec(name, "qa", 0), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "update");
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_OK);
	CHECK_STR(ciha_stack_parameter(s, "Env"), "qa");
	ciha_stack_free(s);

	/* The same again: success without executing anything. */
	CHECK_INT(deploy(&d, topic_spec(name, "qa", 0), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "none");
	CHECK_INT(ciha_stack_deployment_executed(d), 0);
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	ciha_stack_deployment_free(d);

	/* A template change keeping the previous value of Env. */
	CHECK_INT(deploy(&d, topic_spec(name, NULL, 1), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "update");
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_OK);
	CHECK_STR(ciha_stack_parameter(s, "Env"), "qa");
	ciha_stack_free(s);

	delete_stack(name);
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_ENOTFOUND);
	ciha_stack_free(s);
}

/* Outputs on moto: it computes none for a stack created through a change set,
 * and caches them at the first DescribeStacks, so after a change-set update they
 * are stale (test_stack_stub checks outputs after deploys). A stack created by
 * CreateStack (another tool) has them; deploying it adopts the stack. */
static void test_stack__outputs_of_an_adopted_stack(void)
{
	char name[64], tpl[1024], *value;
	ciha_stack_deployment *d = NULL;
	ciha_stack *s = NULL;
	stack_name(name, sizeof(name), "adopt");
	snprintf(tpl, sizeof(tpl), TOPIC_TEMPLATE, suffix, "");
	json_decref(call("cloudformation", "CreateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "StackName", name,
	            "TemplateBody", tpl, "Parameters", "ParameterKey", "Env", "ParameterValue", "dev")));
	value = output_of(name, "EnvName");
	CHECK_STR(value, "dev");
	free(value);
	value = output_of(name, "TopicArn");
	CHECK(value && strstr(value, "arn:aws:sns:") && strstr(value, "ciha-dev-"));
	free(value);
	/* moto answers the identical change set with "No updates are to be performed." itself. */
	CHECK_INT(deploy(&d, topic_spec(name, "dev", 0), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "none");
	CHECK(ciha_stack_deployment_change_set(d) == NULL);
	ciha_stack_deployment_free(d);
	CHECK_INT(deploy(&d, topic_spec(name, "stage", 0), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "update");
	CHECK_STR(ciha_stack_deployment_status(d), "UPDATE_COMPLETE");
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_OK);
	CHECK_STR(ciha_stack_parameter(s, "Env"), "stage");
	CHECK_INT(ciha_stack_outputs_count(s), 2);
	ciha_stack_free(s);
	delete_stack(name);
}

static void test_stack__review_in_progress_is_recovered(void)
{
	char name[64];
	ciha_stack_deployment *d = NULL;
	char *diag = NULL;
	stack_name(name, sizeof(name), "review");
	CHECK_INT(deploy(&d, topic_spec(name, "ci", 0), 1, NULL), CIHA_OK);
	CHECK_INT(ciha_stack_deployment_executed(d), 0);
	CHECK_STR(ciha_stack_deployment_status(d), "REVIEW_IN_PROGRESS");
	CHECK_INT(ciha_stack_deployment_change_count(d), 1);
	ciha_stack_deployment_free(d);
	CHECK_INT(ciha_stack_diagnose(&diag, client, name, 0), CIHA_OK);
	CHECK(diag && strstr(diag, "\"review-in-progress\""));
	ciha_free(diag);
	CHECK_INT(deploy(&d, topic_spec(name, "ci", 0), 0, NULL), CIHA_OK);
	CHECK_STR(ciha_stack_deployment_action(d), "create");
	CHECK_STR(ciha_stack_deployment_status(d), "CREATE_COMPLETE");
	ciha_stack_deployment_free(d);
	delete_stack(name);
}

/* ---- final snapshots ------------------------------------------------------------------ */

static const char *physical_id(const json_t *resources, const char *type)
{
	size_t i;
	for (i = 0; i < json_array_size(resources); i++) {
		const json_t *r = json_array_get(resources, i);
		const char *t = json_string_value(json_object_get(r, "ResourceType"));
		if (t && strcmp(t, type) == 0)
			return json_string_value(json_object_get(r, "PhysicalResourceId"));
	}
	return NULL;
}

static int has_tag(const json_t *tags, const char *key, const char *value)
{
	size_t i;
	for (i = 0; i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		const char *k = json_string_value(json_object_get(t, "Key")), *v = json_string_value(json_object_get(t, "Value"));
		if (k && v && strcmp(k, key) == 0 && strcmp(v, value) == 0)
			return 1;
	}
	return 0;
}

static void test_stack__delete_takes_final_snapshots(void)
{
	char name[64], db[64], policy[64], tpl[2048], *vol = NULL;
	ciha_stack_delete_options del = CIHA_STACK_DELETE_OPTIONS_INIT;
	ciha_stack_spec *spec = NULL;
	json_t *r, *snaps;
	stack_name(name, sizeof(name), "data");
	snprintf(db, sizeof(db), "ciha-db-%s", suffix);
	snprintf(policy, sizeof(policy), "final-%s", suffix);
	snprintf(tpl, sizeof(tpl), "{\"Resources\": {"
		"\"Data\": {\"Type\": \"AWS::EC2::Volume\", \"Properties\": {\"AvailabilityZone\": \"us-east-1a\", \"Size\": 1}},"
		"\"Db\": {\"Type\": \"AWS::RDS::DBInstance\", \"DeletionPolicy\": \"Snapshot\", \"Properties\": {"
		"\"DBInstanceIdentifier\": \"%s\", \"Engine\": \"postgres\", \"DBInstanceClass\": \"db.t3.micro\", "
		"\"AllocatedStorage\": \"20\", \"MasterUsername\": \"ci\", \"MasterUserPassword\": \"not-a-secret-1\"}}}}", db);
	CHECK_INT(ciha_stack_spec_new(&spec, name), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_template_body(spec, tpl), CIHA_OK);
	CHECK_INT(deploy(NULL, spec, 0, NULL), CIHA_OK);
	r = call("cloudformation", "ListStackResources", json_pack("{s:s}", "StackName", name));
	if (physical_id(json_object_get(r, "StackResourceSummaries"), "AWS::EC2::Volume"))
		vol = strdup(physical_id(json_object_get(r, "StackResourceSummaries"), "AWS::EC2::Volume"));
	json_decref(r);
	CHECK(vol && strncmp(vol, "vol-", 4) == 0);

	del.final_snapshots = 1;
	del.snapshot_policy = policy;
	del.poll_interval_ms = POLL_MS;
	del.timeout_s = 30;
	CHECK_MSG(ciha_stack_delete(client, name, &del) == CIHA_OK, "%s", last_error());

	r = call("ec2", "DescribeSnapshots", json_pack("{s:[{s:s, s:[s]}, {s:s, s:[s]}]}", "Filter",
	         "Name", "volume-id", "Value", vol ? vol : "vol-none", "Name", "tag:ciha:policy", "Value", policy));
	snaps = json_object_get(r, "snapshotSet");
	CHECK_INT(json_array_size(snaps), 1);
	json_decref(r);
	r = call("rds", "DescribeDBSnapshots", json_pack("{s:s, s:s}", "DBInstanceIdentifier", db,
	                                                "SnapshotType", "manual"));
	snaps = json_object_get(r, "DBSnapshots");
	CHECK_INT(json_array_size(snaps), 1);
	CHECK(has_tag(json_object_get(json_array_get(snaps, 0), "TagList"), "ciha:policy", policy));
	json_decref(r);
	free(vol);
}

static ciha_client *new_client(const char *endpoint)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDMOTOSTACKS", "moto-stacks-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = endpoint;
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
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	int rc;
	if (!endpoint || !*endpoint)
		CHECK_SKIP("test_moto_stacks: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto "
		           "server (or start tests/tools/moto.sh and export CIHA_TEST_ENDPOINT)");
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	snprintf(suffix, sizeof(suffix), "%lx%x", (unsigned long)time(NULL), (unsigned)getpid());
	if (!(client = new_client(endpoint)))
		return 1;
	RUN(test_stack__create_update_nochange_previous_outputs_delete);
	RUN(test_stack__outputs_of_an_adopted_stack);
	RUN(test_stack__review_in_progress_is_recovered);
	RUN(test_stack__delete_takes_final_snapshots);
	rc = CHECK_DONE("test_moto_stacks");
	ciha_client_free(client);
	ciha_global_cleanup();
	return rc;
}
