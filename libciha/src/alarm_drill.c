/* alarm_drill.c: the fire drill. Check the wiring (alarm actions -> topic ->
 * confirmed subscription), then page through the topic with a notification
 * shaped like CloudWatch's and resolve it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "client_int.h"
#include "error_int.h"
#include "log_int.h"
#include "time_int.h"

#define SUBSYSTEM "cw"
#define MAX_SUBJECT 99
#define REDACTED_URL_SIZE 300

typedef struct {
	ciha_client *client;
	const ciha_alarm_set *set;
	const char *endpoint_url;
	json_t *steps;
	json_t *alarms;            /* described alarms under the prefix */
	char failure[512];         /* the first failed check, "" if none */
} drill;

static int add_step(drill *d, const char *step, const char *alarm, int ok, const char *detail)
{
	json_t *s = json_pack("{s:s, s:b, s:s}", "step", step, "ok", ok, "detail", detail);
	if (s && alarm && json_object_set_new(s, "alarm", json_string(alarm)) != 0)
		json_decref(s), s = NULL;
	if (!s || json_array_append_new(d->steps, s) != 0)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (!ok && !d->failure[0])
		snprintf(d->failure, sizeof(d->failure), "%s", detail);
	return CIHA_OK;
}

static const json_t *described(const drill *d, const char *name)
{
	return ciha__alarm_find(d->alarms, name);
}

static int actions_include(const json_t *alarm, const char *key, const char *topic)
{
	const json_t *list = json_object_get(alarm, key);
	size_t i;
	for (i = 0; json_is_array(list) && i < json_array_size(list); i++)
		if (json_is_string(json_array_get(list, i)) && strcmp(json_string_value(json_array_get(list, i)), topic) == 0)
			return 1;
	return 0;
}

static int actions_enabled(const json_t *alarm)
{
	const json_t *v = json_object_get(alarm, "ActionsEnabled");
	return !v || json_is_true(v) || (json_is_string(v) && strcmp(json_string_value(v), "true") == 0);
}

/* What is wrong with the alarm's wiring, or NULL. */
static const char *wiring_problem(const json_t *alarm, const char *topic)
{
	int alarm_ok, ok_ok;
	if (!alarm)
		return "does not exist (apply the set first)";
	if (!actions_enabled(alarm))
		return "has its actions disabled";
	alarm_ok = actions_include(alarm, "AlarmActions", topic);
	ok_ok = actions_include(alarm, "OKActions", topic);
	if (!alarm_ok && !ok_ok)
		return "sends neither ALARM nor OK to the topic";
	if (!alarm_ok)
		return "has no ALARM action to the topic";
	if (!ok_ok)
		return "has no OK action to the topic, so incidents would never resolve";
	return NULL;
}

static int check_alarm(drill *d, const ciha_alarm_spec *spec)
{
	char *full = ciha__alarm_full_name(d->set, spec), detail[700];
	const char *problem;
	int rc;
	if (!full)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	problem = wiring_problem(described(d, full), d->set->topic_arn);
	if (problem)
		snprintf(detail, sizeof(detail), "alarm '%s' %s (%s)", full, problem, d->set->topic_arn);
	else
		snprintf(detail, sizeof(detail), "alarm '%s' sends ALARM and OK to %s", full, d->set->topic_arn);
	rc = add_step(d, "alarm-actions", full, problem == NULL, detail);
	ciha__free(full);
	return rc;
}

static int check_subscription(drill *d)
{
	char shown[REDACTED_URL_SIZE], detail[600];
	int confirmed = -1, rc;
	rc = ciha_alarm_subscription_status(&confirmed, d->client, d->set->topic_arn, d->endpoint_url);
	if (rc != CIHA_OK)
		return rc;
	ciha__sns_redact_url(shown, sizeof(shown), d->endpoint_url);
	if (confirmed == 1)
		snprintf(detail, sizeof(detail), "%s is subscribed to %s and confirmed", shown, d->set->topic_arn);
	else if (confirmed == 0)
		snprintf(detail, sizeof(detail), "%s is subscribed to %s but the subscription is pending confirmation",
		         shown, d->set->topic_arn);
	else
		snprintf(detail, sizeof(detail), "%s is not subscribed to %s", shown, d->set->topic_arn);
	return add_step(d, "subscription", NULL, confirmed == 1, detail);
}

/* ---- the notification ---- */

/* The account id, 5th field of the alarm ARN arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME. */
static json_t *account_of(const char *arn)
{
	const char *p = arn;
	int field;
	for (field = 0; p && field < 4; field++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	return p ? json_stringn(p, strcspn(p, ":")) : json_null();
}

static json_t *statistic_upper(const char *statistic)
{
	char up[32];
	size_t i;
	for (i = 0; statistic[i] && i < sizeof(up) - 1; i++)
		up[i] = (char)toupper((unsigned char)statistic[i]);
	up[i] = '\0';
	return json_string(up);
}

static json_t *trigger_json(const ciha_alarm_spec *spec)
{
	json_t *dims = json_array();
	size_t i;
	for (i = 0; dims && i < spec->ndims; i++)
		json_array_append_new(dims, json_pack("{s:s, s:s}", "value", spec->dims[i].value, "name", spec->dims[i].name));
	return json_pack("{s:s, s:s, s:s, s:o, s:s?, s:o, s:i, s:i, s:i, s:s, s:f, s:s, s:s}",
	                 "MetricName", spec->metric, "Namespace", spec->namespace_, "StatisticType", "Statistic",
	                 "Statistic", statistic_upper(spec->statistic), "Unit", spec->unit, "Dimensions", dims,
	                 "Period", spec->period_s, "EvaluationPeriods", spec->periods, "DatapointsToAlarm", spec->datapoints,
	                 "ComparisonOperator", spec->comparison, "Threshold", spec->threshold,
	                 "TreatMissingData", spec->missing_data, "EvaluateLowSampleCountPercentile", "");
}

static json_t *list_of(const json_t *alarm, const char *key)
{
	const json_t *list = json_object_get(alarm, key);
	return json_is_array(list) ? json_deep_copy(list) : json_array();
}

/* The Message CloudWatch sends to SNS for a state change of `alarm`. */
static char *notification(const drill *d, const ciha_alarm_spec *spec, const json_t *alarm, int alarming)
{
	const char *arn = json_string_value(json_object_get(alarm, "AlarmArn"));
	char now[21], *text, *copy;
	json_t *msg;
	ciha__time_iso8601(time(NULL), now);
	msg = json_pack("{s:s?, s:s?, s:o, s:s?, s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:o, s:o}",
	                "AlarmName", json_string_value(json_object_get(alarm, "AlarmName")),
	                "AlarmDescription", spec->description, "AWSAccountId", account_of(arn ? arn : ""),
	                "AlarmConfigurationUpdatedTimestamp",
	                json_string_value(json_object_get(alarm, "AlarmConfigurationUpdatedTimestamp")),
	                "NewStateValue", alarming ? "ALARM" : "OK",
	                "NewStateReason", alarming ? "Fire drill by libciha: a test page, not a real incident"
	                                           : "Fire drill by libciha: the test page resolves",
	                "StateChangeTime", now, "Region", ciha_client_region(d->client), "AlarmArn", arn,
	                "OldStateValue", alarming ? "OK" : "ALARM", "OKActions", list_of(alarm, "OKActions"),
	                "AlarmActions", list_of(alarm, "AlarmActions"), "InsufficientDataActions", json_array(),
	                "Trigger", trigger_json(spec));
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	copy = text ? ciha__strdup(text) : NULL;
	free(text);
	return copy;
}

/* 'ALARM: "name" in us-east-1' as SNS takes it: ASCII, shorter than 100 characters. */
static void subject(char *out, size_t size, const drill *d, const char *name, int alarming)
{
	char full[400];
	size_t i, n = 0;
	snprintf(full, sizeof(full), "%s: \"%s\" in %s", alarming ? "ALARM" : "OK", name, ciha_client_region(d->client));
	for (i = 0; full[i] && n < MAX_SUBJECT && n + 1 < size; i++) {
		unsigned char c = (unsigned char)full[i];
		if (c < 0x80)
			out[n++] = (char)c;
		else if (c >= 0xc0)
			out[n++] = '?';   /* one per UTF-8 character; continuation bytes dropped */
	}
	out[n] = '\0';
}

static int notify(drill *d, const ciha_alarm_spec *spec, const char *name, int alarming)
{
	const json_t *alarm = described(d, name);
	char subj[MAX_SUBJECT + 1], detail[600], *message = notification(d, spec, alarm, alarming), *id = NULL;
	int rc;
	if (!message)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	subject(subj, sizeof(subj), d, name, alarming);
	rc = ciha__sns_publish(&id, d->client, d->set->topic_arn, subj, message);
	ciha__free(message);
	if (rc == CIHA_OK)
		snprintf(detail, sizeof(detail), "published %s for '%s' to %s (message %s)", alarming ? "ALARM" : "OK", name,
		         d->set->topic_arn, id);
	else
		snprintf(detail, sizeof(detail), "publishing %s for '%s' failed: %s", alarming ? "ALARM" : "OK", name,
		         ciha_error_message(ciha_client_error(d->client)));
	ciha__free(id);
	if (add_step(d, alarming ? "notify-alarm" : "notify-ok", name, rc == CIHA_OK, detail) != CIHA_OK)
		return CIHA_ENOMEM;
	ciha__log(&d->client->logger, rc == CIHA_OK ? CIHA_LOG_INFO : CIHA_LOG_ERROR, SUBSYSTEM, "drill: %s", detail);
	return rc;
}

static int page_and_resolve(drill *d, long resolve_after_ms)
{
	const ciha_alarm_spec *spec = d->set->specs[0];
	char *name = ciha__alarm_full_name(d->set, spec);
	int rc;
	if (!name)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = notify(d, spec, name, 1);
	if (rc == CIHA_OK) {
		if (resolve_after_ms > 0)
			ciha__sleep_ms(resolve_after_ms);
		rc = notify(d, spec, name, 0);
	}
	ciha__free(name);
	return rc;
}

static int check_wiring(drill *d)
{
	size_t i;
	int rc = ciha__alarm_describe_prefix(&d->alarms, d->client, d->set->prefix);
	for (i = 0; rc == CIHA_OK && i < d->set->n; i++)
		rc = check_alarm(d, d->set->specs[i]);
	if (rc == CIHA_OK)
		rc = check_subscription(d);
	return rc;
}

static int check_drill_args(char **out_json, ciha_client *client, const ciha_alarm_set *set, const char *endpoint_url,
                            long resolve_after_ms)
{
	if (!out_json || !client || !set || !endpoint_url)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_drill: NULL %s", !out_json ? "out_json" : !client ? "client"
		                         : !set ? "set" : "endpoint_url");
	if (!set->topic_arn)
		return ciha__error_raise(CIHA_EINVAL, "drill of '%s': the set has no topic", set->prefix);
	if (set->n == 0)
		return ciha__error_raise(CIHA_EINVAL, "drill of '%s': the set has no alarms", set->prefix);
	if (resolve_after_ms < 0)
		return ciha__error_raise(CIHA_EINVAL, "drill: negative resolve delay %ld ms", resolve_after_ms);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_drill(char **out_json, ciha_client *client, const ciha_alarm_set *set,
                                          const char *endpoint_url, long resolve_after_ms)
{
	drill d;
	int rc;
	if (out_json)
		*out_json = NULL;
	rc = check_drill_args(out_json, client, set, endpoint_url, resolve_after_ms);
	if (rc != CIHA_OK)
		return client ? ciha__client_fail(client, rc) : rc;
	memset(&d, 0, sizeof(d));
	d.client = client;
	d.set = set;
	d.endpoint_url = endpoint_url;
	if (!(d.steps = json_array()))
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	rc = check_wiring(&d);
	if (rc == CIHA_OK && d.failure[0])
		rc = ciha__error_raise(CIHA_ESTATE, "drill of '%s': %s", set->prefix, d.failure);
	else if (rc == CIHA_OK)
		rc = page_and_resolve(&d, resolve_after_ms);
	if (rc == CIHA_ENOMEM)
		json_decref(d.steps);
	else if (ciha__alarm_json_out(out_json, d.steps) != CIHA_OK)
		rc = CIHA_ENOMEM;
	json_decref(d.alarms);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
