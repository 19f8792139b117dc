/* env_apply.c: converge an environment: stacks in order, topic, subscription
 * and alarms, agent schedules, snapshot runs (and copies). Re-running it
 * changes nothing when nothing drifted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "error_int.h"
#include "env_int.h"
#include "snapshot_int.h"

typedef struct {
	ciha_client *c;
	const ciha_env *env;
	const ciha_env_options *opts;
	ciha__env_resolver r;
	json_t *doc;
	long changes;
	ciha__env_failure failure;
} applier;

static json_t *failed_item(applier *a, int rc, const char *key, const char *subject)
{
	json_t *item = json_pack("{s:s, s:s, s:s}", key, subject, "action", "error", "error",
	                         ciha__env_error_text(a->c, ciha_strerror(rc)));
	ciha__env_note_failure(&a->failure, rc);
	return item;
}

static json_t *text_json(const char *text)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	return doc ? doc : json_null();
}

/* ---- stacks ------------------------------------------------------------------------ */

static json_t *deployed_item(applier *a, const ciha__env_stack *s, const ciha_stack_deployment *d)
{
	const char *action = ciha_stack_deployment_action(d);
	char *text = NULL;
	json_t *dj, *item;
	int changed = strcmp(action, "none") != 0;
	ciha_stack_deployment_json(&text, d);
	dj = text_json(text);
	ciha_free(text);
	item = json_pack("{s:s, s:s, s:s?, s:O}", "name", s->name, "action", changed ? action : "unchanged", "status",
	                 ciha_stack_deployment_status(d), "changes",
	                 json_object_get(dj, "changes") ? json_object_get(dj, "changes") : json_null());
	json_decref(dj);
	a->changes += changed;
	return item;
}

static int stack_event(const ciha_stack_event *e, void *payload)
{
	const applier *a = payload;
	ciha__env_progress(a->opts, "stack", "%s %s %s %s%s%s", e->stack_name ? e->stack_name : "",
	                   e->logical_id ? e->logical_id : "", e->resource_type ? e->resource_type : "",
	                   e->status ? e->status : "", e->reason ? ": " : "", e->reason ? e->reason : "");
	return 0;
}

static int apply_stack(applier *a, const ciha__env_stack *s, json_t *list)
{
	ciha_stack_deploy_options o = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	ciha_stack_deployment *d = NULL;
	ciha_stack_spec *spec = NULL;
	int rc = ciha__env_stack_spec(&spec, &a->r, s);
	o.allow_replace = s->allow_replace;
	o.poll_interval_ms = a->opts ? a->opts->poll_interval_ms : 0;
	o.timeout_s = a->opts ? a->opts->timeout_s : 0;
	o.on_event = stack_event;
	o.payload = a;
	ciha__env_progress(a->opts, "stack", "%s: deploying", s->name);
	if (rc == CIHA_OK)
		rc = ciha_stack_deploy(&d, a->c, spec, &o);
	ciha_stack_spec_free(spec);
	ciha__env_resolver_forget(&a->r, s->name);
	if (rc != CIHA_OK) {
		json_t *item = failed_item(a, rc, "name", s->name);
		if (d && ciha_stack_deployment_status(d))
			json_object_set_new(item, "status", json_string(ciha_stack_deployment_status(d)));
		json_array_append_new(list, item);
	} else {
		json_array_append_new(list, deployed_item(a, s, d));
		ciha__env_progress(a->opts, "stack", "%s: %s", s->name,
		                   json_string_value(json_object_get(json_array_get(list, json_array_size(list) - 1), "action")));
	}
	ciha_stack_deployment_free(d);
	return rc;
}

static int apply_stacks(applier *a)
{
	json_t *list = json_object_get(a->doc, "stacks");
	size_t i;
	int rc = CIHA_OK;
	for (i = 0; i < a->env->nstacks; i++) {
		if (rc != CIHA_OK)
			json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", a->env->stacks[i].name, "action",
			                                      "skipped", "reason", "an earlier stack failed"));
		else
			rc = apply_stack(a, &a->env->stacks[i], list);
	}
	return rc;
}

/* ---- alarms ------------------------------------------------------------------------ */

static int apply_subscription(applier *a, const char *arn)
{
	const char *url = ciha__env_pagerduty_url(a->env, a->opts);
	char *sub = NULL;
	int confirmed = -1, rc;
	if (!url)
		return CIHA_OK;
	if ((rc = ciha_alarm_subscription_status(&confirmed, a->c, arn, url)) == CIHA_OK && confirmed < 0)
		rc = ciha_alarm_subscribe(&sub, a->c, arn, url, ciha__env_allow_http(a->env, a->opts));
	if (rc != CIHA_OK) {
		json_object_set_new(a->doc, "subscription", failed_item(a, rc, "topic", a->env->topic));
		return rc;
	}
	json_object_set_new(a->doc, "subscription", json_pack("{s:s, s:s}", "action", confirmed < 0 ? "subscribed" :
	                    "unchanged", "status", confirmed < 0 ? (sub ? sub : "") : confirmed ? "confirmed" :
	                    "pending confirmation"));
	a->changes += confirmed < 0;
	ciha__env_progress(a->opts, "alarms", "subscription: %s", confirmed < 0 ? "subscribed" : "unchanged");
	ciha_free(sub);
	return CIHA_OK;
}

static int apply_alarm_set(applier *a, const char *arn)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_plan *plan = NULL;
	char *text = NULL;
	size_t i;
	int rc = ciha__env_alarm_set(&set, &a->r, a->env, arn);
	if (rc == CIHA_OK)
		rc = ciha_alarm_apply(&plan, a->c, set, 0);
	if (plan && ciha_alarm_plan_json(&text, plan) == CIHA_OK)
		json_object_set_new(a->doc, "alarms", text_json(text));
	for (i = 0; plan && i < ciha_alarm_plan_count(plan); i++) {
		const char *action = ciha_alarm_plan_action(plan, i);
		a->changes += strcmp(action, "unchanged") != 0 && ciha_alarm_plan_outcome(plan, i) == CIHA_OK;
		ciha__env_progress(a->opts, "alarms", "%s: %s", ciha_alarm_plan_name(plan, i), action);
	}
	if (rc != CIHA_OK && !plan)
		json_object_set_new(a->doc, "alarms", failed_item(a, rc, "prefix", a->env->alarm_prefix));
	else if (rc != CIHA_OK)
		json_decref(failed_item(a, rc, "prefix", a->env->alarm_prefix));
	ciha_free(text);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
	return rc;
}

static int apply_alarms(applier *a)
{
	char *arn = NULL, *made = NULL;
	int exists = 0;
	int rc = ciha__env_topic_arn(&arn, &exists, a->c, a->env->topic);
	if (rc == CIHA_OK && !exists)
		rc = ciha_alarm_topic_ensure(&made, a->c, a->env->topic);
	if (rc != CIHA_OK) {
		json_object_set_new(a->doc, "topic", failed_item(a, rc, "name", a->env->topic));
		ciha__free(arn);
		return rc;
	}
	json_object_set_new(a->doc, "topic", json_pack("{s:s, s:s, s:s}", "name", a->env->topic, "arn",
	                    made ? made : arn, "action", exists ? "unchanged" : "created"));
	a->changes += !exists;
	ciha__env_progress(a->opts, "alarms", "topic %s: %s", a->env->topic, exists ? "unchanged" : "created");
	rc = apply_subscription(a, made ? made : arn);
	if (rc == CIHA_OK)
		rc = apply_alarm_set(a, made ? made : arn);
	ciha__free(arn);
	ciha_free(made);
	return rc;
}

/* ---- schedules ---------------------------------------------------------------------- */

static int apply_schedules(applier *a)
{
	json_t *list = json_object_get(a->doc, "schedules");
	size_t i;
	int rc = CIHA_OK, one;
	for (i = 0; i < a->env->nschedules; i++) {
		ciha_agent_schedule want;
		char *group = NULL, *diff = NULL;
		one = ciha__env_schedule_build(&want, &group, &a->r, &a->env->schedules[i]);
		if (one == CIHA_OK)
			one = ciha__env_schedule_diff(&diff, a->c, &want);
		if (one == CIHA_OK && *diff)
			one = ciha_agents_schedule_set(a->c, &want);
		if (one != CIHA_OK) {
			json_array_append_new(list, failed_item(a, one, "group", group ? group : "(unresolved)"));
			rc = rc == CIHA_OK ? one : rc;
		} else {
			json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "group", group, "action",
			                                      *diff ? "set" : "unchanged", "diff", diff));
			a->changes += *diff != '\0';
			ciha__env_progress(a->opts, "schedule", "%s: %s", group, *diff ? diff : "unchanged");
		}
		ciha__free(group);
		ciha__free(diff);
	}
	return rc;
}

/* ---- snapshots ---------------------------------------------------------------------- */

static long done_changes(const ciha_snapshot_report *report)
{
	long n = 0;
	size_t i;
	for (i = 0; i < ciha_snapshot_report_count(report); i++) {
		const char *action = ciha_snapshot_report_action(report, i);
		n += ciha_snapshot_report_outcome(report, i) == CIHA_OK &&
		     (strcmp(action, "create") == 0 || strcmp(action, "delete") == 0 || strcmp(action, "copy") == 0);
	}
	return n;
}

static int snapshot_progress(const ciha_snapshot_event *e, void *payload)
{
	const applier *a = payload;
	ciha__env_progress(a->opts, "snapshot", "%s %s: %s", e->target, e->snapshot_id ? e->snapshot_id : "",
	                   e->state ? e->state : "");
	return 0;
}

/* Report of one run (or copy) into the list; its failure becomes the apply's. */
static int add_report(applier *a, json_t *list, const char *what, int rc, ciha_snapshot_report *report)
{
	char *text = NULL;
	json_t *item;
	if (report && ciha_snapshot_report_json(&text, report) == CIHA_OK) {
		item = text_json(text);
		json_object_set_new(item, "step", json_string(what));
		if (rc != CIHA_OK)
			json_decref(failed_item(a, rc, "policy", report->policy));
		a->changes += done_changes(report);
	} else
		item = failed_item(a, rc, "step", what);
	json_array_append_new(list, item);
	ciha_free(text);
	return rc;
}

static int apply_snapshot_entry(applier *a, const ciha__env_snapshots *s, json_t *list)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_selector *sel = NULL;
	ciha_snapshot_report *report = NULL;
	int rc = ciha__env_selector(&sel, &a->r, s), copy_rc = CIHA_OK;
	o.wait = 1;
	o.poll_interval_ms = a->opts ? a->opts->poll_interval_ms : 0;
	o.wait_timeout_s = a->opts ? a->opts->timeout_s : 0;
	o.progress = snapshot_progress;
	o.progress_payload = a;
	if (rc != CIHA_OK) {
		json_array_append_new(list, failed_item(a, rc, "policy", ciha_snapshot_policy_name(s->policy)));
		return rc;
	}
	rc = ciha_snapshot_run(&report, a->c, sel, s->policy, &o);
	rc = add_report(a, list, "run", rc, report);
	ciha_snapshot_report_free(report);
	report = NULL;
	ciha__env_progress(a->opts, "snapshot", "policy %s: run %s", ciha_snapshot_policy_name(s->policy),
	                   rc == CIHA_OK ? "done" : "failed");
	if (s->policy->copy_region) {
		copy_rc = ciha_snapshot_copy(&report, a->c, sel, s->policy, &o);
		copy_rc = add_report(a, list, "copy", copy_rc, report);
		ciha_snapshot_report_free(report);
		ciha__env_progress(a->opts, "snapshot", "policy %s: copies to %s %s", ciha_snapshot_policy_name(s->policy),
		                   s->policy->copy_region, copy_rc == CIHA_OK ? "done" : "failed");
	}
	ciha_snapshot_selector_free(sel);
	return rc != CIHA_OK ? rc : copy_rc;
}

CIHA_EXTERN(ciha_result) ciha_env_apply(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts)
{
	ciha_client *owned = NULL;
	applier a;
	size_t i;
	int rc;
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_apply: out_json is NULL");
	*out_json = NULL;
	memset(&a, 0, sizeof(a));
	if ((rc = ciha__env_begin(&a.c, &owned, client, env, opts)) != CIHA_OK)
		return rc;
	a.env = env;
	a.opts = opts;
	ciha__env_resolver_init(&a.r, a.c);
	a.doc = json_pack("{s:s, s:[], s:[], s:[]}", "environment", env->name, "stacks", "schedules", "snapshots");
	if (!a.doc || !a.r.cache) {
		ciha__env_resolver_dispose(&a.r);
		json_decref(a.doc);
		ciha_client_free(owned);
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	}
	if (apply_stacks(&a) == CIHA_OK) {
		if (env->alarm_prefix)
			apply_alarms(&a);
		apply_schedules(&a);
		for (i = 0; i < env->nsnapshots; i++)
			apply_snapshot_entry(&a, &env->snapshots[i], json_object_get(a.doc, "snapshots"));
	}
	json_object_set_new(a.doc, "changes", json_integer(a.changes));
	json_object_set_new(a.doc, "ok", json_boolean(a.failure.code == CIHA_OK));
	ciha__env_progress(opts, "apply", "%s: %ld change%s%s", env->name, a.changes, a.changes == 1 ? "" : "s",
	                   a.failure.code == CIHA_OK ? "" : ", with failures");
	ciha__env_resolver_dispose(&a.r);
	ciha_client_free(owned);
	rc = ciha__env_json_out(out_json, a.doc);
	if (rc != CIHA_OK) {
		ciha__error_reset(&a.failure.err);
		return ciha__client_fail(client, rc);
	}
	return ciha__env_raise_failure(&a.failure, client);
}
