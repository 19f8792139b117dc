#define _GNU_SOURCE
/* http.c: one HTTP exchange over a libcurl easy handle that is kept between
 * requests, so connections stay alive. TRACE logging shows redacted headers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "error_int.h"
#include "http_int.h"

#define SUBSYSTEM "http"
#define MASK "[redacted]"

struct ciha__http {
	CURL *curl;
	ciha__logger logger;
	long connections;
	struct curl_slist *headers;   /* of the exchange in progress */
	char errbuf[CURL_ERROR_SIZE];
};

#ifdef CIHA_TESTING
static ciha__http_transport_fn test_transport;
static void *test_transport_payload;

void ciha__http_set_test_transport(ciha__http_transport_fn fn, void *payload)
{
	test_transport = fn;
	test_transport_payload = payload;
}
#endif

int ciha__http_new(ciha__http **out, const ciha__logger *logger)
{
	ciha__http *h = ciha__calloc(1, sizeof *h);
	if (!h)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory creating an HTTP handle");
	h->curl = curl_easy_init();
	if (!h->curl) {
		ciha__free(h);
		return ciha__error_raise(CIHA_ENOMEM, "libcurl could not create an easy handle");
	}
	if (logger)
		h->logger = *logger;
	*out = h;
	return CIHA_OK;
}

void ciha__http_free(ciha__http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	ciha__free(h);
}

long ciha__http_connections_opened(const ciha__http *h)
{
	return h ? h->connections : 0;
}

void ciha__http_response_init(ciha__http_response *r)
{
	memset(r, 0, sizeof *r);
}

void ciha__http_response_dispose(ciha__http_response *r)
{
	ciha__buf_dispose(&r->body);
	ciha__http_response_init(r);
}

/* ---- response capture ---------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	ciha__http_response *resp = userdata;
	size_t n = size * nmemb;
	ciha__buf_put(&resp->body, data, n);
	return resp->body.failed ? 0 : n;
}

static void copy_trimmed(char *dst, size_t cap, const char *src, size_t len)
{
	while (len && isspace((unsigned char)*src)) {
		src++;
		len--;
	}
	while (len && isspace((unsigned char)src[len - 1]))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "HTTP/1.1 503 Service Unavailable": a new response (also after 100 Continue). */
static void take_status_line(ciha__http_response *resp, const char *line, size_t len)
{
	const char *p = memchr(line, ' ', len), *end = line + len;
	resp->reason[0] = '\0';
	if (!p)
		return;
	while (p < end && *p == ' ')
		p++;
	while (p < end && isdigit((unsigned char)*p))
		p++;
	copy_trimmed(resp->reason, sizeof resp->reason, p, (size_t)(end - p));
}

static int header_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && line[n] == ':' && strncasecmp(line, name, n) == 0;
}

static void take_header(ciha__http_response *resp, const char *line, size_t len)
{
	static const char *const id_headers[] = { "x-amzn-requestid", "x-amz-request-id" };
	size_t i;
	for (i = 0; i < sizeof id_headers / sizeof id_headers[0]; i++) {
		size_t n = strlen(id_headers[i]) + 1;
		if (header_is(line, len, id_headers[i]))
			copy_trimmed(resp->request_id, sizeof resp->request_id, line + n, len - n);
	}
	if (header_is(line, len, "x-amz-retry-after")) {
		size_t n = strlen("x-amz-retry-after") + 1;
		copy_trimmed(resp->retry_after_ms, sizeof resp->retry_after_ms, line + n, len - n);
	}
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	ciha__http_response *resp = userdata;
	size_t n = size * nmemb;
	if (n > 5 && strncmp(data, "HTTP/", 5) == 0) {
		take_status_line(resp, data, n);
		resp->request_id[0] = '\0';
		resp->retry_after_ms[0] = '\0';
	} else {
		take_header(resp, data, n);
	}
	return n;
}

/* ---- TRACE logging --------------------------------------------------------- */

/* Replace the value after `key` (up to a delimiter in `stops`) with the mask. */
static void mask_after(ciha__buf *out, const char *line, const char *key, const char *stops)
{
	const char *p = strcasestr(line, key);
	size_t keep;
	if (!p) {
		ciha__buf_puts(out, line);
		return;
	}
	keep = (size_t)(p - line) + strlen(key);
	ciha__buf_put(out, line, keep);
	ciha__buf_puts(out, MASK);
	ciha__buf_puts(out, line + keep + strcspn(line + keep, stops));
}

/* Our own masking of the two request secrets, before the general ciha__redact(). */
static void redact_line(ciha__buf *out, const char *line)
{
	size_t n = strcspn(line, ":");
	if (line[n] == ':' && n == strlen("Authorization") && strncasecmp(line, "Authorization", n) == 0)
		mask_after(out, line, "Signature=", ", \t");
	else if (line[n] == ':' && n == strlen("X-Amz-Security-Token") &&
	         strncasecmp(line, "X-Amz-Security-Token", n) == 0)
		ciha__buf_printf(out, "%.*s: %s", (int)n, line, MASK);
	else
		ciha__buf_puts(out, line);
}

static void trace_line(const ciha__logger *lg, char prefix, const char *line, size_t len)
{
	ciha__buf raw = CIHA__BUF_INIT, clean = CIHA__BUF_INIT;
	ciha__buf_put(&raw, line, len);
	if (!raw.failed) {
		redact_line(&clean, ciha__buf_cstr(&raw));
		if (!clean.failed && clean.ptr) {
			ciha__redact(clean.ptr);
			ciha__log_emit(lg, CIHA_LOG_TRACE, SUBSYSTEM, "%c %s", prefix, clean.ptr);
		}
	}
	ciha__buf_dispose(&raw);
	ciha__buf_dispose(&clean);
}

static void trace_block(const ciha__logger *lg, char prefix, const char *data, size_t size)
{
	const char *end = data + size;
	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t len = nl ? (size_t)(nl - data) : (size_t)(end - data);
		size_t shown = len;
		if (shown && data[shown - 1] == '\r')
			shown--;
		if (shown)
			trace_line(lg, prefix, data, shown);
		data += len + (nl ? 1 : 0);
	}
}

static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *userdata)
{
	const ciha__logger *lg = userdata;
	(void)curl;
	switch (type) {
	case CURLINFO_TEXT:
		trace_block(lg, '*', data, size);
		break;
	case CURLINFO_HEADER_OUT:
		trace_block(lg, '>', data, size);
		break;
	case CURLINFO_HEADER_IN:
		trace_block(lg, '<', data, size);
		break;
	default:
		break;   /* bodies may carry credentials (STS, IMDS): never traced */
	}
	return 0;
}

/* ---- one exchange -------------------------------------------------------- */

static ciha__http_outcome outcome_for(CURLcode rc, const ciha__http_response *resp)
{
	switch (rc) {
	case CURLE_OK:
		return CIHA__HTTP_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return CIHA__HTTP_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return CIHA__HTTP_CONNECT_ERROR;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		/* before any status line: the request never got an answer */
		return resp->status ? CIHA__HTTP_IO_ERROR : CIHA__HTTP_CONNECT_ERROR;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
		return CIHA__HTTP_TLS_ERROR;
	case CURLE_PARTIAL_FILE:
	default:
		return CIHA__HTTP_IO_ERROR;
	}
}

static struct curl_slist *build_headers(const ciha__http_request *req, int *failed)
{
	struct curl_slist *list = NULL, *next;
	const char *const *h;
	for (h = req->headers; h && *h; h++) {
		if (!(next = curl_slist_append(list, *h)))
			goto oom;
		list = next;
	}
	/* no "Expect: 100-continue" round trip for bodies over 1 KiB */
	if (!(next = curl_slist_append(list, "Expect:")))
		goto oom;
	return next;
oom:
	curl_slist_free_all(list);
	*failed = 1;
	return NULL;
}

static void set_method(CURL *c, const ciha__http_request *req)
{
	const char *method = req->method ? req->method : "GET";
	if (strcmp(method, "GET") == 0 && !req->body_len) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		return;
	}
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
}

static void set_options(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp,
                        struct curl_slist *headers, char *errbuf)
{
	CURL *c = h->curl;
	curl_easy_reset(c);   /* keeps live connections, DNS and TLS session caches */
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, req->fresh_connection ? 1L : 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_bundle)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle);
	if (req->no_proxy)
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	set_method(c, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (ciha__log_enabled(&h->logger, CIHA_LOG_TRACE)) {
		curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(c, CURLOPT_DEBUGDATA, &h->logger);
		curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	}
}

static void record_transport_error(ciha__http_response *resp, CURLcode rc, const char *errbuf)
{
	const char *msg = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	copy_trimmed(resp->transport_error, sizeof resp->transport_error, msg, strlen(msg));
}

int ciha__http_start(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp)
{
	int failed = 0;
	curl_slist_free_all(h->headers);
	h->headers = build_headers(req, &failed);
	if (failed)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory building HTTP headers");
	h->errbuf[0] = '\0';
	set_options(h, req, resp, h->headers, h->errbuf);
	return CIHA_OK;
}

void *ciha__http_easy(ciha__http *h)
{
	return h->curl;
}

int ciha__http_finish(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp, int curl_result)
{
	CURLcode rc = (CURLcode)curl_result;
	long status = 0, connects = 0;
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(h->headers);
	h->headers = NULL;
	if (resp->body.failed)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading the HTTP response");
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &connects);
	h->connections += connects;
	resp->status = status;
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return ciha__error_raise(CIHA_EINVAL, "cannot request '%s': %s", req->url,
		                         h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	resp->outcome = outcome_for(rc, resp);
	if (resp->outcome != CIHA__HTTP_OK)
		record_transport_error(resp, rc, h->errbuf);
	ciha__log(&h->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s %s -> %ld%s%s (%ld new connection%s)",
	          req->method ? req->method : "GET", req->url, status, rc ? ", " : "",
	          rc ? resp->transport_error : "", connects, connects == 1 ? "" : "s");
	return CIHA_OK;
}

static int perform_curl(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp)
{
	int rc = ciha__http_start(h, req, resp);
	if (rc != CIHA_OK)
		return rc;
	return ciha__http_finish(h, req, resp, (int)curl_easy_perform(h->curl));
}

int ciha__http_perform(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp)
{
	ciha__buf_dispose(&resp->body);
	ciha__http_response_init(resp);
#ifdef CIHA_TESTING
	if (test_transport) {
		int rc = test_transport(req, resp, test_transport_payload);
		if (rc == CIHA_OK && resp->body.failed)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory in the test transport");
		return rc;
	}
#endif
	return perform_curl(h, req, resp);
}
