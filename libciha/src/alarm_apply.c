/* alarm_apply.c: reconcile a set of alarms with CloudWatch (plan, diff, apply) and list them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "client_int.h"
#include "error_int.h"
#include "log_int.h"

#define SUBSYSTEM "cw"
#define DELETE_BATCH 100

/* ---- reading DescribeAlarms members (strings from the wire, numbers in tests) ---- */

static const char *member_string(const json_t *alarm, const char *key)
{
	const json_t *v = json_object_get(alarm, key);
	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

static int member_number(const json_t *alarm, const char *key, double *out)
{
	const json_t *v = json_object_get(alarm, key);
	char *end;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 1;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return 0;
	*out = strtod(json_string_value(v), &end);
	return *end == '\0';
}

static int member_bool(const json_t *alarm, const char *key, int absent)
{
	const json_t *v = json_object_get(alarm, key);
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v))
		return strcmp(json_string_value(v), "true") == 0;
	return absent;
}

/* A list member as an array, or NULL for an absent or empty element. */
static const json_t *member_list(const json_t *alarm, const char *key)
{
	const json_t *v = json_object_get(alarm, key);
	return json_is_array(v) ? v : NULL;
}

/* ---- sorted, joined renderings for order-insensitive comparisons ---- */

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "[a, b]" from `n` items sorted in place. */
static void join_sorted(ciha__buf *out, char **items, size_t n)
{
	size_t i;
	qsort(items, n, sizeof(*items), compare_strings);
	ciha__buf_putc(out, '[');
	for (i = 0; i < n; i++)
		ciha__buf_printf(out, "%s%s", i ? ", " : "", items[i]);
	ciha__buf_putc(out, ']');
}

static void free_items(char **items, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		ciha__free(items[i]);
	ciha__free(items);
}

static char *dimension_text(const char *name, const char *value)
{
	ciha__buf b = CIHA__BUF_INIT;
	ciha__buf_printf(&b, "%s=%s", name ? name : "", value ? value : "");
	return ciha__buf_detach(&b);
}

static int spec_dimensions_text(ciha__buf *out, const ciha_alarm_spec *spec)
{
	char **items = ciha__calloc(spec->ndims + 1, sizeof(*items));
	size_t i;
	int ok = items != NULL;
	for (i = 0; ok && i < spec->ndims; i++)
		ok = (items[i] = dimension_text(spec->dims[i].name, spec->dims[i].value)) != NULL;
	if (ok)
		join_sorted(out, items, spec->ndims);
	if (items)
		free_items(items, spec->ndims);
	return ok ? CIHA_OK : CIHA_ENOMEM;
}

static int described_dimensions_text(ciha__buf *out, const json_t *alarm)
{
	const json_t *dims = member_list(alarm, "Dimensions");
	size_t i, n = dims ? json_array_size(dims) : 0;
	char **items = ciha__calloc(n + 1, sizeof(*items));
	int ok = items != NULL;
	for (i = 0; ok && i < n; i++) {
		const json_t *d = json_array_get(dims, i);
		ok = (items[i] = dimension_text(member_string(d, "Name"), member_string(d, "Value"))) != NULL;
	}
	if (ok)
		join_sorted(out, items, n);
	if (items)
		free_items(items, n);
	return ok ? CIHA_OK : CIHA_ENOMEM;
}

static int described_actions_text(ciha__buf *out, const json_t *alarm, const char *key, size_t *count)
{
	const json_t *list = member_list(alarm, key);
	size_t i, n = list ? json_array_size(list) : 0;
	char **items = ciha__calloc(n + 1, sizeof(*items));
	int ok = items != NULL;
	for (i = 0; ok && i < n; i++) {
		const char *s = json_string_value(json_array_get(list, i));
		ok = (items[i] = ciha__strdup(s ? s : "")) != NULL;
	}
	if (ok)
		join_sorted(out, items, n);
	if (items)
		free_items(items, n);
	*count = n;
	return ok ? CIHA_OK : CIHA_ENOMEM;
}

/* ---- the diff ---- */

static void change(ciha__buf *d, const char *field, const char *old, const char *new_)
{
	ciha__buf_printf(d, "%s%s: %s -> %s", d->len ? "; " : "", field, old ? old : "(none)", new_ ? new_ : "(none)");
}

static void diff_string(ciha__buf *d, const char *field, const char *old, const char *new_)
{
	if ((old ? old : "")[0] == '\0' && (new_ ? new_ : "")[0] == '\0')
		return;
	if (!old || !new_ || strcmp(old, new_) != 0)
		change(d, field, old, new_);
}

static int numbers_equal(double a, double b)
{
	double scale = fmax(1.0, fmax(fabs(a), fabs(b)));
	return fabs(a - b) <= 1e-9 * scale;
}

static void diff_number(ciha__buf *d, const char *field, int has_old, double old, double new_)
{
	char a[40], b[40];
	if (has_old && numbers_equal(old, new_))
		return;
	snprintf(a, sizeof(a), "%.15g", old);
	snprintf(b, sizeof(b), "%.15g", new_);
	change(d, field, has_old ? a : NULL, b);
}

static void diff_int_member(ciha__buf *d, const json_t *alarm, const char *field, int fallback_set, double fallback,
                            int want)
{
	double old = fallback;
	int has = member_number(alarm, field, &old) || fallback_set;
	diff_number(d, field, has, old, (double)want);
}

/* Compare two rendered lists (disposing both); `say_added` when the old one is empty. */
static int diff_lists(ciha__buf *d, const char *field, ciha__buf *old, ciha__buf *want, int rc, int say_added)
{
	if (rc == CIHA_OK && strcmp(ciha__buf_cstr(old), ciha__buf_cstr(want)) != 0) {
		if (say_added)
			ciha__buf_printf(d, "%s%s: added", d->len ? "; " : "", field);
		else
			change(d, field, ciha__buf_cstr(old), ciha__buf_cstr(want));
	}
	if (old->failed || want->failed)
		rc = CIHA_ENOMEM;
	ciha__buf_dispose(old);
	ciha__buf_dispose(want);
	return rc;
}

static int diff_actions(ciha__buf *d, const json_t *alarm, const char *field, const char *topic_arn)
{
	ciha__buf old = CIHA__BUF_INIT, want = CIHA__BUF_INIT;
	size_t n = 0;
	int rc = described_actions_text(&old, alarm, field, &n);
	ciha__buf_printf(&want, "[%s]", topic_arn);
	return diff_lists(d, field, &old, &want, rc, n == 0);
}

static int diff_dimensions(ciha__buf *d, const ciha_alarm_spec *spec, const json_t *alarm)
{
	ciha__buf old = CIHA__BUF_INIT, want = CIHA__BUF_INIT;
	int rc = described_dimensions_text(&old, alarm);
	if (rc == CIHA_OK)
		rc = spec_dimensions_text(&want, spec);
	return diff_lists(d, "Dimensions", &old, &want, rc, 0);
}

static void diff_scalars(ciha__buf *d, const ciha_alarm_spec *spec, const json_t *alarm)
{
	const char *missing = member_string(alarm, "TreatMissingData");
	double threshold = 0, periods = 0;
	int has_threshold = member_number(alarm, "Threshold", &threshold);
	int has_periods = member_number(alarm, "EvaluationPeriods", &periods);
	diff_string(d, "Namespace", member_string(alarm, "Namespace"), spec->namespace_);
	diff_string(d, "MetricName", member_string(alarm, "MetricName"), spec->metric);
	diff_string(d, "Statistic", member_string(alarm, "Statistic"), spec->statistic);
	diff_string(d, "ComparisonOperator", member_string(alarm, "ComparisonOperator"), spec->comparison);
	diff_number(d, "Threshold", has_threshold, threshold, spec->threshold);
	diff_int_member(d, alarm, "Period", 0, 0, spec->period_s);
	diff_int_member(d, alarm, "EvaluationPeriods", 0, 0, spec->periods);
	/* CloudWatch treats an absent DatapointsToAlarm as "all evaluation periods". */
	diff_int_member(d, alarm, "DatapointsToAlarm", has_periods, periods, spec->datapoints);
	diff_string(d, "Unit", member_string(alarm, "Unit"), spec->unit);
	/* ...and an absent TreatMissingData as "missing". */
	diff_string(d, "TreatMissingData", missing ? missing : "missing", spec->missing_data);
	diff_string(d, "AlarmDescription", member_string(alarm, "AlarmDescription"), spec->description);
	if (!member_bool(alarm, "ActionsEnabled", 1))
		change(d, "ActionsEnabled", "false", "true");
}

int ciha__alarm_diff(char **out, const ciha_alarm_spec *spec, const char *topic_arn, const json_t *described)
{
	ciha__buf d = CIHA__BUF_INIT;
	int rc;
	*out = NULL;
	diff_scalars(&d, spec, described);
	if ((rc = diff_dimensions(&d, spec, described)) == CIHA_OK &&
	    (rc = diff_actions(&d, described, "AlarmActions", topic_arn)) == CIHA_OK)
		rc = diff_actions(&d, described, "OKActions", topic_arn);
	if (rc == CIHA_OK && !(*out = d.len ? ciha__buf_detach(&d) : ciha__strdup("")))
		rc = CIHA_ENOMEM;
	ciha__buf_dispose(&d);
	return rc == CIHA_OK ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory computing an alarm diff");
}

/* ---- PutMetricAlarm parameters ---- */

static json_t *dimensions_json(const ciha_alarm_spec *spec)
{
	json_t *dims = json_array();
	size_t i;
	for (i = 0; dims && i < spec->ndims; i++)
		if (json_array_append_new(dims, json_pack("{s:s, s:s}", "Name", spec->dims[i].name,
		                                          "Value", spec->dims[i].value)) != 0) {
			json_decref(dims);
			return NULL;
		}
	return dims;
}

int ciha__alarm_put_params(json_t **out, const ciha_alarm_spec *spec, const char *full_name, const char *topic_arn)
{
	json_t *dims = spec->ndims ? dimensions_json(spec) : NULL, *p;
	*out = NULL;
	if (spec->ndims && !dims)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	p = json_pack("{s:s, s:b, s:[s], s:[s], s:s, s:s, s:s, s:o*, s:i, s:i, s:i, s:f, s:s, s:s, "
	              "s:[{s:s, s:s}]}",
	              "AlarmName", full_name, "ActionsEnabled", 1, "AlarmActions", topic_arn,
	              "OKActions", topic_arn, "Namespace", spec->namespace_, "MetricName", spec->metric,
	              "Statistic", spec->statistic, "Dimensions", dims,
	              "Period", spec->period_s, "EvaluationPeriods", spec->periods,
	              "DatapointsToAlarm", spec->datapoints, "Threshold", spec->threshold,
	              "ComparisonOperator", spec->comparison, "TreatMissingData", spec->missing_data,
	              "Tags", "Key", CIHA__ALARM_MANAGED_KEY, "Value", CIHA__ALARM_MANAGED_VALUE);
	if (p && spec->unit && json_object_set_new(p, "Unit", json_string(spec->unit)) != 0)
		json_decref(p), p = NULL;
	if (p && spec->description && json_object_set_new(p, "AlarmDescription", json_string(spec->description)) != 0)
		json_decref(p), p = NULL;
	if (!p)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	*out = p;
	return CIHA_OK;
}

/* ---- CloudWatch reads ---- */

int ciha__alarm_call(json_t **out, ciha_client *client, const char *service, const char *action, json_t *params,
                     int all_pages)
{
	int rc;
	*out = NULL;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = all_pages ? ciha_call_all(out, client, service, action, params)
	               : ciha_call(out, client, service, action, params);
	json_decref(params);
	return rc;
}

int ciha__alarm_describe_prefix(json_t **out, ciha_client *client, const char *prefix)
{
	json_t *result = NULL, *alarms, *mine;
	size_t i;
	int rc = ciha__alarm_call(&result, client, "cloudwatch", "DescribeAlarms",
	                          json_pack("{s:s}", "AlarmNamePrefix", prefix), 1);
	*out = NULL;
	if (rc != CIHA_OK)
		return rc;
	alarms = json_object_get(result, "MetricAlarms");
	mine = json_array();
	for (i = 0; mine && json_is_array(alarms) && i < json_array_size(alarms); i++) {
		json_t *a = json_array_get(alarms, i);
		const char *name = member_string(a, "AlarmName");
		if (name && strncmp(name, prefix, strlen(prefix)) == 0 && json_array_append(mine, a) != 0)
			json_decref(mine), mine = NULL;
	}
	json_decref(result);
	if (!mine)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	*out = mine;
	return CIHA_OK;
}

int ciha__alarm_is_managed(int *managed, ciha_client *client, const char *alarm_arn)
{
	json_t *result = NULL, *tags;
	size_t i;
	int rc = ciha__alarm_call(&result, client, "cloudwatch", "ListTagsForResource",
	                          json_pack("{s:s}", "ResourceARN", alarm_arn), 0);
	*managed = 0;
	if (rc != CIHA_OK)
		return rc;
	tags = json_object_get(result, "Tags");
	for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		const char *key = member_string(t, "Key"), *value = member_string(t, "Value");
		if (key && value && strcmp(key, CIHA__ALARM_MANAGED_KEY) == 0 && strcmp(value, CIHA__ALARM_MANAGED_VALUE) == 0)
			*managed = 1;
	}
	json_decref(result);
	return CIHA_OK;
}

static int managed_alarm(int *managed, ciha_client *client, const json_t *alarm)
{
	const char *arn = member_string(alarm, "AlarmArn");
	if (!arn)
		return ciha__error_raise(CIHA_EAWS, "alarm '%s' was described without an AlarmArn",
		                         member_string(alarm, "AlarmName"));
	return ciha__alarm_is_managed(managed, client, arn);
}

const json_t *ciha__alarm_find(const json_t *alarms, const char *name)
{
	size_t i;
	for (i = 0; i < json_array_size(alarms); i++) {
		const char *n = member_string(json_array_get(alarms, i), "AlarmName");
		if (n && strcmp(n, name) == 0)
			return json_array_get(alarms, i);
	}
	return NULL;
}

/* ---- plans ---- */

static void plan_item_dispose(ciha__alarm_plan_item *item)
{
	ciha__free(item->name);
	ciha__free(item->diff);
	ciha__free(item->error);
}

CIHA_EXTERN(void) ciha_alarm_plan_free(ciha_alarm_plan *plan)
{
	size_t i;
	if (!plan)
		return;
	for (i = 0; i < plan->n; i++)
		plan_item_dispose(&plan->items[i]);
	ciha__free(plan->items);
	ciha__free(plan);
}

/* Append an item; `diff` is taken over (NULL means ""). */
static ciha__alarm_plan_item *plan_add(ciha_alarm_plan *plan, const char *action, const char *name, char *diff,
                                       int outcome)
{
	ciha__alarm_plan_item *item;
	if (plan->n == plan->cap) {
		size_t cap = plan->cap ? plan->cap * 2 : 8;
		ciha__alarm_plan_item *grown = ciha__realloc(plan->items, cap * sizeof(*grown));
		if (!grown) {
			ciha__free(diff);
			return NULL;
		}
		plan->items = grown;
		plan->cap = cap;
	}
	item = &plan->items[plan->n];
	memset(item, 0, sizeof(*item));
	item->action = action;
	item->outcome = outcome;
	item->name = ciha__strdup(name);
	item->diff = diff ? diff : ciha__strdup("");
	if (!item->name || !item->diff) {
		plan_item_dispose(item);
		return NULL;
	}
	plan->n++;
	return item;
}

static int item_failed(ciha__alarm_plan_item *item, int code, const char *message)
{
	item->outcome = code;
	ciha__free(item->error);
	item->error = ciha__strdup(message);
	return code;
}

static const ciha__alarm_plan_item *plan_item(const ciha_alarm_plan *plan, size_t i)
{
	return plan && i < plan->n ? &plan->items[i] : NULL;
}

CIHA_EXTERN(size_t) ciha_alarm_plan_count(const ciha_alarm_plan *plan)
{
	return plan ? plan->n : 0;
}

CIHA_EXTERN(const char *) ciha_alarm_plan_action(const ciha_alarm_plan *plan, size_t i)
{
	const ciha__alarm_plan_item *item = plan_item(plan, i);
	return item ? item->action : NULL;
}

CIHA_EXTERN(const char *) ciha_alarm_plan_name(const ciha_alarm_plan *plan, size_t i)
{
	const ciha__alarm_plan_item *item = plan_item(plan, i);
	return item ? item->name : NULL;
}

CIHA_EXTERN(const char *) ciha_alarm_plan_diff(const ciha_alarm_plan *plan, size_t i)
{
	const ciha__alarm_plan_item *item = plan_item(plan, i);
	return item ? item->diff : NULL;
}

CIHA_EXTERN(int) ciha_alarm_plan_outcome(const ciha_alarm_plan *plan, size_t i)
{
	const ciha__alarm_plan_item *item = plan_item(plan, i);
	return item ? item->outcome : CIHA_EINVAL;
}

int ciha__alarm_json_out(char **out, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;   /* malloc'd by jansson */
	json_decref(doc);
	*out = text ? ciha__strdup(text) : NULL;
	free(text);
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

static json_t *plan_item_json(const ciha__alarm_plan_item *item)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "name", item->name, "action", item->action, "diff", item->diff,
	                      "outcome", ciha_code_name(item->outcome));
	if (j && item->error && json_object_set_new(j, "error", json_string(item->error)) != 0)
		json_decref(j), j = NULL;
	return j;
}

CIHA_EXTERN(ciha_result) ciha_alarm_plan_json(char **out, const ciha_alarm_plan *plan)
{
	json_t *items, *doc;
	size_t i;
	if (!out || !plan)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_plan_json: NULL %s", out ? "plan" : "out");
	*out = NULL;
	items = json_array();
	for (i = 0; items && i < plan->n; i++)
		if (json_array_append_new(items, plan_item_json(&plan->items[i])) != 0)
			json_decref(items), items = NULL;
	doc = items ? json_pack("{s:b, s:o}", "dry_run", plan->dry_run, "items", items) : NULL;
	return ciha__alarm_json_out(out, doc);
}

/* ---- reconcile ---- */

typedef struct {
	ciha_client *client;
	const ciha_alarm_set *set;
	ciha_alarm_plan *plan;
	json_t *existing;        /* DescribeAlarms members under the prefix */
	int first_failure;
	char first_message[512];
} reconcile;

static void note_failure(reconcile *r, ciha__alarm_plan_item *item, int code)
{
	const char *msg = ciha_error_message(ciha_error_last());
	item_failed(item, code, msg);
	if (r->first_failure == CIHA_OK) {
		r->first_failure = code;
		snprintf(r->first_message, sizeof(r->first_message), "alarm '%s': %s", item->name, msg);
	}
}

static int plan_desired(reconcile *r, const ciha_alarm_spec *spec)
{
	char *full = ciha__alarm_full_name(r->set, spec), *diff = NULL;
	const json_t *found = full ? ciha__alarm_find(r->existing, full) : NULL;
	ciha__alarm_plan_item *item;
	int managed = 0, rc = CIHA_OK;
	if (!full)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (found && (rc = managed_alarm(&managed, r->client, found)) == CIHA_OK && managed)
		rc = ciha__alarm_diff(&diff, spec, r->set->topic_arn, found);
	if (rc == CIHA_ENOMEM) {
		ciha__free(full);
		return rc;
	}
	if (!found)
		item = plan_add(r->plan, "create", full, NULL, CIHA_EAGAIN);
	else
		item = plan_add(r->plan, diff && !*diff ? "unchanged" : "update", full, diff,
		                diff && !*diff ? CIHA_OK : CIHA_EAGAIN);
	ciha__free(full);
	if (!item)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc != CIHA_OK)
		note_failure(r, item, rc);
	else if (found && !managed)
		note_failure(r, item, ciha__error_raise(CIHA_EEXISTS, "exists but is not managed by libciha (no %s=%s tag); "
		                                        "left alone", CIHA__ALARM_MANAGED_KEY, CIHA__ALARM_MANAGED_VALUE));
	return CIHA_OK;
}

static int plan_stale(reconcile *r, const json_t *alarm)
{
	const char *name = member_string(alarm, "AlarmName");
	ciha__alarm_plan_item *item;
	int managed = 0, rc;
	if (!name || ciha__alarm_set_find(r->set, name))
		return CIHA_OK;
	rc = managed_alarm(&managed, r->client, alarm);
	if (rc == CIHA_OK && !managed) {
		ciha__log(&r->client->logger, CIHA_LOG_INFO, SUBSYSTEM, "alarm '%s' is not managed by libciha: left alone",
		          name);
		return CIHA_OK;
	}
	if (rc == CIHA_ENOMEM || !(item = plan_add(r->plan, "delete", name, NULL, CIHA_EAGAIN)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc != CIHA_OK)
		note_failure(r, item, rc);
	return CIHA_OK;
}

static int build_plan(reconcile *r)
{
	size_t i;
	int rc = ciha__alarm_describe_prefix(&r->existing, r->client, r->set->prefix);
	for (i = 0; rc == CIHA_OK && i < r->set->n; i++)
		rc = plan_desired(r, r->set->specs[i]);
	for (i = 0; rc == CIHA_OK && i < json_array_size(r->existing); i++)
		rc = plan_stale(r, json_array_get(r->existing, i));
	return rc;
}

static int put_alarm(reconcile *r, ciha__alarm_plan_item *item)
{
	const ciha_alarm_spec *spec = ciha__alarm_set_find(r->set, item->name);
	json_t *params = NULL, *result = NULL;
	int rc = ciha__alarm_put_params(&params, spec, item->name, r->set->topic_arn);
	if (rc == CIHA_OK)
		rc = ciha__alarm_call(&result, r->client, "cloudwatch", "PutMetricAlarm", params, 0);
	json_decref(result);
	if (rc != CIHA_OK) {
		note_failure(r, item, rc);
		return rc;
	}
	item->outcome = CIHA_OK;
	ciha__log(&r->client->logger, CIHA_LOG_INFO, SUBSYSTEM, "alarm '%s': %sd%s%s", item->name, item->action,
	          *item->diff ? ": " : "", item->diff);
	return CIHA_OK;
}

/* Delete up to DELETE_BATCH of the planned deletions starting at item `from`; returns the index after them. */
static size_t delete_batch(reconcile *r, size_t from)
{
	json_t *names = json_array(), *result = NULL;
	size_t i, end = from;
	int rc;
	for (; end < r->plan->n && json_array_size(names) < DELETE_BATCH; end++)
		if (strcmp(r->plan->items[end].action, "delete") == 0 && r->plan->items[end].outcome == CIHA_EAGAIN)
			json_array_append_new(names, json_string(r->plan->items[end].name));
	rc = ciha__alarm_call(&result, r->client, "cloudwatch", "DeleteAlarms", json_pack("{s:O}", "AlarmNames", names), 0);
	json_decref(result);
	for (i = from; i < end; i++) {
		ciha__alarm_plan_item *item = &r->plan->items[i];
		if (strcmp(item->action, "delete") != 0 || item->outcome != CIHA_EAGAIN)
			continue;
		if (rc != CIHA_OK)
			note_failure(r, item, rc);
		else
			item->outcome = CIHA_OK;
	}
	if (rc == CIHA_OK)
		ciha__log(&r->client->logger, CIHA_LOG_INFO, SUBSYSTEM, "deleted %zu stale alarm(s) under '%s'",
		          json_array_size(names), r->set->prefix);
	json_decref(names);
	return end;
}

static void carry_out(reconcile *r)
{
	size_t i;
	for (i = 0; i < r->plan->n; i++) {
		ciha__alarm_plan_item *item = &r->plan->items[i];
		if (item->outcome == CIHA_EAGAIN && strcmp(item->action, "delete") != 0)
			put_alarm(r, item);
	}
	for (i = 0; i < r->plan->n;) {
		if (strcmp(r->plan->items[i].action, "delete") == 0 && r->plan->items[i].outcome == CIHA_EAGAIN)
			i = delete_batch(r, i);
		else
			i++;
	}
}

static int check_apply_args(ciha_alarm_plan **out, ciha_client *client, const ciha_alarm_set *set)
{
	size_t i;
	int rc;
	if (!out || !client || !set)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_apply: NULL %s", !out ? "out" : !client ? "client" : "set");
	if (!set->topic_arn)
		return ciha__error_raise(CIHA_EINVAL, "alarm set '%s': no topic (every alarm sends ALARM and OK to one "
		                         "topic; set topic_arn)", set->prefix);
	for (i = 0; i < set->n; i++)
		if ((rc = ciha__alarm_spec_check(set->specs[i])) != CIHA_OK)
			return rc;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_apply(ciha_alarm_plan **out, ciha_client *client, const ciha_alarm_set *set,
                                          int dry_run)
{
	reconcile r;
	int rc;
	if (out)
		*out = NULL;
	if ((rc = check_apply_args(out, client, set)) != CIHA_OK)
		return client ? ciha__client_fail(client, rc) : rc;
	memset(&r, 0, sizeof(r));
	r.client = client;
	r.set = set;
	if (!(r.plan = ciha__calloc(1, sizeof(*r.plan))))
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	r.plan->dry_run = dry_run != 0;
	rc = build_plan(&r);
	if (rc == CIHA_OK && !dry_run)
		carry_out(&r);
	json_decref(r.existing);
	if (rc != CIHA_OK) {
		ciha_alarm_plan_free(r.plan);
		return ciha__client_fail(client, rc);
	}
	*out = r.plan;
	if (r.first_failure != CIHA_OK)
		return ciha__client_fail(client, ciha__error_raise(r.first_failure, "%s", r.first_message));
	return CIHA_OK;
}

/* ---- listing ---- */

static json_t *actions_json(const json_t *alarm, const char *key)
{
	const json_t *list = member_list(alarm, key);
	return list ? json_deep_copy(list) : json_array();
}

static json_t *listed_alarm(ciha_client *client, const json_t *alarm, int *rc)
{
	const char *missing = member_string(alarm, "TreatMissingData");
	double threshold = 0;
	int managed = 0;
	json_t *j;
	*rc = managed_alarm(&managed, client, alarm);
	if (*rc != CIHA_OK)
		return NULL;
	j = json_pack("{s:s?, s:s?, s:s?, s:o, s:o, s:s, s:b, s:s?, s:s?, s:s?, s:s?}",
	              "name", member_string(alarm, "AlarmName"), "state", member_string(alarm, "StateValue"),
	              "state_reason", member_string(alarm, "StateReason"),
	              "alarm_actions", actions_json(alarm, "AlarmActions"), "ok_actions", actions_json(alarm, "OKActions"),
	              "missing_data", missing ? missing : "missing", "managed", managed,
	              "namespace", member_string(alarm, "Namespace"), "metric", member_string(alarm, "MetricName"),
	              "statistic", member_string(alarm, "Statistic"),
	              "comparison", member_string(alarm, "ComparisonOperator"));
	if (j && member_number(alarm, "Threshold", &threshold) && json_object_set_new(j, "threshold",
	                                                                              json_real(threshold)) != 0)
		json_decref(j), j = NULL;
	if (!j)
		*rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return j;
}

CIHA_EXTERN(ciha_result) ciha_alarm_list(char **out_json, ciha_client *client, const char *prefix)
{
	json_t *alarms = NULL, *list;
	size_t i;
	int rc;
	if (!out_json || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_list: NULL %s", out_json ? "client" : "out_json");
	*out_json = NULL;
	if ((rc = ciha__alarm_describe_prefix(&alarms, client, prefix ? prefix : "")) != CIHA_OK)
		return ciha__client_fail(client, rc);
	list = json_array();
	for (i = 0; rc == CIHA_OK && list && i < json_array_size(alarms); i++) {
		json_t *item = listed_alarm(client, json_array_get(alarms, i), &rc);
		if (rc == CIHA_OK && json_array_append_new(list, item) != 0)
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	json_decref(alarms);
	if (rc != CIHA_OK || !list) {
		json_decref(list);
		return ciha__client_fail(client, rc != CIHA_OK ? rc : ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	}
	return ciha__alarm_json_out(out_json, list);
}
