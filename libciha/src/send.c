#define _POSIX_C_SOURCE 200809L
/* send.c: one query/EC2 call: sign, POST, classify, retry with backoff and
 * the retry quota (aws-wire.md 5), parse the XML answer or raise the error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ciha/sigv4.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "client_int.h"
#include "decode_int.h"
#include "time_int.h"

#define SUBSYSTEM "retry"
#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* What stays the same across the attempts of one call. */
typedef struct {
	ciha_client *client;
	const ciha__service *svc;
	const char *action;
	const char *body;
	size_t body_len;
	ciha__endpoint ep;
	char *url;     /* endpoint + "/" (botocore joins the request URI "/" onto the path) */
	char *host;    /* authority without a default port */
	char *target;  /* path + "/" */
} send_ctx;

/* ---- endpoint URL pieces --------------------------------------------------- */

static int split_url(send_ctx *ctx)
{
	const char *url = ctx->ep.url;
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
	ctx->host = ciha__strndup(auth, auth_len);
	ciha__buf_printf(&b, "%s/", url);
	ctx->url = ciha__buf_detach(&b);
	ciha__buf_printf(&b, "%.*s/", (int)strcspn(path, "?#"), path);
	ctx->target = ciha__buf_detach(&b);
	if (!ctx->host || !ctx->url || !ctx->target)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

static void ctx_dispose(send_ctx *ctx)
{
	ciha__endpoint_dispose(&ctx->ep);
	ciha__free(ctx->url);
	ciha__free(ctx->host);
	ciha__free(ctx->target);
}

/* ---- signing --------------------------------------------------------------- */

static int sign_request(ciha_sigv4_request **out, const send_ctx *ctx, const ciha_credentials *creds)
{
	ciha_sigv4_options o = CIHA_SIGV4_OPTIONS_INIT;
	ciha_sigv4_request *req = NULL;
	int rc;
	o.access_key_id = ciha_credentials_access_key_id(creds);
	o.secret_access_key = ciha_credentials_secret_access_key(creds);
	o.session_token = ciha_credentials_session_token(creds);
	o.region = ctx->ep.signing_region;
	o.service = ctx->svc->signing_name;
	if ((rc = ciha_sigv4_request_new(&req, "POST", ctx->target)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_add_header(req, "Host", ctx->host)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_add_header(req, "Content-Type", CONTENT_TYPE)) == CIHA_OK &&
	    (rc = ciha_sigv4_request_set_body(req, ctx->body, ctx->body_len)) == CIHA_OK)
		rc = ciha_sigv4_sign(req, &o);
	if (rc != CIHA_OK) {
		ciha_sigv4_request_free(req);
		return rc;
	}
	*out = req;
	return CIHA_OK;
}

static void free_lines(char **lines)
{
	size_t i;
	for (i = 0; lines && lines[i]; i++)
		ciha__free_secret(lines[i]);   /* Authorization and the session token */
	ciha__free(lines);
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

/* ---- one attempt ------------------------------------------------------------ */

static int attempt_once(const send_ctx *ctx, ciha__http_response *resp)
{
	ciha_client *c = ctx->client;
	ciha_credentials *creds = NULL;
	ciha_sigv4_request *signed_req = NULL;
	ciha__http_request req;
	char **lines = NULL;
	int rc;

	if ((rc = ciha_credentials_provider_get(&creds, c->provider)) != CIHA_OK)
		return rc;
	rc = sign_request(&signed_req, ctx, creds);
	ciha_credentials_release(creds);
	if (rc == CIHA_OK)
		rc = header_lines(&lines, signed_req, c->user_agent);
	ciha_sigv4_request_free(signed_req);
	if (rc != CIHA_OK)
		return rc;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = ctx->url;
	req.headers = (const char *const *)lines;
	req.body = ctx->body;
	req.body_len = ctx->body_len;
	req.connect_timeout_ms = c->connect_timeout_ms;
	req.timeout_ms = c->timeout_ms;
	req.ca_bundle = c->ca_bundle;
	rc = ciha__http_perform(c->http, &req, resp);
	free_lines(lines);
	return rc;
}

/* ---- outcomes ----------------------------------------------------------------- */

static void note_request_id(ciha_client *c, const char *id)
{
	if (id && *id && !c->last_request_id[0])
		snprintf(c->last_request_id, sizeof c->last_request_id, "%s", id);
}

static const char *attempts_note(char *buf, size_t cap, int attempts)
{
	if (attempts <= 1)
		return "";
	snprintf(buf, cap, " after %d attempts", attempts);
	return buf;
}

static int parse_success(ciha__xml_node **out_root, const send_ctx *ctx, const ciha__http_response *resp,
                         int attempts)
{
	ciha_client *c = ctx->client;
	ciha__xml_node *root = NULL;
	const char *id;
	char note[48];
	ciha__error_detail d = { ctx->svc->name, (int)resp->status, NULL, c->last_request_id, 0 };

	if (ciha__xml_parse(&root, resp->body.ptr ? resp->body.ptr : "", resp->body.len) != CIHA_OK) {
		d.request_id = c->last_request_id[0] ? c->last_request_id : NULL;
		return ciha__error_raise_detail(CIHA_EAWS, &d, "%s %s: the HTTP %ld response is not well-formed XML "
		                                "(%s)%s", ctx->svc->name, ctx->action, resp->status,
		                                ciha_error_message(ciha_error_last()),
		                                attempts_note(note, sizeof note, attempts));
	}
	id = ciha__xml_path_text(root, "ResponseMetadata/RequestId");
	note_request_id(c, id ? id : ciha__xml_path_text(root, "requestId"));
	*out_root = root;
	return CIHA_OK;
}

static int raise_transport(const send_ctx *ctx, const ciha__http_response *resp, ciha__retry_kind kind,
                           int attempts, const char *why_stopped)
{
	static const char *const what[] = { "ok", "could not connect to", "timed out talking to",
		"connection failed while reading from", "TLS verification failed for" };
	ciha__error_detail d = { ctx->svc->name, 0, NULL, NULL, kind != CIHA__RETRY_NO };
	char note[48];
	int code = resp->outcome == CIHA__HTTP_TIMEOUT ? CIHA_ETIMEOUT : CIHA_ENETWORK;
	return ciha__error_raise_detail(code, &d, "%s %s: %s %s: %s%s%s", ctx->svc->name, ctx->action,
	                                what[resp->outcome], ctx->ep.url, resp->transport_error,
	                                attempts_note(note, sizeof note, attempts), why_stopped);
}

static int raise_service(const send_ctx *ctx, const ciha__http_response *resp, const ciha__aws_error *ae,
                         ciha__retry_kind kind, int attempts, const char *why_stopped)
{
	ciha_client *c = ctx->client;
	ciha__error_detail d = { ctx->svc->name, (int)resp->status, ae->code, NULL, kind != CIHA__RETRY_NO };
	const char *code = ae->code && *ae->code ? ae->code : "UnknownError";
	char note[48];
	note_request_id(c, ae->request_id);
	d.request_id = c->last_request_id[0] ? c->last_request_id : NULL;
	return ciha__error_raise_detail(ciha__error_code_for_aws(ae->code, (int)resp->status), &d,
	                                "%s %s: %s: %s (HTTP %ld%s%s)%s%s", ctx->svc->name, ctx->action, code,
	                                ae->message && *ae->message ? ae->message : resp->reason, resp->status,
	                                d.request_id ? ", request id " : "", d.request_id ? d.request_id : "",
	                                attempts_note(note, sizeof note, attempts), why_stopped);
}

/* ---- the retry loop ------------------------------------------------------------ */

static long scaled_delay(long ms)
{
#ifdef CIHA_TESTING
	/* Tests shrink the waits; the full-jitter draw itself is unchanged. */
	const char *scale = getenv("CIHA_TEST_BACKOFF_SCALE");
	if (scale && *scale)
		return (long)((double)ms * strtod(scale, NULL));
#endif
	return ms;
}

typedef struct {
	ciha__http_response resp;
	ciha__aws_error aerr;
	ciha__retry_kind kind;
} attempt_result;

static void result_dispose(attempt_result *r)
{
	ciha__http_response_dispose(&r->resp);
	ciha__aws_error_dispose(&r->aerr);
	memset(&r->aerr, 0, sizeof r->aerr);
}

static int classify(attempt_result *r, const send_ctx *ctx)
{
	const ciha__http_response *resp = &r->resp;
	int rc;
	if (resp->outcome == CIHA__HTTP_TLS_ERROR) {
		r->kind = CIHA__RETRY_NO;   /* a refused certificate does not get better */
		return CIHA_OK;
	}
	if (resp->outcome != CIHA__HTTP_OK) {
		r->kind = ciha__retry_classify(resp->outcome == CIHA__HTTP_TIMEOUT ? 2 : 1, 0, NULL, ctx->svc->name);
		return CIHA_OK;
	}
	rc = ciha__aws_error_parse(&r->aerr, resp->body.ptr ? resp->body.ptr : "", resp->body.len, (int)resp->status);
	if (rc != CIHA_OK)
		return rc;
	r->kind = ciha__retry_classify(0, (int)resp->status, r->aerr.code, ctx->svc->name);
	return CIHA_OK;
}

static int fail(const send_ctx *ctx, const attempt_result *r, int attempts, const char *why_stopped)
{
	if (r->resp.outcome != CIHA__HTTP_OK)
		return raise_transport(ctx, &r->resp, r->kind, attempts, why_stopped);
	return raise_service(ctx, &r->resp, &r->aerr, r->kind, attempts, why_stopped);
}

static const char *failure_name(const attempt_result *r)
{
	if (r->resp.outcome != CIHA__HTTP_OK)
		return r->resp.transport_error;
	return r->aerr.code && *r->aerr.code ? r->aerr.code : "error";
}

/* Returns CIHA_OK to retry after a wait, or the raised error. */
static int decide_retry(const send_ctx *ctx, const attempt_result *r, int attempt, int *last_cost)
{
	ciha_client *c = ctx->client;
	long delay;
	int cost;
	if (r->kind == CIHA__RETRY_NO)
		return fail(ctx, r, attempt, "");
	if (attempt >= c->retry.max_attempts)
		return fail(ctx, r, attempt, attempt > 1 ? " (max attempts reached)" : "");
	if (!(cost = ciha__retry_quota_acquire(&c->quota, r->kind))) {
		ciha__log(&c->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s %s: not retrying %s: retry quota exhausted (%d left)",
		          ctx->svc->name, ctx->action, failure_name(r), c->quota.capacity);
		return fail(ctx, r, attempt, " (not retried: the client's retry quota is exhausted)");
	}
	*last_cost = cost;
	delay = scaled_delay(ciha__retry_backoff_ms(attempt, ciha__retry_rand01()));
	ciha__log(&c->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s %s: attempt %d/%d failed (%s), retrying in %ld ms "
	          "(quota %d)", ctx->svc->name, ctx->action, attempt, c->retry.max_attempts, failure_name(r), delay,
	          c->quota.capacity);
	ciha__sleep_ms(delay);
	return CIHA_OK;
}

static int send_loop(ciha__xml_node **out_root, const send_ctx *ctx)
{
	ciha_client *c = ctx->client;
	attempt_result r;
	int attempt, rc, last_cost = 0;

	memset(&r, 0, sizeof r);
	for (attempt = 1;; attempt++) {
		c->last_attempts = attempt;
		c->last_request_id[0] = '\0';
		result_dispose(&r);
		if ((rc = attempt_once(ctx, &r.resp)) != CIHA_OK)
			break;
		note_request_id(c, r.resp.request_id);
		if (r.resp.outcome == CIHA__HTTP_OK && r.resp.status >= 200 && r.resp.status < 300) {
			ciha__retry_quota_release(&c->quota, last_cost);
			rc = parse_success(out_root, ctx, &r.resp, attempt);
			break;
		}
		if ((rc = classify(&r, ctx)) != CIHA_OK || (rc = decide_retry(ctx, &r, attempt, &last_cost)) != CIHA_OK)
			break;
	}
	result_dispose(&r);
	return rc;
}

int ciha__client_send(ciha__xml_node **out_root, ciha_client *client, const ciha__service *svc,
                      const char *action, const char *body, size_t body_len)
{
	send_ctx ctx;
	int rc;

	*out_root = NULL;
	memset(&ctx, 0, sizeof ctx);
	ctx.client = client;
	ctx.svc = svc;
	ctx.action = action;
	ctx.body = body ? body : "";
	ctx.body_len = body ? body_len : 0;
	client->last_request_id[0] = '\0';
	client->last_attempts = 0;
	if (client->retry.adaptive)
		ciha__log(&client->logger, CIHA_LOG_DEBUG, SUBSYSTEM,
		          "retry mode 'adaptive' runs as 'standard' (no client-side rate limiting)");
	rc = ciha__endpoint_resolve(&ctx.ep, svc, client->region, client->endpoint_override, &client->config);
	if (rc == CIHA_OK)
		rc = split_url(&ctx);
	if (rc == CIHA_OK)
		rc = send_loop(out_root, &ctx);
	ctx_dispose(&ctx);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
