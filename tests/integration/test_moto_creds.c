/* test_moto_creds.c: credential providers against moto (CIHA_TEST_ENDPOINT):
 * IMDS on moto's port, and AssumeRole through a profile whose STS endpoint
 * is moto, then GetCallerIdentity with the assumed keys. Public API only. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ciha.h>
#include "../check.h"

static const char *endpoint;
static char home[256];

static void clean_env(void)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_DEFAULT_REGION",
	};
	size_t i;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unsetenv(names[i]);
	setenv("HOME", home, 1);
	setenv("AWS_REGION", "us-east-1", 1);
}

static void write_text(const char *name, const char *text)
{
	char path[512];
	FILE *f;
	snprintf(path, sizeof(path), "%s/.aws/%s", home, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static void report(int rc, const char *what)
{
	if (rc != CIHA_OK)
		fprintf(stderr, "  %s: %s: %s\n", what, ciha_code_name(rc), ciha_error_message(ciha_error_last()));
}

/* Get keys from p, saying why when there are none. */
static ciha_credentials *fetch(ciha_credentials_provider *p, const char *what)
{
	ciha_credentials *c = NULL;
	int rc = ciha_credentials_provider_get(&c, p);
	report(rc, what);
	CHECK_INT(rc, CIHA_OK);
	return c;
}

static void test_moto__imds_credentials(void)
{
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c;
	clean_env();
	o.imds_endpoint = endpoint;
	CHECK_INT(ciha_credentials_provider_new_imds(&p, &o), CIHA_OK);
	c = fetch(p, "imds");
	CHECK_STR(ciha_credentials_access_key_id(c), "test-key");
	CHECK_STR(ciha_credentials_secret_access_key(c), "test-secret-key");
	CHECK_STR(ciha_credentials_session_token(c), "test-session-token");
	CHECK_STR(ciha_credentials_provider_name(c), "imds");
	CHECK(ciha_credentials_expiration(c) > 0);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void test_moto__chain_falls_through_to_imds(void)
{
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c;
	clean_env();
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint, 1);
	CHECK_INT(ciha_credentials_provider_new_default(&p, NULL), CIHA_OK);
	c = fetch(p, "chain");
	CHECK_STR(ciha_credentials_provider_name(c), "imds");
	CHECK_STR(ciha_credentials_access_key_id(c), "test-key");
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void assume_role_keys(const char *profile)
{
	ciha_credentials_options o = CIHA_CREDENTIALS_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_credentials *c;
	o.profile = profile;
	CHECK_INT(ciha_credentials_provider_new_profile(&p, &o), CIHA_OK);
	c = fetch(p, "assume role");
	CHECK_STR(ciha_credentials_provider_name(c), "assume-role");
	CHECK_MSG(c && strncmp(ciha_credentials_access_key_id(c), "ASIA", 4) == 0, "key id %s",
	          c ? ciha_credentials_access_key_id(c) : "(none)");
	CHECK(ciha_credentials_session_token(c) != NULL);
	CHECK(ciha_credentials_expiration(c) > 0);
	ciha_credentials_release(c);
	ciha_credentials_provider_release(p);
}

static void whoami_as(const char *profile, const char *account)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *client = NULL;
	ciha_identity *id = NULL;
	int rc;
	o.profile = profile;
	o.region = "us-east-1";
	o.endpoint_url = endpoint;
	rc = ciha_client_new(&client, &o);
	report(rc, "client");
	CHECK_INT(rc, CIHA_OK);
	if (rc != CIHA_OK)
		return;
	rc = ciha_client_whoami(&id, client);
	report(rc, "whoami");
	CHECK_INT(rc, CIHA_OK);
	if (rc == CIHA_OK) {
		CHECK_STR(ciha_identity_account(id), account);
		CHECK_STR(ciha_identity_provider(id), "assume-role");
		CHECK_MSG(strstr(ciha_identity_arn(id), "assumed-role/x") != NULL, "arn %s", ciha_identity_arn(id));
	}
	ciha_identity_free(id);
	ciha_client_free(client);
}

static void test_moto__assume_role_via_env_endpoint(void)
{
	clean_env();
	setenv("AWS_ENDPOINT_URL_STS", endpoint, 1);
	write_text("config", "[profile assumer]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = base\n"
	                     "role_session_name = ciha-it\n");
	write_text("credentials", "[base]\naws_access_key_id = AKIDMOTOBASE\n"
	                          "aws_secret_access_key = moto-base-secret-key\n");
	assume_role_keys("assumer");
	whoami_as("assumer", "111111111111");
}

static void test_moto__assume_role_via_config_services(void)
{
	char config[1024];
	clean_env();
	snprintf(config, sizeof(config),
	         "[profile svc]\nrole_arn = arn:aws:iam::111111111111:role/x\nsource_profile = base\nservices = local\n"
	         "[services local]\nsts =\n  endpoint_url = %s\n", endpoint);
	write_text("config", config);
	write_text("credentials", "[base]\naws_access_key_id = AKIDMOTOBASE\n"
	                          "aws_secret_access_key = moto-base-secret-key\n");
	assume_role_keys("svc");
	whoami_as("svc", "111111111111");
}

int main(void)
{
	char aws[300], cmd[400];
	endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("test_moto_creds: CIHA_TEST_ENDPOINT is not set; start moto (tests/tools/moto.sh) "
		           "or run the README's test command, which sets it");
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	snprintf(home, sizeof(home), "/tmp/ciha-moto-creds-XXXXXX");
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(aws, sizeof(aws), "%s/.aws", home);
	mkdir(aws, 0700);
	RUN(test_moto__imds_credentials);
	RUN(test_moto__chain_falls_through_to_imds);
	RUN(test_moto__assume_role_via_env_endpoint);
	RUN(test_moto__assume_role_via_config_services);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", home);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_creds");
}
