// headertest_cxx.cc: <ciha.h> is clean C++ (-Wall -Wextra -Werror -pedantic): extern "C"
// linkage, INIT macros usable as C++ aggregate initialisers, symbols link.
#include <ciha.h>
#include <cstdio>
#include <cstring>

namespace {

int passes, failures;

void expect(bool ok, const char *what)
{
	if (ok) {
		passes++;
	} else {
		std::fprintf(stderr, "  FAIL %s\n", what);
		failures++;
	}
}

void check_options_macros()
{
	const ciha_client_options client = CIHA_CLIENT_OPTIONS_INIT;
	const ciha_credentials_options creds = CIHA_CREDENTIALS_OPTIONS_INIT;
	const ciha_sigv4_options sigv4 = CIHA_SIGV4_OPTIONS_INIT;
	expect(client.version == CIHA_CLIENT_OPTIONS_VERSION && client.endpoint_url == NULL
	       && client.credentials == NULL, "CIHA_CLIENT_OPTIONS_INIT");
	expect(creds.version == CIHA_CREDENTIALS_OPTIONS_VERSION && creds.log_level == CIHA_LOG_NONE,
	       "CIHA_CREDENTIALS_OPTIONS_INIT");
	expect(sigv4.version == CIHA_SIGV4_OPTIONS_VERSION && sigv4.sign_body == 0, "CIHA_SIGV4_OPTIONS_INIT");
}

void check_c_linkage()
{
	ciha_result (*new_client)(ciha_client **, const ciha_client_options *) = ciha_client_new;
	ciha_result (*call)(json_t **, ciha_client *, const char *, const char *, const json_t *) = ciha_call;
	void (*release)(ciha_credentials_provider *) = ciha_credentials_provider_release;
	expect(new_client != NULL && call != NULL && release != NULL, "C functions callable from C++");
	expect(std::strcmp(ciha_version(), CIHA_VERSION_STRING) == 0, "ciha_version() == CIHA_VERSION_STRING");
	expect(std::strcmp(ciha_code_name(CIHA_ENOTFOUND), "CIHA_ENOTFOUND") == 0, "ciha_code_name");
	expect(ciha_error_code(ciha_error_last()) == CIHA_OK, "ciha_error_last() starts at CIHA_OK");
}

} // namespace

int main()
{
	check_options_macros();
	check_c_linkage();
	std::printf("headertest_cxx: %d passed, %d failed\n", passes, failures);
	return failures ? 1 : 0;
}
