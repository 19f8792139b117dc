/* creds_container.c: ECS/EKS container credentials (aws-wire.md 6.4). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"
#include "time_int.h"

#define ECS_HOST_URL "http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS 2000
#define CONTAINER_ATTEMPTS 3
#define CONTAINER_RETRY_DELAY_MS 1000

/* ---- the JSON both IMDS and the container endpoint return ------------------------ */

static const char *json_str(const json_t *root, const char *key)
{
	const json_t *v = json_object_get(root, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int ciha__credentials_from_json(ciha_credentials **out, const char *body, size_t len,
                                const char *provider_name)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	const char *akid, *secret, *expiry;
	double t = 0;
	int rc;
	*out = NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return CIHA_ENOTFOUND;
	}
	akid = json_str(root, "AccessKeyId");
	secret = json_str(root, "SecretAccessKey");
	expiry = json_str(root, "Expiration");
	if (!akid || !*akid || !secret || !*secret || (expiry && ciha__time_parse(expiry, &t) != 0)) {
		json_decref(root);
		return CIHA_ENOTFOUND;
	}
	rc = ciha__credentials_make(out, akid, secret, json_str(root, "Token"), (int64_t)t, provider_name,
	                            json_str(root, "AccountId"));
	json_decref(root);
	return rc;
}

/* ---- where to ask ------------------------------------------------------------------ */

/* The host of an http URL, lower-case, brackets kept for IPv6. */
static int url_host(char *out, size_t outsz, const char *url)
{
	const char *h = strstr(url, "://"), *end;
	size_t n, i;
	if (!h)
		return -1;
	h += 3;
	if (*h == '[')
		end = strchr(h, ']') ? strchr(h, ']') + 1 : NULL;
	else
		end = h + strcspn(h, ":/?#");
	if (!end || (n = (size_t)(end - h)) == 0 || n >= outsz)
		return -1;
	for (i = 0; i < n; i++)
		out[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32 : h[i]);
	out[n] = '\0';
	return 0;
}

static int host_allowed(const char *host)
{
	static const char *const allowed[] = { "localhost", "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]",
	                                        "[::1]" };
	size_t i;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (strcmp(host, allowed[i]) == 0)
			return 1;
	return strncmp(host, "127.", 4) == 0 && strspn(host, "0123456789.") == strlen(host);
}

static int check_full_uri(const char *uri)
{
	char host[256];
	if (strncmp(uri, "https://", 8) == 0)
		return CIHA_OK;
	if (strncmp(uri, "http://", 7) != 0 || url_host(host, sizeof(host), uri) != 0)
		return ciha__error_raise(CIHA_EINVAL, "AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL: %s",
		                         uri);
	if (!host_allowed(host))
		return ciha__error_raise(CIHA_EINVAL,
		                         "AWS_CONTAINER_CREDENTIALS_FULL_URI host %s is not allowed over plain http "
		                         "(only loopback, 169.254.170.2, 169.254.170.23, fd00:ec2::23)", host);
	return CIHA_OK;
}

static int container_url(char **out)
{
	const char *rel = ciha__env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = ciha__env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	ciha__buf b = CIHA__BUF_INIT;
	int rc;
	if (rel)
		ciha__buf_printf(&b, "%s%s%s", ECS_HOST_URL, rel[0] == '/' ? "" : "/", rel);
	else if ((rc = check_full_uri(full)) != CIHA_OK)
		return rc;
	else
		ciha__buf_puts(&b, full);
	if (b.failed || !(*out = ciha__buf_detach(&b))) {
		ciha__buf_dispose(&b);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

/* The Authorization value: the token file (re-read every time) or the env. */
static int auth_token(char **out)
{
	const char *file = ciha__env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *env = ciha__env_nonempty("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	const char *source = file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN";
	int rc;
	*out = NULL;
	if (file) {
		if ((rc = ciha__read_small_file(out, file, "container authorization token file")) != CIHA_OK)
			return rc;
	} else if (env && !(*out = ciha__strdup(env))) {
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	if (*out && strpbrk(*out, "\r\n")) {
		ciha__free_secret(*out);
		*out = NULL;
		return ciha__error_raise(CIHA_EINVAL, "the container authorization token from %s contains CR or LF",
		                         source);
	}
	return CIHA_OK;
}

/* ---- the provider -------------------------------------------------------------------- */

typedef struct {
	long timeout_ms;
} container_impl;

static int retryable(const ciha__http_response *resp)
{
	return resp->outcome != CIHA__HTTP_OK || resp->status >= 500;
}

static int fetch_with_retries(ciha__http_response *resp, const char *url, const char *const *headers,
                              long timeout_ms, const ciha__logger *lg)
{
	int attempt, rc = CIHA_OK;
	for (attempt = 1; attempt <= CONTAINER_ATTEMPTS; attempt++) {
		if (attempt > 1) {
			ciha__http_response_dispose(resp);
			ciha__http_response_init(resp);
			ciha__sleep_ms(CONTAINER_RETRY_DELAY_MS);
		}
		if ((rc = ciha__creds_http_fetch(resp, "GET", url, headers, timeout_ms, lg)) != CIHA_OK)
			return rc;
		if (!retryable(resp))
			break;
		ciha__log(lg, CIHA_LOG_DEBUG, "creds", "container endpoint %s: attempt %d failed", url, attempt);
	}
	return CIHA_OK;
}

static int parse_container_response(ciha_credentials **out, const ciha__http_response *resp, const char *url)
{
	int rc;
	if (resp->outcome != CIHA__HTTP_OK)
		return ciha__error_raise(resp->outcome == CIHA__HTTP_TIMEOUT ? CIHA_ETIMEOUT : CIHA_ENETWORK,
		                         "container credentials endpoint %s: %s", url, ciha__creds_http_failure(resp));
	if (resp->status != 200)
		return ciha__error_raise(CIHA_EAUTH, "container credentials endpoint %s returned HTTP %ld", url,
		                         resp->status);
	rc = ciha__credentials_from_json(out, ciha__buf_cstr(&resp->body), resp->body.len, "container");
	if (rc == CIHA_ENOTFOUND)
		return ciha__error_raise(CIHA_EAUTH, "container credentials endpoint %s returned no credentials", url);
	return rc;
}

static int container_fetch(ciha_credentials **out, const char *url, const char *token, long timeout_ms,
                           const ciha__logger *lg)
{
	ciha__buf auth = CIHA__BUF_INIT;
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	ciha__http_response resp;
	int rc;
	if (token) {
		ciha__buf_printf(&auth, "Authorization: %s", token);
		if (auth.failed)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
		headers[1] = auth.ptr;
	}
	ciha__http_response_init(&resp);
	rc = fetch_with_retries(&resp, url, headers, timeout_ms, lg);
	if (auth.ptr)
		memset(auth.ptr, 0, auth.len);
	ciha__buf_dispose(&auth);
	if (rc == CIHA_OK)
		rc = parse_container_response(out, &resp, url);
	ciha__http_response_dispose(&resp);
	return rc;
}

static int container_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	container_impl *impl = p->impl;
	char *url = NULL, *token = NULL;
	int rc;
	if (!ciha__env_nonempty("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") &&
	    !ciha__env_nonempty("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
		ciha__tried_add(tried, "container (AWS_CONTAINER_CREDENTIALS_* not set)");
		return CIHA_ENOTFOUND;
	}
	if ((rc = container_url(&url)) == CIHA_OK && (rc = auth_token(&token)) == CIHA_OK)
		rc = container_fetch(out, url, token, impl->timeout_ms, &p->logger);
	if (rc == CIHA_OK)
		ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "container credentials from %s", url);
	ciha__free(url);
	ciha__free_secret(token);
	return rc;
}

static void container_destroy(ciha_credentials_provider *p)
{
	ciha__free(p->impl);
}

static const ciha__provider_vtable container_vtable = { "container", container_get, container_destroy };

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_container(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	container_impl *impl;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_container: out is NULL");
	if (!(impl = ciha__calloc(1, sizeof(*impl))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	impl->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : CONTAINER_TIMEOUT_MS;
	rc = ciha__provider_new(out, &container_vtable, impl, opts);
	if (rc != CIHA_OK)
		ciha__free(impl);
	return rc;
}
