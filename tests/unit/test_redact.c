/* test_redact.c: secrets are masked in text bound for logs and error messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../check.h"
#include "alloc_int.h"
#include "log_int.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+EXAMPLE=="
#define SIG "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

typedef struct {
	const char *input;
	const char *expected;
	const char *secret; /* must not survive; NULL when nothing is secret */
} redact_case;

static char *redacted_copy(const char *s)
{
	size_t n = strlen(s) + 1;
	char *copy = malloc(n);
	if (!copy)
		abort();
	memcpy(copy, s, n);
	return ciha__redact(copy);
}

static void check_case(const redact_case *c)
{
	char *out = redacted_copy(c->input);
	CHECK_STR(out, c->expected);
	CHECK_MSG(strlen(out) <= strlen(c->input), "grew: [%s]", out);
	if (c->secret)
		CHECK_MSG(strstr(out, c->secret) == NULL, "secret survived in [%s]", out);
	free(out);
}

static void check_cases(const redact_case *cases, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		check_case(&cases[i]);
}

#define CHECK_CASES(cases) check_cases(cases, sizeof(cases) / sizeof(cases[0]))

static void test_redact__sigv4_authorization_keeps_all_but_signature(void)
{
	static const redact_case cases[] = {
		{ "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
		  "SignedHeaders=content-type;host;x-amz-date, Signature=" SIG "\r\nHost: iam.amazonaws.com\r\n",
		  "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
		  "SignedHeaders=content-type;host;x-amz-date, Signature=[redacted]\r\nHost: iam.amazonaws.com\r\n", SIG },
		{ "authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, "
		  "SignedHeaders=host, signature=" SIG,
		  "authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, "
		  "SignedHeaders=host, signature=[redacted]", SIG },
	};
	CHECK_CASES(cases);
}

static void test_redact__token_headers(void)
{
	static const redact_case cases[] = {
		{ "X-Amz-Security-Token: " TOKEN "\r\nX-Amz-Date: 20150830T123600Z\r\n",
		  "X-Amz-Security-Token: [redacted]\r\nX-Amz-Date: 20150830T123600Z\r\n", TOKEN },
		{ "x-amz-security-token:\t" TOKEN "\n", "x-amz-security-token:\t[redacted]\n", TOKEN },
		{ "X-aws-ec2-metadata-token: AQAEAFTNrA4eEGx0AQgJ1arIqExampleToken\r\n",
		  "X-aws-ec2-metadata-token: [redacted]\r\n", "AQAEAFTNrA4eEGx0AQgJ1arIqExampleToken" },
	};
	CHECK_CASES(cases);
}

static void test_redact__other_authorization_values_masked_whole(void)
{
	static const redact_case cases[] = {
		{ "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\r\nAccept: */*\r\n",
		  "Authorization: [redacted]\r\nAccept: */*\r\n", "eyJhbGciOiJIUzI1NiJ9" },
		{ "authorization: container-token-0123456789", "authorization: [redacted]", "container-token" },
		{ "Authorization: abc", "Authorization: ***", "abc" },
		{ "Authorization:", "Authorization:", NULL },
	};
	CHECK_CASES(cases);
}

static void test_redact__query_strings(void)
{
	static const redact_case cases[] = {
		{ "/?Action=ListUsers&X-Amz-Algorithm=AWS4-HMAC-SHA256"
		  "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiam%2Faws4_request"
		  "&X-Amz-Security-Token=AQoDYXdzEPT%2F%2F%2F%2FwEXAMPLE&X-Amz-SignedHeaders=host"
		  "&X-Amz-Signature=" SIG,
		  "/?Action=ListUsers&X-Amz-Algorithm=AWS4-HMAC-SHA256"
		  "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fiam%2Faws4_request"
		  "&X-Amz-Security-Token=[redacted]&X-Amz-SignedHeaders=host&X-Amz-Signature=[redacted]", SIG },
		{ "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci"
		  "&WebIdentityToken=eyJraWQiOiJrMSJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl&Version=2011-06-15",
		  "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci"
		  "&WebIdentityToken=[redacted]&Version=2011-06-15", "eyJraWQiOiJrMSJ9" },
		{ "X-Amz-Signature=abc&x=1", "X-Amz-Signature=***&x=1", NULL },
	};
	CHECK_CASES(cases);
}

static void test_redact__xml_bodies(void)
{
	static const redact_case cases[] = {
		{ "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>" SECRET
		  "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken>"
		  "<Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>",
		  "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>[redacted]"
		  "</SecretAccessKey><SessionToken>[redacted]</SessionToken>"
		  "<Expiration>2026-01-01T00:00:00Z</Expiration></Credentials>", SECRET },
		{ "<SessionToken>" TOKEN, "<SessionToken>[redacted]", TOKEN },
		{ "<SecretAccessKey></SecretAccessKey>", "<SecretAccessKey></SecretAccessKey>", NULL },
	};
	CHECK_CASES(cases);
}

static void test_redact__json_bodies(void)
{
	static const redact_case cases[] = {
		{ "{\"Code\" : \"Success\", \"AccessKeyId\" : \"ASIAEXAMPLE\", \"SecretAccessKey\" : \"" SECRET "\", "
		  "\"Token\" : \"" TOKEN "\", \"Expiration\" : \"2026-01-01T00:00:00Z\"}",
		  "{\"Code\" : \"Success\", \"AccessKeyId\" : \"ASIAEXAMPLE\", \"SecretAccessKey\" : \"[redacted]\", "
		  "\"Token\" : \"[redacted]\", \"Expiration\" : \"2026-01-01T00:00:00Z\"}", SECRET },
		{ "{\"SessionToken\":\"tok\\\"en-with-an-escaped-quote\",\"x\":1}",
		  "{\"SessionToken\":\"[redacted]\",\"x\":1}", "escaped-quote" },
		{ "{\"routing_key\":\"R0123456789abcdef0123456789abcdef\",\"event_action\":\"trigger\"}",
		  "{\"routing_key\":\"[redacted]\",\"event_action\":\"trigger\"}", "R0123456789abcdef" },
		{ "{\"integration_key\": \"0123456789abcdef0123456789abcdef\"}",
		  "{\"integration_key\": \"[redacted]\"}", "0123456789abcdef" },
		{ "{\"Token\":\"abc\"}", "{\"Token\":\"***\"}", NULL },
		{ "{\"Token\":\"\"}", "{\"Token\":\"\"}", NULL },
	};
	CHECK_CASES(cases);
}

static void test_redact__config_and_env_lines(void)
{
	static const redact_case cases[] = {
		{ "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " SECRET "\n"
		  "aws_session_token=" TOKEN "\nregion = us-east-1\n",
		  "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = [redacted]\n"
		  "aws_session_token=[redacted]\nregion = us-east-1\n", SECRET },
		{ "AWS_SECRET_ACCESS_KEY=" SECRET "\r\nAWS_SESSION_TOKEN=" TOKEN "\r\nAWS_REGION=eu-west-1",
		  "AWS_SECRET_ACCESS_KEY=[redacted]\r\nAWS_SESSION_TOKEN=[redacted]\r\nAWS_REGION=eu-west-1", TOKEN },
		{ "aws_secret_access_key\t=\tshort\n", "aws_secret_access_key\t=\t*****\n", "short" },
	};
	CHECK_CASES(cases);
}

static void test_redact__plain_text_untouched(void)
{
	static const redact_case cases[] = {
		{ "Action=DescribeStacks&StackName=ci-42&Version=2010-05-15",
		  "Action=DescribeStacks&StackName=ci-42&Version=2010-05-15", NULL },
		{ "SignatureVersion=4&SignatureMethod=HmacSHA256", "SignatureVersion=4&SignatureMethod=HmacSHA256", NULL },
		{ "<AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>", "<AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>", NULL },
		{ "", "", NULL },
	};
	CHECK_CASES(cases);
	CHECK(ciha__redact(NULL) == NULL);
}

static const char *const every_pattern_text =
	"Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, "
	"SignedHeaders=host, Signature=" SIG "\r\n"
	"Authorization: Bearer " TOKEN "\r\n"
	"X-Amz-Security-Token: " TOKEN "\r\n"
	"x-aws-ec2-metadata-token: " TOKEN "\r\n"
	"/?X-Amz-Security-Token=" TOKEN "&X-Amz-Signature=" SIG "&WebIdentityToken=" TOKEN "\n"
	"aws_secret_access_key = " SECRET "\naws_session_token = " TOKEN "\n"
	"AWS_SECRET_ACCESS_KEY=" SECRET "\nAWS_SESSION_TOKEN=" TOKEN "\n"
	"<SecretAccessKey>" SECRET "</SecretAccessKey><SessionToken>" TOKEN "</SessionToken>\n"
	"{\"SecretAccessKey\": \"" SECRET "\", \"Token\": \"" TOKEN "\", \"SessionToken\": \"" TOKEN "\", "
	"\"routing_key\": \"" SECRET "\", \"integration_key\": \"" SECRET "\"}\n";

static void test_redact__every_pattern_in_one_text(void)
{
	char *out = redacted_copy(every_pattern_text);
	CHECK_MSG(strstr(out, SECRET) == NULL, "secret survived in [%s]", out);
	CHECK_MSG(strstr(out, TOKEN) == NULL, "token survived in [%s]", out);
	CHECK_MSG(strstr(out, SIG) == NULL, "signature survived in [%s]", out);
	CHECK(strstr(out, "Credential=AKID/20150830/us-east-1/ec2/aws4_request") != NULL);
	free(out);
}

/* Every prefix of a text full of secrets: no growth, no overrun (valgrind/ASan), stable. */
static void test_redact__prefixes_never_grow_and_are_stable(void)
{
	size_t n = strlen(every_pattern_text), cut;
	char *prefix = malloc(n + 1);
	if (!prefix)
		abort();
	for (cut = 0; cut <= n; cut++) {
		char *twice;
		memcpy(prefix, every_pattern_text, cut);
		prefix[cut] = '\0';
		ciha__redact(prefix);
		CHECK_MSG(strlen(prefix) <= cut, "prefix of %zu grew", cut);
		twice = redacted_copy(prefix);
		CHECK_MSG(strcmp(twice, prefix) == 0, "prefix of %zu changed on a second pass", cut);
		free(twice);
	}
	free(prefix);
}

static void test_redact__already_redacted_is_stable(void)
{
	static const char *const inputs[] = {
		"Signature=[redacted]", "X-Amz-Security-Token: [redacted]\r\n", "{\"Token\":\"***\"}",
		"<SecretAccessKey>[redacted]</SecretAccessKey>", "aws_secret_access_key = [redacted]",
		"Authorization: [redacted]",
	};
	size_t i;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char *out = redacted_copy(inputs[i]);
		CHECK_STR(out, inputs[i]);
		free(out);
	}
}

typedef struct {
	int calls;
	ciha_log_level level;
	char subsystem[32];
	char message[2048];
} captured_log;

static void capture_log(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	captured_log *cap = payload;
	cap->calls++;
	cap->level = level;
	snprintf(cap->subsystem, sizeof(cap->subsystem), "%s", subsystem);
	snprintf(cap->message, sizeof(cap->message), "%s", message);
}

static void test_redact__trace_log_never_sees_the_secret(void)
{
	captured_log cap;
	ciha__logger lg, *log = &lg;
	memset(&cap, 0, sizeof(cap));
	ciha__logger_init(log, capture_log, &cap, CIHA_LOG_TRACE);
	ciha__log(log, CIHA_LOG_TRACE, "http",
	          "> POST / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/"
	          "aws4_request, SignedHeaders=host, Signature=%s\r\nX-Amz-Security-Token: %s\r\n\r\n"
	          "< <SecretAccessKey>%s</SecretAccessKey>", SIG, TOKEN, SECRET);
	CHECK_INT(cap.calls, 1);
	CHECK_INT(cap.level, CIHA_LOG_TRACE);
	CHECK_STR(cap.subsystem, "http");
	CHECK_MSG(strstr(cap.message, SIG) == NULL, "signature reached the sink: %s", cap.message);
	CHECK_MSG(strstr(cap.message, TOKEN) == NULL, "token reached the sink: %s", cap.message);
	CHECK_MSG(strstr(cap.message, SECRET) == NULL, "secret reached the sink: %s", cap.message);
	CHECK(strstr(cap.message, "> POST / HTTP/1.1") != NULL);
}

static void test_redact__levels_and_default_sink(void)
{
	captured_log cap;
	ciha__logger lg, *log = &lg;
	memset(&cap, 0, sizeof(cap));
	ciha_log_set_default(capture_log, &cap, CIHA_LOG_DEBUG);
	ciha__logger_init(log, NULL, NULL, CIHA_LOG_NONE);
	ciha__log(log, CIHA_LOG_TRACE, "http", "too verbose %s", SECRET);
	CHECK_INT(cap.calls, 0);
	ciha__log(log, CIHA_LOG_DEBUG, "creds", "aws_secret_access_key = %s", SECRET);
	CHECK_INT(cap.calls, 1);
	CHECK_STR(cap.message, "aws_secret_access_key = [redacted]");
	ciha_log_set_default(NULL, NULL, CIHA_LOG_TRACE);
	ciha__logger_init(log, NULL, NULL, CIHA_LOG_NONE);
	ciha__log(log, CIHA_LOG_ERROR, "creds", "nobody listens");
	CHECK_INT(cap.calls, 1);
	CHECK_STR(ciha_log_level_name(CIHA_LOG_TRACE), "TRACE");
}

static void test_redact__no_library_allocation_left(void)
{
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

int main(void)
{
	RUN(test_redact__sigv4_authorization_keeps_all_but_signature);
	RUN(test_redact__token_headers);
	RUN(test_redact__other_authorization_values_masked_whole);
	RUN(test_redact__query_strings);
	RUN(test_redact__xml_bodies);
	RUN(test_redact__json_bodies);
	RUN(test_redact__config_and_env_lines);
	RUN(test_redact__plain_text_untouched);
	RUN(test_redact__every_pattern_in_one_text);
	RUN(test_redact__prefixes_never_grow_and_are_stable);
	RUN(test_redact__already_redacted_is_stable);
	RUN(test_redact__trace_log_never_sees_the_secret);
	RUN(test_redact__levels_and_default_sink);
	RUN(test_redact__no_library_allocation_left);
	return CHECK_DONE("test_redact");
}
