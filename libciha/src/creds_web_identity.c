/* creds_web_identity.c: STS AssumeRoleWithWebIdentity from a token file (unsigned). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "query_int.h"

typedef struct {
	int from_env;            /* read AWS_ROLE_ARN etc. at each fetch */
	char *role_arn, *token_file, *session_name;
	ciha__creds_opts opts;
} web_identity_impl;

typedef struct {
	const char *role_arn, *token_file, *session_name;
} web_identity_params;

/* Which role and token file: fixed (profile), or the environment. */
static int current_params(web_identity_params *wp, const web_identity_impl *wi, ciha__buf *tried)
{
	if (!wi->from_env) {
		wp->role_arn = wi->role_arn;
		wp->token_file = wi->token_file;
		wp->session_name = wi->session_name;
		return CIHA_OK;
	}
	wp->token_file = ciha__env_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE");
	wp->role_arn = ciha__env_nonempty("AWS_ROLE_ARN");
	wp->session_name = ciha__env_nonempty("AWS_ROLE_SESSION_NAME");
	if (!wp->token_file) {
		ciha__tried_add(tried, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)");
		return CIHA_ENOTFOUND;
	}
	if (!wp->role_arn)
		return ciha__error_raise(CIHA_EINVAL, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
	return CIHA_OK;
}

static int web_identity_form(ciha__buf *form, const web_identity_params *wp, const char *token)
{
	char session[64];
	snprintf(session, sizeof(session), "ciha-web-identity-%lld", (long long)time(NULL));
	ciha__buf_puts(form, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
	ciha__percent_encode(form, wp->role_arn, strlen(wp->role_arn));
	ciha__buf_puts(form, "&RoleSessionName=");
	if (wp->session_name)
		ciha__percent_encode(form, wp->session_name, strlen(wp->session_name));
	else
		ciha__buf_puts(form, session);
	ciha__buf_puts(form, "&WebIdentityToken=");
	ciha__percent_encode(form, token, strlen(token));
	return form->failed ? ciha__error_raise(CIHA_ENOMEM, "out of memory") : CIHA_OK;
}

static int web_identity_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	web_identity_impl *wi = p->impl;
	web_identity_params wp;
	ciha_credentials_options view;
	ciha__buf form = CIHA__BUF_INIT;
	char *token = NULL;
	int rc = current_params(&wp, wi, tried);
	if (rc != CIHA_OK)
		return rc;
	if ((rc = ciha__read_small_file(&token, wp.token_file, "web identity token file")) != CIHA_OK)
		return rc;
	ciha__creds_opts_view(&view, &wi->opts);
	rc = web_identity_form(&form, &wp, token);
	if (rc == CIHA_OK)
		rc = ciha__sts_fetch_credentials(out, form.ptr, NULL, "AssumeRoleWithWebIdentityResult", "web-identity",
		                                 &view, &p->logger);
	if (rc == CIHA_OK)
		ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "web identity credentials for %s", wp.role_arn);
	ciha__free_secret(token);
	if (form.ptr)
		memset(form.ptr, 0, form.len);
	ciha__buf_dispose(&form);
	return rc;
}

static void web_identity_destroy(ciha_credentials_provider *p)
{
	web_identity_impl *wi = p->impl;
	ciha__free(wi->role_arn);
	ciha__free(wi->token_file);
	ciha__free(wi->session_name);
	ciha__creds_opts_dispose(&wi->opts);
	ciha__free(wi);
}

static const ciha__provider_vtable web_identity_vtable = { "web-identity", web_identity_get,
	                                                          web_identity_destroy };

static int new_web_identity(ciha_credentials_provider **out, int from_env, const char *role_arn,
                            const char *token_file, const char *session_name,
                            const ciha_credentials_options *opts)
{
	web_identity_impl *wi;
	int rc;
	*out = NULL;
	if (!(wi = ciha__calloc(1, sizeof(*wi))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	wi->from_env = from_env;
	wi->role_arn = ciha__strdup(role_arn);
	wi->token_file = ciha__strdup(token_file);
	wi->session_name = ciha__strdup(session_name);
	rc = ciha__creds_opts_copy(&wi->opts, opts);
	if (rc == CIHA_OK && ((role_arn && !wi->role_arn) || (token_file && !wi->token_file) ||
	                      (session_name && !wi->session_name)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = ciha__provider_new(out, &web_identity_vtable, wi, opts);
	if (rc != CIHA_OK) {
		ciha__creds_opts_dispose(&wi->opts);
		ciha__free(wi->role_arn);
		ciha__free(wi->token_file);
		ciha__free(wi->session_name);
		ciha__free(wi);
	}
	return rc;
}

int ciha__provider_new_web_identity_explicit(ciha_credentials_provider **out, const char *role_arn,
                                             const char *token_file, const char *session_name,
                                             const ciha_credentials_options *opts)
{
	if (!role_arn || !*role_arn || !token_file || !*token_file)
		return ciha__error_raise(CIHA_EINVAL, "web identity needs a role ARN and a token file");
	return new_web_identity(out, 0, role_arn, token_file, session_name, opts);
}

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_web_identity(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_web_identity: out is NULL");
	return new_web_identity(out, 1, NULL, NULL, NULL, opts);
}
