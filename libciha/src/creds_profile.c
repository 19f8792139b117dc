/* creds_profile.c: credentials from a profile of the shared files (aws-wire.md 6.2, 6.3). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "config_int.h"
#include "creds_int.h"
#include "error_int.h"

#define MAX_SOURCE_DEPTH 16

typedef struct {
	ciha__creds_opts opts;
	ciha_credentials_provider *inner;  /* built on the first fetch from the files */
	int warned;                        /* the file-permission warning was given */
} profile_impl;

/* Resolving one profile into a provider, following source_profile. */
typedef struct {
	const ciha__aws_config *cfg;
	const ciha_credentials_options *opts;
	const char *chain[MAX_SOURCE_DEPTH];
	size_t depth;
} resolver;

static int resolve_profile(ciha_credentials_provider **out, resolver *r, const char *name, ciha__buf *tried);

/* A key of the profile; the credentials file beats the config file. */
static const char *profile_value(const resolver *r, const char *name, const char *key)
{
	const char *v = ciha__aws_config_cred_get(r->cfg, name, key);
	return v ? v : ciha__aws_config_profile_get(r->cfg, name, key);
}

static int broken(const resolver *r, const char *name, const char *what)
{
	return ciha__error_raise(CIHA_EINVAL, "profile '%s' (%s / %s): %s", name, r->cfg->config_path,
	                         r->cfg->credentials_path, what);
}

/* Static keys, all taken from the same file. 1 if found, 0 if none, <0 on error. */
static int static_keys(ciha_credentials_provider **out, const resolver *r, const char *name)
{
	const char *akid = ciha__aws_config_cred_get(r->cfg, name, "aws_access_key_id");
	const char *secret, *token;
	int rc;
	if (akid) {
		secret = ciha__aws_config_cred_get(r->cfg, name, "aws_secret_access_key");
		token = ciha__aws_config_cred_get(r->cfg, name, "aws_session_token");
	} else {
		akid = ciha__aws_config_profile_get(r->cfg, name, "aws_access_key_id");
		secret = ciha__aws_config_profile_get(r->cfg, name, "aws_secret_access_key");
		token = ciha__aws_config_profile_get(r->cfg, name, "aws_session_token");
	}
	if (!akid || !*akid)
		return 0;
	if (!secret || !*secret)
		return broken(r, name, "aws_access_key_id without aws_secret_access_key");
	rc = ciha__provider_new_fixed(out, akid, secret, token, "profile", r->opts);
	return rc == CIHA_OK ? 1 : rc;
}

static int named_source(ciha_credentials_provider **out, const resolver *r, const char *name, const char *source)
{
	if (strcmp(source, "Environment") == 0)
		return ciha_credentials_provider_new_env(out, r->opts);
	if (strcmp(source, "Ec2InstanceMetadata") == 0)
		return ciha_credentials_provider_new_imds(out, r->opts);
	if (strcmp(source, "EcsContainer") == 0)
		return ciha_credentials_provider_new_container(out, r->opts);
	return ciha__error_raise(CIHA_EINVAL,
	                         "profile '%s' in %s: unknown credential_source '%s' (expected Environment, "
	                         "Ec2InstanceMetadata or EcsContainer)", name, r->cfg->config_path, source);
}

static int in_chain(const resolver *r, const char *name)
{
	size_t i;
	for (i = 0; i < r->depth; i++)
		if (strcmp(r->chain[i], name) == 0)
			return 1;
	return 0;
}

static int loop_error(const resolver *r, const char *name)
{
	ciha__buf path = CIHA__BUF_INIT;
	size_t i;
	int rc;
	for (i = 0; i < r->depth; i++)
		ciha__buf_printf(&path, "%s -> ", r->chain[i]);
	ciha__buf_puts(&path, name);
	rc = ciha__error_raise(CIHA_EINVAL, "source_profile loop in %s: %s", r->cfg->config_path,
	                       ciha__buf_cstr(&path));
	ciha__buf_dispose(&path);
	return rc;
}

/* The provider whose keys sign the AssumeRole call of profile `name`. */
static int role_source(ciha_credentials_provider **out, resolver *r, const char *name)
{
	const char *src_profile = profile_value(r, name, "source_profile");
	const char *cred_source = profile_value(r, name, "credential_source");
	int rc;
	if (src_profile && cred_source)
		return broken(r, name, "both source_profile and credential_source are set");
	if (cred_source)
		return named_source(out, r, name, cred_source);
	if (strcmp(src_profile, name) == 0) {
		rc = static_keys(out, r, name);
		return rc == 0 ? loop_error(r, name) : (rc > 0 ? CIHA_OK : rc);
	}
	if (in_chain(r, src_profile))
		return loop_error(r, src_profile);
	if (!ciha__aws_config_has_profile(r->cfg, src_profile))
		return ciha__error_raise(CIHA_EINVAL, "profile '%s': its source_profile '%s' is not in %s or %s", name,
		                         src_profile, r->cfg->config_path, r->cfg->credentials_path);
	return resolve_profile(out, r, src_profile, NULL);
}

static int parse_duration(long *out, const resolver *r, const char *name)
{
	const char *s = profile_value(r, name, "duration_seconds");
	char *end;
	*out = 0;
	if (!s)
		return CIHA_OK;
	*out = strtol(s, &end, 10);
	if (end == s || *end || *out <= 0)
		return broken(r, name, "duration_seconds is not a positive number");
	return CIHA_OK;
}

static int assume_role(ciha_credentials_provider **out, resolver *r, const char *name, const char *role_arn)
{
	ciha_credentials_provider *source = NULL;
	long duration;
	int rc;
	if (profile_value(r, name, "mfa_serial"))
		return ciha__error_raise(CIHA_EUNSUPPORTED,
		                         "profile '%s' needs an MFA code (mfa_serial), which libciha cannot ask for", name);
	if ((rc = parse_duration(&duration, r, name)) != CIHA_OK)
		return rc;
	if ((rc = role_source(&source, r, name)) != CIHA_OK)
		return rc;
	rc = ciha__provider_new_assume_role(out, source, role_arn, profile_value(r, name, "role_session_name"),
	                                    profile_value(r, name, "external_id"), duration, r->opts);
	ciha_credentials_provider_release(source);
	return rc;
}

static int role_profile(ciha_credentials_provider **out, resolver *r, const char *name, const char *role_arn)
{
	const char *token_file = profile_value(r, name, "web_identity_token_file");
	if (profile_value(r, name, "source_profile") || profile_value(r, name, "credential_source"))
		return assume_role(out, r, name, role_arn);
	if (token_file)
		return ciha__provider_new_web_identity_explicit(out, role_arn, token_file,
		                                                profile_value(r, name, "role_session_name"), r->opts);
	return broken(r, name, "role_arn without source_profile, credential_source or web_identity_token_file");
}

/* `tried` is NULL for a source profile: a missing or empty one is then an error. */
static int resolve_profile(ciha_credentials_provider **out, resolver *r, const char *name, ciha__buf *tried)
{
	const char *role_arn = profile_value(r, name, "role_arn");
	int rc;
	if (r->depth == MAX_SOURCE_DEPTH)
		return loop_error(r, name);
	if (!ciha__aws_config_has_profile(r->cfg, name)) {
		ciha__tried_add(tried, "profile '%s' (no such profile in %s or %s)", name, r->cfg->config_path,
		                r->cfg->credentials_path);
		return CIHA_ENOTFOUND;
	}
	r->chain[r->depth++] = name;
	if (role_arn)
		rc = role_profile(out, r, name, role_arn);
	else if ((rc = static_keys(out, r, name)) > 0)
		rc = CIHA_OK;
	else if (rc == 0 && tried) {
		ciha__tried_add(tried, "profile '%s' (no credentials in it)", name);
		rc = CIHA_ENOTFOUND;
	} else if (rc == 0) {
		rc = broken(r, name, "used as a source_profile but holds no credentials");
	}
	r->depth--;
	return rc;
}

static void warn_permissions(ciha_credentials_provider *p, profile_impl *impl, const ciha__aws_config *cfg)
{
	if (impl->warned || !cfg->credentials_world_readable)
		return;
	impl->warned = 1;
	ciha__log(&p->logger, CIHA_LOG_WARN, "creds",
	          "credentials file %s is readable by other users; restrict it with chmod 600", cfg->credentials_path);
}

static int build_inner(profile_impl *impl, ciha_credentials_provider *p, ciha__buf *tried)
{
	ciha_credentials_options view;
	ciha__aws_config cfg;
	resolver r;
	int rc;
	ciha__creds_opts_view(&view, &impl->opts);
	rc = ciha__aws_config_load(&cfg, view.profile, view.config_file, view.credentials_file);
	if (rc != CIHA_OK)
		return rc;
	warn_permissions(p, impl, &cfg);
	memset(&r, 0, sizeof(r));
	r.cfg = &cfg;
	r.opts = &view;
	rc = resolve_profile(&impl->inner, &r, cfg.profile, tried);
	if (rc == CIHA_OK)
		ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "profile '%s' gives %s credentials", cfg.profile,
		          ciha_credentials_provider_kind(impl->inner));
	ciha__aws_config_dispose(&cfg);
	return rc;
}

static int profile_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	profile_impl *impl = p->impl;
	int rc;
	if (!impl->inner && (rc = build_inner(impl, p, tried)) != CIHA_OK)
		return rc;
	return ciha__provider_get_tried(out, impl->inner, tried);
}

static void profile_destroy(ciha_credentials_provider *p)
{
	profile_impl *impl = p->impl;
	ciha_credentials_provider_release(impl->inner);
	ciha__creds_opts_dispose(&impl->opts);
	ciha__free(impl);
}

static const ciha__provider_vtable profile_vtable = { "profile", profile_get, profile_destroy };

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_profile(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	profile_impl *impl;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_profile: out is NULL");
	*out = NULL;
	if (!(impl = ciha__calloc(1, sizeof(*impl))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha__creds_opts_copy(&impl->opts, opts);
	if (rc == CIHA_OK)
		rc = ciha__provider_new(out, &profile_vtable, impl, opts);
	if (rc != CIHA_OK) {
		ciha__creds_opts_dispose(&impl->opts);
		ciha__free(impl);
	}
	return rc;
}
