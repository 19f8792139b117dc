/* test_pagerduty.c: the Events API v2 client against tests/tools/pdreceiver.py
 * (a local PagerDuty stand-in): trigger/acknowledge/resolve, dedup keys, job
 * reports, retries on 429 and 5xx, 400 mapped to CIHA_EINVAL with PagerDuty's
 * message, and the routing key never in a TRACE log line or an error message. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <jansson.h>
#include <ciha.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "http_int.h"
#include "check.h"

#define KEY "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32"   /* 32 characters, as PagerDuty wants */

static FILE *receiver_pipe;
static long receiver_pid;
static char base_url[64];
static char enqueue_url[96];
static ciha__http *control;

/* ---- the receiver ---------------------------------------------------------------- */

static int receiver_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tools/pdreceiver.py' --max-seconds 300", srcdir);
	if (!(receiver_pipe = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof line, receiver_pipe)) {
		sscanf(line, "PORT %ld", &port);
		if (sscanf(line, "PID %ld", &receiver_pid) == 1)
			break;
	}
	if (!port || !receiver_pid)
		return -1;
	snprintf(base_url, sizeof base_url, "http://127.0.0.1:%ld", port);
	snprintf(enqueue_url, sizeof enqueue_url, "%s/v2/enqueue", base_url);
	return 0;
}

static void receiver_stop(void)
{
	if (receiver_pid > 0)
		kill((pid_t)receiver_pid, SIGTERM);
	if (receiver_pipe)
		pclose(receiver_pipe);
}

/* One request to the receiver: its HTTP status (0 when none came), the parsed answer in *answer (may be NULL). */
static long exchange(json_t **answer, const char *method, const char *path, const char *body)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[160];
	long status = 0;
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s%s", base_url, path);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = 10000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.outcome == CIHA__HTTP_OK)
		status = resp.status;
	if (answer)
		*answer = status ? json_loadb(resp.body.ptr ? resp.body.ptr : "", resp.body.len, 0, NULL) : NULL;
	ciha__http_response_dispose(&resp);
	return status;
}

/* A control request to the receiver; the parsed answer (new reference, never NULL). */
static json_t *receiver(const char *method, const char *path, const char *body)
{
	json_t *answer = NULL;
	long status = exchange(&answer, method, path, body);
	CHECK_MSG(status == 200 && answer != NULL, "%s %s failed: %ld", method, path, status);
	if (status != 200) {
		json_decref(answer);
		answer = NULL;
	}
	return answer ? answer : json_object();
}

static void receiver_reset(void)
{
	json_decref(receiver("POST", "/__pd/reset", ""));
}

static void receiver_script(const char *json_text)
{
	json_decref(receiver("POST", "/__pd/script", json_text));
}

/* The incident of dedup_key as the receiver keeps it (new reference; {} when none). */
static json_t *incident(const char *dedup_key)
{
	json_t *all = receiver("GET", "/__pd/incidents", NULL);
	json_t *one = json_object_get(all, dedup_key);
	json_t *copy = one ? json_incref(one) : json_object();
	json_decref(all);
	return copy;
}

static const char *field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static size_t requests_logged(void)
{
	json_t *log = receiver("GET", "/__pd/log", NULL);
	size_t n = json_array_size(log);
	json_decref(log);
	return n;
}

/* ---- a log sink that keeps every line ------------------------------------------------- */

static ciha__buf log_lines = CIHA__BUF_INIT;

static void keep_line(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	(void)payload;
	ciha__buf_printf(&log_lines, "%s %s: %s\n", ciha_log_level_name(level), subsystem, message);
}

static ciha_client *tracing_client(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	CHECK_INT(ciha_credentials_provider_new_static(&p, "AKIDPD", "pd-test-secret", NULL), CIHA_OK);
	o.region = "us-east-1";
	o.credentials = p;
	o.log_cb = keep_line;
	o.log_level = CIHA_LOG_TRACE;
	o.timeout_ms = 10000;
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	ciha_credentials_provider_release(p);
	return c;
}

static ciha_pagerduty *pager(const char *key)
{
	ciha_pagerduty *pd = NULL;
	CHECK_INT(ciha_pagerduty_new(&pd, key, enqueue_url, NULL), CIHA_OK);
	return pd;
}

static const char *last_message(void)
{
	return ciha_error_message(ciha_error_last());
}

/* ---- cases ------------------------------------------------------------------------------ */

static void test_pagerduty__trigger_acknowledge_resolve(void)
{
	ciha_pagerduty *pd = pager(KEY);
	char *dedup = NULL;
	json_t *inc, *details;
	receiver_reset();
	CHECK_INT(ciha_pagerduty_trigger(&dedup, pd, "nexus-elb", "Nexus ELB has no healthy host", "elb/nexus",
	                                 "critical", "{\"healthy\": 0, \"zone\": \"eu-west-1a\"}"), CIHA_OK);
	CHECK_STR(dedup, "nexus-elb");
	inc = incident("nexus-elb");
	CHECK_STR(field(inc, "status"), "triggered");
	CHECK_STR(field(inc, "summary"), "Nexus ELB has no healthy host");
	CHECK_STR(field(inc, "source"), "elb/nexus");
	CHECK_STR(field(inc, "severity"), "critical");
	CHECK_STR(field(inc, "routing_key"), KEY);
	details = json_object_get(inc, "custom_details");
	CHECK_INT(json_integer_value(json_object_get(details, "healthy")), 0);
	CHECK_STR(field(details, "zone"), "eu-west-1a");
	json_decref(inc);

	CHECK_INT(ciha_pagerduty_acknowledge(pd, "nexus-elb"), CIHA_OK);
	inc = incident("nexus-elb");
	CHECK_STR(field(inc, "status"), "acknowledged");
	json_decref(inc);
	CHECK_INT(ciha_pagerduty_resolve(pd, "nexus-elb"), CIHA_OK);
	inc = incident("nexus-elb");
	CHECK_STR(field(inc, "status"), "resolved");
	CHECK_INT(json_array_size(json_object_get(inc, "events")), 3);
	json_decref(inc);
	CHECK_INT(requests_logged(), 3);
	ciha_free(dedup);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__trigger_without_dedup_key_gets_pagerdutys(void)
{
	ciha_pagerduty *pd = pager(KEY);
	char *dedup = NULL;
	json_t *inc;
	receiver_reset();
	CHECK_INT(ciha_pagerduty_trigger(&dedup, pd, NULL, "disk full", "agent-3", "warning", NULL), CIHA_OK);
	CHECK(dedup != NULL && strlen(dedup) == 32);
	inc = incident(dedup ? dedup : "");
	CHECK_STR(field(inc, "status"), "triggered");
	CHECK(json_object_get(inc, "custom_details") == json_null());
	json_decref(inc);
	/* NULL out_dedup_key is allowed */
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, dedup, "disk full", "agent-3", "warning", NULL), CIHA_OK);
	inc = incident(dedup ? dedup : "");
	CHECK_INT(json_integer_value(json_object_get(inc, "triggers")), 2);
	json_decref(inc);
	ciha_free(dedup);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__report_job_pages_then_resolves_with_a_stable_key(void)
{
	ciha_pagerduty *pd = pager(KEY);
	json_t *inc;
	receiver_reset();
	CHECK_INT(ciha_pagerduty_report_job(pd, "rotate-nightly", 1, "rotation of vol-1 failed"), CIHA_OK);
	CHECK_INT(ciha_pagerduty_report_job(pd, "rotate-nightly", 1, NULL), CIHA_OK);
	inc = incident("ciha:rotate-nightly");
	CHECK_STR(field(inc, "status"), "triggered");
	CHECK_INT(json_integer_value(json_object_get(inc, "triggers")), 2);
	CHECK_INT(json_integer_value(json_object_get(inc, "opened")), 1);
	CHECK(strstr(field(inc, "summary"), "libciha job rotate-nightly failed on ") == field(inc, "summary"));
	CHECK_STR(field(inc, "severity"), "error");
	CHECK_STR(field(json_object_get(inc, "custom_details"), "job"), "rotate-nightly");
	json_decref(inc);
	CHECK_INT(ciha_pagerduty_report_job(pd, "rotate-nightly", 0, NULL), CIHA_OK);
	inc = incident("ciha:rotate-nightly");
	CHECK_STR(field(inc, "status"), "resolved");
	json_decref(inc);
	/* the next failure opens a new incident under the same key */
	CHECK_INT(ciha_pagerduty_report_job(pd, "rotate-nightly", 1, "failed again"), CIHA_OK);
	inc = incident("ciha:rotate-nightly");
	CHECK_STR(field(inc, "status"), "triggered");
	CHECK_STR(field(inc, "summary"), "failed again");
	CHECK_INT(json_integer_value(json_object_get(inc, "opened")), 2);
	json_decref(inc);
	CHECK_INT(ciha_pagerduty_report_job(pd, "", 1, NULL), CIHA_EINVAL);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__429_and_5xx_are_retried(void)
{
	ciha_pagerduty *pd = pager(KEY);
	receiver_reset();
	receiver_script("{\"responses\": [{\"status\": 429}]}");
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "retry-1", "s", "h", "info", NULL), CIHA_OK);
	CHECK_INT(requests_logged(), 2);
	receiver_reset();
	receiver_script("{\"responses\": [{\"status\": 500}, {\"status\": 503}]}");
	CHECK_INT(ciha_pagerduty_resolve(pd, "retry-1"), CIHA_OK);
	CHECK_INT(requests_logged(), 3);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__gives_up_after_three_attempts(void)
{
	ciha_pagerduty *pd = pager(KEY);
	const ciha_error *e;
	receiver_reset();
	receiver_script("{\"responses\": [{\"status\": 429}, {\"status\": 429}, {\"status\": 429}, {\"status\": 500}, "
	                "{\"status\": 502}, {\"status\": 500}]}");
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "s", "h", "info", NULL), CIHA_ETHROTTLED);
	e = ciha_error_last();
	CHECK_INT(ciha_error_http_status(e), 429);
	CHECK(ciha_error_is_retryable(e));
	CHECK_STR(ciha_error_service(e), "pagerduty");
	CHECK_INT(requests_logged(), 3);
	CHECK_INT(ciha_pagerduty_resolve(pd, "k"), CIHA_ERROR);
	e = ciha_error_last();
	CHECK_INT(ciha_error_http_status(e), 500);
	CHECK(ciha_error_is_retryable(e));
	CHECK(strstr(ciha_error_message(e), "HTTP 500") != NULL);
	CHECK_INT(requests_logged(), 6);
	/* nothing listening: a network error, after three attempts too */
	ciha_pagerduty_free(pd);
	CHECK_INT(ciha_pagerduty_new(&pd, KEY, "http://127.0.0.1:9/v2/enqueue", NULL), CIHA_OK);
	CHECK_INT(ciha_pagerduty_resolve(pd, "k"), CIHA_ENETWORK);
	CHECK(strstr(last_message(), "after 3 attempts") != NULL);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__400_is_einval_with_pagerdutys_message_not_the_key(void)
{
	const char *short_key = "sh0rtRoutingKey-31-characters-x";
	ciha_pagerduty *pd = pager(short_key);
	receiver_reset();
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "s", "h", "info", NULL), CIHA_EINVAL);
	CHECK_INT(ciha_error_http_status(ciha_error_last()), 400);
	CHECK_STR(last_message(), "PagerDuty refused the trigger event: Event object is invalid: Length of "
	          "'routing_key' is incorrect (should be 32 characters)");
	CHECK_INT(requests_logged(), 1);   /* a 400 is not retried */
	ciha_pagerduty_free(pd);
	/* an answer that echoes the key is scrubbed */
	pd = pager(KEY);
	receiver_script("{\"responses\": [{\"status\": 400, \"body\": {\"status\": \"invalid event\", \"message\": "
	                "\"Event object is invalid\", \"errors\": [\"unknown routing key " KEY "\"]}}]}");
	CHECK_INT(ciha_pagerduty_resolve(pd, "k"), CIHA_EINVAL);
	CHECK(strstr(last_message(), KEY) == NULL);
	CHECK_STR(last_message(), "PagerDuty refused the resolve event: Event object is invalid: unknown routing key "
	          "[redacted]");
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__arguments_are_checked_before_sending(void)
{
	ciha_pagerduty *pd = pager(KEY), *other = NULL;
	receiver_reset();
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "s", "h", "urgent", NULL), CIHA_EINVAL);
	CHECK(strstr(last_message(), "'urgent'") != NULL);
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "", "h", "info", NULL), CIHA_EINVAL);
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "s", NULL, "info", NULL), CIHA_EINVAL);
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "k", "s", "h", "info", "{not json"), CIHA_EINVAL);
	CHECK(strstr(last_message(), "custom details are not JSON") != NULL);
	CHECK_INT(ciha_pagerduty_resolve(pd, NULL), CIHA_EINVAL);
	CHECK_INT(ciha_pagerduty_acknowledge(pd, ""), CIHA_EINVAL);
	CHECK_INT(requests_logged(), 0);
	CHECK_INT(ciha_pagerduty_new(&other, "", enqueue_url, NULL), CIHA_EINVAL);
	CHECK_INT(ciha_pagerduty_new(&other, "key with space", enqueue_url, NULL), CIHA_EINVAL);
	CHECK(strstr(last_message(), "key with space") == NULL);
	CHECK_INT(ciha_pagerduty_new(&other, KEY, "http://events.example.com/v2/enqueue", NULL), CIHA_EINVAL);
	CHECK(strstr(last_message(), "must be https://") != NULL);
	CHECK_INT(ciha_pagerduty_new(&other, KEY, "ftp://127.0.0.1/x", NULL), CIHA_EINVAL);
	CHECK(other == NULL);
	CHECK_INT(ciha_pagerduty_new(&other, KEY, "https://events.eu.pagerduty.com/v2/enqueue", NULL), CIHA_OK);
	ciha_pagerduty_free(other);
	ciha_pagerduty_free(NULL);
	ciha_pagerduty_free(pd);
}

static void test_pagerduty__endpoint_from_the_environment(void)
{
	ciha_pagerduty *pd = NULL;
	json_t *inc;
	receiver_reset();
	setenv("CIHA_PAGERDUTY_URL", enqueue_url, 1);
	CHECK_INT(ciha_pagerduty_new(&pd, KEY, NULL, NULL), CIHA_OK);
	unsetenv("CIHA_PAGERDUTY_URL");
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "from-env", "s", "h", "info", NULL), CIHA_OK);
	inc = incident("from-env");
	CHECK_STR(field(inc, "status"), "triggered");
	json_decref(inc);
	ciha_pagerduty_free(pd);
	/* an explicit endpoint wins over the environment */
	setenv("CIHA_PAGERDUTY_URL", "http://127.0.0.1:9/v2/enqueue", 1);
	CHECK_INT(ciha_pagerduty_new(&pd, KEY, enqueue_url, NULL), CIHA_OK);
	unsetenv("CIHA_PAGERDUTY_URL");
	CHECK_INT(ciha_pagerduty_resolve(pd, "from-env"), CIHA_OK);
	ciha_pagerduty_free(pd);
}

/* The client's timeouts apply: a slow answer times out and is retried. */
static void test_pagerduty__client_timeouts_apply(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	ciha_pagerduty *pd = NULL;
	o.region = "us-east-1";
	o.timeout_ms = 300;
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	CHECK_INT(ciha_pagerduty_new(&pd, KEY, enqueue_url, c), CIHA_OK);
	receiver_reset();
	receiver_script("{\"responses\": [{\"delay_s\": 1}]}");
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "slow", "s", "h", "info", NULL), CIHA_OK);
	CHECK_INT(requests_logged(), 2);
	receiver_script("{\"responses\": [{\"delay_s\": 1}, {\"delay_s\": 1}, {\"delay_s\": 1}]}");
	CHECK_INT(ciha_pagerduty_resolve(pd, "slow"), CIHA_ETIMEOUT);
	CHECK(ciha_error_is_retryable(ciha_error_last()));
	ciha_pagerduty_free(pd);
	ciha_client_free(c);
}

/* The receiver itself, as the alarm drill uses it: SNS deliveries to the CloudWatch integration URL. */
static void test_receiver__cloudwatch_integration_url(void)
{
	const char *path = "/integration/" KEY "/enqueue";
	char confirmation[400];
	json_t *subs, *inc;
	receiver_reset();
	receiver_script("{\"confirm_subscriptions\": true}");
	snprintf(confirmation, sizeof confirmation, "{\"Type\": \"SubscriptionConfirmation\", \"TopicArn\": "
	         "\"arn:aws:sns:us-east-1:123456789012:pages\", \"Token\": \"t0k\", \"SubscribeURL\": "
	         "\"%s/__pd/incidents\"}", base_url);
	CHECK_INT(exchange(NULL, "POST", path, confirmation), 200);
	subs = receiver("GET", "/__pd/subscriptions", NULL);
	CHECK_INT(json_array_size(subs), 1);
	CHECK(json_is_true(json_object_get(json_array_get(subs, 0), "confirmed")));
	CHECK_STR(field(json_array_get(subs, 0), "TopicArn"), "arn:aws:sns:us-east-1:123456789012:pages");
	json_decref(subs);
	CHECK_INT(exchange(NULL, "POST", path, "{\"Type\": \"Notification\", \"Message\": \"{\\\"AlarmName\\\": "
	                   "\\\"ci-elb\\\", \\\"NewStateValue\\\": \\\"ALARM\\\", \\\"NewStateReason\\\": "
	                   "\\\"0 healthy\\\"}\"}"), 202);
	inc = incident("ci-elb");
	CHECK_STR(field(inc, "status"), "triggered");
	CHECK_STR(field(inc, "via"), "cloudwatch");
	CHECK_STR(field(inc, "summary"), "ci-elb: 0 healthy");
	CHECK_STR(field(inc, "routing_key"), KEY);
	json_decref(inc);
	CHECK_INT(exchange(NULL, "POST", path, "{\"Type\": \"Notification\", \"Message\": \"{\\\"AlarmName\\\": "
	                   "\\\"ci-elb\\\", \\\"NewStateValue\\\": \\\"INSUFFICIENT_DATA\\\"}\"}"), 202);
	CHECK_INT(exchange(NULL, "POST", path, "{\"Type\": \"Notification\", \"Message\": \"{\\\"AlarmName\\\": "
	                   "\\\"ci-elb\\\", \\\"NewStateValue\\\": \\\"OK\\\"}\"}"), 202);
	inc = incident("ci-elb");
	CHECK_STR(field(inc, "status"), "resolved");
	CHECK_INT(json_array_size(json_object_get(inc, "events")), 2);
	json_decref(inc);
	CHECK_INT(exchange(NULL, "POST", path, "{\"Type\": \"Notification\", \"Message\": \"not an alarm\"}"), 400);
	CHECK_INT(exchange(NULL, "POST", "/integration/short/enqueue", confirmation), 400);
	CHECK_INT(exchange(NULL, "POST", path, "not json"), 400);
	CHECK_INT(exchange(NULL, "POST", "/elsewhere", "{}"), 404);
}

static void test_pagerduty__key_never_in_trace_logs_or_errors(void)
{
	ciha_client *c = tracing_client();
	ciha_pagerduty *pd = NULL;
	ciha__buf_clear(&log_lines);
	receiver_reset();
	CHECK_INT(ciha_pagerduty_new(&pd, KEY, enqueue_url, c), CIHA_OK);
	CHECK_INT(ciha_pagerduty_trigger(NULL, pd, "traced", "s", "h", "info", "{\"routing_key\": \"" KEY "\"}"),
	          CIHA_OK);
	CHECK_INT(ciha_pagerduty_acknowledge(pd, "traced"), CIHA_OK);
	receiver_script("{\"responses\": [{\"status\": 429}, {\"status\": 400, \"body\": {\"message\": \"bad "
	                KEY "\", \"routing_key\": \"" KEY "\"}}]}");
	CHECK_INT(ciha_pagerduty_resolve(pd, "traced"), CIHA_EINVAL);
	CHECK(strstr(last_message(), KEY) == NULL);
	CHECK(strstr(ciha__buf_cstr(&log_lines), "> POST /v2/enqueue") != NULL);
	CHECK(strstr(ciha__buf_cstr(&log_lines), "< HTTP/1.") != NULL);
	CHECK(strstr(ciha__buf_cstr(&log_lines), "TRACE http") != NULL);
	CHECK(strstr(ciha__buf_cstr(&log_lines), "INFO pd: trigger accepted") != NULL);
	CHECK(strstr(ciha__buf_cstr(&log_lines), "retrying in") != NULL);
	CHECK_MSG(strstr(ciha__buf_cstr(&log_lines), KEY) == NULL, "the key is in the log:\n%s",
	          ciha__buf_cstr(&log_lines));
	CHECK_MSG(strstr(ciha__buf_cstr(&log_lines), "R0ut1ngKey") == NULL, "part of the key is in the log");
	ciha_pagerduty_free(pd);
	ciha_client_free(c);
}

int main(void)
{
	long outstanding;
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	outstanding = ciha__alloc_outstanding();
	if (ciha__http_new(&control, NULL) != CIHA_OK || receiver_start() != 0) {
		fprintf(stderr, "test_pagerduty: tests/tools/pdreceiver.py did not start (python3? CIHA_SRCDIR=%s)\n",
		        getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : "(unset)");
		receiver_stop();
		return 1;
	}
	RUN(test_pagerduty__trigger_acknowledge_resolve);
	RUN(test_pagerduty__trigger_without_dedup_key_gets_pagerdutys);
	RUN(test_pagerduty__report_job_pages_then_resolves_with_a_stable_key);
	RUN(test_pagerduty__429_and_5xx_are_retried);
	RUN(test_pagerduty__gives_up_after_three_attempts);
	RUN(test_pagerduty__400_is_einval_with_pagerdutys_message_not_the_key);
	RUN(test_pagerduty__arguments_are_checked_before_sending);
	RUN(test_pagerduty__endpoint_from_the_environment);
	RUN(test_pagerduty__key_never_in_trace_logs_or_errors);
	RUN(test_pagerduty__client_timeouts_apply);
	RUN(test_receiver__cloudwatch_integration_url);
	receiver_stop();
	ciha__http_free(control);
	ciha__buf_dispose(&log_lines);
	ciha_error_clear();
	CHECK_CASE("no allocation outlives its object", ciha__alloc_outstanding() == outstanding);
	ciha_global_cleanup();
	return CHECK_DONE("test_pagerduty");
}
