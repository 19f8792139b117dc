/* test_moto_auth.c: SigV4 end to end against moto's strict authentication,
 * through the public API only. Strict mode is global to a moto server, so this
 * test starts a private one (tests/tools/moto.sh) and never touches the shared
 * CIHA_TEST_ENDPOINT server; strict mode is switched off again before it stops. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ciha.h>
#include "../check.h"

#define ADMIN_USER "ciha-auth"
#define LIMITED_USER "ciha-limited"
#define ALLOW_ALL "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}"
#define ALLOW_LIST_TOPICS "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\"," \
	"\"Action\":\"sns:ListTopics\",\"Resource\":\"*\"}]}"
#define WRONG_SECRET "ThisIsNotTheSecretMotoIssuedForTheKey0000"
/* Characters that need percent-encoding, or that SigV4 and form encoding treat differently. */
#define ODD_VALUE "CI build 42: a b+c/d~e*f \xc3\xa9=g&h%20!"

typedef struct {
	char id[128];
	char secret[128];
} access_key;

static struct {
	char dir[512];      /* private moto's directory: moto.pid, moto.port, moto.log */
	char url[128];
	char moto_sh[1024];
	int running;
	int strict;
	access_key admin, limited;
	int ready;          /* users and keys made */
} moto;

static char *log_text;      /* everything the TRACE logger of the authorised client saw */
static size_t log_len;

/* ---- the private moto server ------------------------------------------ */

static int shell_safe(const char *s)
{
	return strchr(s, '\'') == NULL;
}

static int run_shell(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_shell(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	return system(cmd);
}

static int moto_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	const char *base = getenv("CIHA_BUILDDIR") ? getenv("CIHA_BUILDDIR") : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char cmd[2048];
	FILE *p;
	snprintf(moto.moto_sh, sizeof(moto.moto_sh), "%s/tests/tools/moto.sh", srcdir);
	snprintf(moto.dir, sizeof(moto.dir), "%s/moto-auth.XXXXXX", base);
	if (!shell_safe(moto.moto_sh) || !shell_safe(moto.dir) || !mkdtemp(moto.dir)) {
		fprintf(stderr, "cannot make a directory for the private moto server under %s\n", base);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "bash '%s' start '%s'", moto.moto_sh, moto.dir);
	fflush(NULL);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(moto.url, sizeof(moto.url), p))
		moto.url[0] = '\0';
	moto.url[strcspn(moto.url, "\r\n")] = '\0';
	moto.running = 1;
	if (pclose(p) != 0 || strncmp(moto.url, "http://", 7) != 0) {
		fprintf(stderr, "the private moto server did not start (%s)\n", moto.moto_sh);
		return -1;
	}
	return 0;
}

/* Switch strict authentication on ("0": no more unchecked requests) or off ("inf"). */
static int moto_reset_auth(const char *count)
{
	return run_shell("curl -sf -o /dev/null -X POST -H 'Content-Type: text/plain' --data '%s' '%s/moto-api/reset-auth'",
	                 count, moto.url);
}

static void remove_moto_files(void)
{
	static const char *const files[] = { "moto.log", "moto.port", "moto.pid" };
	char path[600];
	size_t i;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", moto.dir, files[i]);
		unlink(path);
	}
	rmdir(moto.dir);
}

/* Always runs, on every exit path: strict mode off, server stopped. */
static void moto_shutdown(void)
{
	if (moto.strict) {
		if (moto_reset_auth("inf") != 0)
			fprintf(stderr, "could not switch moto's strict authentication off at %s\n", moto.url);
		moto.strict = 0;
	}
	if (moto.running) {
		if (run_shell("bash '%s' stop '%s'", moto.moto_sh, moto.dir) != 0)
			fprintf(stderr, "could not stop the private moto server in %s\n", moto.dir);
		moto.running = 0;
		if (check__failed)
			fprintf(stderr, "private moto server's log kept in %s/moto.log\n", moto.dir);
		else
			remove_moto_files();
	}
}

/* ---- clients ------------------------------------------------------------ */

static void collect_log(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	size_t n = strlen(message);
	char *grown = realloc(log_text, log_len + n + 2);
	(void)level;
	(void)subsystem;
	(void)payload;
	if (!grown)
		return;
	log_text = grown;
	memcpy(log_text + log_len, message, n);
	log_len += n;
	log_text[log_len++] = '\n';
	log_text[log_len] = '\0';
}

static ciha_client *client_with(const char *akid, const char *secret, ciha_log_cb log_cb)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, akid, secret, NULL) != CIHA_OK) {
		fprintf(stderr, "static provider: %s\n", ciha_error_message(ciha_error_last()));
		return NULL;
	}
	o.region = "us-east-1";
	o.endpoint_url = moto.url;
	o.credentials = p;
	o.max_attempts = 1;
	o.log_cb = log_cb;
	o.log_level = log_cb ? CIHA_LOG_TRACE : CIHA_LOG_NONE;
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

/* Call and report; consumes `params`. */
static json_t *call(ciha_client *c, const char *service, const char *action, json_t *params, int *rc)
{
	json_t *out = NULL;
	int r = ciha_call(&out, c, service, action, params);
	if (r != CIHA_OK && !rc)
		fprintf(stderr, "  %s %s: %s: %s\n", service, action, ciha_code_name(r),
		        ciha_error_message(ciha_client_error(c)));
	if (rc)
		*rc = r;
	json_decref(params);
	return out;
}

static int copy_string(char *dst, size_t size, const json_t *value)
{
	const char *s = json_string_value(value);
	if (!s || strlen(s) >= size)
		return -1;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* ---- set-up while authentication is off ------------------------------- */

static int make_user(ciha_client *admin, const char *user, const char *policy, access_key *key)
{
	json_t *r;
	const json_t *ak;
	int ok;
	r = call(admin, "iam", "CreateUser", json_pack("{s:s}", "UserName", user), NULL);
	if (!r)
		return -1;
	json_decref(r);
	r = call(admin, "iam", "PutUserPolicy",
	         json_pack("{s:s, s:s, s:s}", "UserName", user, "PolicyName", "ciha-test", "PolicyDocument", policy), NULL);
	if (!r)
		return -1;
	json_decref(r);
	r = call(admin, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", user), NULL);
	ak = json_object_get(r, "AccessKey");
	ok = copy_string(key->id, sizeof(key->id), json_object_get(ak, "AccessKeyId")) == 0
	     && copy_string(key->secret, sizeof(key->secret), json_object_get(ak, "SecretAccessKey")) == 0;
	json_decref(r);
	return ok ? 0 : -1;
}

static void test_auth__setup_users_and_strict_mode(void)
{
	ciha_client *anyone = client_with("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);
	CHECK(anyone != NULL);
	if (!anyone)
		return;
	CHECK(make_user(anyone, ADMIN_USER, ALLOW_ALL, &moto.admin) == 0);
	CHECK(make_user(anyone, LIMITED_USER, ALLOW_LIST_TOPICS, &moto.limited) == 0);
	ciha_client_free(anyone);
	if (check__failed_in_case)
		return;
	CHECK_MSG(moto_reset_auth("0") == 0, "POST %s/moto-api/reset-auth failed", moto.url);
	moto.strict = 1;
	moto.ready = check__failed_in_case == 0;
}

/* ---- with strict authentication ---------------------------------------- */

static void test_auth__right_secret_accepted(void)
{
	ciha_client *c = client_with(moto.admin.id, moto.admin.secret, collect_log);
	ciha_identity *id = NULL;
	json_t *r;
	CHECK(c != NULL);
	if (!c)
		return;
	r = call(c, "sts", "GetCallerIdentity", NULL, NULL);
	CHECK_STR(json_string_value(json_object_get(r, "Arn")), "arn:aws:iam::123456789012:user/" ADMIN_USER);
	json_decref(r);
	CHECK_INT(ciha_client_whoami(&id, c), CIHA_OK);
	if (id)
		CHECK_STR(ciha_identity_arn(id), "arn:aws:iam::123456789012:user/" ADMIN_USER);
	ciha_identity_free(id);
	r = call(c, "sns", "ListTopics", NULL, NULL);
	CHECK(r != NULL);
	json_decref(r);
	r = call(c, "ec2", "DescribeVolumes", NULL, NULL);
	CHECK(r != NULL);
	json_decref(r);
	CHECK_INT(ciha_client_last_attempts(c), 1);
	ciha_client_free(c);
}

static void check_auth_failure(ciha_client *c, const char *service, const char *action, const char *aws_code,
                               int http_status)
{
	const ciha_error *e;
	int rc = CIHA_OK;
	json_t *r = call(c, service, action, NULL, &rc);
	CHECK(r == NULL);
	json_decref(r);
	e = ciha_client_error(c);
	CHECK_MSG(rc == CIHA_EAUTH, "%s %s returned %s: %s", service, action, ciha_code_name(rc), ciha_error_message(e));
	CHECK_INT(ciha_error_code(e), CIHA_EAUTH);
	CHECK_STR(ciha_error_aws_code(e), aws_code);
	CHECK_INT(ciha_error_http_status(e), http_status);
	CHECK_INT(ciha_error_is_retryable(e), 0);
	CHECK_MSG(strstr(ciha_error_message(e), aws_code) || strstr(ciha_error_message(e), "ignature")
	          || strstr(ciha_error_message(e), "not authorized") || strstr(ciha_error_message(e), "not valid"),
	          "message does not say what went wrong: [%s]", ciha_error_message(e));
	CHECK_MSG(strstr(ciha_error_message(e), WRONG_SECRET) == NULL, "secret in message: %s", ciha_error_message(e));
	CHECK_INT(ciha_client_last_attempts(c), 1);
}

static void test_auth__wrong_secret_rejected(void)
{
	ciha_client *c = client_with(moto.admin.id, WRONG_SECRET, NULL);
	CHECK(c != NULL);
	if (!c)
		return;
	check_auth_failure(c, "sts", "GetCallerIdentity", "SignatureDoesNotMatch", 403);
	check_auth_failure(c, "sns", "ListTopics", "SignatureDoesNotMatch", 403);
	check_auth_failure(c, "ec2", "DescribeVolumes", "AuthFailure", 401);
	ciha_client_free(c);
}

static void test_auth__unknown_key_rejected(void)
{
	ciha_client *c = client_with("AKIAUNKNOWNKEY000000", WRONG_SECRET, NULL);
	CHECK(c != NULL);
	if (!c)
		return;
	check_auth_failure(c, "sns", "ListTopics", "InvalidClientTokenId", 403);
	ciha_client_free(c);
}

static void test_auth__action_outside_policy_denied(void)
{
	ciha_client *c = client_with(moto.limited.id, moto.limited.secret, NULL);
	json_t *r;
	CHECK(c != NULL);
	if (!c)
		return;
	r = call(c, "sns", "ListTopics", NULL, NULL);
	CHECK(r != NULL);
	json_decref(r);
	check_auth_failure(c, "sns", "CreateTopic", "AccessDenied", 403);
	ciha_client_free(c);
}

/* The value paired with `key` in a decoded list of {key_name, value_name} objects;
 * the list may also be one object or sit under a single wrapper ("entry"). */
static const char *pair_value(const json_t *list, const char *key_name, const char *key, const char *value_name)
{
	const char *k;
	size_t i;
	if (json_is_array(list)) {
		for (i = 0; i < json_array_size(list); i++) {
			const char *v = pair_value(json_array_get(list, i), key_name, key, value_name);
			if (v)
				return v;
		}
		return NULL;
	}
	if (json_object_get(list, "entry"))
		return pair_value(json_object_get(list, "entry"), key_name, key, value_name);
	k = json_string_value(json_object_get(list, key_name));
	return k && strcmp(k, key) == 0 ? json_string_value(json_object_get(list, value_name)) : NULL;
}

/* A decoded map: {"Name": value}, or the raw entry list {"entry": [{"key", "value"}]}. */
static const char *map_value(const json_t *map, const char *key)
{
	const char *v = json_string_value(json_object_get(map, key));
	return v ? v : pair_value(map, "key", key, "value");
}

static void test_auth__odd_characters_in_sns_attributes(void)
{
	ciha_client *c = client_with(moto.admin.id, moto.admin.secret, collect_log);
	const char *arn;
	json_t *r, *attrs;
	CHECK(c != NULL);
	if (!c)
		return;
	r = call(c, "sns", "CreateTopic", json_pack("{s:s, s:{s:[{s:s, s:s}]}}", "Name", "ciha-odd-characters",
	         "Attributes", "entry", "key", "DisplayName", "value", ODD_VALUE), NULL);
	arn = json_string_value(json_object_get(r, "TopicArn"));
	CHECK(arn != NULL);
	attrs = arn ? call(c, "sns", "GetTopicAttributes", json_pack("{s:s}", "TopicArn", arn), NULL) : NULL;
	CHECK_STR(map_value(json_object_get(attrs, "Attributes"), "DisplayName"), ODD_VALUE);
	json_decref(attrs);
	json_decref(r);
	ciha_client_free(c);
}

static void test_auth__odd_characters_in_cloudformation(void)
{
	static const char tpl[] = "{\"Description\":\"" ODD_VALUE "\",\"Parameters\":{\"Label\":{\"Type\":\"String\"}},"
		"\"Resources\":{\"Handle\":{\"Type\":\"AWS::CloudFormation::WaitConditionHandle\"}},"
		"\"Outputs\":{\"Label\":{\"Value\":{\"Ref\":\"Label\"}}}}";
	ciha_client *c = client_with(moto.admin.id, moto.admin.secret, collect_log);
	json_t *r, *stacks;
	const json_t *stack;
	CHECK(c != NULL);
	if (!c)
		return;
	r = call(c, "cloudformation", "ValidateTemplate", json_pack("{s:s}", "TemplateBody", tpl), NULL);
	CHECK(r != NULL);
	json_decref(r);
	r = call(c, "cloudformation", "CreateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}]}",
	         "StackName", "ciha-odd-characters", "TemplateBody", tpl,
	         "Parameters", "ParameterKey", "Label", "ParameterValue", ODD_VALUE), NULL);
	CHECK(json_string_value(json_object_get(r, "StackId")) != NULL);
	json_decref(r);
	r = call(c, "cloudformation", "DescribeStacks", json_pack("{s:s}", "StackName", "ciha-odd-characters"), NULL);
	stacks = json_object_get(r, "Stacks");
	stack = json_array_get(stacks, 0);
	CHECK(json_array_size(stacks) == 1);
	CHECK_STR(pair_value(json_object_get(stack, "Parameters"), "ParameterKey", "Label", "ParameterValue"), ODD_VALUE);
	CHECK_STR(pair_value(json_object_get(stack, "Outputs"), "OutputKey", "Label", "OutputValue"), ODD_VALUE);
	json_decref(r);
	ciha_client_free(c);
}

static void test_auth__odd_characters_in_ec2_lists(void)
{
	ciha_client *c = client_with(moto.admin.id, moto.admin.secret, collect_log);
	json_t *r, *volumes;
	const json_t *found;
	const char *volume_id;
	CHECK(c != NULL);
	if (!c)
		return;
	r = call(c, "ec2", "CreateVolume", json_pack("{s:s, s:i, s:[{s:s, s:[{s:s, s:s}]}]}",
	         "AvailabilityZone", "us-east-1a", "Size", 1,
	         "TagSpecification", "ResourceType", "volume", "Tag", "Key", "Label", "Value", ODD_VALUE), NULL);
	volume_id = json_string_value(json_object_get(r, "volumeId"));
	CHECK(volume_id != NULL);
	volumes = call(c, "ec2", "DescribeVolumes",
	               json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name", "tag:Label", "Value", ODD_VALUE), NULL);
	found = json_object_get(volumes, "volumeSet");
	CHECK_MSG(json_array_size(found) == 1, "%zu volumes carry the tag", json_array_size(found));
	CHECK_STR(json_string_value(json_object_get(json_array_get(found, 0), "volumeId")), volume_id);
	json_decref(volumes);
	json_decref(r);
	ciha_client_free(c);
}

static void test_auth__trace_log_holds_no_secret(void)
{
	CHECK(log_text != NULL && log_len > 0);
	if (!log_text)
		return;
	CHECK_MSG(strstr(log_text, moto.admin.secret) == NULL, "the secret key reached the log");
	CHECK(strstr(log_text, moto.admin.id) != NULL || strstr(log_text, "Credential=") != NULL);
}

static void test_auth__strict_mode_switched_off(void)
{
	ciha_client *c;
	json_t *r;
	CHECK_INT(moto_reset_auth("inf"), 0);
	moto.strict = 0;
	c = client_with("AKIAUNKNOWNKEY000000", WRONG_SECRET, NULL);
	if (!c)
		return;
	r = call(c, "sns", "ListTopics", NULL, NULL);
	CHECK_MSG(r != NULL, "moto still checks signatures after reset-auth inf");
	json_decref(r);
	ciha_client_free(c);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("CIHA_TEST_ENDPOINT is not set: run through tests/run, which provides moto server "
		           "(this test then starts a private one with tests/tools/moto.sh)");
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	atexit(moto_shutdown);
	if (moto_start() != 0) {
		moto_shutdown();
		fprintf(stderr, "test_moto_auth: cannot run without a private moto server\n");
		return 99;
	}
	RUN(test_auth__setup_users_and_strict_mode);
	if (moto.ready) {
		RUN(test_auth__right_secret_accepted);
		RUN(test_auth__wrong_secret_rejected);
		RUN(test_auth__unknown_key_rejected);
		RUN(test_auth__action_outside_policy_denied);
		RUN(test_auth__odd_characters_in_sns_attributes);
		RUN(test_auth__odd_characters_in_cloudformation);
		RUN(test_auth__odd_characters_in_ec2_lists);
		RUN(test_auth__trace_log_holds_no_secret);
		RUN(test_auth__strict_mode_switched_off);
	}
	moto_shutdown();
	free(log_text);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_auth");
}
