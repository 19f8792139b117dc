/* creds_imds.c: EC2 instance role credentials through IMDSv2 (aws-wire.md 6.5). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "time_int.h"

#define IMDS_DEFAULT_URL "http://169.254.169.254"
#define IMDS_IPV6_URL "http://[fd00:ec2::254]"
#define IMDS_TIMEOUT_MS 1000
#define TOKEN_TTL_S 21600
#define TOKEN_PATH "/latest/api/token"
#define ROLES_PATH "/latest/meta-data/iam/security-credentials/"

typedef struct {
	char *endpoint;          /* explicit, or NULL: decided at each fetch from the env */
	int allow_v1;
	long timeout_ms;
	char *token;             /* the cached session token, NULL when none */
	long long token_expires_ms;
} imds_impl;

/* One fetch: the provider's settings plus where it got with the token. */
typedef struct {
	imds_impl *impl;
	const ciha__logger *lg;
	ciha__buf *tried;
	char *base;
	int v1;                  /* no token to be had; IMDSv1 allowed */
} imds_session;

static char *choose_endpoint(const imds_impl *impl)
{
	const char *url = impl->endpoint;
	const char *mode = ciha__env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t len;
	if (!url)
		url = ciha__env_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	if (!url)
		url = mode && (strcmp(mode, "IPv6") == 0 || strcmp(mode, "ipv6") == 0) ? IMDS_IPV6_URL : IMDS_DEFAULT_URL;
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	return ciha__strndup(url, len);
}

static void drop_token(imds_impl *impl)
{
	ciha__free_secret(impl->token);
	impl->token = NULL;
	impl->token_expires_ms = 0;
}

static int no_response(imds_session *s, const ciha__http_response *resp)
{
	ciha__tried_add(s->tried, "imds (no response from %s: %s)", s->base, ciha__creds_http_failure(resp));
	return CIHA_ENOTFOUND;
}

static int request(ciha__http_response *resp, imds_session *s, const char *method, const char *path,
                   const char *header)
{
	ciha__buf url = CIHA__BUF_INIT;
	const char *headers[2] = { header, NULL };
	int rc;
	ciha__buf_printf(&url, "%s%s", s->base, path);
	if (url.failed)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__http_response_init(resp);
	rc = ciha__creds_http_fetch(resp, method, url.ptr, headers, s->impl->timeout_ms, s->lg);
	ciha__buf_dispose(&url);
	if (rc != CIHA_OK)
		ciha__http_response_dispose(resp);
	return rc;
}

static int token_refused(imds_session *s, long status)
{
	if (s->impl->allow_v1 && !ciha__env_true("AWS_EC2_METADATA_V1_DISABLED")) {
		ciha__log(s->lg, CIHA_LOG_DEBUG, "creds", "imds: no token (HTTP %ld), falling back to IMDSv1", status);
		s->v1 = 1;
		return CIHA_OK;
	}
	ciha__tried_add(s->tried, "imds (no IMDSv2 token: HTTP %ld from PUT %s; IMDSv1 fallback is off, see imds_allow_v1)",
	                status, TOKEN_PATH);
	return CIHA_ENOTFOUND;
}

static int fetch_token(imds_session *s)
{
	ciha__http_response resp;
	int rc;
	if ((rc = request(&resp, s, "PUT", TOKEN_PATH, "x-aws-ec2-metadata-token-ttl-seconds: 21600")) != CIHA_OK)
		return rc;
	if (resp.outcome != CIHA__HTTP_OK)
		rc = no_response(s, &resp);
	else if (resp.status == 403 || resp.status == 404 || resp.status == 405)
		rc = token_refused(s, resp.status);
	else if (resp.status != 200 || resp.body.len == 0) {
		ciha__tried_add(s->tried, "imds (token request failed: HTTP %ld)", resp.status);
		rc = CIHA_ENOTFOUND;
	} else {
		drop_token(s->impl);
		s->impl->token = ciha__buf_detach(&resp.body);
		s->impl->token_expires_ms = ciha__mono_ms() + (TOKEN_TTL_S - 300) * 1000LL;
		if (!s->impl->token)
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	if (resp.body.ptr)
		memset(resp.body.ptr, 0, resp.body.len);
	ciha__http_response_dispose(&resp);
	return rc;
}

static int ensure_token(imds_session *s)
{
	if (s->v1 || (s->impl->token && ciha__mono_ms() < s->impl->token_expires_ms))
		return CIHA_OK;
	return fetch_token(s);
}

/* GET a metadata path; on 401 the token expired: get a new one and retry once. */
static int metadata_get(ciha__http_response *resp, imds_session *s, const char *path)
{
	ciha__buf header = CIHA__BUF_INIT;
	int attempt, rc = CIHA_OK;
	for (attempt = 0; attempt < 2; attempt++) {
		if ((rc = ensure_token(s)) != CIHA_OK)
			break;
		ciha__buf_clear(&header);
		if (!s->v1)
			ciha__buf_printf(&header, "x-aws-ec2-metadata-token: %s", s->impl->token);
		if (header.failed) {
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
			break;
		}
		rc = request(resp, s, "GET", path, s->v1 ? NULL : header.ptr);
		if (rc != CIHA_OK || resp->outcome != CIHA__HTTP_OK || resp->status != 401 || s->v1 || attempt == 1)
			break;
		ciha__log(s->lg, CIHA_LOG_DEBUG, "creds", "imds: token rejected (401), fetching a new one");
		drop_token(s->impl);
		ciha__http_response_dispose(resp);
	}
	if (header.ptr)
		memset(header.ptr, 0, header.len);
	ciha__buf_dispose(&header);
	if (rc == CIHA_OK && resp->outcome != CIHA__HTTP_OK) {
		rc = no_response(s, resp);
		ciha__http_response_dispose(resp);
	}
	return rc;
}

static int role_name(char **out, imds_session *s)
{
	ciha__http_response resp;
	const char *body;
	int rc = metadata_get(&resp, s, ROLES_PATH);
	*out = NULL;
	if (rc != CIHA_OK)
		return rc;
	body = ciha__buf_cstr(&resp.body);
	if (resp.status == 404 || (resp.status == 200 && !*body)) {
		ciha__tried_add(s->tried, "imds (no IAM role attached to this instance)");
		rc = CIHA_ENOTFOUND;
	} else if (resp.status != 200) {
		ciha__tried_add(s->tried, "imds (HTTP %ld listing roles)", resp.status);
		rc = CIHA_ENOTFOUND;
	} else if (!(*out = ciha__strndup(body, strcspn(body, "\r\n")))) {
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	ciha__http_response_dispose(&resp);
	return rc;
}

static int role_credentials(ciha_credentials **out, imds_session *s, const char *role)
{
	ciha__http_response resp;
	ciha__buf path = CIHA__BUF_INIT;
	int rc;
	ciha__buf_printf(&path, "%s%s", ROLES_PATH, role);
	if (path.failed)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = metadata_get(&resp, s, path.ptr);
	ciha__buf_dispose(&path);
	if (rc != CIHA_OK)
		return rc;
	if (resp.status != 200) {
		ciha__tried_add(s->tried, "imds (HTTP %ld for role '%s')", resp.status, role);
		rc = CIHA_ENOTFOUND;
	} else {
		rc = ciha__credentials_from_json(out, ciha__buf_cstr(&resp.body), resp.body.len, "imds");
		if (rc == CIHA_ENOTFOUND)
			ciha__tried_add(s->tried, "imds (role '%s' returned no credentials)", role);
	}
	if (resp.body.ptr)
		memset(resp.body.ptr, 0, resp.body.len);
	ciha__http_response_dispose(&resp);
	return rc;
}

static int imds_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	imds_session s;
	char *role = NULL;
	int rc;
	if (ciha__env_true("AWS_EC2_METADATA_DISABLED")) {
		ciha__tried_add(tried, "imds (disabled by AWS_EC2_METADATA_DISABLED)");
		return CIHA_ENOTFOUND;
	}
	memset(&s, 0, sizeof(s));
	s.impl = p->impl;
	s.lg = &p->logger;
	s.tried = tried;
	if (!(s.base = choose_endpoint(s.impl)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = role_name(&role, &s);
	if (rc == CIHA_OK)
		rc = role_credentials(out, &s, role);
	if (rc == CIHA_OK)
		ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "imds credentials for role '%s' from %s%s", role, s.base,
		          s.v1 ? " (IMDSv1)" : "");
	ciha__free(role);
	ciha__free(s.base);
	return rc;
}

static void imds_destroy(ciha_credentials_provider *p)
{
	imds_impl *impl = p->impl;
	drop_token(impl);
	ciha__free(impl->endpoint);
	ciha__free(impl);
}

static const ciha__provider_vtable imds_vtable = { "imds", imds_get, imds_destroy };

static long imds_timeout(const ciha_credentials_options *opts)
{
	const char *env = ciha__env_nonempty("AWS_METADATA_SERVICE_TIMEOUT");
	if (opts && opts->timeout_ms > 0)
		return opts->timeout_ms;
	if (env && atof(env) > 0)
		return (long)(atof(env) * 1000);
	return IMDS_TIMEOUT_MS;
}

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_imds(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	imds_impl *impl;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_imds: out is NULL");
	if (!(impl = ciha__calloc(1, sizeof(*impl))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	impl->allow_v1 = opts ? opts->imds_allow_v1 : 0;
	impl->timeout_ms = imds_timeout(opts);
	if (opts && opts->imds_endpoint && !(impl->endpoint = ciha__strdup(opts->imds_endpoint))) {
		ciha__free(impl);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	rc = ciha__provider_new(out, &imds_vtable, impl, opts);
	if (rc != CIHA_OK) {
		ciha__free(impl->endpoint);
		ciha__free(impl);
	}
	return rc;
}
