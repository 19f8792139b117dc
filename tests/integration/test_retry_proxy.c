/* test_retry_proxy.c: retries, backoff, quota and transport errors end to end,
 * through tests/tools/faultproxy.py in front of its echo upstream (or moto,
 * when CIHA_TEST_ENDPOINT is set). Backoff is scaled down with
 * CIHA_TEST_BACKOFF_SCALE except in the case that checks real delays. */
#define _POSIX_C_SOURCE 200809L
#define CIHA_TESTING 1   /* linked against libciha_test.la: the test seams exist */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <jansson.h>
#include "../check.h"
#include "ciha/call.h"
#include "ciha/client.h"
#include "client_int.h"
#include "http_int.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "FQoGZXIvYXdzEXAMPLESESSIONTOKENvalue0123456789"

static FILE *proxy_pipe;
static long proxy_pid;
static char proxy_url[64];
static ciha__http *control;
static ciha_credentials_provider *creds;

/* ---- the proxy --------------------------------------------------------------- */

static void proxy_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	const char *upstream = getenv("CIHA_TEST_ENDPOINT");
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tools/faultproxy.py' %s%s --max-seconds 120", srcdir,
	         upstream && *upstream ? "--upstream " : "--upstream-echo", upstream && *upstream ? upstream : "");
	proxy_pipe = popen(cmd, "r");
	if (!proxy_pipe)
		CHECK_SKIP("cannot run python3 for tests/tools/faultproxy.py");
	while (fgets(line, sizeof line, proxy_pipe)) {
		sscanf(line, "PORT %ld", &port);
		if (sscanf(line, "PID %ld", &proxy_pid) == 1)
			break;
	}
	if (!port || !proxy_pid) {
		fprintf(stderr, "faultproxy.py did not start (is python3 installed?)\n");
		exit(1);
	}
	snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%ld", port);
	fprintf(stderr, "# faultproxy at %s -> %s\n", proxy_url, upstream && *upstream ? upstream : "echo upstream");
}

static void proxy_stop(void)
{
	kill((pid_t)proxy_pid, SIGTERM);
	pclose(proxy_pipe);
}

/* A control request; returns the parsed JSON answer (caller decrefs). */
static json_t *proxy_control(const char *method, const char *path, const char *body)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[128];
	json_t *answer = NULL;
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s%s", proxy_url, path);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = 5000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.outcome == CIHA__HTTP_OK && resp.status == 200)
		answer = json_loadb(resp.body.ptr, resp.body.len, 0, NULL);
	CHECK_MSG(answer != NULL, "%s %s failed: %ld %s", method, path, resp.status, resp.transport_error);
	ciha__http_response_dispose(&resp);
	return answer;
}

static void proxy_script(const char *script)
{
	json_decref(proxy_control("POST", "/__proxy/reset", ""));
	json_decref(proxy_control("POST", "/__proxy/script", script));
}

static json_t *proxy_log(void)
{
	json_t *log = proxy_control("GET", "/__proxy/log", NULL);
	return log ? log : json_array();
}

static size_t proxy_requests(void)
{
	json_t *log = proxy_log();
	size_t n = json_array_size(log);
	json_decref(log);
	return n;
}

/* ---- clients and calls ----------------------------------------------------------- */

static char log_text[1 << 16];

static void capture_log(ciha_log_level level, const char *subsystem, const char *msg, void *payload)
{
	size_t used = strlen(log_text);
	(void)level;
	(void)payload;
	snprintf(log_text + used, sizeof log_text - used, "%s: %s\n", subsystem, msg);
}

static ciha_client *client_with(long timeout_ms, ciha_log_level level)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	o.region = "us-east-1";
	o.endpoint_url = proxy_url;
	o.credentials = creds;
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = 2000;
	o.log_cb = capture_log;
	o.log_level = level;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	log_text[0] = '\0';
	if (ciha_client_new(&c, &o) != CIHA_OK) {
		fprintf(stderr, "ciha_client_new: %s\n", ciha_error_message(ciha_error_last()));
		exit(1);
	}
	return c;
}

static ciha_client *client_new(void)
{
	return client_with(5000, CIHA_LOG_DEBUG);
}

static int describe_stacks(ciha_client *c)
{
	json_t *out = NULL;
	int rc = ciha_call(&out, c, "cloudformation", "DescribeStacks", NULL);
	CHECK_MSG(rc != CIHA_OK || json_is_object(out), "no result object");
	json_decref(out);
	return rc;
}

/* Retried then successful: `failures` requests failed, then one succeeded. */
static void check_recovers(const char *script, int failures)
{
	ciha_client *c = client_new();
	int rc;
	proxy_script(script);
	rc = describe_stacks(c);
	CHECK_MSG(rc == CIHA_OK, "%s: %s", script, ciha_error_message(ciha_client_error(c)));
	CHECK_INT(ciha_client_last_attempts(c), failures + 1);
	CHECK_INT(proxy_requests(), failures + 1);
	ciha_client_free(c);
}

/* ---- cases ------------------------------------------------------------------------ */

static double entry_time(json_t *log, size_t i)
{
	return json_real_value(json_object_get(json_array_get(log, i), "time"));
}

/* The delays the client announced, in order. */
static int announced_delays(long *ms, int max)
{
	const char *p = log_text;
	int n = 0;
	while (n < max && (p = strstr(p, "retrying in "))) {
		ms[n++] = strtol(p + strlen("retrying in "), NULL, 10);
		p++;
	}
	return n;
}

static void test_retry__throttling_twice_then_success_real_delays(void)
{
	ciha_client *c;
	json_t *log;
	long delays[4];
	int i;
	unsetenv("CIHA_TEST_BACKOFF_SCALE");
	c = client_new();
	proxy_script("[\"throttling\", \"throttling\"]");
	CHECK_INT(describe_stacks(c), CIHA_OK);
	CHECK_INT(ciha_client_last_attempts(c), 3);
	log = proxy_log();
	CHECK_INT(json_array_size(log), 3);
	CHECK_STR(json_string_value(json_object_get(json_array_get(log, 0), "action")), "DescribeStacks");
	CHECK_STR(json_string_value(json_object_get(json_array_get(log, 0), "fault")), "throttling");
	CHECK_STR(json_string_value(json_object_get(json_array_get(log, 2), "fault")), "pass");
	CHECK_INT(announced_delays(delays, 4), 2);
	for (i = 0; i < 2 && json_array_size(log) == 3; i++) {
		double gap_ms = (entry_time(log, (size_t)i + 1) - entry_time(log, (size_t)i)) * 1000.0;
		long cap_ms = 1000L << i;   /* full jitter: below 2^(i) s before retry i+1 */
		CHECK_MSG(delays[i] >= 0 && delays[i] < cap_ms, "delay %d: %ld ms", i + 1, delays[i]);
		CHECK_MSG(gap_ms >= (double)delays[i] - 5 && gap_ms < (double)delays[i] + 500,
		          "gap %d: %.0f ms for a %ld ms delay", i + 1, gap_ms, delays[i]);
	}
	json_decref(log);
	ciha_client_free(c);
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
}

static void test_retry__ec2_request_limit_exceeded(void)
{
	ciha_client *c = client_new();
	json_t *out = NULL;
	proxy_script("[\"ec2_throttle\"]");
	CHECK_INT(ciha_call(&out, c, "ec2", "DescribeRegions", NULL), CIHA_OK);
	CHECK_INT(ciha_client_last_attempts(c), 2);
	CHECK_INT(proxy_requests(), 2);
	CHECK(strstr(log_text, "RequestLimitExceeded") != NULL);
	json_decref(out);
	ciha_client_free(c);
}

static void test_retry__http_500_and_503(void)
{
	check_recovers("[\"http500\", \"http503\"]", 2);
}

static void test_retry__connection_reset(void)
{
	check_recovers("[\"reset\"]", 1);
}

static void test_retry__truncated_body(void)
{
	check_recovers("[\"truncated\"]", 1);
}

static void test_retry__timeout_with_short_client_timeout(void)
{
	ciha_client *c = client_with(400, CIHA_LOG_DEBUG);
	proxy_script("[{\"kind\": \"timeout\", \"seconds\": 3}]");
	CHECK_MSG(describe_stacks(c) == CIHA_OK, "%s", ciha_error_message(ciha_client_error(c)));
	CHECK_INT(ciha_client_last_attempts(c), 2);
	CHECK_INT(proxy_requests(), 2);
	ciha_client_free(c);
}

static void test_retry__timeouts_exhaust_attempts(void)
{
	ciha_client *c = client_with(300, CIHA_LOG_DEBUG);
	const ciha_error *e;
	proxy_script("[{\"kind\":\"timeout\",\"seconds\":2},{\"kind\":\"timeout\",\"seconds\":2},"
	             "{\"kind\":\"timeout\",\"seconds\":2}]");
	CHECK_INT(describe_stacks(c), CIHA_ETIMEOUT);
	e = ciha_client_error(c);
	CHECK_INT(ciha_error_code(e), CIHA_ETIMEOUT);
	CHECK(ciha_error_is_retryable(e));
	CHECK_MSG(strstr(ciha_error_message(e), "after 3 attempts") != NULL, "%s", ciha_error_message(e));
	CHECK_INT(proxy_requests(), 3);
	/* timeouts cost 10 tokens each */
	CHECK_INT(c->quota.capacity, 480);
	ciha_client_free(c);
}

static void test_retry__max_attempts_from_env(void)
{
	ciha_client *c;
	const ciha_error *e;
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	c = client_new();
	unsetenv("AWS_MAX_ATTEMPTS");
	proxy_script("[\"http503\", \"http503\", \"http503\"]");
	CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(proxy_requests(), 2);
	CHECK_INT(ciha_client_last_attempts(c), 2);
	e = ciha_client_error(c);
	CHECK_INT(ciha_error_http_status(e), 503);
	CHECK_STR(ciha_error_aws_code(e), "503");
	CHECK_STR(ciha_error_service(e), "cloudformation");
	CHECK(ciha_error_is_retryable(e));
	CHECK_MSG(strstr(ciha_error_message(e), "after 2 attempts") != NULL, "%s", ciha_error_message(e));
	ciha_client_free(c);
}

static void test_retry__validation_error_not_retried(void)
{
	ciha_client *c = client_new();
	const ciha_error *e;
	proxy_script("[{\"kind\": \"error\", \"status\": 400, \"code\": \"ValidationError\", "
	             "\"message\": \"Stack with id nope does not exist\"}]");
	CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(proxy_requests(), 1);
	CHECK_INT(ciha_client_last_attempts(c), 1);
	e = ciha_client_error(c);
	CHECK_STR(ciha_error_aws_code(e), "ValidationError");
	CHECK_INT(ciha_error_http_status(e), 400);
	CHECK(!ciha_error_is_retryable(e));
	CHECK(ciha_error_request_id(e) && *ciha_error_request_id(e));
	CHECK_MSG(strstr(ciha_error_message(e), "Stack with id nope does not exist") != NULL, "%s",
	          ciha_error_message(e));
	ciha_client_free(c);
}

static void test_retry__sns_throttled_429_not_retried(void)
{
	ciha_client *c = client_new();
	proxy_script("[{\"kind\": \"error\", \"status\": 429, \"code\": \"Throttled\"}]");
	CHECK_INT(describe_stacks(c), CIHA_ETHROTTLED);
	CHECK_INT(proxy_requests(), 1);
	ciha_client_free(c);
}

static void test_retry__malformed_body_is_a_clear_error(void)
{
	ciha_client *c = client_new();
	const ciha_error *e;
	proxy_script("[\"malformed\"]");
	CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(proxy_requests(), 1);
	e = ciha_client_error(c);
	CHECK_INT(ciha_error_http_status(e), 200);
	CHECK_MSG(strstr(ciha_error_message(e), "not well-formed XML") != NULL, "%s", ciha_error_message(e));
	ciha_client_free(c);
}

static void test_retry__quota_stops_a_retry_storm(void)
{
	ciha_client *c = client_new();
	int call;
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.001", 1);
	proxy_script("{\"rate\": 1.0, \"kinds\": [\"http503\"]}");
	/* 500 tokens / (2 retries x 5) = 50 calls with 3 attempts each */
	for (call = 0; call < 50; call++)
		CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(proxy_requests(), 150);
	CHECK_INT(c->quota.capacity, 0);
	CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(describe_stacks(c), CIHA_EAWS);
	CHECK_INT(proxy_requests(), 152);
	CHECK_INT(ciha_client_last_attempts(c), 1);
	CHECK_MSG(strstr(ciha_error_message(ciha_client_error(c)), "retry quota is exhausted") != NULL, "%s",
	          ciha_error_message(ciha_client_error(c)));
	/* a first-time success gives one token back; still not enough for a retry */
	proxy_script("[]");
	CHECK_INT(describe_stacks(c), CIHA_OK);
	CHECK_INT(c->quota.capacity, 1);
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	ciha_client_free(c);
}

static void test_retry__connection_kept_alive(void)
{
	ciha_client *c = client_new();
	proxy_script("[]");
	CHECK_INT(describe_stacks(c), CIHA_OK);
	CHECK_INT(describe_stacks(c), CIHA_OK);
	CHECK_INT(describe_stacks(c), CIHA_OK);
	if (!getenv("CIHA_TEST_ENDPOINT"))   /* moto answers Connection: close, which the proxy passes on */
		CHECK_INT(ciha__http_connections_opened(c->http), 1);
	/* a reset costs a new connection */
	proxy_script("[\"reset\"]");
	CHECK_INT(describe_stacks(c), CIHA_OK);
	if (!getenv("CIHA_TEST_ENDPOINT"))
		CHECK_INT(ciha__http_connections_opened(c->http), 2);
	ciha_client_free(c);
}

static void test_retry__connection_refused(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	json_t *out = NULL;
	o.region = "us-east-1";
	o.endpoint_url = "http://127.0.0.1:1";
	o.credentials = creds;
	o.max_attempts = 2;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	CHECK_INT(ciha_call(&out, c, "sts", "GetCallerIdentity", NULL), CIHA_ENETWORK);
	CHECK_INT(ciha_client_last_attempts(c), 2);
	CHECK(ciha_error_is_retryable(ciha_client_error(c)));
	CHECK_MSG(strstr(ciha_error_message(ciha_client_error(c)), "could not connect to http://127.0.0.1:1") != NULL,
	          "%s", ciha_error_message(ciha_client_error(c)));
	ciha_client_free(c);
}

static void test_retry__tls_failure_not_retried(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	json_t *out = NULL;
	char https_url[80];
	snprintf(https_url, sizeof https_url, "https://%s", proxy_url + strlen("http://"));
	o.region = "us-east-1";
	o.endpoint_url = https_url;   /* the proxy speaks plain HTTP: the handshake fails */
	o.credentials = creds;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	CHECK_INT(ciha_call(&out, c, "sts", "GetCallerIdentity", NULL), CIHA_ENETWORK);
	CHECK_INT(ciha_client_last_attempts(c), 1);
	CHECK(!ciha_error_is_retryable(ciha_client_error(c)));
	CHECK_MSG(strstr(ciha_error_message(ciha_client_error(c)), "TLS") != NULL, "%s",
	          ciha_error_message(ciha_client_error(c)));
	ciha_client_free(c);
}

static void test_retry__trace_log_is_redacted(void)
{
	ciha_credentials_provider *with_token = NULL;
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	json_t *out = NULL;
	CHECK_INT(ciha_credentials_provider_new_static(&with_token, "ASIAEXAMPLEKEYID", SECRET, TOKEN), CIHA_OK);
	o.region = "us-east-1";
	o.endpoint_url = proxy_url;
	o.credentials = with_token;
	o.log_cb = capture_log;
	o.log_level = CIHA_LOG_TRACE;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	log_text[0] = '\0';
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	proxy_script("[]");
	CHECK_INT(ciha_call(&out, c, "cloudformation", "DescribeStacks", NULL), CIHA_OK);
	CHECK_MSG(strstr(log_text, "> POST / HTTP/1.1") != NULL, "%s", log_text);
	CHECK_MSG(strstr(log_text, "< HTTP/1.") != NULL, "%s", log_text);
	CHECK_MSG(strstr(log_text, "Credential=ASIAEXAMPLEKEYID/") != NULL, "%s", log_text);
	CHECK_MSG(strstr(log_text, "Signature=[redacted]") != NULL, "%s", log_text);
	CHECK_MSG(strstr(log_text, "X-Amz-Security-Token: [redacted]") != NULL, "%s", log_text);
	CHECK(strstr(log_text, TOKEN) == NULL);
	CHECK(strstr(log_text, SECRET) == NULL);
	CHECK(strstr(log_text, "Expect:") == NULL);
	json_decref(out);
	ciha_client_free(c);
	ciha_credentials_provider_release(with_token);
}

static void test_retry__http_captures_status_reason_and_headers(void)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[128];
	const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
	proxy_script("[{\"kind\": \"error\", \"status\": 503, \"code\": \"SlowDown\", \"retry_after_ms\": 1500}]");
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s/", proxy_url);
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.body = "Action=Probe";
	req.body_len = strlen(req.body);
	ciha__http_response_init(&resp);
	CHECK_INT(ciha__http_perform(control, &req, &resp), CIHA_OK);
	CHECK_INT(resp.outcome, CIHA__HTTP_OK);
	CHECK_INT(resp.status, 503);
	CHECK_STR(resp.reason, "Service Unavailable");
	CHECK_STR(resp.retry_after_ms, "1500");
	CHECK_INT(strlen(resp.request_id), 36);
	CHECK(strstr(ciha__buf_cstr(&resp.body), "<Code>SlowDown</Code>") != NULL);
	ciha__http_response_dispose(&resp);
	CHECK_INT(proxy_requests(), 1);
}

/* The CIHA_TESTING seam: canned responses instead of the network. */
static int canned_transport(const ciha__http_request *req, ciha__http_response *resp, void *payload)
{
	int *calls = payload;
	(*calls)++;
	CHECK_STR(req->method, "POST");
	resp->outcome = CIHA__HTTP_OK;
	if (*calls == 1) {
		resp->status = 500;
		snprintf(resp->reason, sizeof resp->reason, "Internal Server Error");
		return CIHA_OK;
	}
	resp->status = 200;
	snprintf(resp->request_id, sizeof resp->request_id, "canned-id");
	ciha__buf_puts(&resp->body, "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012"
	                            "</Account></GetCallerIdentityResult></GetCallerIdentityResponse>");
	return CIHA_OK;
}

static void test_retry__test_transport_replaces_the_network(void)
{
	ciha_client *c = client_new();
	json_t *out = NULL;
	int calls = 0;
	proxy_script("[]");
	ciha__http_set_test_transport(canned_transport, &calls);
	CHECK_INT(ciha_call(&out, c, "sts", "GetCallerIdentity", NULL), CIHA_OK);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_INT(calls, 2);
	CHECK_STR(json_string_value(json_object_get(out, "Account")), "123456789012");
	CHECK_STR(ciha_client_last_request_id(c), "canned-id");
	CHECK_INT(ciha_client_last_attempts(c), 2);
	CHECK_INT(proxy_requests(), 0);
	json_decref(out);
	ciha_client_free(c);
}

int main(void)
{
	if (ciha_global_init(0) != CIHA_OK)
		return 1;
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	proxy_start();
	if (ciha__http_new(&control, NULL) != CIHA_OK ||
	    ciha_credentials_provider_new_static(&creds, "AKIDEXAMPLE", SECRET, NULL) != CIHA_OK)
		return 1;
	RUN(test_retry__throttling_twice_then_success_real_delays);
	RUN(test_retry__ec2_request_limit_exceeded);
	RUN(test_retry__http_500_and_503);
	RUN(test_retry__connection_reset);
	RUN(test_retry__truncated_body);
	RUN(test_retry__timeout_with_short_client_timeout);
	RUN(test_retry__timeouts_exhaust_attempts);
	RUN(test_retry__max_attempts_from_env);
	RUN(test_retry__validation_error_not_retried);
	RUN(test_retry__sns_throttled_429_not_retried);
	RUN(test_retry__malformed_body_is_a_clear_error);
	RUN(test_retry__quota_stops_a_retry_storm);
	RUN(test_retry__connection_kept_alive);
	RUN(test_retry__connection_refused);
	RUN(test_retry__tls_failure_not_retried);
	RUN(test_retry__trace_log_is_redacted);
	RUN(test_retry__test_transport_replaces_the_network);
	RUN(test_retry__http_captures_status_reason_and_headers);
	ciha_credentials_provider_release(creds);
	ciha__http_free(control);
	proxy_stop();
	ciha_global_cleanup();
	return CHECK_DONE("test_retry_proxy");
}
