/* test_multi.c: concurrent calls (multi.c) against moto (CIHA_TEST_ENDPOINT),
 * directly and through tests/tools/faultproxy.py injecting throttling, 5xx and
 * connection resets: every request finishes exactly once, retried as
 * ciha__client_send would, with the in-flight limit adapting to throttling. */
#define _POSIX_C_SOURCE 200809L
#define CIHA_TESTING 1   /* linked against libciha_test.la */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <jansson.h>
#include "../check.h"
#include "ciha/call.h"
#include "ciha/client.h"
#include "alloc_int.h"
#include "client_int.h"
#include "multi_int.h"
#include "time_int.h"

#define COUNT 200
#define MISSING_ID "snap-0123456789abcdef0"

static const char *moto_url;
static ciha__http *control;
static ciha_credentials_provider *creds;

/* ---- faultproxy: one in front of moto, one answering by itself ---------------------- */

typedef struct {
	FILE *out;
	long pid;
	char url[64];
} proxy;

static proxy to_moto, echo;

static void proxy_launch(proxy *p, const char *upstream)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tools/faultproxy.py' %s%s --max-seconds 120", srcdir,
	         upstream ? "--upstream " : "--upstream-echo", upstream ? upstream : "");
	if (!(p->out = popen(cmd, "r")))
		CHECK_SKIP("cannot run python3 for tests/tools/faultproxy.py");
	while (!p->pid && fgets(line, sizeof line, p->out))
		if (sscanf(line, "PORT %ld", &port) != 1)
			sscanf(line, "PID %ld", &p->pid);
	if (!port || !p->pid) {
		fprintf(stderr, "tests/tools/faultproxy.py did not start\n");
		exit(1);
	}
	snprintf(p->url, sizeof p->url, "http://127.0.0.1:%ld", port);
}

static void proxy_stop(proxy *p)
{
	kill((pid_t)p->pid, SIGTERM);
	pclose(p->out);
}

/* POST (post_body not NULL) or GET a control path; the answer's body (caller frees) or NULL. */
static char *proxy_do(const proxy *p, const char *path, const char *post_body)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[160];
	char *answer = NULL;
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s%s", p->url, path);
	req.url = url;
	req.method = post_body ? "POST" : "GET";
	req.body = post_body;
	req.body_len = post_body ? strlen(post_body) : 0;
	req.timeout_ms = 5000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.status == 200)
		answer = ciha__buf_detach(&resp.body);
	CHECK_MSG(answer != NULL, "faultproxy %s: HTTP %ld %s", path, resp.status, resp.transport_error);
	ciha__http_response_dispose(&resp);
	return answer;
}

static void proxy_faults(const proxy *p, const char *script)
{
	ciha__free(proxy_do(p, "/__proxy/reset", ""));
	ciha__free(proxy_do(p, "/__proxy/script", script));
}

/* The proxy's log as JSON (never NULL). */
static json_t *proxy_log(const proxy *p)
{
	char *text = proxy_do(p, "/__proxy/log", NULL);
	json_t *log = text ? json_loads(text, 0, NULL) : NULL;
	ciha__free(text);
	return log ? log : json_array();
}

/* ---- clients and the runs ------------------------------------------------------------- */

static ciha_client *client_for(const char *url, int max_attempts)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	o.region = "us-east-1";
	o.endpoint_url = url;
	o.credentials = creds;
	o.max_attempts = max_attempts;
	o.timeout_ms = 10000;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	if (ciha_client_new(&c, &o) != CIHA_OK) {
		fprintf(stderr, "ciha_client_new: %s\n", ciha_error_message(ciha_error_last()));
		exit(1);
	}
	return c;
}

/* What the callback saw, per request (user = index + 1). */
typedef struct {
	int calls[COUNT + 8];
	int rc[COUNT + 8];
	char ids[COUNT + 8][32];        /* snapshotId of a CreateSnapshot answer */
	char aws_code[COUNT + 8][64];
	char request_id[COUNT + 8][64];
	int http_status[COUNT + 8];
	int retryable[COUNT + 8];
} outcomes;

static void copy_text(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

static void record(void *user, int rc, const ciha__xml_node *root, const ciha_error *err, void *payload)
{
	outcomes *o = payload;
	size_t i = (size_t)user - 1;
	o->calls[i]++;
	o->rc[i] = rc;
	if (rc == CIHA_OK) {
		copy_text(o->ids[i], sizeof o->ids[i], ciha__xml_path_text(root, "snapshotId"));
		return;
	}
	copy_text(o->aws_code[i], sizeof o->aws_code[i], ciha_error_aws_code(err));
	copy_text(o->request_id[i], sizeof o->request_id[i], ciha_error_request_id(err));
	o->http_status[i] = ciha_error_http_status(err);
	o->retryable[i] = ciha_error_is_retryable(err);
	if (getenv("CHECK_VERBOSE"))
		fprintf(stderr, "  request %zu: %s\n", i, ciha_error_message(err));
}

static int run_multi(ciha__multi *m, outcomes *o, ciha__multi_stats *stats, double *seconds)
{
	long long t0 = ciha__mono_ms();
	int rc = ciha__multi_run(m, record, o);
	if (seconds)
		*seconds = (double)(ciha__mono_ms() - t0) / 1000.0;
	ciha__multi_stats_get(m, stats);
	return rc;
}

static json_t *params1(const char *key, const char *value)
{
	return json_pack("{ss}", key, value);
}

static void queue(ciha__multi *m, const char *action, const char *key, const char *value, size_t i)
{
	json_t *p = params1(key, value);
	CHECK_INT(ciha__multi_add(m, ciha__service_find("ec2"), action, p, (void *)(i + 1)), CIHA_OK);
	json_decref(p);
}

/* A client, a multi handle on it and what the callbacks saw. */
typedef struct {
	ciha_client *client;
	ciha__multi *multi;
	outcomes *seen;
	ciha__multi_stats stats;
} fixture;

/* Takes over `client`. */
static void fixture_open(fixture *f, ciha_client *client, int concurrency)
{
	memset(f, 0, sizeof *f);
	f->client = client;
	f->seen = ciha__calloc(1, sizeof *f->seen);
	CHECK_INT(ciha__multi_new(&f->multi, client, concurrency), CIHA_OK);
}

static void fixture_run(fixture *f, double *seconds)
{
	CHECK_INT(run_multi(f->multi, f->seen, &f->stats, seconds), CIHA_OK);
}

static void fixture_close(fixture *f)
{
	ciha__multi_free(f->multi);
	ciha_client_free(f->client);
	ciha__free(f->seen);
}

/* Requests from..to-1 of `action` without parameters. */
static void queue_plain(fixture *f, const char *action, size_t from, size_t to)
{
	size_t i;
	for (i = from; i < to; i++)
		CHECK_INT(ciha__multi_add(f->multi, ciha__service_find("ec2"), action, NULL, (void *)(i + 1)), CIHA_OK);
}

/* Every one of the first n requests finished once, with this code. */
static void check_each_once(const fixture *f, size_t n, int rc)
{
	size_t i;
	for (i = 0; i < n; i++) {
		CHECK_MSG(f->seen->calls[i] == 1, "request %zu: %d callbacks", i, f->seen->calls[i]);
		CHECK_MSG(f->seen->rc[i] == rc, "request %zu: %d %s", i, f->seen->rc[i], f->seen->aws_code[i]);
	}
}

/* A new volume and `n` snapshots of it, made concurrently; ids[i] are theirs. */
static char *make_snapshots(outcomes *made, size_t n)
{
	fixture f;
	json_t *out = NULL, *p = json_pack("{sssi}", "AvailabilityZone", "us-east-1a", "Size", 1);
	char *volume = NULL;
	size_t i;
	fixture_open(&f, client_for(moto_url, 0), 8);
	if (ciha_call(&out, f.client, "ec2", "CreateVolume", p) == CIHA_OK)
		volume = ciha__strdup(json_string_value(json_object_get(out, "volumeId")));
	CHECK_MSG(volume != NULL, "CreateVolume: %s", ciha_error_message(ciha_client_error(f.client)));
	for (i = 0; volume && i < n; i++)
		queue(f.multi, "CreateSnapshot", "VolumeId", volume, i);
	fixture_run(&f, NULL);
	check_each_once(&f, n, CIHA_OK);
	for (i = 0; i < n; i++)
		CHECK_MSG(strncmp(f.seen->ids[i], "snap-", 5) == 0, "snapshot %zu: [%s]", i, f.seen->ids[i]);
	CHECK_INT(f.stats.retries, 0);
	memcpy(made, f.seen, sizeof *made);
	fixture_close(&f);
	json_decref(p);
	json_decref(out);
	return volume;
}

static size_t snapshots_of(const char *volume)
{
	ciha_client *c = client_for(moto_url, 0);
	json_t *out = NULL;
	json_t *p = json_pack("{s[{sss[s]}]}", "Filter", "Name", "volume-id", "Value", volume);
	size_t n = (size_t)-1;
	if (ciha_call(&out, c, "ec2", "DescribeSnapshots", p) == CIHA_OK)
		n = json_array_size(json_object_get(out, "snapshotSet"));
	json_decref(out);
	json_decref(p);
	ciha_client_free(c);
	return n;
}

typedef struct {
	const char *url;
	int concurrency;
	int max_attempts;
	const char *faults;      /* faultproxy script, NULL when direct */
} delete_run;

/* Make COUNT snapshots, delete them with one multi run; every callback once and
 * OK. *log (if asked for) is what the proxy saw of the run. */
static void delete_all(const delete_run *d, ciha__multi_stats *stats, double *seconds, int *last_attempts,
                       json_t **log)
{
	outcomes *made = ciha__calloc(1, sizeof *made);
	char *volume = make_snapshots(made, COUNT);
	fixture f;
	size_t i;
	fixture_open(&f, client_for(d->url, d->max_attempts), d->concurrency);
	for (i = 0; i < COUNT; i++)
		queue(f.multi, "DeleteSnapshot", "SnapshotId", made->ids[i], i);
	if (d->faults)
		proxy_faults(&to_moto, d->faults);
	fixture_run(&f, seconds);
	if (log)
		*log = proxy_log(&to_moto);
	if (d->faults)
		proxy_faults(&to_moto, "[]");
	check_each_once(&f, COUNT, CIHA_OK);
	CHECK_INT(f.stats.requests, COUNT + f.stats.retries);
	CHECK_INT(snapshots_of(volume), 0);
	*stats = f.stats;
	*last_attempts = ciha_client_last_attempts(f.client);
	fixture_close(&f);
	ciha__free(volume);
	ciha__free(made);
}

static void report_rate(const char *what, const delete_run *d, double seconds)
{
	printf("# %d deletes %s, concurrency %d: %.2f s, %.0f requests/s\n", COUNT, what, d->concurrency, seconds,
	       seconds > 0 ? COUNT / seconds : 0.0);
}

/* ---- cases ---------------------------------------------------------------------------- */

static void test_multi__deletes_direct_at_concurrency_1_and_8(void)
{
	delete_run one = { NULL, 1, 0, NULL }, eight = { NULL, 8, 0, NULL };
	ciha__multi_stats s1, s8;
	double t1 = 0, t8 = 0;
	int attempts = 0;
	one.url = eight.url = moto_url;
	delete_all(&one, &s1, &t1, &attempts, NULL);
	CHECK_INT(s1.peak_in_flight, 1);
	CHECK_INT(s1.retries, 0);
	CHECK_INT(attempts, 1);
	delete_all(&eight, &s8, &t8, &attempts, NULL);
	CHECK_MSG(s8.peak_in_flight > 1 && s8.peak_in_flight <= 8, "peak %d", s8.peak_in_flight);
	CHECK_INT(s8.retries, 0);
	CHECK_INT(s8.throttled, 0);
	CHECK_INT(s8.final_limit, 8);
	report_rate("direct to moto", &one, t1);
	report_rate("direct to moto", &eight, t8);
}

static void test_multi__deletes_through_the_proxy(void)
{
	delete_run one = { NULL, 1, 0, "[]" }, eight = { NULL, 8, 0, "[]" };
	ciha__multi_stats s1, s8;
	double t1 = 0, t8 = 0;
	int attempts = 0;
	one.url = eight.url = to_moto.url;
	delete_all(&one, &s1, &t1, &attempts, NULL);
	delete_all(&eight, &s8, &t8, &attempts, NULL);
	CHECK_MSG(s8.peak_in_flight > 1 && s8.peak_in_flight <= 8, "peak %d", s8.peak_in_flight);
	report_rate("through faultproxy", &one, t1);
	report_rate("through faultproxy", &eight, t8);
}

/* How many entries of the proxy's log had one of these faults. */
static long faults_in(const json_t *log, const char *const *kinds)
{
	size_t i, k;
	long n = 0;
	for (i = 0; i < json_array_size(log); i++)
		for (k = 0; kinds[k]; k++)
			n += strcmp(json_string_value(json_object_get(json_array_get(log, i), "fault")), kinds[k]) == 0;
	return n;
}

static void test_multi__throttling_lowers_the_limit_and_every_delete_succeeds(void)
{
	static const char *const throttles[] = { "throttling", "ec2_throttle", NULL };
	delete_run d = { NULL, 8, 10, "{\"rate\": 0.3, \"kinds\": [\"throttling\", \"ec2_throttle\"], \"seed\": 11}" };
	ciha__multi_stats s;
	json_t *log = NULL;
	double t = 0;
	int attempts = 0;
	d.url = to_moto.url;
	delete_all(&d, &s, &t, &attempts, &log);
	CHECK_MSG(s.throttled > 0, "throttled %ld", s.throttled);
	CHECK_INT(s.throttled, faults_in(log, throttles));
	CHECK_INT(s.retries, s.throttled);
	CHECK_INT((long)json_array_size(log), s.requests);
	CHECK_MSG(s.min_limit < 8, "min limit %d", s.min_limit);
	CHECK_MSG(s.peak_in_flight > 1 && s.peak_in_flight <= 8, "peak %d", s.peak_in_flight);
	CHECK(attempts > 1);
	printf("# 30%% throttling: %ld requests, %ld throttled, limit down to %d, %d at the end, %.2f s\n", s.requests,
	       s.throttled, s.min_limit, s.final_limit, t);
	json_decref(log);
}

static void test_multi__5xx_and_resets_are_retried(void)
{
	static const char *const transient[] = { "http500", "http503", "reset", NULL };
	static const char *const resets[] = { "reset", NULL };
	delete_run d = { NULL, 8, 10, "{\"rate\": 0.25, \"kinds\": [\"http500\", \"http503\", \"reset\"], \"seed\": 5}" };
	ciha__multi_stats s;
	json_t *log = NULL;
	int attempts = 0;
	d.url = to_moto.url;
	delete_all(&d, &s, NULL, &attempts, &log);
	CHECK_MSG(s.retries > 0, "retries %ld", s.retries);
	/* A reset on a kept-alive connection before any answer is resent by curl
	 * itself on a new one: the proxy sees those, libciha does not count them. */
	CHECK_INT(s.retries, faults_in(log, transient) - ((long)json_array_size(log) - s.requests));
	CHECK(faults_in(log, resets) > 0);
	CHECK((long)json_array_size(log) >= s.requests);
	CHECK_INT(s.throttled, 0);
	CHECK_INT(s.min_limit, 8);
	json_decref(log);
}

/* Waits in the proxy overlap: four at once take about a quarter of the time.
 * (Four, not eight: faultproxy listens with Python's default backlog of 5, so a
 * burst of eight new connections can cost a 1 s SYN retransmit.) */
static void test_multi__latency_overlaps_and_connections_are_kept(void)
{
	double seconds[2];
	int concurrency[2] = { 1, 4 }, k;
	for (k = 0; k < 2; k++) {
		fixture f;
		fixture_open(&f, client_for(echo.url, 0), concurrency[k]);
		queue_plain(&f, "DescribeRegions", 0, 32);
		proxy_faults(&echo, "{\"rate\": 1, \"kinds\": [{\"kind\": \"slow\", \"seconds\": 0.05}]}");
		fixture_run(&f, &seconds[k]);
		check_each_once(&f, 32, CIHA_OK);
		CHECK_MSG(f.stats.connections <= concurrency[k], "%ld connections for %d in flight", f.stats.connections,
		          concurrency[k]);
		CHECK_INT(f.stats.peak_in_flight, concurrency[k]);
		fixture_close(&f);
	}
	proxy_faults(&echo, "[]");
	CHECK_MSG(seconds[1] * 2.5 < seconds[0], "concurrency 4: %.2f s, 1: %.2f s", seconds[1], seconds[0]);
	printf("# 32 requests each held 50 ms by the proxy: %.2f s at concurrency 1, %.2f s at 4\n", seconds[0],
	       seconds[1]);
}

static const char *log_action(const json_t *log, size_t i)
{
	return json_string_value(json_object_get(json_array_get(log, i), "action"));
}

/* With one slot, a throttled request's backoff lets the next ones through. */
static void test_multi__a_backoff_does_not_hold_the_others(void)
{
	fixture f;
	json_t *log;
	size_t i, retry_at = 0;
	double gap;
	setenv("CIHA_TEST_BACKOFF_SCALE", "1", 1);
	fixture_open(&f, client_for(echo.url, 0), 1);
	queue_plain(&f, "DescribeAvailabilityZones", 0, 1);
	queue_plain(&f, "DescribeRegions", 1, 6);
	proxy_faults(&echo, "[\"throttling\"]");
	fixture_run(&f, NULL);
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	log = proxy_log(&echo);
	CHECK_INT(json_array_size(log), 7);
	for (i = 1; i < json_array_size(log); i++)
		if (strcmp(log_action(log, i), "DescribeAvailabilityZones") == 0)
			retry_at = i;
	gap = json_real_value(json_object_get(json_array_get(log, retry_at), "time")) -
	      json_real_value(json_object_get(json_array_get(log, 0), "time"));
	if (gap > 0.1)
		CHECK_MSG(retry_at == 6, "the retry after %.3f s came at position %zu", gap, retry_at);
	else
		printf("# backoff of %.3f s too short to show the others passing\n", gap);
	check_each_once(&f, 6, CIHA_OK);
	CHECK_INT(f.stats.throttled, 1);
	CHECK_INT(f.stats.final_limit, 1);
	CHECK_INT(ciha_client_last_attempts(f.client), 2);
	json_decref(log);
	fixture_close(&f);
}

static void test_multi__a_missing_snapshot_fails_alone(void)
{
	outcomes *made = ciha__calloc(1, sizeof *made);
	char *volume = make_snapshots(made, 20);
	fixture f;
	size_t i;
	fixture_open(&f, client_for(moto_url, 0), 4);
	for (i = 0; i < 20; i++)
		queue(f.multi, "DeleteSnapshot", "SnapshotId", i % 7 == 3 ? MISSING_ID : made->ids[i], i);
	fixture_run(&f, NULL);
	for (i = 0; i < 20; i++) {
		CHECK_INT(f.seen->calls[i], 1);
		if (i % 7 != 3) {
			CHECK_INT(f.seen->rc[i], CIHA_OK);
			continue;
		}
		CHECK_INT(f.seen->rc[i], CIHA_ENOTFOUND);
		CHECK_STR(f.seen->aws_code[i], "InvalidSnapshot.NotFound");
		CHECK_INT(f.seen->http_status[i], 400);
		CHECK(!f.seen->retryable[i]);
		CHECK_MSG(strlen(f.seen->request_id[i]) > 8, "request id [%s]", f.seen->request_id[i]);
	}
	CHECK(strcmp(f.seen->request_id[3], f.seen->request_id[10]) != 0);
	CHECK_INT(f.stats.requests, 20);
	CHECK_INT(snapshots_of(volume), 3);   /* the originals of the three missing-id slots remain */
	fixture_close(&f);
	ciha__free(volume);
	ciha__free(made);
}

/* One throttle halves the limit; each 10 successes after it raise it by one again. */
static void test_multi__the_limit_recovers_after_throttling(void)
{
	fixture f;
	fixture_open(&f, client_for(echo.url, 0), 4);
	queue_plain(&f, "DescribeRegions", 0, 40);
	proxy_faults(&echo, "[\"ec2_throttle\"]");
	fixture_run(&f, NULL);
	check_each_once(&f, 40, CIHA_OK);
	CHECK_INT(f.stats.throttled, 1);
	CHECK_INT(f.stats.retries, 1);
	CHECK_INT(f.stats.requests, 41);
	CHECK_INT(f.stats.min_limit, 2);
	CHECK_INT(f.stats.final_limit, 4);
	fixture_close(&f);
}

static ciha_result no_credentials(ciha_credentials **out, void *payload)
{
	(void)out;
	(void)payload;
	return ciha__error_raise(CIHA_EAUTH, "the vault is sealed");
}

/* Requests that cannot even be signed fail one by one, through the callback. */
static void test_multi__credential_failures_reach_each_callback(void)
{
	ciha_credentials_provider *sealed = NULL;
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	fixture f;
	size_t i;
	CHECK_INT(ciha_credentials_provider_new_delegate(&sealed, no_credentials, NULL), CIHA_OK);
	o.region = "us-east-1";
	o.endpoint_url = echo.url;
	o.credentials = sealed;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	fixture_open(&f, c, 2);
	for (i = 0; i < 3; i++)
		queue(f.multi, "DeleteSnapshot", "SnapshotId", MISSING_ID, i);
	fixture_run(&f, NULL);
	check_each_once(&f, 3, CIHA_EAUTH);
	CHECK_INT(f.stats.requests, 0);
	fixture_close(&f);
	ciha_credentials_provider_release(sealed);
}

static void test_multi__bad_requests_are_refused_when_added(void)
{
	ciha__multi *refused = NULL;
	json_t *list = json_array();
	fixture f;
	fixture_open(&f, client_for(echo.url, 0), 0);
	CHECK_INT(ciha__multi_new(&refused, f.client, -1), CIHA_EINVAL);
	CHECK(refused == NULL);
	CHECK_INT(ciha__multi_add(f.multi, ciha__service_find("no-such-service"), "Describe", NULL, NULL), CIHA_EINVAL);
	CHECK_INT(ciha__multi_add(f.multi, ciha__service_find("ec2"), "", NULL, NULL), CIHA_EINVAL);
	CHECK_INT(ciha__multi_add(f.multi, ciha__service_find("ec2"), "DescribeRegions", list, NULL), CIHA_EINVAL);
	/* queued but never run: freed with the handle */
	queue_plain(&f, "DescribeRegions", 0, 2);
	CHECK_INT(ciha__multi_add(f.multi, ciha__service_find("rds"), "DescribeDBInstances", NULL, NULL), CIHA_OK);
	ciha__multi_free(NULL);
	json_decref(list);
	fixture_close(&f);
}

int main(void)
{
	moto_url = getenv("CIHA_TEST_ENDPOINT");
	if (!moto_url || !*moto_url)
		CHECK_SKIP("test_multi needs moto: CIHA_TEST_ENDPOINT is not set (start one with "
		           "tests/tools/moto.sh start DIR and export CIHA_TEST_ENDPOINT=<its URL>)");
	if (ciha_global_init(0) != CIHA_OK)
		return 1;
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	proxy_launch(&to_moto, moto_url);
	proxy_launch(&echo, NULL);
	if (ciha__http_new(&control, NULL) != CIHA_OK ||
	    ciha_credentials_provider_new_static(&creds, "AKIDEXAMPLE", "multi-test-secret", NULL) != CIHA_OK)
		return 1;
	RUN(test_multi__deletes_direct_at_concurrency_1_and_8);
	RUN(test_multi__deletes_through_the_proxy);
	RUN(test_multi__throttling_lowers_the_limit_and_every_delete_succeeds);
	RUN(test_multi__5xx_and_resets_are_retried);
	RUN(test_multi__a_missing_snapshot_fails_alone);
	RUN(test_multi__latency_overlaps_and_connections_are_kept);
	RUN(test_multi__a_backoff_does_not_hold_the_others);
	RUN(test_multi__the_limit_recovers_after_throttling);
	RUN(test_multi__credential_failures_reach_each_callback);
	RUN(test_multi__bad_requests_are_refused_when_added);
	ciha_credentials_provider_release(creds);
	ciha__http_free(control);
	proxy_stop(&to_moto);
	proxy_stop(&echo);
	ciha_global_cleanup();
	return CHECK_DONE("test_multi");
}
