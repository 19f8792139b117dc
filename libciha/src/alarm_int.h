/* alarm_int.h: alarm specs, sets and plans shared by the alarm modules
 * (alarm_spec.c, alarm_set.c, alarm_apply.c, alarm_drill.c, sns.c). */
#ifndef CIHA_ALARM_INT_H
#define CIHA_ALARM_INT_H
#include <jansson.h>
#include "ciha/alarm.h"
#include "ciha/call.h"

/* The tag that marks alarms libciha manages; reconcile deletes only these. */
#define CIHA__ALARM_MANAGED_KEY "ciha:managed-by"
#define CIHA__ALARM_MANAGED_VALUE "libciha"

/* ---- specs (alarm_spec.c) ---- */
typedef struct {
	char *name;
	char *value;
} ciha__alarm_dim;

struct ciha_alarm_spec {
	char *name;
	char *namespace_;       /* NULL until set */
	char *metric;
	ciha__alarm_dim *dims;
	size_t ndims;
	char *statistic;        /* "Average" unless set */
	char *comparison;       /* NULL until set */
	double threshold;
	int period_s;           /* 60 */
	int periods;            /* 1 */
	int datapoints;         /* 1 */
	char *missing_data;     /* NULL: not stated, refused when applied */
	char *description;      /* NULL: none */
	char *unit;             /* NULL: none */
};

/* Deep copy. */
int ciha__alarm_spec_copy(ciha_alarm_spec **out, const ciha_alarm_spec *src);
/* Is the spec complete (metric, comparison, missing-data treatment)? CIHA_EINVAL naming the alarm if not. */
int ciha__alarm_spec_check(const ciha_alarm_spec *spec);
/* Drop every dimension (JSON overrides of a preset's dimensions). */
void ciha__alarm_spec_clear_dimensions(ciha_alarm_spec *spec);
/* Does `name` (a spec name or a full alarm name) fit CloudWatch: 1..255 bytes, no control characters? */
int ciha__alarm_name_check(const char *name, const char *what);

/* ---- sets (alarm_set.c) ---- */
struct ciha_alarm_set {
	char *prefix;
	char *topic_arn;        /* NULL until set */
	ciha_alarm_spec **specs;
	size_t n;
	size_t cap;
};

/* The set's spec with full alarm name `full` ("<prefix><name>"), or NULL. */
const ciha_alarm_spec *ciha__alarm_set_find(const ciha_alarm_set *set, const char *full);
/* "<prefix><name>" as a new string (ciha__free), NULL on ENOMEM. */
char *ciha__alarm_full_name(const ciha_alarm_set *set, const ciha_alarm_spec *spec);

/* ---- reconcile (alarm_apply.c) ---- */
/*
 * The differences between what `spec` (with actions to `topic_arn`) asks for
 * and `described` (one MetricAlarms member as ciha_call decodes DescribeAlarms:
 * leaves are strings, lists are arrays, absent lists may be missing), as
 * "Field: old -> new" items joined by "; ". *out is "" when nothing differs.
 * Dimensions and actions compare order-insensitively. Returns CIHA_OK or CIHA_ENOMEM.
 */
int ciha__alarm_diff(char **out, const ciha_alarm_spec *spec, const char *topic_arn, const json_t *described);
/* PutMetricAlarm parameters for `spec` named `full_name`, both action lists = [topic_arn], managed tag. */
int ciha__alarm_put_params(json_t **out, const ciha_alarm_spec *spec, const char *full_name, const char *topic_arn);
/* ciha_call (every page merged when `all_pages`) taking over `params`; NULL params (a failed json_pack) is ENOMEM. */
int ciha__alarm_call(json_t **out, ciha_client *client, const char *service, const char *action, json_t *params,
                     int all_pages);
/* The member of a DescribeAlarms list named `name`, or NULL (borrowed). */
const json_t *ciha__alarm_find(const json_t *alarms, const char *name);
/* Indented JSON text of `doc` (taken over) as a caller-owned string (ciha_free). */
int ciha__alarm_json_out(char **out, json_t *doc);
/* Every metric alarm whose name starts with `prefix` (a new JSON array). */
int ciha__alarm_describe_prefix(json_t **out, ciha_client *client, const char *prefix);
/* Does the alarm with this ARN carry the managed tag? *managed = 1/0. */
int ciha__alarm_is_managed(int *managed, ciha_client *client, const char *alarm_arn);

typedef struct {
	const char *action;     /* static: "create", "update", "delete", "unchanged" */
	char *name;
	char *diff;             /* "" when none */
	int outcome;            /* CIHA_OK, CIHA_EAGAIN (planned) or a failure code */
	char *error;            /* failure message, or NULL */
} ciha__alarm_plan_item;

struct ciha_alarm_plan {
	ciha__alarm_plan_item *items;
	size_t n;
	size_t cap;
	int dry_run;
};

/* ---- SNS (sns.c) ---- */
/* "scheme://host/…[redacted]" for messages (out: at least 300 bytes). */
void ciha__sns_redact_url(char *out, size_t size, const char *url);
/* The subscription of `endpoint_url` to the topic (new string, the ARN or
 * "PendingConfirmation"), or *out = NULL when there is none. Reads every page. */
int ciha__sns_find_subscription(char **out, ciha_client *client, const char *topic_arn, const char *endpoint_url);
/* Publish `message` with `subject` to the topic; *out_message_id new string (may be NULL). */
int ciha__sns_publish(char **out_message_id, ciha_client *client, const char *topic_arn, const char *subject,
                      const char *message);
#endif
