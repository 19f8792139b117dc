/* creds_sts.c: STS AssumeRole / AssumeRoleWithWebIdentity, and the assume-role provider. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ciha/sigv4.h"
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "query_int.h"
#include "service_int.h"
#include "time_int.h"
#include "xml_int.h"

#define STS_TIMEOUT_MS 10000
#define STS_ATTEMPTS 3
#define FORM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* ---- one STS exchange ------------------------------------------------------------ */

typedef struct {
	char *url;          /* endpoint + "/" */
	char *host;         /* host[:port] */
	char *target;       /* path, at least "/" */
	char *region;       /* signing region */
	const char *signing_name;
	const char *ca_bundle;
	long timeout_ms;
	const ciha__logger *lg;
} sts_target;

static void sts_target_dispose(sts_target *t)
{
	ciha__free(t->url);
	ciha__free(t->host);
	ciha__free(t->target);
	ciha__free(t->region);
}

static int split_url(sts_target *t, const char *endpoint)
{
	const char *h = strstr(endpoint, "://");
	const char *path;
	h = h ? h + 3 : endpoint;
	path = h + strcspn(h, "/?#");
	t->host = ciha__strndup(h, (size_t)(path - h));
	t->target = *path == '/' ? ciha__malloc(strlen(path) + 2) : ciha__strdup("/");
	t->url = ciha__malloc(strlen(endpoint) + 2);
	if (!t->host || !t->target || !t->url)
		return CIHA_ENOMEM;
	if (*path == '/')
		sprintf(t->target, "%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/");
	sprintf(t->url, "%.*s%s", (int)(path - endpoint), endpoint, t->target);
	return CIHA_OK;
}

static int resolve_target(sts_target *t, const ciha_credentials_options *opts)
{
	ciha__aws_config cfg;
	ciha__endpoint ep;
	const ciha__service *svc = ciha__service_find("sts");
	const char *region, *source;
	int rc;
	memset(t, 0, sizeof(*t));
	if (!svc)
		return ciha__error_raise(CIHA_ERROR, "the sts service is unknown to this build");
	rc = ciha__aws_config_load(&cfg, opts ? opts->profile : NULL, opts ? opts->config_file : NULL,
	                           opts ? opts->credentials_file : NULL);
	if (rc != CIHA_OK)
		return rc;
	region = ciha__region_resolve(opts ? opts->region : NULL, &cfg, &source);
	rc = ciha__endpoint_resolve(&ep, svc, region ? region : "us-east-1", NULL, &cfg);
	ciha__aws_config_dispose(&cfg);
	if (rc != CIHA_OK)
		return rc;
	t->signing_name = svc->signing_name;
	t->region = ciha__strdup(ep.signing_region);
	rc = t->region ? split_url(t, ep.url) : CIHA_ENOMEM;
	ciha__endpoint_dispose(&ep);
	if (rc != CIHA_OK) {
		sts_target_dispose(t);
		return ciha__error_raise(rc, "out of memory");
	}
	return CIHA_OK;
}

/* Sign the request and turn its headers into "Name: value" lines. */
static int signed_headers(char ***out, const sts_target *t, const char *body, ciha_credentials *creds)
{
	ciha_sigv4_options so = CIHA_SIGV4_OPTIONS_INIT;
	ciha_sigv4_request *req = NULL;
	size_t i, n;
	char **lines = NULL;
	int rc = ciha_sigv4_request_new(&req, "POST", t->target);
	if (rc == CIHA_OK)
		rc = ciha_sigv4_request_add_header(req, "Host", t->host);
	if (rc == CIHA_OK)
		rc = ciha_sigv4_request_add_header(req, "Content-Type", FORM_CONTENT_TYPE);
	if (rc == CIHA_OK)
		rc = ciha_sigv4_request_set_body(req, body, strlen(body));
	so.access_key_id = creds->access_key_id;
	so.secret_access_key = creds->secret_access_key;
	so.session_token = creds->session_token;
	so.region = t->region;
	so.service = t->signing_name;
	if (rc == CIHA_OK)
		rc = ciha_sigv4_sign(req, &so);
	n = rc == CIHA_OK ? ciha_sigv4_request_header_count(req) : 0;
	if (rc == CIHA_OK && !(lines = ciha__calloc(n + 1, sizeof(char *))))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	for (i = 0; rc == CIHA_OK && i < n; i++) {
		const char *name = ciha_sigv4_request_header_name(req, i);
		const char *value = ciha_sigv4_request_header_value(req, i);
		if (!(lines[i] = ciha__malloc(strlen(name) + strlen(value) + 3)))
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
		else
			sprintf(lines[i], "%s: %s", name, value);
	}
	ciha_sigv4_request_free(req);
	*out = lines;
	return rc;
}

static void free_lines(char **lines)
{
	size_t i;
	if (!lines)
		return;
	for (i = 0; lines[i]; i++)
		ciha__free_secret(lines[i]);
	ciha__free(lines);
}

static int unsigned_headers(char ***out, const sts_target *t)
{
	char **lines = ciha__calloc(3, sizeof(char *));
	if (lines) {
		lines[0] = ciha__malloc(strlen(t->host) + 7);
		lines[1] = ciha__strdup("Content-Type: " FORM_CONTENT_TYPE);
	}
	if (!lines || !lines[0] || !lines[1]) {
		free_lines(lines);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	sprintf(lines[0], "Host: %s", t->host);
	*out = lines;
	return CIHA_OK;
}

static int sts_retryable(const ciha__http_response *resp)
{
	return resp->outcome != CIHA__HTTP_OK || resp->status >= 500 || resp->status == 429;
}

/* POST with a few attempts; headers are re-signed on every attempt. `resp`
 * must be initialised. */
static int sts_post(ciha__http_response *resp, const sts_target *t, const char *body, ciha_credentials *creds)
{
	ciha__http *http = NULL;
	ciha__http_request req;
	char **headers = NULL;
	int attempt, rc;
	if ((rc = ciha__http_new(&http, t->lg)) != CIHA_OK)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = t->url;
	req.body = body;
	req.body_len = strlen(body);
	req.connect_timeout_ms = t->timeout_ms;
	req.timeout_ms = t->timeout_ms;
	req.ca_bundle = t->ca_bundle;
	for (attempt = 1; attempt <= STS_ATTEMPTS; attempt++) {
		if (attempt > 1) {
			ciha__http_response_dispose(resp);
			ciha__http_response_init(resp);
			ciha__sleep_ms(100L << attempt);
		}
		rc = creds ? signed_headers(&headers, t, body, creds) : unsigned_headers(&headers, t);
		req.headers = (const char *const *)headers;
		if (rc == CIHA_OK)
			rc = ciha__http_perform(http, &req, resp);
		free_lines(headers);
		headers = NULL;
		if (rc != CIHA_OK || !sts_retryable(resp))
			break;
	}
	ciha__http_free(http);
	return rc;
}

/* "arn:aws:sts::123456789012:assumed-role/x/s" -> "123456789012" */
static char *account_from_arn(const char *arn)
{
	const char *p = arn;
	int i;
	for (i = 0; p && i < 4; i++)
		p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
	return p ? ciha__strndup(p, strcspn(p, ":")) : NULL;
}

/* CIHA_ENOTFOUND would read as "no credentials here" to the chain. */
static int sts_error_code(const char *aws_code, long status)
{
	int code = aws_code ? ciha__error_code_for_aws(aws_code, (int)status) : CIHA_EAWS;
	return code == CIHA_ENOTFOUND ? CIHA_EAWS : code;
}

static int sts_error(const ciha__http_response *resp, const sts_target *t, const char *action)
{
	ciha__xml_node *root = NULL;
	ciha__error_detail d;
	const char *code = NULL, *message = NULL;
	int rc;
	if (resp->outcome != CIHA__HTTP_OK)
		return ciha__error_raise(resp->outcome == CIHA__HTTP_TIMEOUT ? CIHA_ETIMEOUT : CIHA_ENETWORK,
		                         "sts %s at %s: %s", action, t->url, ciha__creds_http_failure(resp));
	memset(&d, 0, sizeof(d));
	if (resp->body.len && ciha__xml_parse(&root, resp->body.ptr, resp->body.len) == CIHA_OK) {
		code = ciha__xml_path_text(root, "Error/Code");
		message = ciha__xml_path_text(root, "Error/Message");
		d.request_id = ciha__xml_path_text(root, "RequestId");
	}
	d.service = "sts";
	d.http_status = (int)resp->status;
	d.aws_code = code;
	d.retryable = resp->status >= 500;
	rc = ciha__error_raise_detail(sts_error_code(code, resp->status), &d,
	                              "sts %s failed: HTTP %ld%s%s%s%s", action, resp->status, code ? " " : "",
	                              code ? code : "", message ? ": " : "", message ? message : "");
	ciha__xml_free(root);
	return rc;
}

static int sts_parse(ciha_credentials **out, const ciha__http_response *resp, const char *result_name,
                     const char *provider_name)
{
	ciha__xml_node *root = NULL;
	ciha__buf path = CIHA__BUF_INIT;
	const char *akid, *secret, *token, *expiry, *arn;
	char *account = NULL;
	double t = 0;
	int rc = ciha__xml_parse(&root, resp->body.ptr ? resp->body.ptr : "", resp->body.len);
	if (rc != CIHA_OK)
		return rc;
#define FIELD(name) (ciha__buf_clear(&path), ciha__buf_printf(&path, "%s/%s", result_name, name), \
	path.failed ? NULL : ciha__xml_path_text(root, path.ptr))
	akid = FIELD("Credentials/AccessKeyId");
	secret = FIELD("Credentials/SecretAccessKey");
	token = FIELD("Credentials/SessionToken");
	expiry = FIELD("Credentials/Expiration");
	arn = FIELD("AssumedRoleUser/Arn");
#undef FIELD
	if (!akid || !secret || !expiry || ciha__time_parse(expiry, &t) != 0)
		rc = ciha__error_raise(CIHA_EAWS, "sts response has no %s/Credentials", result_name);
	else {
		account = arn ? account_from_arn(arn) : NULL;
		rc = ciha__credentials_make(out, akid, secret, token, (int64_t)t, provider_name, account);
	}
	ciha__free(account);
	ciha__buf_dispose(&path);
	ciha__xml_free(root);
	return rc;
}

int ciha__sts_fetch_credentials(ciha_credentials **out, const char *form_body, ciha_credentials *creds,
                                const char *result_name, const char *provider_name,
                                const ciha_credentials_options *opts, const ciha__logger *lg)
{
	sts_target t;
	ciha__http_response resp;
	char action[64];
	int rc;
	*out = NULL;
	snprintf(action, sizeof(action), "%.*s", (int)(strlen(result_name) > 6 ? strlen(result_name) - 6 : 0),
	         result_name);
	if ((rc = resolve_target(&t, opts)) != CIHA_OK)
		return rc;
	t.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : STS_TIMEOUT_MS;
	t.ca_bundle = opts ? opts->ca_bundle : NULL;
	t.lg = lg;
	ciha__log(lg, CIHA_LOG_DEBUG, "creds", "sts %s at %s (%s)", action, t.url, creds ? "signed" : "unsigned");
	ciha__http_response_init(&resp);
	rc = sts_post(&resp, &t, form_body, creds);
	if (rc == CIHA_OK)
		rc = resp.outcome == CIHA__HTTP_OK && resp.status == 200
		             ? sts_parse(out, &resp, result_name, provider_name)
		             : sts_error(&resp, &t, action);
	if (resp.body.ptr)
		memset(resp.body.ptr, 0, resp.body.len);
	ciha__http_response_dispose(&resp);
	sts_target_dispose(&t);
	return rc;
}

/* ---- the assume-role provider ------------------------------------------------------ */

typedef struct {
	ciha_credentials_provider *source;
	char *role_arn, *session_name, *external_id;
	long duration_s;
	ciha__creds_opts opts;
} assume_role_impl;

static void form_param(ciha__buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	ciha__buf_printf(b, "&%s=", name);
	ciha__percent_encode(b, value, strlen(value));
}

static int assume_role_form(ciha__buf *form, const assume_role_impl *ar)
{
	char session[64];
	snprintf(session, sizeof(session), "ciha-session-%lld", (long long)time(NULL));
	ciha__buf_puts(form, "Action=AssumeRole&Version=2011-06-15");
	form_param(form, "RoleArn", ar->role_arn);
	form_param(form, "RoleSessionName", ar->session_name ? ar->session_name : session);
	form_param(form, "ExternalId", ar->external_id);
	if (ar->duration_s > 0)
		ciha__buf_printf(form, "&DurationSeconds=%ld", ar->duration_s);
	return form->failed ? ciha__error_raise(CIHA_ENOMEM, "out of memory") : CIHA_OK;
}

static int source_credentials(ciha_credentials **out, assume_role_impl *ar)
{
	ciha__buf why = CIHA__BUF_INIT;
	int rc = ciha__provider_get_tried(out, ar->source, &why);
	if (rc == CIHA_ENOTFOUND)
		rc = ciha__error_raise(CIHA_EAUTH, "assume role %s: the source of credentials has none: %s",
		                       ar->role_arn, ciha__buf_cstr(&why));
	ciha__buf_dispose(&why);
	return rc;
}

static int assume_role_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	assume_role_impl *ar = p->impl;
	ciha_credentials_options view;
	ciha_credentials *source = NULL;
	ciha__buf form = CIHA__BUF_INIT;
	int rc;
	(void)tried;
	if ((rc = source_credentials(&source, ar)) != CIHA_OK)
		return rc;
	ciha__creds_opts_view(&view, &ar->opts);
	rc = assume_role_form(&form, ar);
	if (rc == CIHA_OK)
		rc = ciha__sts_fetch_credentials(out, form.ptr, source, "AssumeRoleResult", "assume-role", &view,
		                                 &p->logger);
	if (rc == CIHA_OK)
		ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "assumed role %s with keys from %s", ar->role_arn,
		          source->provider);
	ciha_credentials_release(source);
	ciha__buf_dispose(&form);
	return rc;
}

static void assume_role_destroy(ciha_credentials_provider *p)
{
	assume_role_impl *ar = p->impl;
	ciha_credentials_provider_release(ar->source);
	ciha__free(ar->role_arn);
	ciha__free(ar->session_name);
	ciha__free(ar->external_id);
	ciha__creds_opts_dispose(&ar->opts);
	ciha__free(ar);
}

static const ciha__provider_vtable assume_role_vtable = { "assume-role", assume_role_get, assume_role_destroy };

int ciha__provider_new_assume_role(ciha_credentials_provider **out, ciha_credentials_provider *source,
                                   const char *role_arn, const char *session_name, const char *external_id,
                                   long duration_s, const ciha_credentials_options *opts)
{
	assume_role_impl *ar;
	int rc;
	*out = NULL;
	if (!source || !role_arn || !*role_arn)
		return ciha__error_raise(CIHA_EINVAL, "assume role needs a role ARN and a source of credentials");
	if (!(ar = ciha__calloc(1, sizeof(*ar))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ar->role_arn = ciha__strdup(role_arn);
	ar->session_name = ciha__strdup(session_name);
	ar->external_id = ciha__strdup(external_id);
	ar->duration_s = duration_s;
	rc = ciha__creds_opts_copy(&ar->opts, opts);
	if (rc == CIHA_OK && (!ar->role_arn || (session_name && !ar->session_name) || (external_id && !ar->external_id)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = ciha__provider_new(out, &assume_role_vtable, ar, opts);
	if (rc != CIHA_OK) {
		ciha__free(ar->role_arn);
		ciha__free(ar->session_name);
		ciha__free(ar->external_id);
		ciha__creds_opts_dispose(&ar->opts);
		ciha__free(ar);
		return rc;
	}
	ar->source = ciha_credentials_provider_acquire(source);
	return CIHA_OK;
}
