#define _POSIX_C_SOURCE 200809L
/* request.c: one query/EC2 request: endpoint URL pieces, signing each attempt,
 * classifying each response and the standard-mode retry decision with the
 * client's quota (aws-wire.md 5), raising the detailed error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ciha/sigv4.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "request_int.h"

#define SUBSYSTEM "retry"
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* ---- endpoint URL pieces --------------------------------------------------- */

static int split_url(ciha__request *r)
{
	const char *url = r->ep.url;
	const char *auth = strstr(url, "://");
	const char *path;
	size_t auth_len;
	ciha__buf b = CIHA__BUF_INIT;
	if (!auth)
		return ciha__error_raise(CIHA_EINVAL, "endpoint '%s' has no scheme", url);
	auth += 3;
	path = auth + strcspn(auth, "/?#");
	auth_len = (size_t)(path - auth);
	if ((strncmp(url, "http://", 7) == 0 && auth_len > 3 && strncmp(path - 3, ":80", 3) == 0) ||
	    (strncmp(url, "https://", 8) == 0 && auth_len > 4 && strncmp(path - 4, ":443", 4) == 0))
		auth_len = (size_t)(strrchr(auth, ':') - auth);
	r->host = ciha__strndup(auth, auth_len);
	ciha__buf_printf(&b, "%s/", url);
	r->url = ciha__buf_detach(&b);
	ciha__buf_printf(&b, "%.*s/", (int)strcspn(path, "?#"), path);
	r->target = ciha__buf_detach(&b);
	if (!r->host || !r->url || !r->target)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

int ciha__request_init(ciha__request *r, ciha_client *client, const ciha__service *svc, const char *action,
                       const char *body, size_t body_len)
{
	int rc;
	memset(r, 0, sizeof *r);
	r->client = client;
	r->svc = svc;
	r->action = action;
	r->body = body ? body : "";
	r->body_len = body ? body_len : 0;
	ciha__http_response_init(&r->resp);
	rc = ciha__endpoint_resolve(&r->ep, svc, client->region, client->endpoint_override, &client->config);
	return rc == CIHA_OK ? split_url(r) : rc;
}

static void free_lines(char **lines)
{
	size_t i;
	for (i = 0; lines && lines[i]; i++)
		ciha__free_secret(lines[i]);   /* Authorization and the session token */
	ciha__free(lines);
}

static void attempt_dispose(ciha__request *r)
{
	free_lines(r->headers);
	r->headers = NULL;
	ciha__http_response_dispose(&r->resp);
	ciha__aws_error_dispose(&r->aerr);
	memset(&r->aerr, 0, sizeof r->aerr);
}

void ciha__request_dispose(ciha__request *r)
{
	attempt_dispose(r);
	ciha__endpoint_dispose(&r->ep);
	ciha__free(r->url);
	ciha__free(r->host);
	ciha__free(r->target);
	memset(r, 0, sizeof *r);
}

/* ---- signing --------------------------------------------------------------- */

static int sign_request(ciha_sigv4_request **out, const ciha__request *r, const ciha_credentials *creds)
{
	ciha_sigv4_options o = CIHA_SIGV4_OPTIONS_INIT;
	ciha_sigv4_request *req = NULL;
	int rc;
	o.access_key_id = ciha_credentials_access_key_id(creds);
	o.secret_access_key = ciha_credentials_secret_access_key(creds);
	o.session_token = ciha_credentials_session_token(creds);
	o.region = r->ep.signing_region;
	o.service = r->svc->signing_name;
	if ((rc = ciha_sigv4_request_new(&req, "POST", r->target)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_add_header(req, "Host", r->host)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_add_header(req, "Content-Type", CONTENT_TYPE)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_set_body(req, r->body, r->body_len)) == CIHA_OK)
		rc = ciha__sigv4_sign_cached(req, &o, &r->client->sigv4_keys);
	if (rc != CIHA_OK) {
		ciha_sigv4_request_free(req);
		return rc;
	}
	*out = req;
	return CIHA_OK;
}

/* "Name: value" lines of the signed request plus User-Agent, NULL-terminated. */
static int header_lines(char ***out, const ciha_sigv4_request *req, const char *user_agent)
{
	size_t n = ciha_sigv4_request_header_count(req), i;
	char **lines = ciha__calloc(n + 2, sizeof *lines);
	ciha__buf b = CIHA__BUF_INIT;
	if (!lines)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	for (i = 0; i <= n; i++) {
		if (i < n)
			ciha__buf_printf(&b, "%s: %s", ciha_sigv4_request_header_name(req, i),
			                 ciha_sigv4_request_header_value(req, i));
		else
			ciha__buf_printf(&b, "User-Agent: %s", user_agent ? user_agent : "libciha");
		if (!(lines[i] = ciha__buf_detach(&b))) {
			free_lines(lines);
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
		}
	}
	*out = lines;
	return CIHA_OK;
}

static void fill_http(ciha__request *r)
{
	const ciha_client *c = r->client;
	memset(&r->http, 0, sizeof r->http);
	r->http.method = "POST";
	r->http.url = r->url;
	r->http.headers = (const char *const *)r->headers;
	r->http.body = r->body;
	r->http.body_len = r->body_len;
	r->http.connect_timeout_ms = c->connect_timeout_ms;
	r->http.timeout_ms = c->timeout_ms;
	r->http.ca_bundle = c->ca_bundle;
	r->http.fresh_connection = c->send_once;
}

int ciha__request_prepare(ciha__request *r)
{
	ciha_client *c = r->client;
	ciha_credentials *creds = NULL;
	ciha_sigv4_request *signed_req = NULL;
	int rc;

	r->attempt++;
	r->request_id[0] = '\0';
	r->kind = CIHA__RETRY_NO;
	attempt_dispose(r);
	if ((rc = ciha_credentials_provider_get(&creds, c->provider)) != CIHA_OK)
		return rc;
	rc = sign_request(&signed_req, r, creds);
	ciha_credentials_release(creds);
	if (rc == CIHA_OK)
		rc = header_lines(&r->headers, signed_req, c->user_agent);
	ciha_sigv4_request_free(signed_req);
	if (rc == CIHA_OK)
		fill_http(r);
	return rc;
}

/* ---- outcomes ----------------------------------------------------------------- */

static void note_request_id(ciha__request *r, const char *id)
{
	if (id && *id && !r->request_id[0])
		snprintf(r->request_id, sizeof r->request_id, "%s", id);
}

static const char *request_id_or_null(const ciha__request *r)
{
	return r->request_id[0] ? r->request_id : NULL;
}

static const char *attempts_note(char *buf, size_t cap, int attempts)
{
	if (attempts <= 1)
		return "";
	snprintf(buf, cap, " after %d attempts", attempts);
	return buf;
}

static int parse_success(ciha__xml_node **out_root, ciha__request *r)
{
	const ciha__http_response *resp = &r->resp;
	ciha__xml_node *root = NULL;
	const char *id;
	char note[48];

	if (ciha__xml_parse(&root, resp->body.ptr ? resp->body.ptr : "", resp->body.len) != CIHA_OK) {
		ciha__error_detail d = { r->svc->name, (int)resp->status, NULL, request_id_or_null(r), 0 };
		return ciha__error_raise_detail(CIHA_EAWS, &d, "%s %s: the HTTP %ld response is not well-formed XML "
		                                "(%s)%s", r->svc->name, r->action, resp->status,
		                                ciha_error_message(ciha_error_last()),
		                                attempts_note(note, sizeof note, r->attempt));
	}
	id = ciha__xml_path_text(root, "ResponseMetadata/RequestId");
	note_request_id(r, id ? id : ciha__xml_path_text(root, "requestId"));
	*out_root = root;
	return CIHA_OK;
}

static int raise_transport(const ciha__request *r, const char *why_stopped)
{
	static const char *const what[] = { "ok", "could not connect to", "timed out talking to",
		"connection failed while reading from", "TLS verification failed for" };
	const ciha__http_response *resp = &r->resp;
	ciha__error_detail d = { r->svc->name, 0, NULL, NULL, r->kind != CIHA__RETRY_NO };
	char note[48];
	int code = resp->outcome == CIHA__HTTP_TIMEOUT ? CIHA_ETIMEOUT : CIHA_ENETWORK;
	return ciha__error_raise_detail(code, &d, "%s %s: %s %s: %s%s%s", r->svc->name, r->action,
	                                what[resp->outcome], r->ep.url, resp->transport_error,
	                                attempts_note(note, sizeof note, r->attempt), why_stopped);
}

static int raise_service(ciha__request *r, const char *why_stopped)
{
	const ciha__http_response *resp = &r->resp;
	const ciha__aws_error *ae = &r->aerr;
	ciha__error_detail d = { r->svc->name, (int)resp->status, ae->code, NULL, r->kind != CIHA__RETRY_NO };
	const char *code = ae->code && *ae->code ? ae->code : "UnknownError";
	char note[48];
	note_request_id(r, ae->request_id);
	d.request_id = request_id_or_null(r);
	return ciha__error_raise_detail(ciha__error_code_for_aws(ae->code, (int)resp->status), &d,
	                                "%s %s: %s: %s (HTTP %ld%s%s)%s%s", r->svc->name, r->action, code,
	                                ae->message && *ae->message ? ae->message : resp->reason, resp->status,
	                                d.request_id ? ", request id " : "", d.request_id ? d.request_id : "",
	                                attempts_note(note, sizeof note, r->attempt), why_stopped);
}

static int fail(ciha__request *r, const char *why_stopped)
{
	if (r->resp.outcome != CIHA__HTTP_OK)
		return raise_transport(r, why_stopped);
	return raise_service(r, why_stopped);
}

static int classify(ciha__request *r)
{
	const ciha__http_response *resp = &r->resp;
	int rc;
	if (resp->outcome == CIHA__HTTP_TLS_ERROR) {
		r->kind = CIHA__RETRY_NO;   /* a refused certificate does not get better */
		return CIHA_OK;
	}
	if (resp->outcome != CIHA__HTTP_OK) {
		r->kind = ciha__retry_classify(resp->outcome == CIHA__HTTP_TIMEOUT ? 2 : 1, 0, NULL, r->svc->name);
		return CIHA_OK;
	}
	rc = ciha__aws_error_parse(&r->aerr, resp->body.ptr ? resp->body.ptr : "", resp->body.len, (int)resp->status);
	if (rc != CIHA_OK)
		return rc;
	r->kind = ciha__retry_classify(0, (int)resp->status, r->aerr.code, r->svc->name);
	return CIHA_OK;
}

/* ---- the retry decision ---------------------------------------------------------- */

static const char *failure_name(const ciha__request *r)
{
	if (r->resp.outcome != CIHA__HTTP_OK)
		return r->resp.transport_error;
	return r->aerr.code && *r->aerr.code ? r->aerr.code : "error";
}

/* CIHA_EAGAIN with the wait before the next attempt, or the raised error. */
static int decide_retry(ciha__request *r, long *delay_ms)
{
	ciha_client *c = r->client;
	int cost;
	if (r->kind == CIHA__RETRY_NO)
		return fail(r, "");
	if (r->attempt >= c->retry.max_attempts || c->send_once)
		return fail(r, r->attempt > 1 ? " (max attempts reached)" : "");
	if (!(cost = ciha__retry_quota_acquire(&c->quota, r->kind))) {
		ciha__log(&c->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s %s: not retrying %s: retry quota exhausted (%d left)",
		          r->svc->name, r->action, failure_name(r), c->quota.capacity);
		return fail(r, " (not retried: the client's retry quota is exhausted)");
	}
	r->last_cost = cost;
	*delay_ms = ciha__retry_delay_ms(r->attempt);
	ciha__log(&c->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s %s: attempt %d/%d failed (%s), retrying in %ld ms "
	          "(quota %d)", r->svc->name, r->action, r->attempt, c->retry.max_attempts, failure_name(r), *delay_ms,
	          c->quota.capacity);
	return CIHA_EAGAIN;
}

int ciha__request_judge(ciha__xml_node **out_root, long *delay_ms, ciha__request *r)
{
	const ciha__http_response *resp = &r->resp;
	int rc;
	*out_root = NULL;
	*delay_ms = 0;
	note_request_id(r, resp->request_id);
	if (resp->outcome == CIHA__HTTP_OK && resp->status >= 200 && resp->status < 300) {
		r->kind = CIHA__RETRY_NO;
		ciha__retry_quota_release(&r->client->quota, r->last_cost);
		return parse_success(out_root, r);
	}
	if ((rc = classify(r)) != CIHA_OK)
		return rc;
	return decide_retry(r, delay_ms);
}
