/* test_moto_alarms.c: topic, subscription, reconcile and fire drill against
 * moto server (CIHA_TEST_ENDPOINT, started by tests/run) with a local HTTP
 * receiver standing in for PagerDuty's CloudWatch integration. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include <ciha.h>
#include "http_int.h"
#include "check.h"

#define SECRET "c1oudwatchIntegrationKey00000032"   /* 32 characters, as PagerDuty has them */

static ciha_client *client;
static char prefix[64], other_prefix[64];
static char topic_name[64];
static char *topic_arn;
static char receiver_url[200];      /* http://127.0.0.1:PORT/integration/SECRET/enqueue */

/* ---- tests/tools/pdreceiver.py: PagerDuty's CloudWatch integration URL, recording what SNS delivers ---- */

static FILE *receiver_pipe;
static long receiver_pid;
static char receiver_base[64];
static ciha__http *control;

static int start_receiver(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	const char *py = getenv("CIHA_PYTHON") ? getenv("CIHA_PYTHON") : "python3";
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof(cmd), "exec '%s' '%s/tests/tools/pdreceiver.py' --max-seconds 300", py, srcdir);
	if (ciha__http_new(&control, NULL) != CIHA_OK || !(receiver_pipe = popen(cmd, "r")))
		return -1;
	while (fgets(line, sizeof(line), receiver_pipe)) {
		sscanf(line, "PORT %ld", &port);
		if (sscanf(line, "PID %ld", &receiver_pid) == 1)
			break;
	}
	if (!port || !receiver_pid)
		return -1;
	snprintf(receiver_base, sizeof(receiver_base), "http://127.0.0.1:%ld", port);
	snprintf(receiver_url, sizeof(receiver_url), "%s/integration/" SECRET "/enqueue", receiver_base);
	return 0;
}

static void stop_receiver(void)
{
	if (receiver_pid > 0)
		kill((pid_t)receiver_pid, SIGTERM);
	if (receiver_pipe)
		pclose(receiver_pipe);
	ciha__http_free(control);
}

/* GET a /__pd/ view of the receiver (new reference, never NULL). */
static json_t *receiver_view(const char *path)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[160];
	json_t *answer = NULL;
	memset(&req, 0, sizeof(req));
	snprintf(url, sizeof(url), "%s%s", receiver_base, path);
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 10000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.outcome == CIHA__HTTP_OK && resp.status == 200)
		answer = json_loadb(resp.body.ptr, resp.body.len, 0, NULL);
	CHECK_MSG(answer != NULL, "GET %s failed: %ld %s", path, resp.status, resp.transport_error);
	ciha__http_response_dispose(&resp);
	return answer ? answer : json_object();
}

/* Every delivery to the integration URL so far, as {"path","body",...} entries in order. */
static json_t *received(void)
{
	json_t *log = receiver_view("/__pd/log"), *mine = json_array();
	size_t i;
	for (i = 0; i < json_array_size(log); i++) {
		json_t *entry = json_array_get(log, i);
		if (strncmp(json_string_value(json_object_get(entry, "path")), "/integration/", 13) == 0)
			json_array_append(mine, entry);
	}
	json_decref(log);
	return mine;
}

/* The receiver's incident for `dedup_key` (an alarm name), {} when none. */
static json_t *incident(const char *dedup_key)
{
	json_t *all = receiver_view("/__pd/incidents"), *one = json_object_get(all, dedup_key);
	json_t *copy = one ? json_incref(one) : json_object();
	json_decref(all);
	return copy;
}

/* ---- AWS helpers ---- */

static ciha_client *new_client(ciha_log_cb cb, void *payload)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDALARMS", "alarm-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = getenv("CIHA_TEST_ENDPOINT");
	o.credentials = p;
	if (cb) {
		o.log_cb = cb;
		o.log_payload = payload;
		o.log_level = CIHA_LOG_TRACE;
	}
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

static json_t *call(const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	if (ciha_call(&out, client, service, action, params) != CIHA_OK)
		fprintf(stderr, "  %s %s: %s\n", service, action, ciha_error_message(ciha_client_error(client)));
	json_decref(params);
	return out;
}

static json_t *describe(const char *name)
{
	json_t *r = call("cloudwatch", "DescribeAlarms", json_pack("{s:[s]}", "AlarmNames", name));
	json_t *alarm = json_incref(json_array_get(json_object_get(r, "MetricAlarms"), 0));
	json_decref(r);
	return alarm;
}

static int has_managed_tag(const char *arn)
{
	json_t *r = call("cloudwatch", "ListTagsForResource", json_pack("{s:s}", "ResourceARN", arn));
	json_t *tags = json_object_get(r, "Tags");
	size_t i;
	int found = 0;
	for (i = 0; i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		if (strcmp(json_string_value(json_object_get(t, "Key")), "ciha:managed-by") == 0 &&
		    strcmp(json_string_value(json_object_get(t, "Value")), "libciha") == 0)
			found = 1;
	}
	json_decref(r);
	return found;
}

/* An alarm put directly, not through libciha (no tag); ok_actions 0 leaves OKActions out. */
static void put_foreign_alarm(const char *name, int ok_actions)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:s, s:[s], s:s}", "AlarmName", name,
	                      "Namespace", "Other", "MetricName", "Thing", "Statistic", "Average", "Period", 60,
	                      "EvaluationPeriods", 1, "Threshold", 5.0, "ComparisonOperator", "GreaterThanThreshold",
	                      "AlarmActions", topic_arn, "TreatMissingData", "ignore");
	if (ok_actions)
		json_object_set_new(p, "OKActions", json_pack("[s]", topic_arn));
	json_decref(call("cloudwatch", "PutMetricAlarm", p));
}

static int only_action_is_topic(const json_t *alarm, const char *key)
{
	const json_t *list = json_object_get(alarm, key);
	return json_is_array(list) && json_array_size(list) == 1 &&
	       strcmp(json_string_value(json_array_get(list, 0)), topic_arn) == 0;
}

/* The scenario's seven presets; the Auto Scaling alarm's threshold (preset min 2) is `agents_below`. */
static ciha_alarm_set *scenario_set(double agents_below)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_spec *s = NULL;
	int rc = ciha_alarm_set_new(&set, prefix, topic_arn);
#define ADD(expr) do { if (rc == CIHA_OK && (rc = (expr)) == CIHA_OK) { rc = ciha_alarm_set_add(set, s); \
	ciha_alarm_spec_free(s); s = NULL; } } while (0)
	ADD(ciha_alarm_preset_elb_no_healthy_host(&s, "nexus-elb", "nexus-lb"));
	ADD(ciha_alarm_preset_alb_no_healthy_host(&s, "bamboo-alb", "app/bamboo/1", "targetgroup/agents/2"));
	ADD(ciha_alarm_preset_volume_not_mounted(&s, "artifacts", "bamboo-1", "/srv/artifacts"));
	if (rc == CIHA_OK && (rc = ciha_alarm_preset_asg_below_min(&s, "agents", "bamboo-agents", 2)) == CIHA_OK) {
		rc = ciha_alarm_spec_set_threshold(s, "LessThanThreshold", agents_below);
		rc = rc == CIHA_OK ? ciha_alarm_set_add(set, s) : rc;
		ciha_alarm_spec_free(s);
		s = NULL;
	}
	ADD(ciha_alarm_preset_rds_free_storage_low(&s, "db", "bamboo-db", 2e9));
	ADD(ciha_alarm_preset_status_check_failed(&s, "nexus-host", "i-0123456789abcdef0"));
	ADD(ciha_alarm_preset_snapshot_too_old(&s, "backup", "vol-0abc", 93600));
#undef ADD
	if (rc != CIHA_OK) {
		fprintf(stderr, "  scenario set: %s\n", ciha_error_message(ciha_error_last()));
		ciha_alarm_set_free(set);
		return NULL;
	}
	return set;
}

static ciha_alarm_plan *apply(const ciha_alarm_set *set, int dry_run, int expect_rc)
{
	ciha_alarm_plan *plan = NULL;
	int rc = ciha_alarm_apply(&plan, client, set, dry_run);
	CHECK_MSG(rc == expect_rc, "apply: rc %d (%s)", rc, ciha_error_message(ciha_client_error(client)));
	return plan;
}

/* How many plan items have `action`; `name` (if not NULL) gets the last one's full name. */
static size_t count_action(const ciha_alarm_plan *plan, const char *action, const char **name)
{
	size_t i, n = 0;
	for (i = 0; i < ciha_alarm_plan_count(plan); i++)
		if (strcmp(ciha_alarm_plan_action(plan, i), action) == 0) {
			n++;
			if (name)
				*name = ciha_alarm_plan_name(plan, i);
		}
	return n;
}

static char *full(const char *p, const char *name)
{
	static char buf[4][300];
	static int next;
	char *out = buf[next++ % 4];
	snprintf(out, 300, "%s%s", p, name);
	return out;
}

/* ---- topic and subscription ---- */

static void test_topic__ensure_is_idempotent(void)
{
	char *again = NULL;
	CHECK_INT(ciha_alarm_topic_ensure(&topic_arn, client, topic_name), CIHA_OK);
	CHECK(topic_arn && strncmp(topic_arn, "arn:aws:sns:us-east-1:", 22) == 0);
	CHECK_INT(ciha_alarm_topic_ensure(&again, client, topic_name), CIHA_OK);
	CHECK_STR(again, topic_arn);
	ciha_free(again);
	again = NULL;
	CHECK_INT(ciha_alarm_topic_ensure(&again, client, "bad name!"), CIHA_EINVAL);
	CHECK(again == NULL);
}

static void test_subscribe__https_only_and_redacted(void)
{
	char *arn = NULL, url[300];
	const char *msg;
	CHECK_INT(ciha_alarm_subscribe(&arn, client, topic_arn, receiver_url, 0), CIHA_EINVAL);
	msg = ciha_error_message(ciha_client_error(client));
	CHECK_MSG(strstr(msg, SECRET) == NULL, "the key leaked: %s", msg);
	CHECK_MSG(strstr(msg, "http://127.0.0.1:") && strstr(msg, "[redacted]") && strstr(msg, "only https"), "%s", msg);
	snprintf(url, sizeof(url), "gopher://example.com/%s", SECRET);
	CHECK_INT(ciha_alarm_subscribe(&arn, client, topic_arn, url, 1), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_client_error(client)), SECRET) == NULL);
	CHECK(arn == NULL);
}

static void test_subscribe__once_and_confirmed(void)
{
	char *arn = NULL, *again = NULL;
	int confirmed = 42;
	json_t *r;
	CHECK_INT(ciha_alarm_subscribe(&arn, client, topic_arn, receiver_url, 1), CIHA_OK);
	CHECK(arn && strncmp(arn, topic_arn, strlen(topic_arn)) == 0);
	CHECK_INT(ciha_alarm_subscribe(&again, client, topic_arn, receiver_url, 1), CIHA_OK);
	CHECK_STR(again, arn);
	r = call("sns", "ListSubscriptionsByTopic", json_pack("{s:s}", "TopicArn", topic_arn));
	CHECK_INT(json_array_size(json_object_get(r, "Subscriptions")), 1);
	json_decref(r);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, client, topic_arn, receiver_url), CIHA_OK);
	CHECK_INT(confirmed, 1);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, client, topic_arn, "https://example.com/not-there"), CIHA_OK);
	CHECK_INT(confirmed, -1);
	ciha_free(arn);
	ciha_free(again);
}

/* moto lists 100 subscriptions a page: the one we look for sits on page 2. */
static void test_subscribe__found_beyond_the_first_page(void)
{
	char name[80], url[120], *many = NULL, *arn = NULL, *direct = NULL;
	json_t *r, *page1;
	int i, confirmed = 0;
	size_t j;
	snprintf(name, sizeof(name), "%s-many", topic_name);
	CHECK_INT(ciha_alarm_topic_ensure(&many, client, name), CIHA_OK);
	if (!many)
		return;
	for (i = 1; i <= 105; i++) {
		snprintf(url, sizeof(url), "http://127.0.0.1:9/dummy-%03d", i);
		r = call("sns", "Subscribe", json_pack("{s:s, s:s, s:s}", "TopicArn", many, "Protocol", "http", "Endpoint", url));
		if (i == 105)
			direct = strdup(json_string_value(json_object_get(r, "SubscriptionArn")));
		json_decref(r);
	}
	page1 = call("sns", "ListSubscriptionsByTopic", json_pack("{s:s}", "TopicArn", many));
	CHECK(json_string_value(json_object_get(page1, "NextToken")) != NULL);
	for (j = 0; j < json_array_size(json_object_get(page1, "Subscriptions")); j++)
		CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(page1, "Subscriptions"), j),
		                                               "Endpoint")), url) != 0);
	json_decref(page1);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, client, many, url), CIHA_OK);
	CHECK_INT(confirmed, 1);
	CHECK_INT(ciha_alarm_subscribe(&arn, client, many, url, 1), CIHA_OK);
	CHECK_STR(arn, direct);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, client, many, "http://127.0.0.1:9/dummy-999"), CIHA_OK);
	CHECK_INT(confirmed, -1);
	json_decref(call("sns", "DeleteTopic", json_pack("{s:s}", "TopicArn", many)));
	free(direct);
	ciha_free(arn);
	ciha_free(many);
}

typedef struct {
	int lines;
	int leaks;
} log_capture;

static void capture(ciha_log_level level, const char *subsystem, const char *msg, void *payload)
{
	log_capture *c = payload;
	(void)level;
	(void)subsystem;
	c->lines++;
	if (strstr(msg, SECRET)) {
		c->leaks++;
		fprintf(stderr, "  leaked in log: %s\n", msg);
	}
}

static void test_subscribe__key_never_logged_or_in_errors(void)
{
	log_capture cap = { 0, 0 };
	ciha_client *traced = new_client(capture, &cap);
	char *arn = NULL, missing_topic[200];
	int confirmed = 0;
	const char *msg;
	if (!traced) {
		CHECK(traced != NULL);
		return;
	}
	CHECK_INT(ciha_alarm_subscribe(&arn, traced, topic_arn, receiver_url, 1), CIHA_OK);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, traced, topic_arn, receiver_url), CIHA_OK);
	ciha_free(arn);
	arn = NULL;
	snprintf(missing_topic, sizeof(missing_topic), "%s-gone", topic_arn);
	CHECK(ciha_alarm_subscribe(&arn, traced, missing_topic, receiver_url, 1) != CIHA_OK);
	msg = ciha_error_message(ciha_client_error(traced));
	CHECK_MSG(strstr(msg, SECRET) == NULL, "%s", msg);
	CHECK(strstr(ciha_error_message(ciha_error_last()), SECRET) == NULL);
	CHECK(cap.lines > 0);
	CHECK_INT(cap.leaks, 0);
	ciha_free(arn);
	ciha_client_free(traced);
}

/* ---- reconcile ---- */

static void test_apply__creates_every_preset_with_both_actions(void)
{
	ciha_alarm_set *set = scenario_set(2);
	ciha_alarm_plan *plan;
	size_t i;
	if (!set)
		return;
	plan = apply(set, 0, CIHA_OK);
	CHECK_INT(ciha_alarm_plan_count(plan), 7);
	CHECK_INT(count_action(plan, "create", NULL), 7);
	for (i = 0; i < ciha_alarm_plan_count(plan); i++) {
		json_t *a = describe(ciha_alarm_plan_name(plan, i));
		CHECK_INT(ciha_alarm_plan_outcome(plan, i), CIHA_OK);
		CHECK_MSG(a != NULL, "%s was not created", ciha_alarm_plan_name(plan, i));
		if (!a)
			continue;
		CHECK(only_action_is_topic(a, "AlarmActions"));
		CHECK(only_action_is_topic(a, "OKActions"));
		CHECK(json_string_value(json_object_get(a, "TreatMissingData")) != NULL);
		CHECK(has_managed_tag(json_string_value(json_object_get(a, "AlarmArn"))));
		json_decref(a);
	}
	{
		json_t *a = describe(full(prefix, "artifacts"));
		CHECK_STR(json_string_value(json_object_get(a, "Namespace")), "CIHA");
		CHECK_STR(json_string_value(json_object_get(a, "MetricName")), "VolumeMounted");
		CHECK_STR(json_string_value(json_object_get(a, "TreatMissingData")), "breaching");
		CHECK_STR(json_string_value(json_object_get(a, "Statistic")), "Minimum");
		CHECK_STR(json_string_value(json_object_get(a, "ComparisonOperator")), "LessThanThreshold");
		CHECK_INT(json_array_size(json_object_get(a, "Dimensions")), 2);
		json_decref(a);
	}
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

static void test_apply__again_is_unchanged(void)
{
	ciha_alarm_set *set = scenario_set(2);
	ciha_alarm_plan *plan;
	size_t i;
	if (!set)
		return;
	plan = apply(set, 0, CIHA_OK);
	CHECK_INT(count_action(plan, "unchanged", NULL), 7);
	for (i = 0; i < ciha_alarm_plan_count(plan); i++)
		CHECK_MSG(ciha_alarm_plan_diff(plan, i)[0] == '\0', "%s: %s", ciha_alarm_plan_name(plan, i),
		          ciha_alarm_plan_diff(plan, i));
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

static void test_apply__threshold_change_is_one_update(void)
{
	ciha_alarm_set *set = scenario_set(3);
	ciha_alarm_plan *plan;
	const char *name = NULL;
	size_t i;
	json_t *a;
	if (!set)
		return;
	plan = apply(set, 0, CIHA_OK);
	CHECK_INT(count_action(plan, "update", &name), 1);
	CHECK_INT(count_action(plan, "unchanged", NULL), 6);
	CHECK_STR(name, full(prefix, "agents"));
	for (i = 0; i < ciha_alarm_plan_count(plan); i++)
		if (strcmp(ciha_alarm_plan_action(plan, i), "update") == 0) {
			CHECK_STR(ciha_alarm_plan_diff(plan, i), "Threshold: 2 -> 3");
			CHECK_INT(ciha_alarm_plan_outcome(plan, i), CIHA_OK);
		}
	a = describe(full(prefix, "agents"));
	CHECK_STR(json_string_value(json_object_get(a, "Threshold")), "3.0");
	CHECK(only_action_is_topic(a, "OKActions"));
	json_decref(a);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

/* The scenario without "backup" (and "agents" back at 2), as a JSON set. */
static ciha_alarm_set *smaller_set(void)
{
	char json[2000];
	ciha_alarm_set *set = NULL;
	snprintf(json, sizeof(json), "{\"prefix\": \"%s\", \"topic_arn\": \"%s\", \"alarms\": ["
	         "{\"name\": \"nexus-elb\", \"preset\": \"elb-no-healthy-host\", \"load_balancer\": \"nexus-lb\"},"
	         "{\"name\": \"bamboo-alb\", \"preset\": \"alb-no-healthy-host\", \"load_balancer\": \"app/bamboo/1\","
	         " \"target_group\": \"targetgroup/agents/2\"},"
	         "{\"name\": \"artifacts\", \"preset\": \"volume-not-mounted\", \"host\": \"bamboo-1\","
	         " \"mount_point\": \"/srv/artifacts\"},"
	         "{\"name\": \"agents\", \"preset\": \"asg-below-min\", \"group\": \"bamboo-agents\", \"min\": 2,"
	         " \"threshold\": 3},"
	         "{\"name\": \"db\", \"preset\": \"rds-free-storage-low\", \"db_id\": \"bamboo-db\", \"bytes\": 2e9},"
	         "{\"name\": \"nexus-host\", \"preset\": \"status-check-failed\", \"instance_id\": \"i-0123456789abcdef0\"}"
	         "]}", prefix, topic_arn);
	CHECK_INT(ciha_alarm_set_from_json(&set, json, "smaller.json"), CIHA_OK);
	return set;
}

static void test_apply__dry_run_changes_nothing(void)
{
	ciha_alarm_set *set = smaller_set();
	ciha_alarm_plan *plan;
	const char *name = NULL;
	char *json = NULL;
	json_t *a;
	size_t i;
	if (!set)
		return;
	ciha_alarm_set_free(set);
	set = scenario_set(4);   /* threshold 3 -> 4, nothing removed */
	plan = apply(set, 1, CIHA_OK);
	CHECK_INT(count_action(plan, "update", &name), 1);
	for (i = 0; i < ciha_alarm_plan_count(plan); i++)
		if (strcmp(ciha_alarm_plan_action(plan, i), "update") == 0) {
			CHECK_INT(ciha_alarm_plan_outcome(plan, i), CIHA_EAGAIN);
			CHECK_STR(ciha_alarm_plan_diff(plan, i), "Threshold: 3 -> 4");
		}
	CHECK_INT(ciha_alarm_plan_json(&json, plan), CIHA_OK);
	CHECK(json && strstr(json, "\"dry_run\": true") && strstr(json, "Threshold: 3 -> 4"));
	ciha_free(json);
	a = describe(full(prefix, "agents"));
	CHECK_STR(json_string_value(json_object_get(a, "Threshold")), "3.0");
	json_decref(a);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
	/* a dry run of a removal deletes nothing */
	set = smaller_set();
	plan = apply(set, 1, CIHA_OK);
	CHECK_INT(count_action(plan, "delete", &name), 1);
	CHECK_STR(name, full(prefix, "backup"));
	a = describe(full(prefix, "backup"));
	CHECK(a != NULL);
	json_decref(a);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

static void test_apply__removed_spec_deleted_foreign_alarm_kept(void)
{
	ciha_alarm_set *set = smaller_set();
	ciha_alarm_plan *plan;
	const char *name = NULL;
	size_t i;
	json_t *a;
	if (!set)
		return;
	put_foreign_alarm(full(prefix, "someone-elses"), 1);
	plan = apply(set, 0, CIHA_OK);
	CHECK_INT(count_action(plan, "delete", &name), 1);
	CHECK_STR(name, full(prefix, "backup"));
	CHECK_INT(count_action(plan, "unchanged", NULL), 6);
	for (i = 0; i < ciha_alarm_plan_count(plan); i++) {
		CHECK(strcmp(ciha_alarm_plan_name(plan, i), full(prefix, "someone-elses")) != 0);
		CHECK_INT(ciha_alarm_plan_outcome(plan, i), CIHA_OK);
	}
	a = describe(full(prefix, "backup"));
	CHECK(a == NULL);
	json_decref(a);
	a = describe(full(prefix, "someone-elses"));
	CHECK_MSG(a != NULL, "the foreign alarm was deleted");
	json_decref(a);
	ciha_alarm_plan_free(plan);
	/* and again: nothing left to do, the foreign alarm still untouched */
	plan = apply(set, 0, CIHA_OK);
	CHECK_INT(count_action(plan, "unchanged", NULL), 6);
	CHECK_INT(ciha_alarm_plan_count(plan), 6);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

static void test_apply__refuses_to_overwrite_unmanaged_alarm(void)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_spec *s = NULL;
	ciha_alarm_plan *plan;
	json_t *a;
	put_foreign_alarm(full(other_prefix, "squatter"), 1);
	CHECK_INT(ciha_alarm_set_new(&set, other_prefix, topic_arn), CIHA_OK);
	CHECK_INT(ciha_alarm_preset_status_check_failed(&s, "squatter", "i-1"), CIHA_OK);
	CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
	plan = apply(set, 0, CIHA_EEXISTS);
	CHECK_INT(ciha_alarm_plan_count(plan), 1);
	CHECK_INT(ciha_alarm_plan_outcome(plan, 0), CIHA_EEXISTS);
	CHECK(strstr(ciha_error_message(ciha_client_error(client)), "not managed by libciha") != NULL);
	a = describe(full(other_prefix, "squatter"));
	CHECK_STR(json_string_value(json_object_get(a, "Namespace")), "Other");
	json_decref(a);
	json_decref(call("cloudwatch", "DeleteAlarms", json_pack("{s:[s]}", "AlarmNames", full(other_prefix, "squatter"))));
	ciha_alarm_plan_free(plan);
	ciha_alarm_spec_free(s);
	ciha_alarm_set_free(set);
}

static void test_list__state_actions_missing_data_and_owner(void)
{
	char *text = NULL;
	json_t *list;
	size_t i, ours = 0, foreign = 0;
	CHECK_INT(ciha_alarm_list(&text, client, prefix), CIHA_OK);
	list = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(json_is_array(list));
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *a = json_array_get(list, i);
		CHECK_STR(json_string_value(json_object_get(a, "state")), "OK");
		CHECK(json_string_value(json_object_get(a, "missing_data")) != NULL);
		if (json_is_true(json_object_get(a, "managed"))) {
			ours++;
			CHECK_INT(json_array_size(json_object_get(a, "ok_actions")), 1);
		} else {
			foreign++;
			CHECK_STR(json_string_value(json_object_get(a, "name")), full(prefix, "someone-elses"));
		}
	}
	CHECK_INT(ours, 6);
	CHECK_INT(foreign, 1);
	json_decref(list);
	ciha_free(text);
}

/* ---- the fire drill ---- */

static const json_t *message_of(const json_t *notification, json_t **parsed)
{
	json_t *body = json_loads(json_string_value(json_object_get(notification, "body")), 0, NULL);
	*parsed = body;
	return body;
}

static void test_drill__pages_and_resolves_through_sns(void)
{
	ciha_alarm_set *set = smaller_set();
	json_t *before = received(), *after, *steps;
	char *out = NULL;
	size_t i, first;
	if (!set)
		return;
	first = json_array_size(before);
	json_decref(before);
	CHECK_INT(ciha_alarm_drill(&out, client, set, receiver_url, 200), CIHA_OK);
	steps = out ? json_loads(out, 0, NULL) : NULL;
	CHECK_INT(json_array_size(steps), 6 + 3);
	for (i = 0; i < json_array_size(steps); i++)
		CHECK_MSG(json_is_true(json_object_get(json_array_get(steps, i), "ok")), "step %zu failed: %s", i,
		          json_string_value(json_object_get(json_array_get(steps, i), "detail")));
	CHECK(out && strstr(out, SECRET) == NULL);
	after = received();
	CHECK_INT(json_array_size(after) - first, 2);
	for (i = first; i < json_array_size(after) && i < first + 2; i++) {
		json_t *note = NULL, *msg;
		const json_t *n = message_of(json_array_get(after, i), &note);
		const char *want = i == first ? "ALARM" : "OK";
		char subject[300];
		CHECK_STR(json_string_value(json_object_get(json_array_get(after, i), "path")), "/integration/" SECRET "/enqueue");
		CHECK_STR(json_string_value(json_object_get(n, "Type")), "Notification");
		CHECK_STR(json_string_value(json_object_get(n, "TopicArn")), topic_arn);
		snprintf(subject, sizeof(subject), "%s: \"%s\" in us-east-1", want, full(prefix, "nexus-elb"));
		CHECK_STR(json_string_value(json_object_get(n, "Subject")), subject);
		msg = json_loads(json_string_value(json_object_get(n, "Message")), 0, NULL);
		CHECK_STR(json_string_value(json_object_get(msg, "AlarmName")), full(prefix, "nexus-elb"));
		CHECK_STR(json_string_value(json_object_get(msg, "NewStateValue")), want);
		CHECK_STR(json_string_value(json_object_get(msg, "OldStateValue")), i == first ? "OK" : "ALARM");
		CHECK(json_string_value(json_object_get(msg, "NewStateReason")) != NULL);
		CHECK(json_string_value(json_object_get(msg, "StateChangeTime")) != NULL);
		CHECK_STR(json_string_value(json_object_get(msg, "AWSAccountId")), "123456789012");
		CHECK_STR(json_string_value(json_object_get(msg, "Region")), "us-east-1");
		CHECK_STR(json_string_value(json_object_get(json_object_get(msg, "Trigger"), "MetricName")), "HealthyHostCount");
		CHECK_STR(json_string_value(json_object_get(json_object_get(msg, "Trigger"), "Namespace")), "AWS/ELB");
		json_decref(msg);
		json_decref(note);
	}
	json_decref(after);
	{
		/* the stand-in PagerDuty opened the incident and resolved it */
		json_t *inc = incident(full(prefix, "nexus-elb"));
		json_t *events = json_object_get(inc, "events");
		CHECK_STR(json_string_value(json_object_get(inc, "status")), "resolved");
		CHECK_STR(json_string_value(json_object_get(inc, "via")), "cloudwatch");
		CHECK_INT(json_array_size(events), 2);
		CHECK_STR(json_string_value(json_array_get(events, 0)), "trigger");
		CHECK_STR(json_string_value(json_array_get(events, 1)), "resolve");
		json_decref(inc);
	}
	json_decref(steps);
	ciha_free(out);
	ciha_alarm_set_free(set);
}

static void test_drill__missing_ok_action_is_estate_naming_the_alarm(void)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_spec *s = NULL;
	json_t *before = received(), *after, *steps;
	char *out = NULL;
	const char *msg;
	size_t i, failed = 0;
	put_foreign_alarm(full(other_prefix, "lonely"), 0);
	CHECK_INT(ciha_alarm_set_new(&set, other_prefix, topic_arn), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_new(&s, "lonely"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_metric(s, "Other", "Thing"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_threshold(s, "GreaterThanThreshold", 5), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "ignore"), CIHA_OK);
	CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
	CHECK_INT(ciha_alarm_drill(&out, client, set, receiver_url, 0), CIHA_ESTATE);
	msg = ciha_error_message(ciha_client_error(client));
	CHECK_MSG(strstr(msg, full(other_prefix, "lonely")) && strstr(msg, "no OK action"), "%s", msg);
	steps = out ? json_loads(out, 0, NULL) : NULL;
	for (i = 0; i < json_array_size(steps); i++)
		if (!json_is_true(json_object_get(json_array_get(steps, i), "ok")))
			failed++;
	CHECK_INT(failed, 1);
	CHECK(out && !strstr(out, "notify-alarm"));
	after = received();
	CHECK_INT(json_array_size(after), json_array_size(before));   /* nothing was published */
	json_decref(after);
	json_decref(steps);
	ciha_free(out);
	out = NULL;
	/* an endpoint that is not subscribed fails the drill too */
	ciha_alarm_set_free(set);
	set = smaller_set();
	CHECK_INT(ciha_alarm_drill(&out, client, set, "https://events.example.com/integration/" SECRET "x/enqueue", 0),
	          CIHA_ESTATE);
	msg = ciha_error_message(ciha_client_error(client));
	CHECK_MSG(strstr(msg, "not subscribed") && !strstr(msg, SECRET), "%s", msg);
	CHECK(out && !strstr(out, SECRET));
	json_decref(call("cloudwatch", "DeleteAlarms", json_pack("{s:[s]}", "AlarmNames", full(other_prefix, "lonely"))));
	json_decref(before);
	ciha_free(out);
	ciha_alarm_spec_free(s);
	ciha_alarm_set_free(set);
}

/* SNS subjects are ASCII and shorter than 100 characters, whatever the alarm is called. */
static void test_drill__long_unicode_name_gives_a_valid_subject(void)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_spec *s = NULL;
	ciha_alarm_plan *plan = NULL;
	char name[200], *out = NULL;
	json_t *before = received(), *after, *note;
	const char *subject;
	size_t i;
	snprintf(name, sizeof(name), "n\xc3\xa9xus-%0120d", 7);
	CHECK_INT(ciha_alarm_set_new(&set, other_prefix, topic_arn), CIHA_OK);
	CHECK_INT(ciha_alarm_preset_elb_no_healthy_host(&s, name, "nexus-lb"), CIHA_OK);
	CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
	CHECK_INT(ciha_alarm_apply(&plan, client, set, 0), CIHA_OK);
	CHECK_INT(ciha_alarm_drill(&out, client, set, receiver_url, 0), CIHA_OK);
	after = received();
	CHECK_INT(json_array_size(after), json_array_size(before) + 2);
	note = json_loads(json_string_value(json_object_get(json_array_get(after, json_array_size(before)), "body")), 0,
	                  NULL);
	subject = json_string_value(json_object_get(note, "Subject"));
	CHECK_MSG(subject && strlen(subject) < 100 && strncmp(subject, "ALARM: \"ciha-o", 14) == 0 &&
	          strstr(subject, "-n?xus-000"), "[%s]", subject ? subject : "(none)");
	for (i = 0; subject && subject[i]; i++)
		CHECK((unsigned char)subject[i] < 0x80);
	json_decref(note);
	json_decref(after);
	json_decref(before);
	ciha_free(out);
	ciha_alarm_plan_free(plan);
	ciha_alarm_spec_free(s);
	ciha_alarm_set_free(set);
}

static void delete_alarms_under(const char *p)
{
	json_t *r = call("cloudwatch", "DescribeAlarms", json_pack("{s:s}", "AlarmNamePrefix", p));
	json_t *alarms = json_object_get(r, "MetricAlarms"), *names = json_array();
	size_t i;
	for (i = 0; i < json_array_size(alarms); i++)
		json_array_append(names, json_object_get(json_array_get(alarms, i), "AlarmName"));
	if (json_array_size(names))
		json_decref(call("cloudwatch", "DeleteAlarms", json_pack("{s:o}", "AlarmNames", names)));
	else
		json_decref(names);
	json_decref(r);
}

int main(void)
{
	int rc;
	if (!getenv("CIHA_TEST_ENDPOINT") || !*getenv("CIHA_TEST_ENDPOINT"))
		CHECK_SKIP("test_moto_alarms needs CIHA_TEST_ENDPOINT (a moto server; tests/run starts one)");
	snprintf(prefix, sizeof(prefix), "ciha-t%ld-%ld-", (long)getpid(), (long)time(NULL));
	snprintf(other_prefix, sizeof(other_prefix), "ciha-o%ld-%ld-", (long)getpid(), (long)time(NULL));
	snprintf(topic_name, sizeof(topic_name), "ciha-pages-%ld-%ld", (long)getpid(), (long)time(NULL));
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	client = new_client(NULL, NULL);
	if (!client || start_receiver() != 0) {
		fprintf(stderr, "test_moto_alarms: no client, or tests/tools/pdreceiver.py did not start (python3? "
		        "CIHA_SRCDIR=%s)\n", getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : "(unset)");
		stop_receiver();
		return 1;
	}
	RUN(test_topic__ensure_is_idempotent);
	if (topic_arn) {
		RUN(test_subscribe__https_only_and_redacted);
		RUN(test_subscribe__once_and_confirmed);
		RUN(test_subscribe__found_beyond_the_first_page);
		RUN(test_subscribe__key_never_logged_or_in_errors);
		RUN(test_apply__creates_every_preset_with_both_actions);
		RUN(test_apply__again_is_unchanged);
		RUN(test_apply__threshold_change_is_one_update);
		RUN(test_apply__dry_run_changes_nothing);
		RUN(test_apply__removed_spec_deleted_foreign_alarm_kept);
		RUN(test_apply__refuses_to_overwrite_unmanaged_alarm);
		RUN(test_list__state_actions_missing_data_and_owner);
		RUN(test_drill__pages_and_resolves_through_sns);
		RUN(test_drill__missing_ok_action_is_estate_naming_the_alarm);
		RUN(test_drill__long_unicode_name_gives_a_valid_subject);
		delete_alarms_under(prefix);
		delete_alarms_under(other_prefix);
	}
	stop_receiver();
	ciha_free(topic_arn);
	ciha_client_free(client);
	ciha_global_cleanup();
	rc = CHECK_DONE("test_moto_alarms");
	return rc;
}
