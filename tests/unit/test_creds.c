/* test_creds.c: the credential providers and the default chain, against stubserver.py. */
#define _POSIX_C_SOURCE 200809L
#ifndef CIHA_TESTING
#define CIHA_TESTING 1 /* the HTTP transport seam of http_int.h */
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "../check.h"
#include "ciha/credentials.h"
#include "ciha/errors.h"
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "http_int.h"

/* Every secret the stub or the test hands out; none may reach a log line or an error message. */
static const char *const secrets[] = {
	"imds-stub-secret", "imds-stub-session-token", "container-stub-secret", "container-stub-session-token",
	"stub-sts-secret-", "stub-sts-session-token-", "env-secret-key", "env-session-token",
	"profile-secret-key", "base-secret-key", "web-identity-token-", "container-bearer-token",
	"stub-imds-token-", "config-secret-key",
};

static char stub_url[64];
static int stub_port;
static pid_t stub_pid;
static FILE *stub_pipe;
static char home[256];
static ciha__buf logged = CIHA__BUF_INIT;    /* every log line, all levels */
static ciha__buf errors = CIHA__BUF_INIT;    /* every error message seen */

/* ---- the stub server ----------------------------------------------------------------- */

static int stub_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR");
	char cmd[1024], line[128];
	snprintf(cmd, sizeof(cmd), "exec python3 %s/tests/tools/stubserver.py --max-seconds 300",
	         srcdir ? srcdir : ".");
	if (!(stub_pipe = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), stub_pipe)) {
		if (sscanf(line, "PORT %d", &stub_port) == 1)
			continue;
		if (sscanf(line, "PID %d", &stub_pid) == 1)
			break;
	}
	if (!stub_port || !stub_pid)
		return -1;
	snprintf(stub_url, sizeof(stub_url), "http://127.0.0.1:%d", stub_port);
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

/* POST (body != NULL) or GET a control path; returns the body (caller frees). */
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

static void stub_reset(void)
{
	ciha__free(stub_request("/__stub/reset", ""));
}

static json_t *stub_log(void)
{
	char *text = stub_request("/__stub/log", NULL);
	json_t *log = json_loads(text ? text : "[]", 0, NULL);
	ciha__free(text);
	CHECK(json_is_array(log));
	return log;
}

static const char *entry_str(const json_t *log, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(log, i), key));
}

static const char *entry_header(const json_t *log, size_t i, const char *name)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(log, i), "headers"), name));
}

static const char *entry_form(const json_t *log, size_t i, const char *name)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(log, i), "form"), name));
}

/* ---- environment and files ------------------------------------------------------------- */

static void capture(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	(void)payload;
	ciha__buf_printf(&logged, "%s %s %s\n", ciha_log_level_name(level), subsystem, message);
}

static void clean_env(void)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_V1_DISABLED",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_METADATA_SERVICE_TIMEOUT",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_DEFAULT_REGION",
	};
	char url[128];
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	setenv("HOME", home, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	snprintf(url, sizeof(url), "%s/", stub_url);
	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	/* Never wait for the real 169.254.169.254 in a unit test. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", stub_url, 1);
	stub_reset();
}

static void home_file(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/.aws/%s", home, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void write_aws_files(const char *config, const char *credentials)
{
	char path[512];
	home_file(path, sizeof(path), "config");
	if (config)
		write_text(path, config, 0600);
	else
		unlink(path);
	home_file(path, sizeof(path), "credentials");
	if (credentials)
		write_text(path, credentials, 0600);
	else
		unlink(path);
}

/* Get once through a fresh provider; returns the code and keeps the error message. */
static int get_creds(ciha_credentials **out, ciha_credentials_provider *p)
{
	int rc = ciha_credentials_provider_get(out, p);
	if (rc != CIHA_OK)
		ciha__buf_printf(&errors, "%s\n", ciha_error_message(ciha_error_last()));
	return rc;
}

static const char *last_message(void)
{
	return ciha_error_message(ciha_error_last());
}

#define CHECK_CONTAINS(hay, needle) CHECK_MSG((hay) && strstr((hay), (needle)) != NULL, \
	"[%s] does not contain [%s]", (hay) ? (hay) : "(null)", (needle))

/* ---- basics -------------------------------------------------------------------------------- */

static void test_creds__object_and_refcount(void)
{
	ciha_credentials *c = NULL;
	CHECK_INT(ciha_credentials_new(&c, "AKID", "config-secret-key", NULL, 42), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKID");
	CHECK_STR(ciha_credentials_secret_access_key(c), "config-secret-key");
	CHECK(ciha_credentials_session_token(c) == NULL);
	CHECK_INT(ciha_credentials_expiration(c), 42);
	CHECK_STR(ciha_credentials_provider_name(c), "static");
	CHECK(ciha_credentials_acquire(c) == c);
	ciha_credentials_release(c);
	ciha_credentials_release(c);
	ciha_credentials_release(NULL);
	CHECK_INT(ciha_credentials_new(&c, "", "x", NULL, 0), CIHA_EINVAL);
	CHECK_INT(ciha_credentials_new(&c, "AKID", NULL, NULL, 0), CIHA_EINVAL);
}

static void test_creds__options_init(void)
{
	ciha_credentials_options o;
	ciha_credentials_provider *p = NULL;
	CHECK_INT(ciha_credentials_options_init(&o, CIHA_CREDENTIALS_OPTIONS_VERSION), CIHA_OK);
	CHECK_INT(o.version, CIHA_CREDENTIALS_OPTIONS_VERSION);
	CHECK(o.profile == NULL && o.imds_allow_v1 == 0);
	CHECK_INT(ciha_credentials_options_init(&o, 99), CIHA_EUNSUPPORTED);
	o.version = 99;
	CHECK_INT(ciha_credentials_provider_new_env(&p, &o), CIHA_EUNSUPPORTED);
	CHECK(p == NULL);
}

static void test_creds__static_provider(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	CHECK_INT(ciha_credentials_provider_new_static(&p, "AKIDSTATIC", "config-secret-key", "tok"), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_kind(p), "static");
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDSTATIC");
	CHECK_STR(ciha_credentials_session_token(c), "tok");
	CHECK_STR(ciha_credentials_provider_name(c), "static");
	ciha_credentials_release(c);
	CHECK(ciha_credentials_provider_acquire(p) == p);
	ciha_credentials_provider_release(p);
	ciha_credentials_provider_release(p);
	CHECK_INT(ciha_credentials_provider_new_static(&p, "AKID", "", NULL), CIHA_EINVAL);
}

static int delegate_calls;

static ciha_result delegate_cb(ciha_credentials **out, void *payload)
{
	delegate_calls++;
	if (payload)
		return CIHA_EUSER;
	return ciha_credentials_new(out, "AKIDDELEGATE", "config-secret-key", NULL, 0);
}

static void test_creds__delegate_provider(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	int fail = 1;
	CHECK_INT(ciha_credentials_provider_new_delegate(&p, delegate_cb, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDDELEGATE");
	CHECK_STR(ciha_credentials_provider_name(c), "delegate");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	CHECK_INT(ciha_credentials_provider_new_delegate(&p, delegate_cb, &fail), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EUSER);
	ciha_credentials_provider_release(p);
}

/* ---- env -------------------------------------------------------------------------------------- */

static void test_env__keys_and_token(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
	setenv("AWS_ACCOUNT_ID", "123456789012", 1);
	CHECK_INT(ciha_credentials_provider_new_env(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDENV");
	CHECK_STR(ciha_credentials_secret_access_key(c), "env-secret-key");
	CHECK_STR(ciha_credentials_session_token(c), "env-session-token");
	CHECK_STR(ciha_credentials_provider_name(c), "env");
	CHECK_INT(ciha_credentials_expiration(c), 0);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_env__legacy_token_and_expiration(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	setenv("AWS_SECURITY_TOKEN", "env-session-token-legacy", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2099-01-01T00:00:00Z", 1);
	CHECK_INT(ciha_credentials_provider_new_env(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_session_token(c), "env-session-token-legacy");
	CHECK_INT(ciha_credentials_expiration(c), 4070908800LL);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_env__missing_secret_and_missing_keys(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	CHECK_INT(ciha_credentials_provider_new_env(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_STR(last_message(), "no credentials: env (AWS_ACCESS_KEY_ID not set)");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "AWS_SECRET_ACCESS_KEY");
	CHECK(c == NULL);
	ciha_credentials_provider_release(p);
}

/* ---- profile ------------------------------------------------------------------------------------ */

static void test_profile__static_keys_credentials_file_wins(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	write_aws_files("[default]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret-key\n"
	                "[profile other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = config-secret-key\n",
	                "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = profile-secret-key\n"
	                "aws_session_token = profile-token\n");
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDCREDS");
	CHECK_STR(ciha_credentials_secret_access_key(c), "profile-secret-key");
	CHECK_STR(ciha_credentials_session_token(c), "profile-token");
	CHECK_STR(ciha_credentials_provider_name(c), "profile");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	setenv("AWS_PROFILE", "other", 1);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDOTHER");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_profile__missing_profile_is_not_found(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	clean_env();
	write_aws_files("[default]\nregion = us-east-1\n", NULL);
	o.profile = "nope";
	CHECK_INT(ciha_credentials_provider_new_profile(&p, &o), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "profile 'nope' (no such profile in ");
	ciha_credentials_provider_release(p);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "profile 'default' (no credentials in it)");
	ciha_credentials_provider_release(p);
}

static void check_broken(const char *config, const char *credentials, const char *profile, int code,
                         const char *needle)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	write_aws_files(config, credentials);
	setenv("AWS_PROFILE", profile, 1);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), code);
	CHECK_CONTAINS(last_message(), needle);
	CHECK(c == NULL);
	ciha_credentials_provider_release(p);
	unsetenv("AWS_PROFILE");
}

static void test_profile__broken_configurations(void)
{
	check_broken("[profile r]\nrole_arn = arn:aws:iam::1:role/r\n", NULL, "r", CIHA_EINVAL,
	             "profile 'r' (");
	check_broken("[profile r]\nrole_arn = arn:aws:iam::1:role/r\n", NULL, "r", CIHA_EINVAL,
	             "role_arn without source_profile");
	check_broken("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\ncredential_source = Environment\n"
	             "[profile b]\naws_access_key_id = A\naws_secret_access_key = base-secret-key\n",
	             NULL, "r", CIHA_EINVAL, "both source_profile and credential_source");
	check_broken("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
	             "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n",
	             NULL, "a", CIHA_EINVAL, "source_profile loop");
	check_broken("[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = ghost\n", NULL, "a",
	             CIHA_EINVAL, "source_profile 'ghost'");
	check_broken("[profile a]\nrole_arn = arn:aws:iam::1:role/a\ncredential_source = Moon\n", NULL, "a",
	             CIHA_EINVAL, "unknown credential_source 'Moon'");
	check_broken("[default]\nregion = x\nthis is not ini\n", NULL, "default", CIHA_EINVAL, "/.aws/config:3:");
	check_broken(NULL, "[default]\naws_access_key_id = A\n", "default", CIHA_EINVAL,
	             "aws_access_key_id without aws_secret_access_key");
	check_broken("[profile m]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = m\nmfa_serial = arn:x\n", NULL, "m",
	             CIHA_EUNSUPPORTED, "mfa_serial");
}

static void test_profile__unreadable_file(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	clean_env();
	o.config_file = home; /* a directory */
	CHECK_INT(ciha_credentials_provider_new_profile(&p, &o), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), home);
	ciha_credentials_provider_release(p);
}

static void test_profile__assume_role_chained_twice(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	write_aws_files("[profile top]\nrole_arn = arn:aws:iam::111111111111:role/top\nsource_profile = mid\n"
	                "role_session_name = top-session\n"
	                "[profile mid]\nrole_arn = arn:aws:iam::222222222222:role/mid\nsource_profile = base\n"
	                "external_id = ext-1\nduration_seconds = 1800\n",
	                "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret-key\n");
	setenv("AWS_PROFILE", "top", 1);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "assume-role");
	log = stub_log();
	CHECK_INT(json_array_size(log), 2);
	CHECK_STR(entry_str(log, 0, "action"), "AssumeRole");
	CHECK(json_is_true(json_object_get(json_array_get(log, 0), "signed")));
	CHECK_STR(entry_str(log, 0, "signing_key"), "AKIDBASE");
	CHECK_STR(entry_form(log, 0, "RoleArn"), "arn:aws:iam::222222222222:role/mid");
	CHECK_STR(entry_form(log, 0, "ExternalId"), "ext-1");
	CHECK_STR(entry_form(log, 0, "DurationSeconds"), "1800");
	CHECK(entry_form(log, 0, "RoleSessionName") != NULL);
	CHECK(json_object_get(json_array_get(log, 0), "security_token") == json_null());
	/* the second hop is signed with the first hop's temporary keys */
	CHECK_STR(entry_str(log, 1, "signing_key"), entry_str(log, 0, "issued_key"));
	CHECK_CONTAINS(entry_str(log, 1, "security_token"), "stub-sts-session-token-");
	CHECK_STR(entry_form(log, 1, "RoleArn"), "arn:aws:iam::111111111111:role/top");
	CHECK_STR(entry_form(log, 1, "RoleSessionName"), "top-session");
	CHECK_STR(ciha_credentials_access_key_id(c), entry_str(log, 1, "issued_key"));
	CHECK_CONTAINS(ciha_credentials_secret_access_key(c), "stub-sts-secret-");
	CHECK(ciha_credentials_expiration(c) > (int64_t)time(NULL) + 3000);
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_profile__credential_source_environment(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	write_aws_files("[profile ci]\nrole_arn = arn:aws:iam::333333333333:role/ci\ncredential_source = Environment\n",
	                NULL);
	setenv("AWS_PROFILE", "ci", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "assume-role");
	log = stub_log();
	CHECK_INT(json_array_size(log), 1);
	CHECK_STR(entry_str(log, 0, "signing_key"), "AKIDFROMENV");
	CHECK_STR(entry_form(log, 0, "RoleArn"), "arn:aws:iam::333333333333:role/ci");
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_profile__sts_error_is_reported(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	stub_script("{\"sts_status\": 403}");
	write_aws_files("[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n",
	                "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret-key\n");
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "AccessDenied");
	CHECK_STR(ciha_error_service(ciha_error_last()), "sts");
	CHECK_INT(ciha_error_http_status(ciha_error_last()), 403);
	ciha_credentials_provider_release(p);
}

static void test_profile__world_readable_warning(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	ciha__buf mine = CIHA__BUF_INIT;
	char path[512];
	clean_env();
	write_aws_files(NULL, "[default]\naws_access_key_id = AKIDCREDS\naws_secret_access_key = profile-secret-key\n");
	home_file(path, sizeof(path), "credentials");
	chmod(path, 0644);
	o.log_cb = capture;
	o.log_level = CIHA_LOG_WARN;
	CHECK_INT(ciha_credentials_provider_new_profile(&p, &o), CIHA_OK);
	ciha__buf_clear(&logged);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	ciha__buf_puts(&mine, ciha__buf_cstr(&logged));
	CHECK_CONTAINS(ciha__buf_cstr(&mine), "WARN creds credentials file ");
	CHECK_CONTAINS(ciha__buf_cstr(&mine), path);
	CHECK(strstr(ciha__buf_cstr(&mine), "profile-secret-key") == NULL);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	chmod(path, 0600);
	ciha__buf_clear(&logged);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, &o), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK(strstr(ciha__buf_cstr(&logged), "WARN") == NULL);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	ciha__buf_dispose(&mine);
}

/* ---- web identity -------------------------------------------------------------------------------- */

static void test_web_identity__unsigned_and_token_reread(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	char token_file[512];
	json_t *log;
	clean_env();
	stub_script("{\"sts_expires_in\": 300}");
	home_file(token_file, sizeof(token_file), "token");
	write_text(token_file, "web-identity-token-one\n", 0600);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_file, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::444444444444:role/wi", 1);
	setenv("AWS_ROLE_SESSION_NAME", "wi-session", 1);
	CHECK_INT(ciha_credentials_provider_new_web_identity(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "web-identity");
	ciha_credentials_release(c);
	write_text(token_file, "web-identity-token-two", 0600);
	CHECK_INT(get_creds(&c, p), CIHA_OK); /* expires in 5 minutes: refreshed */
	ciha_credentials_release(c);
	log = stub_log();
	CHECK_INT(json_array_size(log), 2);
	CHECK_STR(entry_str(log, 0, "action"), "AssumeRoleWithWebIdentity");
	CHECK(json_is_false(json_object_get(json_array_get(log, 0), "signed")));
	CHECK_STR(entry_form(log, 0, "WebIdentityToken"), "web-identity-token-one");
	CHECK_STR(entry_form(log, 0, "RoleSessionName"), "wi-session");
	CHECK_STR(entry_form(log, 0, "RoleArn"), "arn:aws:iam::444444444444:role/wi");
	CHECK_STR(entry_form(log, 1, "WebIdentityToken"), "web-identity-token-two");
	json_decref(log);
	ciha_credentials_provider_release(p);
}

static void test_web_identity__from_profile(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	char config[1024], token_file[512];
	json_t *log;
	clean_env();
	home_file(token_file, sizeof(token_file), "token2");
	write_text(token_file, "web-identity-token-profile", 0600);
	snprintf(config, sizeof(config), "[default]\nrole_arn = arn:aws:iam::5:role/p\nweb_identity_token_file = %s\n",
	         token_file);
	write_aws_files(config, NULL);
	CHECK_INT(ciha_credentials_provider_new_profile(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "web-identity");
	log = stub_log();
	CHECK_STR(entry_form(log, 0, "WebIdentityToken"), "web-identity-token-profile");
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_web_identity__not_configured(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	CHECK_INT(ciha_credentials_provider_new_web_identity(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_STR(last_message(), "no credentials: web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "AWS_ROLE_ARN");
	setenv("AWS_ROLE_ARN", "arn:aws:iam::5:role/p", 1);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "/nonexistent/token");
	ciha_credentials_provider_release(p);
}

/* ---- container ------------------------------------------------------------------------------------ */

static void set_full_uri(void)
{
	char uri[128];
	snprintf(uri, sizeof(uri), "%s/container/creds", stub_url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
}

static void test_container__full_uri_with_token_file(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	char token_file[512];
	json_t *log;
	clean_env();
	stub_script("{\"container_auth\": \"Bearer container-bearer-token\"}");
	set_full_uri();
	home_file(token_file, sizeof(token_file), "ecs-token");
	write_text(token_file, "Bearer container-bearer-token\n", 0600);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set", 1);
	CHECK_INT(ciha_credentials_provider_new_container(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "container");
	CHECK_STR(ciha_credentials_access_key_id(c), "ASIACONTAINERSTUB");
	CHECK_STR(ciha_credentials_session_token(c), "container-stub-session-token");
	log = stub_log();
	CHECK_STR(entry_header(log, 0, "authorization"), "Bearer container-bearer-token");
	CHECK_STR(entry_str(log, 0, "path"), "/container/creds");
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_container__bad_token_and_hosts(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	stub_script("{\"container_auth\": \"Bearer container-bearer-token\"}");
	set_full_uri();
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong", 1);
	CHECK_INT(ciha_credentials_provider_new_container(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "HTTP 401");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer container-bearer-token\r\nX-Evil: 1", 1);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "CR or LF");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "example.com");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_STR(last_message(), "no credentials: container (AWS_CONTAINER_CREDENTIALS_* not set)");
	ciha_credentials_provider_release(p);
}

static ciha__buf transport_urls = CIHA__BUF_INIT;

static int fake_ecs(const ciha__http_request *req, ciha__http_response *resp, void *payload)
{
	(void)payload;
	ciha__buf_printf(&transport_urls, "%s %s\n", req->method, req->url);
	CHECK(req->no_proxy);
	resp->outcome = CIHA__HTTP_OK;
	resp->status = 200;
	ciha__buf_puts(&resp->body, "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"container-stub-secret\","
	                            "\"Token\":\"container-stub-session-token\",\"Expiration\":\"2099-01-01T00:00:00Z\","
	                            "\"AccountId\":\"999999999999\"}");
	return CIHA_OK;
}

static void test_container__relative_uri_goes_to_ecs_host(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
	set_full_uri(); /* relative wins */
	ciha__http_set_test_transport(fake_ecs, NULL);
	CHECK_INT(ciha_credentials_provider_new_container(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_STR(ciha__buf_cstr(&transport_urls), "GET http://169.254.170.2/v2/credentials/abc\n");
	CHECK_STR(ciha_credentials_access_key_id(c), "ASIAECS");
	CHECK_INT(ciha_credentials_expiration(c), 4070908800LL);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	ciha__buf_dispose(&transport_urls);
}

/* ---- caching --------------------------------------------------------------------------------------- */

static size_t requests_after_two_gets(const char *script)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c1 = NULL, *c2 = NULL;
	json_t *log;
	size_t n;
	clean_env();
	stub_script(script);
	set_full_uri();
	CHECK_INT(ciha_credentials_provider_new_container(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c1, p), CIHA_OK);
	CHECK_INT(get_creds(&c2, p), CIHA_OK);
	log = stub_log();
	n = json_array_size(log);
	json_decref(log);
	ciha_credentials_release(c1);
	ciha_credentials_release(c2);
	ciha_credentials_provider_release(p);
	return n;
}

static void test_cache__refresh_before_expiry(void)
{
	CHECK_INT(requests_after_two_gets("{\"container_creds\": {\"AccessKeyId\": \"ASIA1\", "
	                                  "\"SecretAccessKey\": \"container-stub-secret\", \"expires_in\": 7200}}"), 1);
	CHECK_INT(requests_after_two_gets("{\"container_creds\": {\"AccessKeyId\": \"ASIA1\", "
	                                  "\"SecretAccessKey\": \"container-stub-secret\", \"expires_in\": 300}}"), 2);
}

static void test_cache__stale_rule(void)
{
	ciha_credentials *c = NULL;
	long long now = (long long)time(NULL) * 1000;
	CHECK_INT(ciha__credentials_make(&c, "A", "config-secret-key", NULL, time(NULL) + 14 * 60, "x", NULL), CIHA_OK);
	CHECK(ciha__credentials_stale(c, now));
	ciha_credentials_release(c);
	CHECK_INT(ciha__credentials_make(&c, "A", "config-secret-key", NULL, time(NULL) + 16 * 60, "x", NULL), CIHA_OK);
	CHECK(!ciha__credentials_stale(c, now));
	ciha_credentials_release(c);
	CHECK_INT(ciha__credentials_make(&c, "A", "config-secret-key", NULL, 0, "x", NULL), CIHA_OK);
	CHECK(!ciha__credentials_stale(c, now));
	ciha_credentials_release(c);
}

static void *hammer(void *arg)
{
	ciha_credentials_provider *p = arg;
	int i;
	for (i = 0; i < 50; i++) {
		ciha_credentials *c = NULL;
		if (ciha_credentials_provider_get(&c, p) != CIHA_OK)
			return (void *)1;
		ciha_credentials_release(c);
	}
	return NULL;
}

static void test_cache__threads_share_one_fetch(void)
{
	ciha_credentials_provider *p = NULL;
	pthread_t t[4];
	void *ret;
	json_t *log;
	int i;
	clean_env();
	set_full_uri();
	CHECK_INT(ciha_credentials_provider_new_container(&p, NULL), CIHA_OK);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, ciha_credentials_provider_acquire(p));
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], &ret);
		CHECK(ret == NULL);
		ciha_credentials_provider_release(p);
	}
	log = stub_log();
	CHECK_INT(json_array_size(log), 1);
	json_decref(log);
	ciha_credentials_provider_release(p);
}

/* ---- IMDS ------------------------------------------------------------------------------------------- */

static ciha_credentials_provider *imds_provider(int allow_v1)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	o.imds_endpoint = stub_url;
	o.imds_allow_v1 = allow_v1;
	CHECK_INT(ciha_credentials_provider_new_imds(&p, &o), CIHA_OK);
	return p;
}

static void test_imds__v2_happy_path(void)
{
	ciha_credentials_provider *p;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	p = imds_provider(0);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "imds");
	CHECK_STR(ciha_credentials_access_key_id(c), "ASIAIMDSSTUB");
	CHECK_STR(ciha_credentials_secret_access_key(c), "imds-stub-secret");
	CHECK_STR(ciha_credentials_session_token(c), "imds-stub-session-token");
	CHECK(ciha_credentials_expiration(c) > (int64_t)time(NULL) + 7000);
	log = stub_log();
	CHECK_INT(json_array_size(log), 3);
	CHECK_STR(entry_str(log, 0, "method"), "PUT");
	CHECK_STR(entry_str(log, 0, "path"), "/latest/api/token");
	CHECK_STR(entry_header(log, 0, "x-aws-ec2-metadata-token-ttl-seconds"), "21600");
	CHECK_STR(entry_str(log, 1, "path"), "/latest/meta-data/iam/security-credentials/");
	CHECK_STR(entry_header(log, 1, "x-aws-ec2-metadata-token"), entry_str(log, 0, "issued_token"));
	CHECK_STR(entry_str(log, 2, "path"), "/latest/meta-data/iam/security-credentials/stub-role");
	CHECK_STR(entry_header(log, 2, "x-aws-ec2-metadata-token"), entry_str(log, 0, "issued_token"));
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_imds__401_fetches_a_new_token(void)
{
	ciha_credentials_provider *p;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	stub_script("{\"imds_creds\": {\"AccessKeyId\": \"ASIASHORT\", \"SecretAccessKey\": \"imds-stub-secret\", "
	            "\"Token\": \"imds-stub-session-token\", \"expires_in\": 300}}");
	p = imds_provider(0);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	ciha_credentials_release(c);
	stub_script("{\"imds_revoke_tokens\": true}");
	CHECK_INT(get_creds(&c, p), CIHA_OK); /* 5 minutes left: refetched; the cached token is refused */
	CHECK_STR(ciha_credentials_access_key_id(c), "ASIASHORT");
	log = stub_log();
	/* PUT, list, creds | list -> 401, PUT, list, creds */
	CHECK_INT(json_array_size(log), 7);
	CHECK_INT(json_integer_value(json_object_get(json_array_get(log, 3), "status")), 401);
	CHECK_STR(entry_str(log, 4, "method"), "PUT");
	CHECK_STR(entry_header(log, 5, "x-aws-ec2-metadata-token"), entry_str(log, 4, "issued_token"));
	CHECK_INT(json_integer_value(json_object_get(json_array_get(log, 6), "status")), 200);
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_imds__v1_fallback_only_when_allowed(void)
{
	ciha_credentials_provider *p;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	stub_script("{\"imds_token_status\": 403, \"imds_require_token\": false}");
	p = imds_provider(0);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "imds (no IMDSv2 token: HTTP 403");
	CHECK_CONTAINS(last_message(), "imds_allow_v1");
	ciha_credentials_provider_release(p);
	log = stub_log();
	CHECK_INT(json_array_size(log), 1);
	json_decref(log);
	stub_reset();
	stub_script("{\"imds_token_status\": 405, \"imds_require_token\": false}");
	p = imds_provider(1);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "imds");
	log = stub_log();
	CHECK_INT(json_array_size(log), 3);
	CHECK(entry_header(log, 1, "x-aws-ec2-metadata-token") == NULL);
	CHECK(entry_header(log, 2, "x-aws-ec2-metadata-token") == NULL);
	json_decref(log);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_imds__disabled_and_no_role(void)
{
	ciha_credentials_provider *p;
	ciha_credentials *c = NULL;
	json_t *log;
	clean_env();
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	p = imds_provider(0);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_STR(last_message(), "no credentials: imds (disabled by AWS_EC2_METADATA_DISABLED)");
	log = stub_log();
	CHECK_INT(json_array_size(log), 0);
	json_decref(log);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	stub_script("{\"imds_role\": null}");
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_STR(last_message(), "no credentials: imds (no IAM role attached to this instance)");
	ciha_credentials_provider_release(p);
}

static void test_imds__endpoint_from_env_and_unreachable(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env(); /* AWS_EC2_METADATA_SERVICE_ENDPOINT points at the stub */
	CHECK_INT(ciha_credentials_provider_new_imds(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/", 1);
	CHECK_INT(ciha_credentials_provider_new_imds(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	CHECK_CONTAINS(last_message(), "imds (no response from http://127.0.0.1:1: ");
	ciha_credentials_provider_release(p);
}

/* ---- the chain ------------------------------------------------------------------------------------ */

static const char *chain_winner(void)
{
	static char name[32];
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	name[0] = '\0';
	CHECK_INT(ciha_credentials_provider_new_default(&p, NULL), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_kind(p), "chain");
	if (get_creds(&c, p) == CIHA_OK)
		snprintf(name, sizeof(name), "%s", ciha_credentials_provider_name(c));
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
	return name;
}

static void test_chain__order(void)
{
	char token_file[512];
	clean_env();
	home_file(token_file, sizeof(token_file), "chain-token");
	write_text(token_file, "web-identity-token-chain", 0600);
	write_aws_files(NULL, "[default]\naws_access_key_id = AKIDP\naws_secret_access_key = profile-secret-key\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_file, 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::6:role/w", 1);
	set_full_uri();
	CHECK_STR(chain_winner(), "env");
	unsetenv("AWS_ACCESS_KEY_ID");
	CHECK_STR(chain_winner(), "profile");
	write_aws_files(NULL, NULL);
	CHECK_STR(chain_winner(), "web-identity");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	CHECK_STR(chain_winner(), "container");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	CHECK_STR(chain_winner(), "imds");
}

static void test_chain__explicit_profile_skips_env(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	clean_env();
	write_aws_files("[profile dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = config-secret-key\n", NULL);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	o.profile = "dev";
	CHECK_INT(ciha_credentials_provider_new_default(&p, &o), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_access_key_id(c), "AKIDDEV");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_chain__remembers_the_winner(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	write_aws_files(NULL, NULL);
	stub_script("{\"container_creds\": {\"AccessKeyId\": \"ASIA5MIN\", "
	            "\"SecretAccessKey\": \"container-stub-secret\", \"expires_in\": 300}}");
	set_full_uri();
	CHECK_INT(ciha_credentials_provider_new_default(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "container");
	ciha_credentials_release(c);
	/* env now has keys, but the winner is asked first on refresh */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
	CHECK_INT(get_creds(&c, p), CIHA_OK);
	CHECK_STR(ciha_credentials_provider_name(c), "container");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_chain__none_found_names_every_source(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	char expect[2048];
	clean_env();
	write_aws_files(NULL, NULL);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	CHECK_INT(ciha_credentials_provider_new_default(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EAUTH);
	snprintf(expect, sizeof(expect),
	         "no credentials: env (AWS_ACCESS_KEY_ID not set); profile 'default' (no such profile in "
	         "%s/.aws/config or %s/.aws/credentials); web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set); "
	         "container (AWS_CONTAINER_CREDENTIALS_* not set); imds (disabled by AWS_EC2_METADATA_DISABLED)",
	         home, home);
	CHECK_STR(last_message(), expect);
	CHECK(c == NULL);
	ciha_credentials_provider_release(p);
}

static void test_chain__broken_config_stops_the_chain(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c = NULL;
	clean_env();
	write_aws_files("[default]\nrole_arn = arn:aws:iam::1:role/r\n", NULL);
	set_full_uri();
	CHECK_INT(ciha_credentials_provider_new_default(&p, NULL), CIHA_OK);
	CHECK_INT(get_creds(&c, p), CIHA_EINVAL);
	CHECK_CONTAINS(last_message(), "profile 'default'");
	ciha_credentials_provider_release(p);
}

/* ---- secrets ---------------------------------------------------------------------------------------- */

static void test_secrets__never_logged_nor_in_errors(void)
{
	size_t i;
	CHECK(logged.len > 1000); /* TRACE lines of the HTTP exchanges were captured */
	CHECK_CONTAINS(ciha__buf_cstr(&logged), "TRACE http");
	CHECK(errors.len > 0);
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		CHECK_MSG(strstr(ciha__buf_cstr(&logged), secrets[i]) == NULL, "secret '%s' in the log", secrets[i]);
		CHECK_MSG(strstr(ciha__buf_cstr(&errors), secrets[i]) == NULL, "secret '%s' in an error", secrets[i]);
	}
}

static void test_secrets__no_leaks(void)
{
	ciha__buf_dispose(&logged);
	ciha__buf_dispose(&errors);
	ciha__error_thread_cleanup();
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

static void make_home(void)
{
	char aws[300];
	snprintf(home, sizeof(home), "/tmp/ciha-test-creds-XXXXXX");
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(aws, sizeof(aws), "%s/.aws", home);
	mkdir(aws, 0700);
}

static void remove_home(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", home);
}

int main(void)
{
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	make_home();
	if (stub_start() != 0) {
		fprintf(stderr, "test_creds: cannot start tests/tools/stubserver.py (CIHA_SRCDIR=%s)\n",
		        getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : "unset");
		return 1;
	}
	ciha_log_set_default(capture, NULL, CIHA_LOG_TRACE);
	RUN(test_creds__object_and_refcount);
	RUN(test_creds__options_init);
	RUN(test_creds__static_provider);
	RUN(test_creds__delegate_provider);
	RUN(test_env__keys_and_token);
	RUN(test_env__legacy_token_and_expiration);
	RUN(test_env__missing_secret_and_missing_keys);
	RUN(test_profile__static_keys_credentials_file_wins);
	RUN(test_profile__missing_profile_is_not_found);
	RUN(test_profile__broken_configurations);
	RUN(test_profile__unreadable_file);
	RUN(test_profile__assume_role_chained_twice);
	RUN(test_profile__credential_source_environment);
	RUN(test_profile__sts_error_is_reported);
	RUN(test_profile__world_readable_warning);
	RUN(test_web_identity__unsigned_and_token_reread);
	RUN(test_web_identity__from_profile);
	RUN(test_web_identity__not_configured);
	RUN(test_container__full_uri_with_token_file);
	RUN(test_container__bad_token_and_hosts);
	RUN(test_container__relative_uri_goes_to_ecs_host);
	RUN(test_cache__refresh_before_expiry);
	RUN(test_cache__stale_rule);
	RUN(test_cache__threads_share_one_fetch);
	RUN(test_imds__v2_happy_path);
	RUN(test_imds__401_fetches_a_new_token);
	RUN(test_imds__v1_fallback_only_when_allowed);
	RUN(test_imds__disabled_and_no_role);
	RUN(test_imds__endpoint_from_env_and_unreachable);
	RUN(test_chain__order);
	RUN(test_chain__explicit_profile_skips_env);
	RUN(test_chain__remembers_the_winner);
	RUN(test_chain__none_found_names_every_source);
	RUN(test_chain__broken_config_stops_the_chain);
	RUN(test_secrets__never_logged_nor_in_errors);
	ciha_log_set_default(NULL, NULL, CIHA_LOG_NONE);
	stub_stop();
	remove_home();
	RUN(test_secrets__no_leaks);
	ciha_global_cleanup();
	return CHECK_DONE("test_creds");
}
