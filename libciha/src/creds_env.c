/* creds_env.c: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include "creds_int.h"
#include "error_int.h"
#include "time_int.h"

static int env_expiration(int64_t *out)
{
	const char *s = ciha__env_nonempty("AWS_CREDENTIAL_EXPIRATION");
	double t;
	*out = 0;
	if (!s)
		return CIHA_OK;
	if (ciha__time_parse(s, &t) != 0)
		return ciha__error_raise(CIHA_EINVAL, "AWS_CREDENTIAL_EXPIRATION is not a timestamp: '%s'", s);
	*out = (int64_t)t;
	return CIHA_OK;
}

static int env_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	const char *akid = ciha__env_nonempty("AWS_ACCESS_KEY_ID");
	const char *secret = ciha__env_nonempty("AWS_SECRET_ACCESS_KEY");
	const char *token = ciha__env_nonempty("AWS_SESSION_TOKEN");
	int64_t expiration;
	int rc;
	(void)p;
	if (!akid) {
		ciha__tried_add(tried, "env (AWS_ACCESS_KEY_ID not set)");
		return CIHA_ENOTFOUND;
	}
	if (!secret)
		return ciha__error_raise(CIHA_EINVAL, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	if (!token)
		token = ciha__env_nonempty("AWS_SECURITY_TOKEN");
	if ((rc = env_expiration(&expiration)) != CIHA_OK)
		return rc;
	return ciha__credentials_make(out, akid, secret, token, expiration, "env",
	                              ciha__env_nonempty("AWS_ACCOUNT_ID"));
}

static const ciha__provider_vtable env_vtable = { "env", env_get, NULL };

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_env(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_env: out is NULL");
	return ciha__provider_new(out, &env_vtable, NULL, opts);
}
