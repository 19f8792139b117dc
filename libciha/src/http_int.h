/* http_int.h: one HTTP exchange over a kept-alive libcurl easy handle.
 * Tests can replace the transport (CIHA_TESTING seam). */
#ifndef CIHA_HTTP_INT_H
#define CIHA_HTTP_INT_H
#include <stddef.h>
#include "buf_int.h"
#include "log_int.h"

typedef struct ciha__http ciha__http;

typedef struct {
	const char *method;          /* "GET", "PUT", "POST" */
	const char *url;
	const char *const *headers;  /* "Name: value" strings, NULL-terminated; may be NULL */
	const char *body;
	size_t body_len;
	long connect_timeout_ms;
	long timeout_ms;
	int no_proxy;                /* bypass proxies (IMDS, container endpoint) */
	const char *ca_bundle;
	int fresh_connection;        /* not on a kept-alive connection, so curl cannot resend it when that one died */
} ciha__http_request;

typedef enum {
	CIHA__HTTP_OK = 0,           /* a response arrived (any status) */
	CIHA__HTTP_CONNECT_ERROR,    /* refused, DNS, reset before a response */
	CIHA__HTTP_TIMEOUT,          /* connect or transfer timeout */
	CIHA__HTTP_IO_ERROR,         /* reset or truncated during the response */
	CIHA__HTTP_TLS_ERROR         /* certificate refused */
} ciha__http_outcome;

typedef struct {
	ciha__http_outcome outcome;
	long status;
	char reason[64];             /* reason phrase, "" if none */
	ciha__buf body;
	char request_id[128];        /* x-amzn-requestid / x-amz-request-id header, "" if none */
	char retry_after_ms[32];     /* x-amz-retry-after header, "" if none */
	char transport_error[256];   /* curl's message when outcome != OK */
} ciha__http_response;

int ciha__http_new(ciha__http **out, const ciha__logger *logger);
void ciha__http_free(ciha__http *h);
/* Perform one exchange. Returns CIHA_OK when `resp` was filled (check
 * resp->outcome), CIHA_EINVAL (raised) for a URL curl cannot use (malformed,
 * not http/https), CIHA_ENOMEM otherwise. TRACE logging shows redacted headers. */
int ciha__http_perform(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp);
void ciha__http_response_init(ciha__http_response *r);
void ciha__http_response_dispose(ciha__http_response *r);
/* The same exchange in steps, for curl multi (multi.c): ciha__http_start
 * prepares h's easy handle (req and its body must stay valid until the end);
 * add ciha__http_easy(h) (a CURL *) to a CURLM; when curl reports it done, call
 * ciha__http_finish with curl's CURLcode. Returns as ciha__http_perform.
 * The CIHA_TESTING transport seam does not apply to these. */
int ciha__http_start(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp);
void *ciha__http_easy(ciha__http *h);
int ciha__http_finish(ciha__http *h, const ciha__http_request *req, ciha__http_response *resp, int curl_result);
/* Connections opened by this handle so far (keep-alive tests). */
long ciha__http_connections_opened(const ciha__http *h);

#ifdef CIHA_TESTING
typedef int (*ciha__http_transport_fn)(const ciha__http_request *req, ciha__http_response *resp, void *payload);
void ciha__http_set_test_transport(ciha__http_transport_fn fn, void *payload);
#endif
#endif
