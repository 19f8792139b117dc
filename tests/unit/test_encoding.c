/* test_encoding.c: percent-encoding, the schemaless query/EC2 encoder (rules
 * in ciha/call.h) and the schemaless decoder on responses captured from moto.
 *
 * Maps without a model: a JSON object nests with '.', so a query map such as
 * SNS CreateTopic's Attributes is written either as
 *   {"Attributes": {"entry": [{"key": "DisplayName", "value": "x"}]}}
 * (an array under a key named "entry" is sent as entry.N, without "member")
 * or with dotted keys {"Attributes.entry.1.key": "DisplayName", ...}. The
 * decoder turns <entry><key/><value/></entry> lists back into an object. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include "check.h"
#include "ciha/common.h"
#include "ciha/errors.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "decode_int.h"
#include "query_int.h"
#include "xml_int.h"

static char *encode(ciha__protocol proto, const char *service, const char *json)
{
	ciha__buf out = CIHA__BUF_INIT;
	json_error_t jerr;
	json_t *params = json_loads(json, 0, &jerr);
	int rc;
	if (!params) {
		fprintf(stderr, "    bad test JSON: %s\n", jerr.text);
		return NULL;
	}
	rc = ciha__query_encode(&out, proto, service, "Op", "V", NULL, NULL, params);
	json_decref(params);
	if (rc != CIHA_OK) {
		fprintf(stderr, "    encode failed: %s\n", ciha_error_message(ciha_error_last()));
		ciha__buf_dispose(&out);
		return NULL;
	}
	return ciha__buf_detach(&out);
}

#define CHECK_ENCODES(proto, service, json, expected) do { char *enc__ = encode(proto, service, json); \
	CHECK_STR(enc__, "Action=Op&Version=V&" expected); ciha__free(enc__); } while (0)

static void test_encoding__percent_encode(void)
{
	ciha__buf b = CIHA__BUF_INIT;
	const char *s = "a b+c/d~e*f=g&h:\xc3\xa9\xe1\x88\xb4-_.";
	ciha__percent_encode(&b, s, strlen(s));
	CHECK_STR(ciha__buf_cstr(&b), "a+b%2Bc%2Fd~e%2Af%3Dg%26h%3A%C3%A9%E1%88%B4-_.");
	ciha__buf_clear(&b);
	ciha__percent_encode(&b, "\0\x7f\xff", 3);
	CHECK_STR(ciha__buf_cstr(&b), "%00%7F%FF");
	ciha__buf_dispose(&b);
}

static void test_encoding__cloudformation_parameters(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, "cloudformation",
	              "{\"StackName\": \"ci 42\", \"Parameters\": [{\"ParameterKey\": \"Env\", \"ParameterValue\": \"ci\"},"
	              " {\"ParameterKey\": \"Size\", \"UsePreviousValue\": true}], \"Capabilities\": [\"CAPABILITY_IAM\"]}",
	              "StackName=ci+42&Parameters.member.1.ParameterKey=Env&Parameters.member.1.ParameterValue=ci"
	              "&Parameters.member.2.ParameterKey=Size&Parameters.member.2.UsePreviousValue=true"
	              "&Capabilities.member.1=CAPABILITY_IAM");
}

static void test_encoding__rds_named_lists(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, "rds",
	              "{\"Filters\": [{\"Name\": \"db-instance-id\", \"Values\": [\"mydb\", \"b\"]}],"
	              " \"Tags\": [{\"Key\": \"k\", \"Value\": \"v\"}], \"VpcSecurityGroupIds\": [\"sg-1\"]}",
	              "Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=mydb"
	              "&Filters.Filter.1.Values.Value.2=b&Tags.Tag.1.Key=k&Tags.Tag.1.Value=v"
	              "&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1");
	/* the same input to another query service keeps member.N */
	CHECK_ENCODES(CIHA__PROTO_QUERY, "autoscaling", "{\"Filters\": [{\"Name\": \"tag:k\", \"Values\": [\"v\"]}]}",
	              "Filters.member.1.Name=tag%3Ak&Filters.member.1.Values.member.1=v");
	CHECK_STR(ciha__query_rds_member_name("Filters"), "Filter");
	CHECK_STR(ciha__query_rds_member_name("DBSecurityGroups"), "DBSecurityGroupName");
	CHECK_STR(ciha__query_rds_member_name("SubnetIds"), "SubnetIdentifier");
	CHECK(ciha__query_rds_member_name("TagKeys") == NULL);
	CHECK(ciha__query_rds_member_name(NULL) == NULL);
}

static void test_encoding__ec2_filters(void)
{
	CHECK_ENCODES(CIHA__PROTO_EC2, "ec2",
	              "{\"Filter\": [{\"Name\": \"tag:Name\", \"Value\": [\"web\", \"api\"]}], \"InstanceId\": [\"i-1\"],"
	              " \"DryRun\": false, \"MaxResults\": 5, \"NextToken\": null, \"Owner\": []}",
	              "Filter.1.Name=tag%3AName&Filter.1.Value.1=web&Filter.1.Value.2=api&InstanceId.1=i-1"
	              "&DryRun=false&MaxResults=5");
}

static void test_encoding__cloudwatch_dimensions(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, "cloudwatch",
	              "{\"Namespace\": \"App/CI\", \"MetricData\": [{\"MetricName\": \"Latency\", \"Dimensions\":"
	              " [{\"Name\": \"Host\", \"Value\": \"h1\"}, {\"Name\": \"Az\", \"Value\": \"a\"}],"
	              " \"Value\": 12.5, \"Unit\": \"Milliseconds\"}]}",
	              "Namespace=App%2FCI&MetricData.member.1.MetricName=Latency"
	              "&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=h1"
	              "&MetricData.member.1.Dimensions.member.2.Name=Az&MetricData.member.1.Dimensions.member.2.Value=a"
	              "&MetricData.member.1.Value=12.5&MetricData.member.1.Unit=Milliseconds");
}

static void test_encoding__sns_attribute_maps(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, "sns",
	              "{\"Name\": \"alerts\", \"Attributes\": {\"entry\": [{\"key\": \"DisplayName\", \"value\": \"CI\"},"
	              " {\"key\": \"FifoTopic\", \"value\": \"false\"}]}}",
	              "Name=alerts&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=CI"
	              "&Attributes.entry.2.key=FifoTopic&Attributes.entry.2.value=false");
	CHECK_ENCODES(CIHA__PROTO_QUERY, "sns",
	              "{\"Name\": \"alerts\", \"Attributes.entry.1.key\": \"DisplayName\", \"Attributes.entry.1.value\": \"CI\"}",
	              "Name=alerts&Attributes.entry.1.key=DisplayName&Attributes.entry.1.value=CI");
}

static void test_encoding__scalars(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, NULL,
	              "{\"T\": true, \"F\": false, \"I\": -42, \"Big\": 9007199254740993, \"R\": 10.8, \"Whole\": 3.0,"
	              " \"Tiny\": 0.0001, \"Small\": 1e-7, \"Huge\": 1e16, \"S\": \"\", \"N\": null}",
	              "T=true&F=false&I=-42&Big=9007199254740993&R=10.8&Whole=3.0&Tiny=0.0001&Small=1e-07"
	              "&Huge=1e%2B16&S=");
}

static void test_encoding__nested_arrays_and_empty_lists(void)
{
	CHECK_ENCODES(CIHA__PROTO_QUERY, NULL, "{\"A\": [[\"x\", \"y\"], []], \"E\": []}",
	              "A.member.1.member.1=x&A.member.1.member.2=y&A.member.2=&E=");
	CHECK_ENCODES(CIHA__PROTO_EC2, NULL, "{\"A\": [[\"x\"], []], \"E\": []}", "A.1.1=x");
	{
		char *empty = encode(CIHA__PROTO_QUERY, NULL, "{}");
		CHECK_STR(empty, "Action=Op&Version=V");
		ciha__free(empty);
	}
}

static void test_encoding__errors_name_the_parameter(void)
{
	ciha__buf out = CIHA__BUF_INIT;
	json_t *deep = json_string("x"), *bad = json_pack("{s{s[n]}}", "A", "", NULL);
	char *plain = NULL;
	for (int i = 0; i < 100; i++)
		deep = json_pack("{so}", "L", deep);
	CHECK_INT(ciha__query_encode(&out, CIHA__PROTO_QUERY, NULL, "Op", "V", NULL, NULL, deep), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "nested too deeply") != NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "parameter 'L.L.L") != NULL);
	ciha__buf_dispose(&out);
	CHECK_INT(ciha__query_encode(&out, CIHA__PROTO_QUERY, NULL, "Op", "V", NULL, NULL, bad), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "parameter 'A': empty member name") != NULL);
	ciha__buf_dispose(&out);
	CHECK_INT(ciha__query_encode(&out, CIHA__PROTO_QUERY, NULL, NULL, "V", NULL, NULL, NULL), CIHA_EINVAL);
	ciha__buf_dispose(&out);
	CHECK_INT(ciha__query_encode(&out, CIHA__PROTO_QUERY, NULL, "Op", "V", NULL, NULL, NULL), CIHA_OK);
	plain = ciha__buf_detach(&out);
	CHECK_STR(plain, "Action=Op&Version=V");
	ciha__free(plain);
	json_decref(deep);
	json_decref(bad);
}

/* ---- schemaless decoding of captured moto responses ---- */

static json_t *decode_capture(const char *file, ciha__protocol proto, const char *action, char **request_id)
{
	char path[1024];
	const char *dir = getenv("CIHA_SRCDIR");
	ciha__xml_node *root = NULL;
	const ciha__xml_node *result;
	const char *id = NULL;
	json_t *out = NULL;
	char *data;
	long len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/vectors/protocols/responses/%s", dir && *dir ? dir : ".", file);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "    cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	data = malloc((size_t)len + 1);
	if (data && fread(data, 1, (size_t)len, f) == (size_t)len &&
	    ciha__xml_parse(&root, data, (size_t)len) == CIHA_OK) {
		result = ciha__decode_result_node(root, proto, action, &id);
		if (ciha__decode_schemaless(&out, result) != CIHA_OK)
			out = NULL;
		if (request_id)
			*request_id = id ? strdup(id) : NULL;
	}
	ciha__xml_free(root);
	free(data);
	fclose(f);
	return out;
}

static const char *jstr(const json_t *obj, const char *member)
{
	return json_string_value(json_object_get(obj, member));
}

static void test_decoding__cloudformation_describe_stacks(void)
{
	char *id = NULL;
	json_t *r = decode_capture("cfn-DescribeStacks.xml", CIHA__PROTO_QUERY, "DescribeStacks", &id);
	json_t *stack, *outputs;
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(json_is_array(json_object_get(r, "Stacks")));
	stack = json_array_get(json_object_get(r, "Stacks"), 0);
	CHECK_STR(json_string_value(json_object_get(stack, "StackName")), "ci-43");
	CHECK_STR(json_string_value(json_object_get(stack, "StackStatus")), "CREATE_COMPLETE");
	outputs = json_object_get(stack, "Outputs");
	CHECK(json_is_array(outputs) && json_array_size(outputs) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(outputs, 0), "OutputKey")), "TopicArn");
	CHECK_STR(json_string_value(json_object_get(json_array_get(outputs, 0), "OutputValue")),
	          "arn:aws:sns:us-east-1:123456789012:ci-topic");
	CHECK(json_is_array(json_object_get(stack, "Tags")));
	CHECK(json_is_array(json_object_get(stack, "Parameters")) &&
	      json_array_size(json_object_get(stack, "Parameters")) == 0); /* <Parameters/> */
	CHECK_STR(id, "b60c3YjikrYDy1fvFOqxjBxkOm1GWmK7BlgYvblSJ9QjRvmBK9d8");
	free(id);
	json_decref(r);
}

static void test_decoding__ec2_describe_snapshots(void)
{
	char *id = NULL;
	json_t *r = decode_capture("ec2-DescribeSnapshots.xml", CIHA__PROTO_EC2, "DescribeSnapshots", &id);
	json_t *set, *tags;
	CHECK(r != NULL);
	if (!r)
		return;
	set = json_object_get(r, "snapshotSet");
	CHECK(json_is_array(set) && json_array_size(set) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(set, 0), "status")), "completed");
	tags = json_object_get(json_array_get(set, 0), "tagSet");
	CHECK(json_is_array(tags) && json_array_size(tags) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 0), "value")), "nightly");
	tags = json_object_get(json_array_get(set, 1), "tagSet");
	CHECK(json_is_array(tags) && json_array_size(tags) == 0); /* <tagSet/> is an empty list */
	CHECK_STR(id, "request-id");
	CHECK_STR(json_string_value(json_object_get(r, "requestId")), "request-id");
	free(id);
	json_decref(r);
}

static void test_decoding__rds_describe_db_snapshots(void)
{
	json_t *r = decode_capture("rds-DescribeDBSnapshots.xml", CIHA__PROTO_QUERY, "DescribeDBSnapshots", NULL);
	json_t *snaps, *tags;
	CHECK(r != NULL);
	if (!r)
		return;
	snaps = json_object_get(r, "DBSnapshots");
	CHECK(json_is_array(snaps) && json_array_size(snaps) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(snaps, 1), "DBSnapshotIdentifier")), "mydb-snap-1");
	tags = json_object_get(json_array_get(snaps, 1), "TagList");
	CHECK(json_is_array(tags) && json_array_size(tags) == 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "env");
	json_decref(r);
}

static void test_decoding__single_named_item_is_an_array(void)
{
	const char *xml = "<R><DBSnapshots><DBSnapshot><Id>a</Id></DBSnapshot></DBSnapshots>"
	                  "<Policies><Policy>p</Policy></Policies><Addresses><Address>x</Address></Addresses>"
	                  "<Stacks><member><Outputs><member><OutputKey>k</OutputKey></member></Outputs></member></Stacks>"
	                  "<snapshotSet><item><snapshotId>s</snapshotId></item></snapshotSet>"
	                  "<Repeated>1</Repeated><Repeated>2</Repeated><Struct><A>1</A><B>2</B></Struct></R>";
	ciha__xml_node *root = NULL;
	json_t *r = NULL;
	CHECK_INT(ciha__xml_parse(&root, xml, strlen(xml)), CIHA_OK);
	CHECK_INT(ciha__decode_schemaless(&r, root), CIHA_OK);
	CHECK(json_is_array(json_object_get(r, "DBSnapshots")));
	CHECK(json_is_array(json_object_get(r, "Policies")));
	CHECK(json_is_array(json_object_get(r, "Addresses")));
	CHECK(json_is_array(json_object_get(json_array_get(json_object_get(r, "Stacks"), 0), "Outputs")));
	CHECK(json_is_array(json_object_get(r, "snapshotSet")));
	CHECK(json_is_array(json_object_get(r, "Repeated")) && json_array_size(json_object_get(r, "Repeated")) == 2);
	CHECK(json_is_object(json_object_get(r, "Struct")));
	json_decref(r);
	ciha__xml_free(root);
}

static void test_decoding__sts_and_sns(void)
{
	json_t *sts = decode_capture("sts-GetCallerIdentity.xml", CIHA__PROTO_QUERY, "GetCallerIdentity", NULL);
	json_t *topics = decode_capture("sns-ListTopics.xml", CIHA__PROTO_QUERY, "ListTopics", NULL);
	json_t *attrs = decode_capture("sns-GetTopicAttributes.xml", CIHA__PROTO_QUERY, "GetTopicAttributes", NULL);
	CHECK_STR(jstr(sts, "Account"), "123456789012");
	CHECK_STR(jstr(sts, "Arn"), "arn:aws:sts::123456789012:user/moto");
	CHECK(json_is_array(json_object_get(topics, "Topics")) && json_array_size(json_object_get(topics, "Topics")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(topics, "Topics"), 0), "TopicArn")),
	          "arn:aws:sns:us-east-1:123456789012:alerts");
	CHECK(json_is_object(json_object_get(attrs, "Attributes")));
	CHECK_STR(json_string_value(json_object_get(json_object_get(attrs, "Attributes"), "Owner")), "123456789012");
	json_decref(sts);
	json_decref(topics);
	json_decref(attrs);
}

int main(void)
{
	RUN(test_encoding__percent_encode);
	RUN(test_encoding__cloudformation_parameters);
	RUN(test_encoding__rds_named_lists);
	RUN(test_encoding__ec2_filters);
	RUN(test_encoding__cloudwatch_dimensions);
	RUN(test_encoding__sns_attribute_maps);
	RUN(test_encoding__scalars);
	RUN(test_encoding__nested_arrays_and_empty_lists);
	RUN(test_encoding__errors_name_the_parameter);
	RUN(test_decoding__cloudformation_describe_stacks);
	RUN(test_decoding__ec2_describe_snapshots);
	RUN(test_decoding__rds_describe_db_snapshots);
	RUN(test_decoding__single_named_item_is_an_array);
	RUN(test_decoding__sts_and_sns);
	ciha_error_clear();
	CHECK_CASE("no library allocations outstanding", ciha__alloc_outstanding() == 0);
	return CHECK_DONE("test_encoding");
}
