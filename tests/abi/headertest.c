/* headertest.c: <ciha.h> compiles as strict C99 (-std=c99 -pedantic -Werror), its
 * INIT macros fill every options struct, and the declared symbols link. */
#include <ciha.h>
#include <stdio.h>
#include <string.h>

typedef void (*any_function)(void);

/* A few functions of each header, taken by address so the linker must find them. */
static const struct {
	const char *name;
	any_function fn;
} linked[] = {
	{ "ciha_global_init", (any_function)ciha_global_init },
	{ "ciha_error_last", (any_function)ciha_error_last },
	{ "ciha_log_set_default", (any_function)ciha_log_set_default },
	{ "ciha_credentials_provider_new_static", (any_function)ciha_credentials_provider_new_static },
	{ "ciha_sigv4_sign", (any_function)ciha_sigv4_sign },
	{ "ciha_client_new", (any_function)ciha_client_new },
	{ "ciha_call", (any_function)ciha_call },
	{ "ciha_pager_next", (any_function)ciha_pager_next },
};

static int passes, failures;

static void expect(int ok, const char *what)
{
	if (ok) {
		passes++;
	} else {
		fprintf(stderr, "  FAIL %s\n", what);
		failures++;
	}
}

static void check_options_macros(void)
{
	ciha_client_options client = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_options creds = CIHA_CREDENTIALS_OPTIONS_INIT;
	ciha_sigv4_options sigv4 = CIHA_SIGV4_OPTIONS_INIT;
	expect(client.version == CIHA_CLIENT_OPTIONS_VERSION && client.region == NULL
	       && client.log_level == CIHA_LOG_NONE, "CIHA_CLIENT_OPTIONS_INIT");
	expect(creds.version == CIHA_CREDENTIALS_OPTIONS_VERSION && creds.profile == NULL,
	       "CIHA_CREDENTIALS_OPTIONS_INIT");
	expect(sigv4.version == CIHA_SIGV4_OPTIONS_VERSION && sigv4.normalize_path == 1, "CIHA_SIGV4_OPTIONS_INIT");
}

static void check_runtime_matches_header(void)
{
	expect(strcmp(ciha_version(), CIHA_VERSION_STRING) == 0, "ciha_version() == CIHA_VERSION_STRING");
	expect(ciha_version_check(CIHA_VERSION_MAJOR, CIHA_VERSION_MINOR, CIHA_VERSION_PATCH) == 1,
	       "ciha_version_check(own version)");
	expect(ciha_version_check(CIHA_VERSION_MAJOR + 1, 0, 0) == 0, "ciha_version_check(next major)");
	expect(strcmp(ciha_code_name(CIHA_EAUTH), "CIHA_EAUTH") == 0, "ciha_code_name(CIHA_EAUTH)");
}

static void check_linked(void)
{
	size_t i;
	for (i = 0; i < sizeof(linked) / sizeof(linked[0]); i++)
		expect(linked[i].fn != NULL, linked[i].name);
}

int main(void)
{
	check_options_macros();
	check_runtime_matches_header();
	check_linked();
	printf("headertest: %d passed, %d failed\n", passes, failures);
	return failures ? 1 : 0;
}
