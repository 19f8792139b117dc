/* test_moto_calls.c: the generic call, pagination, whoami and error mapping
 * against moto server (CIHA_TEST_ENDPOINT, started by tests/run). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ciha.h>
#include "check.h"

static ciha_client *client;
static char suffix[32];

static ciha_client *new_client(const char *endpoint, const char *akid, const char *secret)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, akid, secret, NULL) != CIHA_OK)
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

static void test_whoami__static_keys(void)
{
	ciha_identity *id = NULL;
	CHECK_INT(ciha_client_whoami(&id, client), CIHA_OK);
	if (!id)
		return;
	CHECK_STR(ciha_identity_account(id), "123456789012");
	CHECK(strstr(ciha_identity_arn(id), "arn:aws:") == ciha_identity_arn(id));
	CHECK_STR(ciha_identity_provider(id), "static");
	CHECK_STR(ciha_identity_region(id), "us-east-1");
	CHECK_STR(ciha_identity_endpoint(id), getenv("CIHA_TEST_ENDPOINT"));
	ciha_identity_free(id);
}

static void test_call__cloudformation_stack_with_parameters_and_outputs(void)
{
	char name[64];
	const char *tpl = "{\"Parameters\":{\"Env\":{\"Type\":\"String\"}},"
		"\"Resources\":{\"Topic\":{\"Type\":\"AWS::SNS::Topic\",\"Properties\":{\"TopicName\":{\"Ref\":\"Env\"}}}},"
		"\"Outputs\":{\"TopicArn\":{\"Value\":{\"Ref\":\"Topic\"}},\"EnvName\":{\"Value\":{\"Ref\":\"Env\"}}}}";
	json_t *r, *stacks, *outputs;
	size_t i;
	snprintf(name, sizeof(name), "ci-master-%s", suffix);
	r = call("cloudformation", "CreateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]}",
		"StackName", name, "TemplateBody", tpl,
		"Parameters", "ParameterKey", "Env", "ParameterValue", "ci-env",
		"Tags", "Key", "team", "Value", "build"));
	CHECK(r && json_string_value(json_object_get(r, "StackId")));
	json_decref(r);
	r = call("cloudformation", "DescribeStacks", json_pack("{s:s}", "StackName", name));
	stacks = json_object_get(r, "Stacks");
	CHECK(json_is_array(stacks) && json_array_size(stacks) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(stacks, 0), "StackStatus")), "CREATE_COMPLETE");
	outputs = json_object_get(json_array_get(stacks, 0), "Outputs");
	CHECK(json_is_array(outputs) && json_array_size(outputs) == 2);
	for (i = 0; i < json_array_size(outputs); i++) {
		json_t *o = json_array_get(outputs, i);
		if (strcmp(json_string_value(json_object_get(o, "OutputKey")), "EnvName") == 0)
			CHECK_STR(json_string_value(json_object_get(o, "OutputValue")), "ci-env");
	}
	json_decref(r);
}

static void test_call__ec2_flattened_filters_and_items(void)
{
	json_t *r, *vols;
	char tag[64];
	const char *vol_id;
	snprintf(tag, sizeof(tag), "daily-%s", suffix);
	r = call("ec2", "CreateVolume", json_pack("{s:s, s:i, s:[{s:s, s:[{s:s, s:s}]}]}",
		"AvailabilityZone", "us-east-1a", "Size", 8,
		"TagSpecification", "ResourceType", "volume", "Tag", "Key", "Backup", "Value", tag));
	vol_id = json_string_value(json_object_get(r, "volumeId"));
	CHECK(vol_id && strncmp(vol_id, "vol-", 4) == 0);
	json_decref(r);
	r = call("ec2", "DescribeVolumes", json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name", "tag:Backup", "Value", tag));
	vols = json_object_get(r, "volumeSet");
	CHECK(json_is_array(vols) && json_array_size(vols) == 1);
	CHECK(!json_object_get(r, "requestId"));
	json_decref(r);
}

static void test_call__rds_named_list_members(void)
{
	char id[64];
	json_t *r, *dbs;
	snprintf(id, sizeof(id), "ci-db-%s", suffix);
	r = call("rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[{s:s, s:s}]}",
		"DBInstanceIdentifier", id, "DBInstanceClass", "db.t3.micro", "Engine", "postgres",
		"AllocatedStorage", 20, "MasterUsername", "bamboo", "MasterUserPassword", "not-a-secret-1",
		"Tags", "Key", "Backup", "Value", "daily"));
	CHECK(r != NULL);
	json_decref(r);
	r = call("rds", "DescribeDBInstances", json_pack("{s:[{s:s, s:[s]}]}", "Filters", "Name", "db-instance-id", "Values", id));
	dbs = json_object_get(r, "DBInstances");
	CHECK(json_is_array(dbs) && json_array_size(dbs) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(dbs, 0), "DBInstanceIdentifier")), id);
	json_decref(r);
}

/* ciha_call with params built for this call only; returns its result code. */
static int call_rc(json_t **r, const char *service, const char *action, json_t *params)
{
	int rc = ciha_call(r, client, service, action, params);
	json_decref(params);
	return rc;
}

static void test_call__errors_are_mapped(void)
{
	json_t *r = NULL;
	const ciha_error *e;
	CHECK_INT(call_rc(&r, "cloudformation", "DescribeStacks", json_pack("{s:s}", "StackName", "no-such-stack")), CIHA_EAWS);
	e = ciha_client_error(client);
	CHECK_STR(ciha_error_aws_code(e), "ValidationError");
	CHECK_INT(ciha_error_http_status(e), 400);
	CHECK_STR(ciha_error_service(e), "cloudformation");
	CHECK(ciha_error_request_id(e) && *ciha_error_request_id(e));
	CHECK(!ciha_error_is_retryable(e));
	CHECK_INT(ciha_client_last_attempts(client), 1);
	CHECK(strstr(ciha_error_message(e), "no-such-stack") != NULL);

	CHECK_INT(call_rc(&r, "ec2", "DescribeVolumes", json_pack("{s:[s]}", "VolumeId", "vol-00000000")), CIHA_ENOTFOUND);
	CHECK_STR(ciha_error_aws_code(ciha_client_error(client)), "InvalidVolume.NotFound");

	CHECK_INT(call_rc(&r, "rds", "DescribeDBInstances", json_pack("{s:s}", "DBInstanceIdentifier", "nope")), CIHA_ENOTFOUND);
	CHECK_STR(ciha_error_aws_code(ciha_client_error(client)), "DBInstanceNotFound");
	CHECK_INT(ciha_error_http_status(ciha_client_error(client)), 404);

	CHECK_INT(ciha_call(&r, client, "s3", "ListBuckets", NULL), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_client_error(client)), "unknown service") != NULL);
	CHECK(r == NULL);
}

static void test_pager__follows_next_token(void)
{
	ciha_pager *p = NULL;
	json_t *page = NULL, *all = NULL, *params;
	int i, n = 0;
	char name[64];
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "lc-%s-%d", suffix, i);
		json_decref(call("autoscaling", "CreateLaunchConfiguration", json_pack("{s:s, s:s, s:s}",
			"LaunchConfigurationName", name, "ImageId", "ami-12345678", "InstanceType", "t3.micro")));
	}
	params = json_pack("{s:i}", "MaxRecords", 2);
	CHECK_INT(ciha_pager_new(&p, client, "autoscaling", "DescribeLaunchConfigurations", params), CIHA_OK);
	while (ciha_pager_next(&page, p) == CIHA_OK) {
		n += (int)json_array_size(json_object_get(page, "LaunchConfigurations"));
		json_decref(page);
	}
	CHECK(ciha_pager_pages(p) >= 3);
	CHECK(n >= 5);
	CHECK_INT(ciha_pager_next(&page, p), CIHA_ITEROVER);
	ciha_pager_free(p);
	CHECK_INT(ciha_call_all(&all, client, "autoscaling", "DescribeLaunchConfigurations", params), CIHA_OK);
	CHECK_INT((long long)json_array_size(json_object_get(all, "LaunchConfigurations")), n);
	CHECK(json_object_get(all, "NextToken") == NULL);
	json_decref(all);
	json_decref(params);
}

static void test_call__encode_without_sending(void)
{
	char *body = NULL;
	json_t *params = json_pack("{s:[{s:s, s:[s, s]}]}", "Filters", "Name", "db-instance-id", "Values", "a b", "c+d");
	CHECK_INT(ciha_call_encode(&body, "rds", "DescribeDBSnapshots", params), CIHA_OK);
	CHECK_STR(body, "Action=DescribeDBSnapshots&Version=2014-10-31&Filters.Filter.1.Name=db-instance-id"
		"&Filters.Filter.1.Values.Value.1=a+b&Filters.Filter.1.Values.Value.2=c%2Bd");
	ciha_free(body);
	json_decref(params);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server");
	snprintf(suffix, sizeof(suffix), "%ld", (long)getpid());
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	client = new_client(endpoint, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
	if (!client)
		return 1;
	RUN(test_whoami__static_keys);
	RUN(test_call__cloudformation_stack_with_parameters_and_outputs);
	RUN(test_call__ec2_flattened_filters_and_items);
	RUN(test_call__rds_named_list_members);
	RUN(test_call__errors_are_mapped);
	RUN(test_pager__follows_next_token);
	RUN(test_call__encode_without_sending);
	ciha_client_free(client);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_calls");
}
