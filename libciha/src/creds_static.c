/* creds_static.c: fixed keys, and keys handed over by a callback (delegate). */
#include <string.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"

/* ---- fixed keys ---------------------------------------------------------------- */

static int fixed_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	(void)tried;
	*out = ciha_credentials_acquire(p->impl);
	return CIHA_OK;
}

static void fixed_destroy(ciha_credentials_provider *p)
{
	ciha_credentials_release(p->impl);
}

static const ciha__provider_vtable static_vtable = { "static", fixed_get, fixed_destroy };
static const ciha__provider_vtable profile_keys_vtable = { "profile", fixed_get, fixed_destroy };

int ciha__provider_new_fixed(ciha_credentials_provider **out, const char *akid, const char *secret,
                             const char *token, const char *provider_name,
                             const ciha_credentials_options *opts)
{
	ciha_credentials *creds;
	const ciha__provider_vtable *vt = strcmp(provider_name, "profile") == 0 ? &profile_keys_vtable
	                                                                       : &static_vtable;
	int rc = ciha__credentials_make(&creds, akid, secret, token, 0, provider_name, NULL);
	if (rc != CIHA_OK)
		return rc;
	rc = ciha__provider_new(out, vt, creds, opts);
	if (rc != CIHA_OK)
		ciha_credentials_release(creds);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_static(ciha_credentials_provider **out,
	const char *access_key_id, const char *secret_access_key, const char *session_token)
{
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_static: out is NULL");
	return ciha__provider_new_fixed(out, access_key_id, secret_access_key, session_token, "static", NULL);
}

/* ---- delegate ------------------------------------------------------------------ */

typedef struct {
	ciha_credentials_cb cb;
	void *payload;
} delegate_impl;

/* Copy what the callback returned, relabelled "delegate". */
static int relabel(ciha_credentials **out, const ciha_credentials *given)
{
	return ciha__credentials_make(out, given->access_key_id, given->secret_access_key, given->session_token,
	                              given->expiration, "delegate", given->account_id);
}

static int delegate_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	delegate_impl *d = p->impl;
	ciha_credentials *given = NULL;
	int rc = d->cb(&given, d->payload);
	if (rc == CIHA_ENOTFOUND) {
		ciha__tried_add(tried, "delegate (the callback has no credentials)");
		return rc;
	}
	if (rc != CIHA_OK)
		return ciha__error_raise(rc < 0 ? rc : CIHA_EUSER, "the credentials callback failed (%d)", rc);
	if (!given)
		return ciha__error_raise(CIHA_EUSER, "the credentials callback returned no credentials");
	rc = relabel(out, given);
	ciha_credentials_release(given);
	return rc;
}

static void delegate_destroy(ciha_credentials_provider *p)
{
	ciha__free(p->impl);
}

static const ciha__provider_vtable delegate_vtable = { "delegate", delegate_get, delegate_destroy };

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_delegate(ciha_credentials_provider **out,
	ciha_credentials_cb cb, void *payload)
{
	delegate_impl *d;
	int rc;
	if (!out || !cb)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_delegate: NULL argument");
	if (!(d = ciha__calloc(1, sizeof(*d))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	d->cb = cb;
	d->payload = payload;
	rc = ciha__provider_new(out, &delegate_vtable, d, NULL);
	if (rc != CIHA_OK)
		ciha__free(d);
	return rc;
}
