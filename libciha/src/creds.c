/* creds.c: credentials objects, the provider base, caching and refresh. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "time_int.h"

/* Refresh temporary keys this long before they expire (aws-wire.md 6.5). */
#define REFRESH_WINDOW_MS (15LL * 60 * 1000)
/* A failed refresh may keep serving keys that still have this long to live. */
#define STILL_USABLE_MS (60LL * 1000)

/* ---- credentials ------------------------------------------------------------ */

int ciha__credentials_make(ciha_credentials **out, const char *akid, const char *secret,
                           const char *token, int64_t expiration, const char *provider,
                           const char *account_id)
{
	ciha_credentials *c;
	*out = NULL;
	if (!akid || !*akid || !secret || !*secret)
		return ciha__error_raise(CIHA_EINVAL, "credentials need an access key id and a secret key");
	if (!(c = ciha__calloc(1, sizeof(*c))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	c->refs = 1;
	c->access_key_id = ciha__strdup(akid);
	c->secret_access_key = ciha__strdup(secret);
	c->session_token = token && *token ? ciha__strdup(token) : NULL;
	c->expiration = expiration;
	c->provider = ciha__strdup(provider ? provider : "static");
	c->account_id = account_id && *account_id ? ciha__strdup(account_id) : NULL;
	if (!c->access_key_id || !c->secret_access_key || !c->provider || (token && *token && !c->session_token) ||
	    (account_id && *account_id && !c->account_id)) {
		ciha_credentials_release(c);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	*out = c;
	return CIHA_OK;
}

int ciha__credentials_stale(const ciha_credentials *c, long long now_ms)
{
	if (!c)
		return 1;
	if (c->expiration == 0)
		return 0;
	return (long long)c->expiration * 1000 - now_ms < REFRESH_WINDOW_MS;
}

CIHA_EXTERN(ciha_result) ciha_credentials_new(ciha_credentials **out, const char *access_key_id,
                                              const char *secret_access_key, const char *session_token,
                                              int64_t expiration)
{
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_new: out is NULL");
	return ciha__credentials_make(out, access_key_id, secret_access_key, session_token, expiration,
	                              "static", NULL);
}

CIHA_EXTERN(ciha_credentials *) ciha_credentials_acquire(ciha_credentials *creds)
{
	if (creds)
		__atomic_add_fetch(&creds->refs, 1, __ATOMIC_RELAXED);
	return creds;
}

CIHA_EXTERN(void) ciha_credentials_release(ciha_credentials *creds)
{
	if (!creds || __atomic_sub_fetch(&creds->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ciha__free(creds->access_key_id);
	ciha__free_secret(creds->secret_access_key);
	ciha__free_secret(creds->session_token);
	ciha__free(creds->provider);
	ciha__free(creds->account_id);
	ciha__free(creds);
}

CIHA_EXTERN(const char *) ciha_credentials_access_key_id(const ciha_credentials *creds)
{
	return creds ? creds->access_key_id : NULL;
}

CIHA_EXTERN(const char *) ciha_credentials_secret_access_key(const ciha_credentials *creds)
{
	return creds ? creds->secret_access_key : NULL;
}

CIHA_EXTERN(const char *) ciha_credentials_session_token(const ciha_credentials *creds)
{
	return creds ? creds->session_token : NULL;
}

CIHA_EXTERN(int64_t) ciha_credentials_expiration(const ciha_credentials *creds)
{
	return creds ? creds->expiration : 0;
}

CIHA_EXTERN(const char *) ciha_credentials_provider_name(const ciha_credentials *creds)
{
	return creds ? creds->provider : NULL;
}

/* ---- options ------------------------------------------------------------------ */

CIHA_EXTERN(ciha_result) ciha_credentials_options_init(ciha_credentials_options *opts, unsigned int version)
{
	static const ciha_credentials_options defaults = CIHA_CREDENTIALS_OPTIONS_INIT;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_options_init: opts is NULL");
	if (version != CIHA_CREDENTIALS_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "credentials options version %u is not supported", version);
	*opts = defaults;
	return CIHA_OK;
}

static int check_options(const ciha_credentials_options *opts)
{
	if (opts && opts->version != CIHA_CREDENTIALS_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "credentials options version %u is not supported",
		                         opts->version);
	return CIHA_OK;
}

static int dup_field(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return CIHA_OK;
	*dst = ciha__strdup(src);
	return *dst ? CIHA_OK : CIHA_ENOMEM;
}

int ciha__creds_opts_copy(ciha__creds_opts *dst, const ciha_credentials_options *src)
{
	int rc = CIHA_OK;
	memset(dst, 0, sizeof(*dst));
	if (!src)
		return CIHA_OK;
	if ((rc = check_options(src)) != CIHA_OK)
		return rc;
	rc |= dup_field(&dst->profile, src->profile);
	rc |= dup_field(&dst->config_file, src->config_file);
	rc |= dup_field(&dst->credentials_file, src->credentials_file);
	rc |= dup_field(&dst->region, src->region);
	rc |= dup_field(&dst->imds_endpoint, src->imds_endpoint);
	rc |= dup_field(&dst->ca_bundle, src->ca_bundle);
	dst->imds_allow_v1 = src->imds_allow_v1;
	dst->timeout_ms = src->timeout_ms;
	dst->log_cb = src->log_cb;
	dst->log_payload = src->log_payload;
	dst->log_level = src->log_level;
	if (rc != CIHA_OK) {
		ciha__creds_opts_dispose(dst);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

void ciha__creds_opts_dispose(ciha__creds_opts *o)
{
	ciha__free(o->profile);
	ciha__free(o->config_file);
	ciha__free(o->credentials_file);
	ciha__free(o->region);
	ciha__free(o->imds_endpoint);
	ciha__free(o->ca_bundle);
	memset(o, 0, sizeof(*o));
}

void ciha__creds_opts_view(ciha_credentials_options *view, const ciha__creds_opts *o)
{
	ciha_credentials_options_init(view, CIHA_CREDENTIALS_OPTIONS_VERSION);
	view->profile = o->profile;
	view->config_file = o->config_file;
	view->credentials_file = o->credentials_file;
	view->region = o->region;
	view->imds_endpoint = o->imds_endpoint;
	view->ca_bundle = o->ca_bundle;
	view->imds_allow_v1 = o->imds_allow_v1;
	view->timeout_ms = o->timeout_ms;
	view->log_cb = o->log_cb;
	view->log_payload = o->log_payload;
	view->log_level = o->log_level;
}

/* ---- providers ---------------------------------------------------------------- */

int ciha__provider_new(ciha_credentials_provider **out, const ciha__provider_vtable *vt, void *impl,
                       const ciha_credentials_options *opts)
{
	ciha_credentials_provider *p;
	int rc;
	*out = NULL;
	if ((rc = check_options(opts)) != CIHA_OK)
		return rc;
	if (!(p = ciha__calloc(1, sizeof(*p))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		ciha__free(p);
		return ciha__error_raise(CIHA_ERROR, "cannot create a mutex");
	}
	p->vt = vt;
	p->refs = 1;
	p->impl = impl;
	if (opts)
		ciha__logger_init(&p->logger, opts->log_cb, opts->log_payload, opts->log_level);
	else
		ciha__logger_init(&p->logger, NULL, NULL, CIHA_LOG_NONE);
	*out = p;
	return CIHA_OK;
}

void ciha__tried_add(ciha__buf *tried, const char *fmt, ...)
{
	va_list ap;
	if (!tried)
		return;
	if (tried->len)
		ciha__buf_puts(tried, "; ");
	va_start(ap, fmt);
	ciha__buf_vprintf(tried, fmt, ap);
	va_end(ap);
}

/* The cache is stale: fetch, and keep serving the old keys if the refresh
 * fails while they still work. Called with p->lock held. */
static int refresh_locked(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	ciha_credentials *fresh = NULL;
	long long now = ciha__now_ms();
	int rc = p->vt->get(&fresh, p, tried);
	if (rc == CIHA_OK) {
		ciha_credentials_release(p->cached);
		p->cached = fresh;
		*out = ciha_credentials_acquire(fresh);
		return CIHA_OK;
	}
	if (p->cached && (long long)p->cached->expiration * 1000 - now > STILL_USABLE_MS) {
		ciha__log(&p->logger, CIHA_LOG_WARN, "creds",
		          "refreshing %s credentials failed; using the current ones until they expire",
		          p->vt->kind);
		*out = ciha_credentials_acquire(p->cached);
		return CIHA_OK;
	}
	return rc;
}

int ciha__provider_get_tried(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	int rc;
	*out = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->cached && !ciha__credentials_stale(p->cached, ciha__now_ms())) {
		*out = ciha_credentials_acquire(p->cached);
		rc = CIHA_OK;
	} else {
		rc = refresh_locked(out, p, tried);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_credentials_provider_get(ciha_credentials **out, ciha_credentials_provider *provider)
{
	ciha__buf tried = CIHA__BUF_INIT;
	int rc;
	if (!out || !provider)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_get: NULL argument");
	rc = ciha__provider_get_tried(out, provider, &tried);
	if (rc == CIHA_ENOTFOUND)
		rc = ciha__error_raise(CIHA_EAUTH, "no credentials: %s",
		                       tried.len ? ciha__buf_cstr(&tried) : provider->vt->kind);
	ciha__buf_dispose(&tried);
	return rc;
}

CIHA_EXTERN(const char *) ciha_credentials_provider_kind(const ciha_credentials_provider *provider)
{
	return provider ? provider->vt->kind : NULL;
}

CIHA_EXTERN(ciha_credentials_provider *) ciha_credentials_provider_acquire(ciha_credentials_provider *provider)
{
	if (provider)
		__atomic_add_fetch(&provider->refs, 1, __ATOMIC_RELAXED);
	return provider;
}

CIHA_EXTERN(void) ciha_credentials_provider_release(ciha_credentials_provider *provider)
{
	if (!provider || __atomic_sub_fetch(&provider->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (provider->vt->destroy)
		provider->vt->destroy(provider);
	ciha_credentials_release(provider->cached);
	pthread_mutex_destroy(&provider->lock);
	ciha__free(provider);
}

/* ---- small helpers shared by the kinds ---------------------------------------- */

const char *ciha__env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int ciha__env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (strcmp(v, "true") == 0 || strcmp(v, "TRUE") == 0 || strcmp(v, "True") == 0 ||
	             strcmp(v, "1") == 0);
}

int ciha__read_small_file(char **out, const char *path, const char *what)
{
	ciha__buf b = CIHA__BUF_INIT;
	char chunk[1024];
	size_t n;
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f)
		return ciha__error_raise(CIHA_EINVAL, "cannot read %s %s: %s", what, path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (1u << 20))
		ciha__buf_put(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		ciha__buf_dispose(&b);
		return ciha__error_raise(CIHA_EINVAL, "cannot read %s %s", what, path);
	}
	fclose(f);
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' || b.ptr[b.len - 1] == ' '))
		b.ptr[--b.len] = '\0';
	if (b.failed || !(*out = ciha__buf_detach(&b))) {
		ciha__buf_dispose(&b);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

int ciha__creds_http_fetch(ciha__http_response *resp, const char *method, const char *url,
                           const char *const *headers, long timeout_ms, const ciha__logger *lg)
{
	ciha__http *http = NULL;
	ciha__http_request req;
	int rc;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.body = "";
	req.connect_timeout_ms = timeout_ms;
	req.timeout_ms = timeout_ms;
	req.no_proxy = 1;
	if ((rc = ciha__http_new(&http, lg)) != CIHA_OK)
		return rc;
	rc = ciha__http_perform(http, &req, resp);
	ciha__http_free(http);
	return rc;
}

const char *ciha__creds_http_failure(const ciha__http_response *resp)
{
	if (resp->transport_error[0])
		return resp->transport_error;
	switch (resp->outcome) {
	case CIHA__HTTP_TIMEOUT: return "timed out";
	case CIHA__HTTP_CONNECT_ERROR: return "could not connect";
	case CIHA__HTTP_TLS_ERROR: return "TLS failure";
	default: return "transfer failed";
	}
}
