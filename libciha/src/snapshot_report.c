/* snapshot_report.c: the plan or outcome of a snapshot run, item by item, as data and as JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "ciha/errors.h"
#include "ciha/snapshot.h"
#include "alloc_int.h"
#include "error_int.h"
#include "snapshot_int.h"
#include "time_int.h"

int ciha__report_new(ciha_snapshot_report **out, const char *policy, int dry_run)
{
	ciha_snapshot_report *r;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "report: NULL out");
	r = ciha__calloc(1, sizeof(*r));
	if (!r || (policy && !(r->policy = ciha__strdup(policy)))) {
		ciha__free(r);
		*out = NULL;
		return ciha__error_raise(CIHA_ENOMEM, "out of memory creating a snapshot report");
	}
	r->dry_run = dry_run ? 1 : 0;
	*out = r;
	return CIHA_OK;
}

static void item_dispose(ciha__report_item *it)
{
	ciha__free(it->action);
	ciha__free(it->target);
	ciha__free(it->snapshot_id);
	ciha__free(it->reason);
	ciha__free(it->message);
	ciha__free(it->region);
}

CIHA_EXTERN(void) ciha_snapshot_report_free(ciha_snapshot_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->count; i++)
		item_dispose(&report->items[i]);
	ciha__free(report->items);
	ciha__free(report->policy);
	ciha__free(report);
}

static int report_reserve(ciha_snapshot_report *r)
{
	size_t cap;
	ciha__report_item *grown;
	if (r->count < r->cap)
		return 0;
	cap = r->cap ? r->cap * 2 : 16;
	grown = ciha__realloc(r->items, cap * sizeof(*grown));
	if (!grown)
		return -1;
	r->items = grown;
	r->cap = cap;
	return 0;
}

/* Copy `s` into *dst; 0 on success (NULL copies as NULL). */
static int copy_string(char **dst, const char *s)
{
	*dst = ciha__strdup(s);
	return s && !*dst ? -1 : 0;
}

long ciha__report_add(ciha_snapshot_report *r, const char *action, ciha_snapshot_kind kind, const char *target,
                      const char *snapshot_id, const char *reason, int outcome, const char *message,
                      int64_t created)
{
	ciha__report_item it;
	if (!r || !action) {
		ciha__error_raise(CIHA_EINVAL, "report: adding an item needs a report and an action");
		return -1;
	}
	memset(&it, 0, sizeof(it));
	if (report_reserve(r) != 0 || copy_string(&it.action, action) || copy_string(&it.target, target) ||
	    copy_string(&it.snapshot_id, snapshot_id) || copy_string(&it.reason, reason) ||
	    copy_string(&it.message, message)) {
		item_dispose(&it);
		ciha__error_raise(CIHA_ENOMEM, "out of memory adding to a snapshot report");
		return -1;
	}
	it.kind = kind;
	it.outcome = outcome;
	it.created = created;
	r->items[r->count] = it;
	return (long)r->count++;
}

static ciha__report_item *item_at(const ciha_snapshot_report *r, size_t i)
{
	return r && i < r->count ? &r->items[i] : NULL;
}

/* Replace the string in *slot with a copy of s; on ENOMEM *slot is unchanged. */
static int replace_string(char **slot, const char *s)
{
	char *copy;
	if (copy_string(&copy, s))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory updating a snapshot report");
	ciha__free(*slot);
	*slot = copy;
	return CIHA_OK;
}

void ciha__report_set_outcome(ciha_snapshot_report *r, size_t i, int outcome, const char *message)
{
	ciha__report_item *it = item_at(r, i);
	if (!it)
		return;
	it->outcome = outcome;
	if (replace_string(&it->message, message) != CIHA_OK) {
		ciha__free(it->message);
		it->message = NULL;
	}
}

int ciha__report_set_snapshot_id(ciha_snapshot_report *r, size_t i, const char *snapshot_id)
{
	ciha__report_item *it = item_at(r, i);
	if (!it)
		return ciha__error_raise(CIHA_EINVAL, "report: no item %zu", i);
	return replace_string(&it->snapshot_id, snapshot_id);
}

int ciha__report_set_region(ciha_snapshot_report *r, size_t i, const char *region)
{
	ciha__report_item *it = item_at(r, i);
	if (!it)
		return ciha__error_raise(CIHA_EINVAL, "report: no item %zu", i);
	return replace_string(&it->region, region);
}

/* ---- JSON ---- */

static const char *kind_name(ciha_snapshot_kind kind)
{
	switch (kind) {
	case CIHA_SNAPSHOT_EBS:
		return "ebs";
	case CIHA_SNAPSHOT_RDS:
		return "rds";
	case CIHA_SNAPSHOT_RDS_CLUSTER:
		return "rds-cluster";
	default:
		return "unknown";
	}
}

static const char *outcome_name(int outcome)
{
	const char *name;
	if (outcome == CIHA_OK)
		return "ok";
	if (outcome == CIHA_EAGAIN)
		return "planned";
	name = ciha_code_name(outcome);
	return name ? name : "CIHA_ERROR";
}

static int item_failed(const ciha__report_item *it)
{
	return it->outcome != CIHA_OK && it->outcome != CIHA_EAGAIN;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t t)
{
	char stamp[21];
	if (!t)
		return json_null();
	ciha__time_iso8601((time_t)t, stamp);
	return stamp[0] ? json_string(stamp) : json_null();
}

/* Set o[key] = v, stealing v; returns non-zero on failure. */
static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v) != 0;
}

static json_t *item_json(const ciha__report_item *it)
{
	json_t *o = json_object();
	int bad = !o;
	bad = bad || put(o, "action", json_string(it->action));
	bad = bad || put(o, "kind", json_string(kind_name(it->kind)));
	bad = bad || put(o, "target", string_or_null(it->target));
	bad = bad || put(o, "snapshot_id", string_or_null(it->snapshot_id));
	bad = bad || put(o, "reason", string_or_null(it->reason));
	bad = bad || put(o, "outcome", json_string(outcome_name(it->outcome)));
	bad = bad || put(o, "message", string_or_null(it->message));
	bad = bad || put(o, "created", time_or_null(it->created));
	bad = bad || put(o, "region", string_or_null(it->region));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *summary_json(const ciha_snapshot_report *r)
{
	static const char *const actions[] = { "create", "skip", "keep", "delete", "copy" };
	json_t *o = json_object();
	for (size_t a = 0; o && a < sizeof(actions) / sizeof(actions[0]); a++) {
		size_t n = 0;
		for (size_t i = 0; i < r->count; i++)
			n += strcmp(r->items[i].action, actions[a]) == 0;
		if (put(o, actions[a], json_integer((json_int_t)n))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *items_json(const ciha_snapshot_report *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->count; i++)
		if (json_array_append_new(a, item_json(&r->items[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

json_t *ciha__report_to_json(const ciha_snapshot_report *r)
{
	json_t *o;
	int bad;
	if (!r)
		return NULL;
	o = json_object();
	bad = !o;
	bad = bad || put(o, "policy", string_or_null(r->policy));
	bad = bad || put(o, "dry_run", json_boolean(r->dry_run));
	bad = bad || put(o, "items", items_json(r));
	bad = bad || put(o, "failures", json_integer((json_int_t)ciha_snapshot_report_failures(r)));
	bad = bad || put(o, "summary", summary_json(r));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_report_json(char **out, const ciha_snapshot_report *report)
{
	json_t *o;
	char *text;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_report_json: NULL out");
	*out = NULL;
	if (!report)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_report_json: NULL report");
	o = ciha__report_to_json(report);
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	*out = ciha__strdup(text);
	free(text);
	if (!*out)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory writing a snapshot report as JSON");
	return CIHA_OK;
}

/* ---- accessors ---- */

CIHA_EXTERN(size_t) ciha_snapshot_report_count(const ciha_snapshot_report *report)
{
	return report ? report->count : 0;
}

CIHA_EXTERN(const char *) ciha_snapshot_report_action(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->action : NULL;
}

CIHA_EXTERN(ciha_snapshot_kind) ciha_snapshot_report_kind(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->kind : (ciha_snapshot_kind)0;
}

CIHA_EXTERN(const char *) ciha_snapshot_report_target(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->target : NULL;
}

CIHA_EXTERN(const char *) ciha_snapshot_report_snapshot_id(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->snapshot_id : NULL;
}

CIHA_EXTERN(const char *) ciha_snapshot_report_reason(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->reason : NULL;
}

CIHA_EXTERN(int) ciha_snapshot_report_outcome(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->outcome : CIHA_EINVAL;
}

CIHA_EXTERN(const char *) ciha_snapshot_report_message(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->message : NULL;
}

CIHA_EXTERN(int64_t) ciha_snapshot_report_created(const ciha_snapshot_report *report, size_t i)
{
	const ciha__report_item *it = item_at(report, i);
	return it ? it->created : 0;
}

CIHA_EXTERN(size_t) ciha_snapshot_report_failures(const ciha_snapshot_report *report)
{
	size_t n = 0;
	for (size_t i = 0; report && i < report->count; i++)
		n += item_failed(&report->items[i]);
	return n;
}
