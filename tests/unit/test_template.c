/* test_template.c: templates (JSON and YAML with the short-form tags) as JSON,
 * error positions, the stateful table, the template check, generated stack
 * policies, the stack spec's validation, and (through canned responses)
 * paging of describe, list, events and snapshot parameters, which moto
 * does not paginate, and termination protection, which moto lacks. */
#define _POSIX_C_SOURCE 200809L
#define CIHA_TESTING 1   /* linked against libciha_test.la: the transport seam exists */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <ciha.h>
#include "alloc_int.h"
#include "http_int.h"
#include "stack_int.h"
#include "check.h"

/* Parse `body` and compare with the JSON text `expected`. */
static int parses_to(const char *body, const char *expected)
{
	json_t *got = NULL, *want = json_loads(expected, 0, NULL);
	int rc = ciha__template_parse(&got, body, "t.yaml"), same;
	if (rc != CIHA_OK)
		fprintf(stderr, "    parse failed: %s\n", ciha_error_message(ciha_error_last()));
	same = rc == CIHA_OK && want && json_equal(got, want);
	if (rc == CIHA_OK && !same) {
		char *text = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fprintf(stderr, "    got: %s\n", text ? text : "(null)");
		free(text);
	}
	json_decref(got);
	json_decref(want);
	return same;
}

/* Parse must fail with CIHA_EINVAL and a message starting with `prefix`. */
static int fails_with(const char *body, const char *prefix)
{
	json_t *got = NULL;
	int rc = ciha__template_parse(&got, body, "t.yaml");
	const char *msg = ciha_error_message(ciha_error_last());
	json_decref(got);
	if (rc != CIHA_EINVAL || got || strncmp(msg, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "    rc %d, message [%s], expected prefix [%s]\n", rc, msg, prefix);
		return 0;
	}
	return 1;
}

/* ---- JSON ---------------------------------------------------------------- */

static void test_template__json_keeps_key_order(void)
{
	json_t *t = NULL;
	const char *key;
	json_t *v;
	const char *order[] = { "Zeta", "Alpha", "Mid" };
	size_t i = 0;
	CHECK_INT(ciha__template_parse(&t, "{\"Resources\": {\"Zeta\": {\"Type\": \"AWS::SNS::Topic\"},"
	                                   "\"Alpha\": {\"Type\": \"AWS::SNS::Topic\"}, \"Mid\": {\"Type\": \"X\"}}}",
	                               "t.json"), CIHA_OK);
	json_object_foreach(json_object_get(t, "Resources"), key, v) {
		CHECK(i < 3 && strcmp(key, order[i]) == 0);
		i++;
	}
	CHECK_INT(i, 3);
	json_decref(t);
}

static void test_template__json_errors_name_line_and_column(void)
{
	json_t *t = NULL;
	CHECK_INT(ciha__template_parse(&t, "{\n  \"Resources\": {\n    \"A\": ,\n  }\n}", "db.json"), CIHA_EINVAL);
	CHECK(strncmp(ciha_error_message(ciha_error_last()), "db.json:3:", 10) == 0);
	CHECK(t == NULL);
	CHECK(fails_with("{\"A\": 1, \"A\": 2}", "t.yaml:1:"));
	CHECK(fails_with("  [1, 2]", "t.yaml: a template is a JSON object"));
}

/* ---- YAML ---------------------------------------------------------------- */

static void test_template__yaml_ref_getatt_sub(void)
{
	CHECK(parses_to("Resources:\n"
	                "  Db:\n"
	                "    Type: AWS::RDS::DBInstance\n"
	                "    Properties:\n"
	                "      DBSubnetGroupName: !Ref DbSubnets\n"
	                "      Address: !GetAtt Db.Endpoint.Address\n"
	                "      Port: !GetAtt [Db, Endpoint.Port]\n"
	                "      Url: !Sub 'jdbc:postgresql://${Db.Endpoint.Address}/ci'\n"
	                "      Name: !Sub\n"
	                "        - '${Prefix}-${Zone}'\n"
	                "        - Prefix: !Ref Env\n"
	                "          Zone: !Select [0, !GetAZs '']\n",
	                "{\"Resources\": {\"Db\": {\"Type\": \"AWS::RDS::DBInstance\", \"Properties\": {"
	                "\"DBSubnetGroupName\": {\"Ref\": \"DbSubnets\"},"
	                "\"Address\": {\"Fn::GetAtt\": [\"Db\", \"Endpoint.Address\"]},"
	                "\"Port\": {\"Fn::GetAtt\": [\"Db\", \"Endpoint.Port\"]},"
	                "\"Url\": {\"Fn::Sub\": \"jdbc:postgresql://${Db.Endpoint.Address}/ci\"},"
	                "\"Name\": {\"Fn::Sub\": [\"${Prefix}-${Zone}\", {\"Prefix\": {\"Ref\": \"Env\"},"
	                "\"Zone\": {\"Fn::Select\": [0, {\"Fn::GetAZs\": \"\"}]}}]}}}}}"));
}

static void test_template__yaml_every_short_tag(void)
{
	CHECK(parses_to("Conditions:\n"
	                "  IsProd: !Equals [!Ref Env, prod]\n"
	                "  NotProd: !Not [!Condition IsProd]\n"
	                "  Both: !And [!Condition IsProd, !Or [!Condition A, !Condition B]]\n"
	                "Resources:\n"
	                "  X:\n"
	                "    Type: AWS::EC2::Instance\n"
	                "    Properties:\n"
	                "      A: !If [IsProd, m5.large, t3.small]\n"
	                "      B: !Join [',', [a, b]]\n"
	                "      C: !Split [',', 'a,b']\n"
	                "      D: !FindInMap [Amis, !Ref 'AWS::Region', Id]\n"
	                "      E: !Base64 {'Fn::Sub': 'echo ${Env}'}\n"
	                "      F: !Cidr [10.0.0.0/16, 4, 8]\n"
	                "      G: !ImportValue network-VpcId\n"
	                "      H: !GetAZs us-east-1\n"
	                "      I: !Base64 |\n"
	                "        #!/bin/sh\n"
	                "        echo hi\n",
	                "{\"Conditions\": {"
	                "\"IsProd\": {\"Fn::Equals\": [{\"Ref\": \"Env\"}, \"prod\"]},"
	                "\"NotProd\": {\"Fn::Not\": [{\"Condition\": \"IsProd\"}]},"
	                "\"Both\": {\"Fn::And\": [{\"Condition\": \"IsProd\"}, {\"Fn::Or\": [{\"Condition\": \"A\"},"
	                "{\"Condition\": \"B\"}]}]}},"
	                "\"Resources\": {\"X\": {\"Type\": \"AWS::EC2::Instance\", \"Properties\": {"
	                "\"A\": {\"Fn::If\": [\"IsProd\", \"m5.large\", \"t3.small\"]},"
	                "\"B\": {\"Fn::Join\": [\",\", [\"a\", \"b\"]]},"
	                "\"C\": {\"Fn::Split\": [\",\", \"a,b\"]},"
	                "\"D\": {\"Fn::FindInMap\": [\"Amis\", {\"Ref\": \"AWS::Region\"}, \"Id\"]},"
	                "\"E\": {\"Fn::Base64\": {\"Fn::Sub\": \"echo ${Env}\"}},"
	                "\"F\": {\"Fn::Cidr\": [\"10.0.0.0/16\", 4, 8]},"
	                "\"G\": {\"Fn::ImportValue\": \"network-VpcId\"},"
	                "\"H\": {\"Fn::GetAZs\": \"us-east-1\"},"
	                "\"I\": {\"Fn::Base64\": \"#!/bin/sh\\necho hi\\n\"}}}}}"));
}

static void test_template__yaml_scalars(void)
{
	CHECK(parses_to("AWSTemplateFormatVersion: 2010-09-09\n"
	                "Resources:\n"
	                "  V:\n"
	                "    Properties:\n"
	                "      Size: 100\n"
	                "      Neg: -3\n"
	                "      Ratio: 1.5\n"
	                "      Version: 10.10\n"
	                "      Account: 012345678901\n"
	                "      Quoted: '100'\n"
	                "      DoubleQuoted: \"true\"\n"
	                "      Encrypted: true\n"
	                "      Off: False\n"
	                "      Nothing: ~\n"
	                "      Empty:\n"
	                "      Huge: 99999999999999999999999\n"
	                "      Tagged: !!str 42\n"
	                "      Word: yes\n",
	                "{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {\"V\": {\"Properties\": {"
	                "\"Size\": 100, \"Neg\": -3, \"Ratio\": 1.5, \"Version\": \"10.10\", \"Account\": \"012345678901\","
	                "\"Quoted\": \"100\", \"DoubleQuoted\": \"true\", \"Encrypted\": true, \"Off\": false,"
	                "\"Nothing\": null, \"Empty\": null, \"Huge\": \"99999999999999999999999\","
	                "\"Tagged\": \"42\", \"Word\": \"yes\"}}}}"));
}

static void test_template__yaml_keeps_key_order(void)
{
	json_t *t = NULL;
	const char *key;
	json_t *v;
	const char *order[] = { "Zeta", "Alpha", "Mid" };
	size_t i = 0;
	CHECK_INT(ciha__template_parse(&t, "Resources:\n  Zeta: {Type: A}\n  Alpha: {Type: B}\n  Mid: {Type: C}\n",
	                               "t.yaml"), CIHA_OK);
	json_object_foreach(json_object_get(t, "Resources"), key, v) {
		CHECK(i < 3 && strcmp(key, order[i]) == 0);
		i++;
	}
	CHECK_INT(i, 3);
	json_decref(t);
}

static void test_template__yaml_errors_name_line_and_column(void)
{
	CHECK(fails_with("Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      X: !Reff Db\n",
	                 "t.yaml:5:10: unknown tag !Reff"));
	CHECK(fails_with("Resources:\n  A: &base {Type: X}\n  B: *base\n",
	                 "t.yaml:3:6: YAML aliases are not allowed"));
	CHECK(fails_with("Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", "t.yaml:3:3: duplicate mapping key 'A'"));
	CHECK(fails_with("Resources:\n  A:\n    Type: X\n   Bad: 1\n", "t.yaml:4:"));
	CHECK(fails_with("Resources: {A: [1, 2}\n", "t.yaml:1:"));
	CHECK(fails_with("X: !GetAtt Db\n", "t.yaml:1:4: !GetAtt needs"));
	CHECK(fails_with("- just\n- a list\n", "t.yaml:1:1: a template is a mapping"));
	CHECK(fails_with("A: 1\n---\nB: 2\n", "t.yaml:2:1: a template is one YAML document"));
	CHECK(fails_with("   \n\n", "t.yaml: the template is empty"));
	CHECK(fails_with("# only a comment\n", "t.yaml: the template is empty"));
	CHECK(fails_with("{A: 1}: 2\n", "t.yaml:1:"));
}

static void test_template__limits(void)
{
	size_t big = 1024 * 1024 + 1, i;
	char *text = malloc(big + 1), *deep;
	if (!text)
		return;
	memset(text, ' ', big);
	memcpy(text, "A: 1", 4);
	text[big] = '\0';
	CHECK(fails_with(text, "t.yaml: the template is 1048577 bytes"));
	free(text);

	deep = malloc(4 * 200 + 16);
	if (!deep)
		return;
	strcpy(deep, "A: ");
	for (i = 0; i < 200; i++)
		strcat(deep, "[");
	for (i = 0; i < 200; i++)
		strcat(deep, "]");
	CHECK(fails_with(deep, "t.yaml:1:"));
	CHECK(strstr(ciha_error_message(ciha_error_last()), "nested more than 128 levels"));
	free(deep);
	CHECK(fails_with(NULL, "t.yaml: no template"));
}

/* ---- stateful resources and the template check ------------------------------ */

static void test_template__stateful_types(void)
{
	const char *stateful[] = { "AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::EC2::Volume",
		"AWS::EFS::FileSystem", "AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::ElastiCache::CacheCluster",
		"AWS::ElastiCache::ReplicationGroup", "AWS::Neptune::DBCluster", "AWS::DocDB::DBCluster",
		"AWS::Redshift::Cluster", "AWS::OpenSearchService::Domain", "AWS::Elasticsearch::Domain",
		"AWS::FSx::FileSystem" };
	const char *stateless[] = { "AWS::EC2::Instance", "AWS::SQS::Queue", "AWS::Logs::LogGroup", "AWS::SNS::Topic",
		"AWS::AutoScaling::AutoScalingGroup", "aws::rds::dbinstance", "", NULL };
	size_t i;
	for (i = 0; i < sizeof(stateful) / sizeof(stateful[0]); i++)
		CHECK_MSG(ciha__resource_type_is_stateful(stateful[i]), "%s", stateful[i]);
	for (i = 0; i < sizeof(stateless) / sizeof(stateless[0]); i++)
		CHECK_MSG(!ciha__resource_type_is_stateful(stateless[i]), "%s", stateless[i] ? stateless[i] : "NULL");
}

static const char *scenario_yaml =
	"AWSTemplateFormatVersion: '2010-09-09'\n"
	"Parameters:\n"
	"  DbSnapshot: {Type: String, Default: ''}\n"
	"Resources:\n"
	"  Database:\n"
	"    Type: AWS::RDS::DBInstance\n"
	"    DeletionPolicy: Snapshot\n"
	"    UpdateReplacePolicy: Snapshot\n"
	"    Properties:\n"
	"      DBSnapshotIdentifier: !Ref DbSnapshot\n"
	"  ReportsDb:\n"
	"    Type: AWS::RDS::DBInstance\n"
	"    Properties: {Engine: postgres}\n"
	"  MasterData:\n"
	"    Type: AWS::EC2::Volume\n"
	"    DeletionPolicy: Retain\n"
	"    Properties: {Size: 100, AvailabilityZone: !Select [0, !GetAZs '']}\n"
	"  Artifacts:\n"
	"    Type: AWS::S3::Bucket\n"
	"    DeletionPolicy: Snapshot\n"
	"    UpdateReplacePolicy: Retain\n"
	"  Builds:\n"
	"    Type: AWS::DynamoDB::Table\n"
	"    DeletionPolicy: Retain\n"
	"    UpdateReplacePolicy: Retain\n"
	"  Cache:\n"
	"    Type: AWS::ElastiCache::CacheCluster\n"
	"    DeletionPolicy: Delete\n"
	"    UpdateReplacePolicy: !If [IsProd, Retain, Delete]\n"
	"  Topic:\n"
	"    Type: AWS::SNS::Topic\n";

static const json_t *finding(const json_t *list, const char *logical_id)
{
	size_t i;
	for (i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "logical_id")), logical_id) == 0)
			return json_array_get(list, i);
	return NULL;
}

static const char *member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void test_template__check_reports_unprotected_stateful_resources(void)
{
	char *out = NULL;
	json_t *list;
	const json_t *f;
	CHECK_INT(ciha_stack_template_check(&out, scenario_yaml), CIHA_OK);
	list = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_array(list));
	CHECK_INT(json_array_size(list), 4);
	CHECK(finding(list, "Database") == NULL);
	CHECK(finding(list, "Builds") == NULL);
	CHECK(finding(list, "Topic") == NULL);

	f = finding(list, "ReportsDb");
	CHECK_STR(member(f, "type"), "AWS::RDS::DBInstance");
	CHECK(f && json_is_null(json_object_get(f, "deletion_policy")));
	CHECK(f && json_is_null(json_object_get(f, "update_replace_policy")));
	CHECK(member(f, "problem") && strstr(member(f, "problem"), "no DeletionPolicy (CloudFormation's default for "
	                                     "AWS::RDS::DBInstance is Snapshot"));
	CHECK(member(f, "problem") && strstr(member(f, "problem"), "no UpdateReplacePolicy: the data is lost (set "
	                                     "Snapshot or Retain)"));

	f = finding(list, "MasterData");
	CHECK_STR(member(f, "deletion_policy"), "Retain");
	CHECK_STR(member(f, "problem"), "no UpdateReplacePolicy: the data is lost (set Snapshot or Retain)");

	f = finding(list, "Artifacts");
	CHECK_STR(member(f, "deletion_policy"), "Snapshot");
	CHECK_STR(member(f, "update_replace_policy"), "Retain");
	CHECK_STR(member(f, "problem"), "DeletionPolicy Snapshot is not supported for AWS::S3::Bucket: use Retain");

	f = finding(list, "Cache");
	CHECK_STR(member(f, "update_replace_policy"), "{\"Fn::If\":[\"IsProd\",\"Retain\",\"Delete\"]}");
	CHECK_STR(member(f, "problem"), "DeletionPolicy Delete destroys the data (set Snapshot or Retain); "
	          "UpdateReplacePolicy is not a literal value and cannot be checked (set Snapshot or Retain)");
	json_decref(list);
	ciha_free(out);
}

static void test_template__check_json_template_and_clean_result(void)
{
	char *out = NULL;
	CHECK_INT(ciha_stack_template_check(&out, "{\"Resources\": {\"Db\": {\"Type\": \"AWS::RDS::DBCluster\","
	                                    "\"DeletionPolicy\": \"Snapshot\", \"UpdateReplacePolicy\": \"Retain\"},"
	                                    "\"Vol\": {\"Type\": \"AWS::EC2::Volume\", \"DeletionPolicy\": "
	                                    "\"RetainExceptOnCreate\", \"UpdateReplacePolicy\": \"Snapshot\"}}}"),
	          CIHA_OK);
	CHECK_STR(out, "[]");
	ciha_free(out);
	out = NULL;
	CHECK_INT(ciha_stack_template_check(&out, "Parameters: {}\n"), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(ciha_error_last()), "template: no Resources mapping");
	CHECK(out == NULL);
	CHECK_INT(ciha_stack_template_check(&out, "Resources:\n  A: !Bogus x\n"), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(ciha_error_last()), "template:2:6: unknown tag !Bogus");
	CHECK_INT(ciha_stack_template_check(NULL, "Resources: {}"), CIHA_EINVAL);
}

static void test_template__policy_denies_replacing_and_deleting_stateful_resources(void)
{
	char *out = NULL;
	json_t *policy, *statements, *st;
	const char *denied[] = { "Database", "ReportsDb", "MasterData", "Artifacts", "Builds", "Cache" };
	size_t i;
	CHECK_INT(ciha_stack_policy_generate(&out, scenario_yaml), CIHA_OK);
	policy = out ? json_loads(out, 0, NULL) : NULL;
	CHECK(json_is_object(policy) && json_object_size(policy) == 1);
	statements = json_object_get(policy, "Statement");
	CHECK_INT(json_array_size(statements), 7);
	st = json_array_get(statements, 0);
	CHECK_STR(member(st, "Effect"), "Allow");
	CHECK_STR(member(st, "Action"), "Update:*");
	CHECK_STR(member(st, "Principal"), "*");
	CHECK_STR(member(st, "Resource"), "*");
	for (i = 0; i < 6; i++) {
		char resource[64];
		json_t *actions;
		st = json_array_get(statements, i + 1);
		snprintf(resource, sizeof(resource), "LogicalResourceId/%s", denied[i]);
		CHECK_STR(member(st, "Effect"), "Deny");
		CHECK_STR(member(st, "Principal"), "*");
		CHECK_STR(member(st, "Resource"), resource);
		actions = json_object_get(st, "Action");
		CHECK(json_array_size(actions) == 2);
		CHECK_STR(json_string_value(json_array_get(actions, 0)), "Update:Replace");
		CHECK_STR(json_string_value(json_array_get(actions, 1)), "Update:Delete");
	}
	json_decref(policy);
	ciha_free(out);

	out = NULL;
	CHECK_INT(ciha_stack_policy_generate(&out, "{\"Resources\": {\"T\": {\"Type\": \"AWS::SNS::Topic\"}}}"), CIHA_OK);
	policy = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_INT(json_array_size(json_object_get(policy, "Statement")), 1);
	json_decref(policy);
	ciha_free(out);
	CHECK_INT(ciha_stack_policy_generate(&out, "Resources: [\n"), CIHA_EINVAL);
}

/* ---- the stack spec ---------------------------------------------------------- */

static void test_spec__names(void)
{
	ciha_stack_spec *spec = NULL;
	char long_name[130];
	CHECK_INT(ciha_stack_spec_new(&spec, "ci-master-1"), CIHA_OK);
	CHECK_STR(ciha_stack_spec_name(spec), "ci-master-1");
	ciha_stack_spec_free(spec);
	CHECK_INT(ciha_stack_spec_new(&spec, "1master"), CIHA_EINVAL);
	CHECK(spec == NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "stack name '1master' is not valid"));
	CHECK_INT(ciha_stack_spec_new(&spec, "ci_master"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_new(&spec, ""), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_new(&spec, NULL), CIHA_EINVAL);
	memset(long_name, 'a', 128);
	long_name[128] = '\0';
	CHECK_INT(ciha_stack_spec_new(&spec, long_name), CIHA_OK);
	ciha_stack_spec_free(spec);
	long_name[128] = 'a';
	long_name[129] = '\0';
	CHECK_INT(ciha_stack_spec_new(&spec, long_name), CIHA_EINVAL);
	ciha_stack_spec_free(NULL);
}

static void test_spec__setters_validate(void)
{
	ciha_stack_spec *spec = NULL;
	if (ciha_stack_spec_new(&spec, "db") != CIHA_OK)
		return;
	CHECK_INT(ciha_stack_spec_add_capability(spec, "CAPABILITY_IAM"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_capability(spec, "CAPABILITY_IAM"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_capability(spec, "CAPABILITY_AUTO_EXPAND"), CIHA_OK);
	CHECK_INT(spec->ncapabilities, 2);
	CHECK_INT(ciha_stack_spec_add_capability(spec, "CAPABILITY_ROOT"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_set_on_failure(spec, "DELETE"), CIHA_OK);
	CHECK_STR(spec->on_failure, "DELETE");
	CHECK_INT(ciha_stack_spec_set_on_failure(spec, "delete"), CIHA_EINVAL);
	CHECK_STR(spec->on_failure, "DELETE");
	CHECK_INT(ciha_stack_spec_set_timeout_minutes(spec, 30), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_timeout_minutes(spec, -1), CIHA_EINVAL);
	CHECK_INT(spec->timeout_minutes, 30);
	CHECK_INT(spec->termination_protection, -1);
	CHECK_INT(ciha_stack_spec_set_termination_protection(spec, 1), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_termination_protection(spec, 2), CIHA_EINVAL);
	CHECK_INT(spec->termination_protection, 1);
	CHECK_INT(ciha_stack_spec_set_role_arn(spec, "arn:aws:iam::123456789012:role/cfn"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_role_arn(spec, "cfn-role"), CIHA_EINVAL);
	CHECK_STR(spec->role_arn, "arn:aws:iam::123456789012:role/cfn");
	CHECK_INT(ciha_stack_spec_add_notification_arn(spec, "arn:aws:sns:us-east-1:123456789012:a"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_notification_arn(spec, "arn:aws:sns:us-east-1:123456789012:a"), CIHA_OK);
	CHECK_INT(spec->nnotification_arns, 1);
	CHECK_INT(ciha_stack_spec_add_notification_arn(spec, "topic"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_tag(spec, "team", "build"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_tag(spec, "team", "ops"), CIHA_OK);
	CHECK_INT(spec->ntags, 1);
	CHECK_STR(spec->tag_values[0], "ops");
	CHECK_INT(ciha_stack_spec_add_tag(spec, "aws:cloudformation:x", "v"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_tag(spec, "", "v"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_set_policy_body(spec, "{\"Statement\": []}"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_set_policy_body(spec, "{\"Statement\": ["), CIHA_EINVAL);
	CHECK(strncmp(ciha_error_message(ciha_error_last()), "stack policy:1:", 15) == 0);
	CHECK_INT(ciha_stack_spec_set_policy_body(spec, "{\"Rules\": []}"), CIHA_EINVAL);
	CHECK_STR(spec->policy_body, "{\"Statement\": []}");
	CHECK_INT(ciha_stack_spec_set_template_body(spec, ""), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_set_template_body(spec, "Resources: {}\n"), CIHA_OK);
	CHECK_STR(spec->template_body, "Resources: {}\n");
	CHECK_INT(ciha_stack_spec_set_timeout_minutes(NULL, 1), CIHA_EINVAL);
	ciha_stack_spec_free(spec);
}

static void test_spec__tags_at_most_50(void)
{
	ciha_stack_spec *spec = NULL;
	char key[16];
	int i;
	if (ciha_stack_spec_new(&spec, "tags") != CIHA_OK)
		return;
	for (i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		CHECK_INT(ciha_stack_spec_add_tag(spec, key, "v"), CIHA_OK);
	}
	CHECK_INT(ciha_stack_spec_add_tag(spec, "one-more", "v"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_tag(spec, "k7", "changed"), CIHA_OK);
	CHECK_INT(spec->ntags, 50);
	CHECK_STR(spec->tag_keys[7], "k7");
	CHECK_STR(spec->tag_values[7], "changed");
	ciha_stack_spec_free(spec);
}

static void test_spec__parameters(void)
{
	ciha_stack_spec *spec = NULL;
	json_t *params = NULL, *want;
	if (ciha_stack_spec_new(&spec, "params") != CIHA_OK)
		return;
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", "ci"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_use_previous(spec, "DbPassword"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Size", ""), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", "prod"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Bad-Key", "x"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_parameter(spec, "Env", NULL), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnap", "s3", "db"), CIHA_EINVAL);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnap", "rds", ""), CIHA_EINVAL);
	CHECK_INT(spec->nparams, 3);
	/* no snapshot parameter: resolving needs no client */
	CHECK_INT(ciha__stack_spec_parameters(&params, NULL, spec), CIHA_OK);
	want = json_loads("[{\"ParameterKey\": \"Env\", \"ParameterValue\": \"prod\"},"
	                  "{\"ParameterKey\": \"DbPassword\", \"UsePreviousValue\": true},"
	                  "{\"ParameterKey\": \"Size\", \"ParameterValue\": \"\"}]", 0, NULL);
	CHECK(json_equal(params, want));
	json_decref(want);
	json_decref(params);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnapshot", "rds", "ci-db"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_use_previous(spec, "DbSnapshot"), CIHA_OK);
	CHECK_INT(spec->nparams, 4);
	CHECK(spec->params[3].use_previous && !spec->params[3].snapshot_kind && !spec->params[3].value);
	ciha_stack_spec_free(spec);
}

static void test_spec__template_file(void)
{
	char path[] = "/tmp/ciha-template-XXXXXX";
	ciha_stack_spec *spec = NULL;
	int fd = mkstemp(path);
	const char *body = "Resources:\n  T: {Type: AWS::SNS::Topic}\n";
	if (fd < 0 || ciha_stack_spec_new(&spec, "file") != CIHA_OK)
		return;
	CHECK(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
	close(fd);
	CHECK_INT(ciha_stack_spec_set_template_file(spec, path), CIHA_OK);
	CHECK_STR(spec->template_body, body);
	unlink(path);
	CHECK_INT(ciha_stack_spec_set_template_file(spec, path), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), path) != NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "No such file") != NULL);
	CHECK_STR(spec->template_body, body);
	CHECK_INT(ciha_stack_spec_set_template_file(spec, "/"), CIHA_EINVAL);
	ciha_stack_spec_free(spec);
}


/* ---- canned responses: paging and protection ------------------------------------- */

#define CFN_NS "xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\""

/* The first reply whose `when` strings all occur in the request body answers it. */
typedef struct {
	const char *when[3];
	int status;
	const char *body;
} canned_reply;

typedef struct {
	const canned_reply *replies;
	char bodies[16][4096];
	int calls;
} canned;

static int canned_transport(const ciha__http_request *req, ciha__http_response *resp, void *payload)
{
	canned *c = payload;
	const canned_reply *r;
	char body[4096];
	snprintf(body, sizeof(body), "%.*s", (int)(req->body_len < sizeof(body) ? req->body_len : sizeof(body) - 1),
	         req->body ? req->body : "");
	if (c->calls < 16)
		memcpy(c->bodies[c->calls], body, sizeof(body));
	c->calls++;
	for (r = c->replies; r->body; r++) {
		int i, all = 1;
		for (i = 0; i < 3 && r->when[i]; i++)
			all = all && strstr(body, r->when[i]) != NULL;
		if (all)
			break;
	}
	resp->outcome = CIHA__HTTP_OK;
	resp->status = r->body ? r->status : 500;
	ciha__buf_puts(&resp->body, r->body ? r->body : "<html>no canned reply</html>");
	return CIHA_OK;
}

static ciha_client *canned_client(canned *c, const canned_reply *replies)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *client = NULL;
	memset(c, 0, sizeof(*c));
	c->replies = replies;
	if (ciha_credentials_provider_new_static(&p, "AKIDCANNED", "canned-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = "http://127.0.0.1:9";
	o.credentials = p;
	o.max_attempts = 1;
	if (ciha_client_new(&client, &o) != CIHA_OK)
		client = NULL;
	ciha_credentials_provider_release(p);
	ciha__http_set_test_transport(canned_transport, c);
	return client;
}

static void canned_done(ciha_client *client)
{
	ciha__http_set_test_transport(NULL, NULL);
	ciha_client_free(client);
}

static const canned_reply describe_replies[] = {
	{ { "Action=DescribeStacks", NULL, NULL }, 200,
	  "<DescribeStacksResponse " CFN_NS "><DescribeStacksResult><Stacks><member>"
	  "<StackName>ci-db</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/ci-db/1</StackId>"
	  "<StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus><StackStatusReason>Db failed</StackStatusReason>"
	  "<EnableTerminationProtection>true</EnableTerminationProtection>"
	  "<Outputs><member><OutputKey>Endpoint</OutputKey><OutputValue>db.internal</OutputValue></member>"
	  "<member><OutputKey>Empty</OutputKey><OutputValue></OutputValue></member></Outputs>"
	  "<Parameters><member><ParameterKey>Env</ParameterKey><ParameterValue>ci</ParameterValue></member></Parameters>"
	  "<Tags><member><Key>team</Key><Value>build</Value></member></Tags>"
	  "</member></Stacks></DescribeStacksResult></DescribeStacksResponse>" },
	{ { "Action=ListStackResources", "NextToken=r2", NULL }, 200,
	  "<ListStackResourcesResponse " CFN_NS "><ListStackResourcesResult><StackResourceSummaries>"
	  "<member><LogicalResourceId>Volume</LogicalResourceId><PhysicalResourceId>vol-1</PhysicalResourceId>"
	  "<ResourceType>AWS::EC2::Volume</ResourceType><ResourceStatus>CREATE_COMPLETE</ResourceStatus></member>"
	  "</StackResourceSummaries></ListStackResourcesResult></ListStackResourcesResponse>" },
	{ { "Action=ListStackResources", NULL, NULL }, 200,
	  "<ListStackResourcesResponse " CFN_NS "><ListStackResourcesResult><StackResourceSummaries>"
	  "<member><LogicalResourceId>Db</LogicalResourceId><PhysicalResourceId>ci-db-1</PhysicalResourceId>"
	  "<ResourceType>AWS::RDS::DBInstance</ResourceType><ResourceStatus>UPDATE_FAILED</ResourceStatus>"
	  "<ResourceStatusReason>storage full</ResourceStatusReason></member>"
	  "</StackResourceSummaries><NextToken>r2</NextToken></ListStackResourcesResult></ListStackResourcesResponse>" },
	{ { NULL, NULL, NULL }, 0, NULL }
};

static void test_canned__describe_reads_every_resource_page(void)
{
	canned c;
	ciha_client *client = canned_client(&c, describe_replies);
	ciha_stack *s = NULL;
	char *text = NULL;
	json_t *j, *resources;
	CHECK_INT(ciha_stack_describe(&s, client, "ci-db"), CIHA_OK);
	CHECK_INT(c.calls, 3);
	CHECK(strstr(c.bodies[2], "NextToken=r2") != NULL);
	CHECK_STR(ciha_stack_status_reason(s), "Db failed");
	CHECK_INT(ciha_stack_termination_protection(s), 1);
	CHECK_STR(ciha_stack_output(s, "Endpoint"), "db.internal");
	CHECK_STR(ciha_stack_output(s, "Empty"), "");
	CHECK_STR(ciha_stack_output_value_at(s, 1), "");
	CHECK_INT(ciha_stack_json(&text, s), CIHA_OK);
	j = text ? json_loads(text, 0, NULL) : NULL;
	resources = json_object_get(j, "resources");
	CHECK_INT(json_array_size(resources), 2);
	CHECK_STR(member(json_array_get(resources, 0), "reason"), "storage full");
	CHECK_STR(member(json_array_get(resources, 1), "physical_id"), "vol-1");
	CHECK(json_is_true(json_object_get(j, "protection")));
	CHECK_STR(member(json_object_get(j, "outputs"), "Empty"), "");
	json_decref(j);
	ciha_free(text);
	ciha_stack_free(s);
	canned_done(client);
}

static const canned_reply list_replies[] = {
	{ { "Action=ListStacks", "NextToken=p2", NULL }, 200,
	  "<ListStacksResponse " CFN_NS "><ListStacksResult><StackSummaries>"
	  "<member><StackName>old</StackName><StackId>id-old</StackId><StackStatus>DELETE_COMPLETE</StackStatus>"
	  "<CreationTime>2026-01-01T00:00:00Z</CreationTime><DeletionTime>2026-02-01T00:00:00Z</DeletionTime></member>"
	  "<member><StackName>agents</StackName><StackId>id-agents</StackId><StackStatus>CREATE_COMPLETE</StackStatus>"
	  "<CreationTime>2026-03-01T00:00:00Z</CreationTime></member>"
	  "</StackSummaries></ListStacksResult></ListStacksResponse>" },
	{ { "Action=ListStacks", NULL, NULL }, 200,
	  "<ListStacksResponse " CFN_NS "><ListStacksResult><StackSummaries>"
	  "<member><StackName>master</StackName><StackId>id-master</StackId><StackStatus>UPDATE_COMPLETE</StackStatus>"
	  "<CreationTime>2026-01-01T00:00:00Z</CreationTime><LastUpdatedTime>2026-04-01T00:00:00Z</LastUpdatedTime>"
	  "</member></StackSummaries><NextToken>p2</NextToken></ListStacksResult></ListStacksResponse>" },
	{ { NULL, NULL, NULL }, 0, NULL }
};

static void test_canned__list_reads_every_page_and_filters_deleted(void)
{
	canned c;
	ciha_client *client = canned_client(&c, list_replies);
	char *text = NULL;
	json_t *list;
	CHECK_INT(ciha_stack_list(&text, client, 0), CIHA_OK);
	CHECK_INT(c.calls, 2);
	CHECK(strstr(c.bodies[0], "StackStatusFilter.member.1=CREATE_IN_PROGRESS") != NULL);
	CHECK(strstr(c.bodies[0], "StackStatusFilter.member.22=IMPORT_ROLLBACK_COMPLETE") != NULL);
	CHECK(strstr(c.bodies[0], "=DELETE_COMPLETE") == NULL);
	list = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_INT(json_array_size(list), 2);
	CHECK_STR(member(json_array_get(list, 0), "name"), "master");
	CHECK_STR(member(json_array_get(list, 0), "updated"), "2026-04-01T00:00:00Z");
	CHECK_STR(member(json_array_get(list, 1), "name"), "agents");
	CHECK_STR(member(json_array_get(list, 1), "updated"), "2026-03-01T00:00:00Z");
	json_decref(list);
	ciha_free(text);
	text = NULL;
	c.calls = 0;
	CHECK_INT(ciha_stack_list(&text, client, 1), CIHA_OK);
	CHECK(strstr(c.bodies[0], "StackStatusFilter") == NULL);
	list = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_INT(json_array_size(list), 3);
	CHECK_STR(member(json_array_get(list, 1), "status"), "DELETE_COMPLETE");
	CHECK_STR(member(json_array_get(list, 1), "updated"), "2026-02-01T00:00:00Z");
	json_decref(list);
	ciha_free(text);
	canned_done(client);
}

#define EVENT(id, status, when) "<member><EventId>" id "</EventId><StackName>ci</StackName>" \
	"<LogicalResourceId>Db</LogicalResourceId><ResourceType>AWS::RDS::DBInstance</ResourceType>" \
	"<ResourceStatus>" status "</ResourceStatus><Timestamp>" when "</Timestamp></member>"

static const canned_reply event_replies[] = {
	{ { "Action=DescribeStackEvents", "NextToken=e2", NULL }, 200,
	  "<DescribeStackEventsResponse " CFN_NS "><DescribeStackEventsResult><StackEvents>"
	  EVENT("e3", "CREATE_IN_PROGRESS", "2026-05-01T10:00:00Z")
	  "</StackEvents></DescribeStackEventsResult></DescribeStackEventsResponse>" },
	{ { "Action=DescribeStackEvents", NULL, NULL }, 200,
	  "<DescribeStackEventsResponse " CFN_NS "><DescribeStackEventsResult><StackEvents>"
	  EVENT("e1", "UPDATE_FAILED", "2026-05-01T10:05:00Z") EVENT("e2", "CREATE_COMPLETE", "2026-05-01T10:02:00Z")
	  "</StackEvents><NextToken>e2</NextToken></DescribeStackEventsResult></DescribeStackEventsResponse>" },
	{ { NULL, NULL, NULL }, 0, NULL }
};

static void test_canned__events_across_pages_stop_at_max(void)
{
	canned c;
	ciha_client *client = canned_client(&c, event_replies);
	char *text = NULL;
	json_t *list;
	CHECK_INT(ciha_stack_events(&text, client, "ci", 0), CIHA_OK);
	CHECK_INT(c.calls, 2);
	list = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_INT(json_array_size(list), 3);
	CHECK_STR(member(json_array_get(list, 0), "event_id"), "e1");
	CHECK_STR(member(json_array_get(list, 2), "event_id"), "e3");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(list, 0), "timestamp")), 1777629900);
	CHECK(json_is_null(json_object_get(json_array_get(list, 0), "reason")));
	json_decref(list);
	ciha_free(text);
	text = NULL;
	c.calls = 0;
	CHECK_INT(ciha_stack_events(&text, client, "ci", 2), CIHA_OK);
	CHECK_INT(c.calls, 1);
	list = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_INT(json_array_size(list), 2);
	json_decref(list);
	ciha_free(text);
	canned_done(client);
}

static const canned_reply snapshot_replies[] = {
	{ { "Action=DescribeDBSnapshots", "Marker=m2", NULL }, 200,
	  "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeDBSnapshotsResult>"
	  "<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>newest-but-creating</DBSnapshotIdentifier>"
	  "<Status>creating</Status><SnapshotCreateTime>2026-06-03T00:00:00Z</SnapshotCreateTime></DBSnapshot>"
	  "<DBSnapshot><DBSnapshotIdentifier>second-page</DBSnapshotIdentifier><Status>available</Status>"
	  "<SnapshotCreateTime>2026-06-02T00:00:00Z</SnapshotCreateTime></DBSnapshot></DBSnapshots>"
	  "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>" },
	{ { "Action=DescribeDBSnapshots", NULL, NULL }, 200,
	  "<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeDBSnapshotsResult>"
	  "<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>older</DBSnapshotIdentifier><Status>available</Status>"
	  "<SnapshotCreateTime>2026-06-01T00:00:00Z</SnapshotCreateTime></DBSnapshot>"
	  "<DBSnapshot><DBSnapshotIdentifier>oldest</DBSnapshotIdentifier><Status>available</Status>"
	  "<SnapshotCreateTime>2026-05-01T00:00:00Z</SnapshotCreateTime></DBSnapshot></DBSnapshots>"
	  "<Marker>m2</Marker></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>" },
	{ { "Action=DescribeSnapshots", "NextToken=n2", NULL }, 200,
	  "<DescribeSnapshotsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>"
	  "<snapshotSet><item><snapshotId>snap-pending</snapshotId><status>pending</status>"
	  "<startTime>2026-06-09T00:00:00.000Z</startTime></item></snapshotSet></DescribeSnapshotsResponse>" },
	{ { "Action=DescribeSnapshots", NULL, NULL }, 200,
	  "<DescribeSnapshotsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId>"
	  "<snapshotSet><item><snapshotId>snap-old</snapshotId><status>completed</status>"
	  "<startTime>2026-06-01T00:00:00.000Z</startTime></item>"
	  "<item><snapshotId>snap-new</snapshotId><status>completed</status>"
	  "<startTime>2026-06-08T00:00:00.000Z</startTime></item></snapshotSet>"
	  "<nextToken>n2</nextToken></DescribeSnapshotsResponse>" },
	{ { NULL, NULL, NULL }, 0, NULL }
};

static void test_canned__snapshot_parameters_read_every_page(void)
{
	canned c;
	ciha_client *client = canned_client(&c, snapshot_replies);
	ciha_stack_spec *spec = NULL;
	json_t *params = NULL;
	if (ciha_stack_spec_new(&spec, "restore") != CIHA_OK)
		return;
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DbSnapshot", "rds", "ci-db"), CIHA_OK);
	CHECK_INT(ciha_stack_spec_add_snapshot_parameter(spec, "DataSnapshot", "ebs", "vol-1"), CIHA_OK);
	CHECK_INT(ciha__stack_spec_parameters(&params, client, spec), CIHA_OK);
	CHECK_INT(c.calls, 4);
	CHECK(strstr(c.bodies[0], "DBInstanceIdentifier=ci-db") && strstr(c.bodies[0], "SnapshotType=manual"));
	CHECK(strstr(c.bodies[2], "Owner.1=self") && strstr(c.bodies[2], "Filter.1.Name=volume-id") &&
	      strstr(c.bodies[2], "Filter.1.Value.1=vol-1"));
	CHECK_STR(member(json_array_get(params, 0), "ParameterValue"), "second-page");
	CHECK_STR(member(json_array_get(params, 1), "ParameterValue"), "snap-new");
	json_decref(params);
	ciha_stack_spec_free(spec);
	canned_done(client);
}

static const canned_reply protection_replies[] = {
	{ { "Action=UpdateTerminationProtection", "StackName=gone", NULL }, 400,
	  "<ErrorResponse " CFN_NS "><Error><Type>Sender</Type><Code>ValidationError</Code>"
	  "<Message>Stack [gone] does not exist</Message></Error><RequestId>req-1</RequestId></ErrorResponse>" },
	{ { "Action=UpdateTerminationProtection", NULL, NULL }, 200,
	  "<UpdateTerminationProtectionResponse " CFN_NS "><UpdateTerminationProtectionResult>"
	  "<StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/ci/1</StackId>"
	  "</UpdateTerminationProtectionResult></UpdateTerminationProtectionResponse>" },
	{ { NULL, NULL, NULL }, 0, NULL }
};

static void test_canned__termination_protection_on_and_off(void)
{
	canned c;
	ciha_client *client = canned_client(&c, protection_replies);
	CHECK_INT(ciha_stack_set_termination_protection(client, "ci", 1), CIHA_OK);
	CHECK(strstr(c.bodies[0], "EnableTerminationProtection=true") && strstr(c.bodies[0], "StackName=ci"));
	CHECK_INT(ciha_stack_set_termination_protection(client, "ci", 0), CIHA_OK);
	CHECK(strstr(c.bodies[1], "EnableTerminationProtection=false") != NULL);
	CHECK_INT(ciha_stack_set_termination_protection(client, "gone", 1), CIHA_ENOTFOUND);
	CHECK_STR(ciha_error_message(ciha_client_error(client)),
	          "cloudformation UpdateTerminationProtection: stack 'gone' does not exist");
	CHECK_STR(ciha_error_request_id(ciha_client_error(client)), "req-1");
	canned_done(client);
}

int main(void)
{
	long before = ciha__alloc_outstanding();
	RUN(test_template__json_keeps_key_order);
	RUN(test_template__json_errors_name_line_and_column);
	RUN(test_template__yaml_ref_getatt_sub);
	RUN(test_template__yaml_every_short_tag);
	RUN(test_template__yaml_scalars);
	RUN(test_template__yaml_keeps_key_order);
	RUN(test_template__yaml_errors_name_line_and_column);
	RUN(test_template__limits);
	RUN(test_template__stateful_types);
	RUN(test_template__check_reports_unprotected_stateful_resources);
	RUN(test_template__check_json_template_and_clean_result);
	RUN(test_template__policy_denies_replacing_and_deleting_stateful_resources);
	RUN(test_spec__names);
	RUN(test_spec__setters_validate);
	RUN(test_spec__tags_at_most_50);
	RUN(test_spec__parameters);
	RUN(test_spec__template_file);
	RUN(test_canned__describe_reads_every_resource_page);
	RUN(test_canned__list_reads_every_page_and_filters_deleted);
	RUN(test_canned__events_across_pages_stop_at_max);
	RUN(test_canned__snapshot_parameters_read_every_page);
	RUN(test_canned__termination_protection_on_and_off);
	ciha_error_clear();
	CHECK_CASE("no library allocations left", ciha__alloc_outstanding() == before);
	return CHECK_DONE("test_template");
}
