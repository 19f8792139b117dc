/* test_moto_stack_describe.c: describe, list, events, stack policies,
 * termination protection and snapshot parameters against moto server
 * (CIHA_TEST_ENDPOINT, started by tests/run). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <ciha.h>
#include "stack_int.h"
#include "check.h"

static ciha_client *client;
static char suffix[32];

static const char *topic_template =
	"Parameters:\n"
	"  Env: {Type: String}\n"
	"Resources:\n"
	"  Topic:\n"
	"    Type: AWS::SNS::Topic\n"
	"    Properties:\n"
	"      TopicName: !Sub '${Env}-builds'\n"
	"Outputs:\n"
	"  TopicArn: {Value: !Ref Topic}\n"
	"  EnvName: {Value: !Ref Env}\n";

static ciha_client *new_client(const char *endpoint)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDMOTO", "moto-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = endpoint;
	o.credentials = p;
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

static json_t *call(const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	int rc = ciha_call(&out, client, service, action, params);
	if (rc != CIHA_OK)
		fprintf(stderr, "  %s %s: %s\n", service, action, ciha_error_message(ciha_client_error(client)));
	json_decref(params);
	return out;
}

static void stack_name(char *out, size_t size, const char *what)
{
	snprintf(out, size, "%s-%s", what, suffix);
}

/* CreateStack through the generic call, as another tool would. */
static int create_stack(const char *name, const char *env)
{
	json_t *r = call("cloudformation", "CreateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]}",
		"StackName", name, "TemplateBody", topic_template, "Parameters", "ParameterKey", "Env", "ParameterValue",
		env, "Tags", "Key", "team", "Value", "build"));
	int ok = r && json_string_value(json_object_get(r, "StackId"));
	json_decref(r);
	return ok;
}

static json_t *parsed(char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	ciha_free(text);
	return j;
}

static const json_t *find_named(const json_t *list, const char *key, const char *value)
{
	size_t i;
	for (i = 0; i < json_array_size(list); i++) {
		const char *v = json_string_value(json_object_get(json_array_get(list, i), key));
		if (v && strcmp(v, value) == 0)
			return json_array_get(list, i);
	}
	return NULL;
}

static const char *member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- describe ------------------------------------------------------------ */

static void test_describe__status_outputs_parameters(void)
{
	char name[64], *text = NULL, env[64];
	ciha_stack *s = NULL;
	size_t i, n;
	int seen_env = 0;
	stack_name(name, sizeof(name), "ci-master");
	snprintf(env, sizeof(env), "env-%s", suffix);
	CHECK(create_stack(name, env));
	CHECK_INT(ciha_stack_describe(&s, client, name), CIHA_OK);
	if (!s)
		return;
	CHECK_STR(ciha_stack_name(s), name);
	CHECK(strncmp(ciha_stack_id(s), "arn:aws:cloudformation:us-east-1:", 33) == 0);
	CHECK_STR(ciha_stack_status(s), "CREATE_COMPLETE");
	CHECK(ciha_stack_status_reason(s) == NULL);
	CHECK_INT(ciha_stack_termination_protection(s), 0);
	CHECK_STR(ciha_stack_output(s, "EnvName"), env);
	CHECK(ciha_stack_output(s, "TopicArn") && strstr(ciha_stack_output(s, "TopicArn"), "-builds"));
	CHECK(ciha_stack_output(s, "Missing") == NULL);
	CHECK(ciha_stack_output(s, NULL) == NULL);
	n = ciha_stack_outputs_count(s);
	CHECK_INT(n, 2);
	for (i = 0; i < n; i++)
		if (strcmp(ciha_stack_output_key_at(s, i), "EnvName") == 0) {
			CHECK_STR(ciha_stack_output_value_at(s, i), env);
			seen_env = 1;
		}
	CHECK(seen_env);
	CHECK(ciha_stack_output_key_at(s, n) == NULL);
	CHECK(ciha_stack_output_value_at(s, n) == NULL);
	CHECK_STR(ciha_stack_parameter(s, "Env"), env);
	CHECK(ciha_stack_parameter(s, "Nope") == NULL);
	CHECK_INT(ciha_stack_json(&text, s), CIHA_OK);
	{
		json_t *j = parsed(text);
		const json_t *res = find_named(json_object_get(j, "resources"), "logical_id", "Topic");
		CHECK_STR(member(j, "name"), name);
		CHECK_STR(member(j, "status"), "CREATE_COMPLETE");
		CHECK(json_is_false(json_object_get(j, "protection")));
		CHECK(json_is_null(json_object_get(j, "reason")));
		CHECK_STR(member(json_object_get(j, "outputs"), "EnvName"), env);
		CHECK_STR(member(json_object_get(j, "parameters"), "Env"), env);
		CHECK_STR(member(json_object_get(j, "tags"), "team"), "build");
		CHECK_STR(member(res, "type"), "AWS::SNS::Topic");
		CHECK(member(res, "physical_id") && strstr(member(res, "physical_id"), "-builds"));
		json_decref(j);
	}
	ciha_stack_free(s);
	ciha_stack_free(NULL);
	CHECK(ciha_stack_name(NULL) == NULL && ciha_stack_outputs_count(NULL) == 0);
}

static void test_describe__missing_stack_is_not_found(void)
{
	ciha_stack *s = NULL;
	char *text = NULL;
	CHECK_INT(ciha_stack_describe(&s, client, "no-such-stack-here"), CIHA_ENOTFOUND);
	CHECK(s == NULL);
	CHECK_STR(ciha_error_message(ciha_client_error(client)),
	          "cloudformation DescribeStacks: stack 'no-such-stack-here' does not exist");
	CHECK_STR(ciha_error_aws_code(ciha_client_error(client)), "ValidationError");
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_ENOTFOUND);
	CHECK_INT(ciha_stack_events(&text, client, "no-such-stack-here", 0), CIHA_ENOTFOUND);
	CHECK(text == NULL);
	CHECK_INT(ciha_stack_describe(&s, client, ""), CIHA_EINVAL);
}

/* ---- list and events ----------------------------------------------------------- */

static void test_list__live_and_deleted_stacks(void)
{
	char live[64], gone[64], *text = NULL;
	json_t *list, *r;
	stack_name(live, sizeof(live), "list-live");
	stack_name(gone, sizeof(gone), "list-gone");
	CHECK(create_stack(live, live));
	CHECK(create_stack(gone, gone));
	r = call("cloudformation", "DeleteStack", json_pack("{s:s}", "StackName", gone));
	json_decref(r);

	CHECK_INT(ciha_stack_list(&text, client, 0), CIHA_OK);
	list = parsed(text);
	CHECK_STR(member(find_named(list, "name", live), "status"), "CREATE_COMPLETE");
	CHECK(member(find_named(list, "name", live), "updated") != NULL);
	CHECK(strncmp(member(find_named(list, "name", live), "id"), "arn:aws:cloudformation:", 23) == 0);
	CHECK(find_named(list, "name", gone) == NULL);
	json_decref(list);

	text = NULL;
	CHECK_INT(ciha_stack_list(&text, client, 1), CIHA_OK);
	list = parsed(text);
	CHECK_STR(member(find_named(list, "name", live), "status"), "CREATE_COMPLETE");
	CHECK_STR(member(find_named(list, "name", gone), "status"), "DELETE_COMPLETE");
	json_decref(list);
}

static void test_events__newest_first_and_at_most_max(void)
{
	char name[64], env[80], *text = NULL;
	json_t *events, *r;
	size_t i;
	stack_name(name, sizeof(name), "events");
	CHECK(create_stack(name, name));
	snprintf(env, sizeof(env), "%s-2", name);
	r = call("cloudformation", "UpdateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "StackName", name,
		"TemplateBody", topic_template, "Parameters", "ParameterKey", "Env", "ParameterValue", env));
	CHECK(r != NULL);
	json_decref(r);
	CHECK_INT(ciha_stack_events(&text, client, name, 0), CIHA_OK);
	events = parsed(text);
	CHECK(json_array_size(events) >= 4);
	CHECK_STR(member(json_array_get(events, 0), "status"), "UPDATE_COMPLETE");
	for (i = 0; i < json_array_size(events); i++) {
		const json_t *e = json_array_get(events, i);
		CHECK_STR(member(e, "stack_name"), name);
		CHECK(member(e, "event_id") && member(e, "status") && member(e, "time"));
		CHECK(json_integer_value(json_object_get(e, "timestamp")) > 1000000000);
		if (i > 0)
			CHECK(json_integer_value(json_object_get(e, "timestamp")) <=
			      json_integer_value(json_object_get(json_array_get(events, i - 1), "timestamp")));
	}
	json_decref(events);
	text = NULL;
	CHECK_INT(ciha_stack_events(&text, client, name, 1), CIHA_OK);
	events = parsed(text);
	CHECK_INT(json_array_size(events), 1);
	json_decref(events);
}

/* ---- protection ------------------------------------------------------------------ */

static void test_policy__set_and_get_round_trip(void)
{
	char name[64], *policy = NULL, *got = NULL;
	json_t *a, *b;
	stack_name(name, sizeof(name), "policy");
	CHECK(create_stack(name, name));
	CHECK_INT(ciha_stack_policy_get(&got, client, name), CIHA_OK);
	CHECK(got == NULL);
	CHECK_INT(ciha_stack_policy_generate(&policy, topic_template), CIHA_OK);
	CHECK_INT(ciha_stack_policy_set(client, name, policy), CIHA_OK);
	CHECK_INT(ciha_stack_policy_get(&got, client, name), CIHA_OK);
	a = policy ? json_loads(policy, 0, NULL) : NULL;
	b = got ? json_loads(got, 0, NULL) : NULL;
	CHECK(a && b && json_equal(a, b));
	json_decref(a);
	json_decref(b);
	ciha_free(policy);
	ciha_free(got);
	CHECK_INT(ciha_stack_policy_set(client, name, "{\"Statement\": "), CIHA_EINVAL);
	CHECK(strncmp(ciha_error_message(ciha_client_error(client)), "stack policy:1:", 15) == 0);
	CHECK_INT(ciha_stack_policy_set(client, "no-such-stack-here", "{\"Statement\": []}"), CIHA_ENOTFOUND);
}

static void test_protection__unsupported_endpoint_fails_in_one_clear_line(void)
{
	char name[64];
	const char *msg;
	stack_name(name, sizeof(name), "protect");
	CHECK(create_stack(name, name));
	CHECK_INT(ciha_stack_set_termination_protection(client, name, 1), CIHA_EAWS);
	msg = ciha_error_message(ciha_client_error(client));
	CHECK_MSG(strstr(msg, "UpdateTerminationProtection") && strstr(msg, name) && strstr(msg, "HTTP 500") &&
	          strstr(msg, "may not implement"), "%s", msg);
	CHECK_MSG(!strchr(msg, '\n') && !strstr(msg, "<") && strlen(msg) < 300, "%s", msg);
	CHECK_INT(ciha_error_http_status(ciha_client_error(client)), 500);
	CHECK_INT(ciha_stack_set_termination_protection(client, "", 1), CIHA_EINVAL);
}

/* ---- snapshot parameters ------------------------------------------------------------ */

static void test_spec__snapshot_parameters_resolve_to_the_newest(void)
{
	char db[64], snap[80], newest_db[80], *volume = NULL, newest_ebs[64] = "";
	ciha_stack_spec *spec = NULL;
	json_t *r, *params = NULL;
	int i;
	stack_name(db, sizeof(db), "ci-db");
	r = call("rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "DBInstanceIdentifier", db,
		"DBInstanceClass", "db.t3.micro", "Engine", "postgres", "AllocatedStorage", 20, "MasterUsername", "ci",
		"MasterUserPassword", "secret-password"));
	json_decref(r);
	for (i = 0; i < 2; i++) {
		snprintf(snap, sizeof(snap), "%s-manual-%d", db, i);
		if (i)
			sleep(1);   /* distinct SnapshotCreateTime */
		json_decref(call("rds", "CreateDBSnapshot", json_pack("{s:s, s:s}", "DBInstanceIdentifier", db,
		                                                      "DBSnapshotIdentifier", snap)));
		snprintf(newest_db, sizeof(newest_db), "%s", snap);
	}
	r = call("ec2", "CreateVolume", json_pack("{s:s, s:i}", "AvailabilityZone", "us-east-1a", "Size", 10));
	volume = r ? strdup(member(r, "volumeId")) : NULL;
	json_decref(r);
	for (i = 0; volume && i < 2; i++) {
		if (i)
			sleep(1);
		r = call("ec2", "CreateSnapshot", json_pack("{s:s}", "VolumeId", volume));
		if (member(r, "snapshotId"))
			snprintf(newest_ebs, sizeof(newest_ebs), "%s", member(r, "snapshotId"));
		json_decref(r);
	}
	if (ciha_stack_spec_new(&spec, "restore") != CIHA_OK || !volume) {
		free(volume);
		return;
	}
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", "ci"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnapshot", "rds", db), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DataSnapshot", "ebs", volume), CIHA_OK);
	CHECK_INT(ciha__stack_spec_parameters(&params, client, spec), CIHA_OK);
	CHECK_INT(json_array_size(params), 3);
	CHECK_STR(member(json_array_get(params, 1), "ParameterKey"), "DbSnapshot");
	CHECK_STR(member(json_array_get(params, 1), "ParameterValue"), newest_db);
	CHECK_STR(member(json_array_get(params, 2), "ParameterKey"), "DataSnapshot");
	CHECK_STR(member(json_array_get(params, 2), "ParameterValue"), newest_ebs);
	json_decref(params);
	ciha_stack_spec_free(spec);

	spec = NULL;
	if (ciha_stack_spec_new(&spec, "restore") != CIHA_OK) {
		free(volume);
		return;
	}
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnapshot", "rds", "db-without-snapshots"), CIHA_OK);
	params = NULL;
	CHECK_INT(ciha__stack_spec_parameters(&params, client, spec), CIHA_ENOTFOUND);
	CHECK(params == NULL);
	CHECK_STR(ciha_error_message(ciha_client_error(client)), "parameter DbSnapshot: no available manual DB snapshot "
	          "of DB instance 'db-without-snapshots' to restore from");
	ciha_stack_spec_free(spec);
	free(volume);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("test_moto_stack_describe: CIHA_TEST_ENDPOINT is not set (tests/run starts moto and sets it)");
	if (ciha_global_init(0) != CIHA_OK || !(client = new_client(endpoint)))
		return 1;
	snprintf(suffix, sizeof(suffix), "%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
	RUN(test_describe__status_outputs_parameters);
	RUN(test_describe__missing_stack_is_not_found);
	RUN(test_list__live_and_deleted_stacks);
	RUN(test_events__newest_first_and_at_most_max);
	RUN(test_policy__set_and_get_round_trip);
	RUN(test_protection__unsupported_endpoint_fails_in_one_clear_line);
	RUN(test_spec__snapshot_parameters_resolve_to_the_newest);
	ciha_client_free(client);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_stack_describe");
}
