/* pagerduty.c: a PagerDuty Events API v2 client (trigger, acknowledge, resolve)
 * over the library's HTTP layer. The routing key travels only in the request
 * body, which the HTTP layer never traces, and is scrubbed from every message. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <jansson.h>
#include "ciha/alarm.h"
#include "alloc_int.h"
#include "client_int.h"
#include "http_int.h"
#include "log_int.h"
#include "retry_int.h"
#include "time_int.h"

#define SUBSYSTEM "pd"
#define DEFAULT_URL "https://events.pagerduty.com/v2/enqueue"
#define MAX_ATTEMPTS 3
#define MAX_SUMMARY 1024
#define MAX_DEDUP_KEY 255
#define MASK "[redacted]"

struct ciha_pagerduty {
	char *routing_key;
	char *url;
	char *ca_bundle;
	long connect_timeout_ms;
	long timeout_ms;
	ciha__logger logger;
	ciha__http *http;
};

/* ---- construction ------------------------------------------------------------------ */

static int is_loopback_http(const char *url)
{
	static const char *const hosts[] = { "http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
		"http://localhost/", "http://[::1]:", "http://[::1]/", NULL };
	size_t i;
	for (i = 0; hosts[i]; i++)
		if (strncasecmp(url, hosts[i], strlen(hosts[i])) == 0)
			return 1;
	return 0;
}

/* HTTPS, or plain HTTP to this machine only (a local receiver): the key must not cross a network in clear. */
static int check_url(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0 && url[8])
		return CIHA_OK;
	if (is_loopback_http(url))
		return CIHA_OK;
	return ciha__error_raise(CIHA_EINVAL, "PagerDuty endpoint '%s' must be https:// (plain http only to "
	                         "127.0.0.1, localhost or [::1])", url);
}

static int check_routing_key(const char *key)
{
	const char *p;
	if (!key || !*key)
		return ciha__error_raise(CIHA_EINVAL, "a PagerDuty routing key is required");
	for (p = key; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return ciha__error_raise(CIHA_EINVAL, "the PagerDuty routing key holds whitespace or control "
			                         "characters");
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_pagerduty_new(ciha_pagerduty **out, const char *routing_key, const char *endpoint_url,
                                            ciha_client *client)
{
	const char *url = endpoint_url ? endpoint_url : getenv("CIHA_PAGERDUTY_URL");
	ciha_pagerduty *pd;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_pagerduty_new: out is NULL");
	*out = NULL;
	if (!url || !*url)
		url = DEFAULT_URL;
	if ((rc = check_routing_key(routing_key)) != CIHA_OK || (rc = check_url(url)) != CIHA_OK)
		return rc;
	if (!(pd = ciha__calloc(1, sizeof(*pd))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (client) {
		pd->logger = client->logger;
		pd->connect_timeout_ms = client->connect_timeout_ms;
		pd->timeout_ms = client->timeout_ms;
	} else {
		ciha__logger_init(&pd->logger, NULL, NULL, CIHA_LOG_NONE);
	}
	pd->routing_key = ciha__strdup(routing_key);
	pd->url = ciha__strdup(url);
	pd->ca_bundle = client && client->ca_bundle ? ciha__strdup(client->ca_bundle) : NULL;
	if (!pd->routing_key || !pd->url || (client && client->ca_bundle && !pd->ca_bundle)) {
		ciha_pagerduty_free(pd);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	if ((rc = ciha__http_new(&pd->http, &pd->logger)) != CIHA_OK) {
		ciha_pagerduty_free(pd);
		return rc;
	}
	*out = pd;
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_pagerduty_free(ciha_pagerduty *pd)
{
	if (!pd)
		return;
	ciha__free_secret(pd->routing_key);
	ciha__free(pd->url);
	ciha__free(pd->ca_bundle);
	ciha__http_free(pd->http);
	ciha__free(pd);
}

/* ---- keeping the key out of messages ------------------------------------------------ */

/* Replace every copy of the routing key in s (in place; the mask is never longer than a 32-byte key). */
static void scrub_key(char *s, const char *key)
{
	size_t klen = strlen(key), mlen = strlen(MASK);
	char *at = s;
	while ((at = strstr(at, key)) != NULL) {
		if (klen >= mlen) {
			memcpy(at, MASK, mlen);
			memmove(at + mlen, at + klen, strlen(at + klen) + 1);
			at += mlen;
		} else {
			memset(at, '*', klen);
			at += klen;
		}
	}
	ciha__redact(s);
}

/* PagerDuty's answer to a refused event: "message: error; error", key scrubbed. New string or NULL. */
static char *refusal_text(const ciha__http_response *resp, const char *key)
{
	json_t *answer = json_loadb(resp->body.ptr ? resp->body.ptr : "", resp->body.len, 0, NULL);
	const json_t *errors = json_object_get(answer, "errors");
	const char *message = json_string_value(json_object_get(answer, "message"));
	ciha__buf text = CIHA__BUF_INIT;
	size_t i;
	if (message)
		ciha__buf_puts(&text, message);
	else if (!answer && resp->body.len)
		ciha__buf_printf(&text, "%.200s", resp->body.ptr);
	for (i = 0; i < json_array_size(errors); i++)
		if (json_string_value(json_array_get(errors, i)))
			ciha__buf_printf(&text, "%s%s", text.len ? (i ? "; " : ": ") : "",
			                 json_string_value(json_array_get(errors, i)));
	json_decref(answer);
	if (!text.len)
		ciha__buf_printf(&text, "HTTP %ld %s", resp->status, resp->reason);
	if (text.failed) {
		ciha__buf_dispose(&text);
		return NULL;
	}
	scrub_key(text.ptr, key);
	return ciha__buf_detach(&text);
}

/* ---- one event ------------------------------------------------------------------------- */

static int is_retryable(const ciha__http_response *resp)
{
	return resp->outcome != CIHA__HTTP_OK || resp->status == 429 || resp->status >= 500;
}

static int raise_for(const ciha_pagerduty *pd, const char *action, const ciha__http_response *resp, int attempts)
{
	ciha__error_detail d = { "pagerduty", (int)resp->status, NULL, NULL, 0 };
	char *why;
	int rc;
	if (resp->outcome != CIHA__HTTP_OK) {
		d.retryable = 1;
		return ciha__error_raise_detail(resp->outcome == CIHA__HTTP_TIMEOUT ? CIHA_ETIMEOUT : CIHA_ENETWORK, &d,
		                                "PagerDuty %s: %s (after %d attempts)", action, resp->transport_error,
		                                attempts);
	}
	why = refusal_text(resp, pd->routing_key);
	if (resp->status == 400) {
		rc = ciha__error_raise_detail(CIHA_EINVAL, &d, "PagerDuty refused the %s event: %s", action,
		                              why ? why : "invalid event");
	} else if (resp->status == 429) {
		d.retryable = 1;
		rc = ciha__error_raise_detail(CIHA_ETHROTTLED, &d, "PagerDuty %s: rate limited (HTTP 429) after %d "
		                              "attempts", action, attempts);
	} else {
		d.retryable = resp->status >= 500;
		rc = ciha__error_raise_detail(resp->status == 401 || resp->status == 403 ? CIHA_EAUTH : CIHA_ERROR, &d,
		                              "PagerDuty %s: HTTP %ld%s%s%s", action, resp->status,
		                              resp->status >= 500 ? " after retries" : "", why ? ": " : "",
		                              why ? why : "");
	}
	ciha__free(why);
	return rc;
}

/* The dedup key PagerDuty answered with (new string), or NULL when absent. */
static char *answered_dedup_key(const ciha__http_response *resp)
{
	json_t *answer = json_loadb(resp->body.ptr ? resp->body.ptr : "", resp->body.len, 0, NULL);
	char *key = ciha__strdup(json_string_value(json_object_get(answer, "dedup_key")));
	json_decref(answer);
	return key;
}

static int perform_once(ciha_pagerduty *pd, const char *body, ciha__http_response *resp)
{
	static const char *const headers[] = { "Content-Type: application/json", "Accept: application/json",
		"User-Agent: libciha/" CIHA_VERSION_STRING, NULL };
	ciha__http_request req;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = pd->url;
	req.headers = headers;
	req.body = body;
	req.body_len = strlen(body);
	req.connect_timeout_ms = pd->connect_timeout_ms;
	req.timeout_ms = pd->timeout_ms;
	req.ca_bundle = pd->ca_bundle;
	return ciha__http_perform(pd->http, &req, resp);
}

/* POST the event with up to MAX_ATTEMPTS attempts; 429, 5xx and transport failures are retried. */
static int send_event(char **out_dedup_key, ciha_pagerduty *pd, const char *action, const char *body)
{
	ciha__http_response resp;
	int attempt, rc = CIHA_OK;
	ciha__http_response_init(&resp);
	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		if (attempt > 1) {
			long delay = ciha__retry_backoff_ms(attempt - 1, ciha__retry_rand01());
			ciha__log(&pd->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "%s: retrying in %ld ms (attempt %d of %d)", action,
			          delay, attempt, MAX_ATTEMPTS);
			ciha__sleep_ms(delay);
		}
		if ((rc = perform_once(pd, body, &resp)) != CIHA_OK || !is_retryable(&resp))
			break;
	}
	if (rc == CIHA_OK && resp.outcome == CIHA__HTTP_OK && resp.status == 202) {
		ciha__log(&pd->logger, CIHA_LOG_INFO, SUBSYSTEM, "%s accepted", action);
		if (out_dedup_key && !(*out_dedup_key = answered_dedup_key(&resp)))
			rc = ciha__error_raise(CIHA_EINVAL, "PagerDuty accepted the %s event but answered no dedup_key",
			                       action);
	} else if (rc == CIHA_OK) {
		rc = raise_for(pd, action, &resp, attempt > MAX_ATTEMPTS ? MAX_ATTEMPTS : attempt);
		ciha__log(&pd->logger, CIHA_LOG_WARN, SUBSYSTEM, "%s", ciha_error_message(ciha_error_last()));
	}
	ciha__http_response_dispose(&resp);
	return rc;
}

static int check_dedup_key(const char *dedup_key, int required)
{
	if (!dedup_key || !*dedup_key)
		return required ? ciha__error_raise(CIHA_EINVAL, "a dedup key is required") : CIHA_OK;
	if (strlen(dedup_key) > MAX_DEDUP_KEY)
		return ciha__error_raise(CIHA_EINVAL, "the dedup key is longer than %d bytes", MAX_DEDUP_KEY);
	return CIHA_OK;
}

/* Serialize the event, send it, and wipe the serialized key. */
static int send_json(char **out_dedup_key, ciha_pagerduty *pd, const char *action, json_t *event)
{
	char *body;
	int rc;
	if (!event || json_object_set_new(event, "routing_key", json_string(pd->routing_key)) != 0 ||
	    !(body = json_dumps(event, JSON_COMPACT))) {
		json_decref(event);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory building the PagerDuty event");
	}
	json_decref(event);
	rc = send_event(out_dedup_key, pd, action, body);
	memset(body, 0, strlen(body));
	free(body);
	return rc;
}

/* ---- the API ------------------------------------------------------------------------------ */

static int check_trigger(const char *summary, const char *source, const char *severity)
{
	static const char *const severities[] = { "critical", "error", "warning", "info", NULL };
	size_t i;
	if (!summary || !*summary || strlen(summary) > MAX_SUMMARY)
		return ciha__error_raise(CIHA_EINVAL, "a trigger needs a summary of 1 to %d bytes", MAX_SUMMARY);
	if (!source || !*source)
		return ciha__error_raise(CIHA_EINVAL, "a trigger needs a source (the affected host or service)");
	for (i = 0; severity && severities[i]; i++)
		if (strcmp(severity, severities[i]) == 0)
			return CIHA_OK;
	return ciha__error_raise(CIHA_EINVAL, "severity '%s' is not one of critical, error, warning, info",
	                         severity ? severity : "(null)");
}

static int details_value(json_t **out, const char *custom_details_json)
{
	json_error_t err;
	*out = NULL;
	if (!custom_details_json)
		return CIHA_OK;
	if (!(*out = json_loads(custom_details_json, JSON_DECODE_ANY, &err)))
		return ciha__error_raise(CIHA_EINVAL, "custom details are not JSON: %s (line %d, column %d)", err.text,
		                         err.line, err.column);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_pagerduty_trigger(char **out_dedup_key, ciha_pagerduty *pd, const char *dedup_key,
                                                const char *summary, const char *source, const char *severity,
                                                const char *custom_details_json)
{
	json_t *details = NULL, *payload, *event;
	int rc;
	if (out_dedup_key)
		*out_dedup_key = NULL;
	if (!pd)
		return ciha__error_raise(CIHA_EINVAL, "ciha_pagerduty_trigger: pd is NULL");
	if ((rc = check_dedup_key(dedup_key, 0)) != CIHA_OK || (rc = check_trigger(summary, source, severity)) != CIHA_OK ||
	    (rc = details_value(&details, custom_details_json)) != CIHA_OK)
		return rc;
	payload = json_pack("{s:s, s:s, s:s}", "summary", summary, "source", source, "severity", severity);
	if (payload && details)
		json_object_set_new(payload, "custom_details", details);
	else
		json_decref(details);
	event = payload ? json_pack("{s:s, s:o}", "event_action", "trigger", "payload", payload) : NULL;
	if (event && dedup_key && *dedup_key)
		json_object_set_new(event, "dedup_key", json_string(dedup_key));
	return send_json(out_dedup_key, pd, "trigger", event);
}

static int follow_up(ciha_pagerduty *pd, const char *action, const char *dedup_key)
{
	int rc;
	if (!pd)
		return ciha__error_raise(CIHA_EINVAL, "ciha_pagerduty_%s: pd is NULL", action);
	if ((rc = check_dedup_key(dedup_key, 1)) != CIHA_OK)
		return rc;
	return send_json(NULL, pd, action, json_pack("{s:s, s:s}", "event_action", action, "dedup_key", dedup_key));
}

CIHA_EXTERN(ciha_result) ciha_pagerduty_acknowledge(ciha_pagerduty *pd, const char *dedup_key)
{
	return follow_up(pd, "acknowledge", dedup_key);
}

CIHA_EXTERN(ciha_result) ciha_pagerduty_resolve(ciha_pagerduty *pd, const char *dedup_key)
{
	return follow_up(pd, "resolve", dedup_key);
}

CIHA_EXTERN(ciha_result) ciha_pagerduty_report_job(ciha_pagerduty *pd, const char *job, int failed,
                                                   const char *summary)
{
	char dedup_key[MAX_DEDUP_KEY + 1], host[256], fallback[MAX_SUMMARY + 1];
	json_t *details;
	char *details_text;
	int rc;
	if (!job || !*job || strlen(job) + 5 > MAX_DEDUP_KEY)
		return ciha__error_raise(CIHA_EINVAL, "a job name of 1 to %d bytes is required", MAX_DEDUP_KEY - 5);
	snprintf(dedup_key, sizeof(dedup_key), "ciha:%s", job);
	if (!failed)
		return ciha_pagerduty_resolve(pd, dedup_key);
	if (gethostname(host, sizeof(host)) != 0 || !*host)
		snprintf(host, sizeof(host), "libciha");
	host[sizeof(host) - 1] = '\0';
	snprintf(fallback, sizeof(fallback), "libciha job %.200s failed on %.200s", job, host);
	details = json_pack("{s:s, s:s}", "job", job, "host", host);
	details_text = details ? json_dumps(details, JSON_COMPACT) : NULL;
	json_decref(details);
	if (!details_text)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha_pagerduty_trigger(NULL, pd, dedup_key, summary && *summary ? summary : fallback, host, "error",
	                            details_text);
	free(details_text);
	return rc;
}
