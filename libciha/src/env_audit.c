/* env_audit.c: check the invariants that keep CI production-like, each as
 * pass/fail with the evidence found: chained security groups and no public
 * ingress, termination protection, Snapshot/Retain policies and stack policies,
 * fresh snapshots, alarm actions and a confirmed subscription, agent schedules. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc_int.h"
#include "alarm_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "env_int.h"
#include "snapshot_int.h"
#include "stack_int.h"

typedef struct {
	ciha_client *c;
	const ciha_env *env;
	const ciha_env_options *opts;
	ciha__env_resolver r;
	json_t *checks;
	int passed, failed;
	ciha__buf failures;     /* "check subject; ..." */
} auditor;

static void record(auditor *a, const char *check, const char *subject, int ok, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void record(auditor *a, const char *check, const char *subject, int ok, const char *fmt, ...)
{
	char evidence[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(evidence, sizeof(evidence), fmt, ap);
	va_end(ap);
	json_array_append_new(a->checks, json_pack("{s:s, s:s, s:b, s:s}", "check", check, "subject", subject, "ok", ok,
	                                           "evidence", evidence));
	if (ok)
		a->passed++;
	else {
		a->failed++;
		ciha__buf_printf(&a->failures, "%s%s %s", a->failures.len ? "; " : "", check, subject);
	}
	ciha__env_progress(a->opts, "audit", "%s %s %s: %s", ok ? "pass" : "FAIL", check, subject, evidence);
}

/* A check that could not be made counts as failed, with the reason as evidence. */
static void unknown(auditor *a, const char *check, const char *subject)
{
	record(a, check, subject, 0, "could not check: %s", ciha__env_error_text(a->c, "unknown error"));
	ciha__env_forget_error(a->c);
}

/* ---- security groups ------------------------------------------------------------------ */

typedef struct {
	const char *role;
	const char *allowed[3];   /* roles that may reach it */
	const char *required;     /* a role that must reach it, or NULL */
} chain_rule;

static const chain_rule chain[] = {
	{ "master", { "agents", "elb", NULL }, "agents" },
	{ "database", { "master", NULL, NULL }, "master" },
	{ "nexus", { "elb", "master", "agents" }, NULL },
	{ "agents", { NULL, NULL, NULL }, NULL },
};

static int is_public(const char *cidr)
{
	return cidr && (strcmp(cidr, "0.0.0.0/0") == 0 || strcmp(cidr, "::/0") == 0);
}

/* Every source of the group's ingress rules: [{"rule": "tcp 5432", "group"|"cidr": ...}]. */
static json_t *ingress_sources(const json_t *sg)
{
	json_t *out = json_array(), *perm;
	size_t i, j;
	json_array_foreach(json_object_get(sg, "ipPermissions"), i, perm) {
		const char *proto = json_string_value(json_object_get(perm, "ipProtocol"));
		const char *from = json_string_value(json_object_get(perm, "fromPort"));
		const char *to = json_string_value(json_object_get(perm, "toPort"));
		char rule[64];
		json_t *m;
		if (from && to && strcmp(from, to) != 0)
			snprintf(rule, sizeof(rule), "%s %s-%s", proto ? proto : "?", from, to);
		else
			snprintf(rule, sizeof(rule), "%s %s", proto ? proto : "?", from ? from : "all");
		json_array_foreach(json_object_get(perm, "groups"), j, m)
			json_array_append_new(out, json_pack("{s:s, s:s?}", "rule", rule, "group",
			                                     json_string_value(json_object_get(m, "groupId"))));
		json_array_foreach(json_object_get(perm, "ipRanges"), j, m)
			json_array_append_new(out, json_pack("{s:s, s:s?}", "rule", rule, "cidr",
			                                     json_string_value(json_object_get(m, "cidrIp"))));
		json_array_foreach(json_object_get(perm, "ipv6Ranges"), j, m)
			json_array_append_new(out, json_pack("{s:s, s:s?}", "rule", rule, "cidr",
			                                     json_string_value(json_object_get(m, "cidrIpv6"))));
	}
	return out;
}

/* The role whose group id is `id`, or NULL. */
static const char *role_of(const json_t *ids, const char *id)
{
	const char *role;
	json_t *v;
	json_object_foreach((json_t *)ids, role, v)
		if (id && strcmp(json_string_value(v), id) == 0)
			return role;
	return NULL;
}

static void describe_sources(ciha__buf *b, const json_t *sources, const json_t *ids)
{
	json_t *s;
	size_t i;
	json_array_foreach(sources, i, s) {
		const char *group = json_string_value(json_object_get(s, "group"));
		const char *role = role_of(ids, group);
		ciha__buf_printf(b, "%s%s from %s%s%s%s", i ? ", " : "", json_string_value(json_object_get(s, "rule")),
		                 group ? group : json_string_value(json_object_get(s, "cidr")), role ? " (" : "",
		                 role ? role : "", role ? ")" : "");
	}
	if (!json_array_size(sources))
		ciha__buf_puts(b, "no ingress rules");
}

static int role_allowed(const chain_rule *rule, const char *role)
{
	size_t i;
	for (i = 0; role && i < 3 && rule->allowed[i]; i++)
		if (strcmp(rule->allowed[i], role) == 0)
			return 1;
	return 0;
}

static void check_chain(auditor *a, const chain_rule *rule, const json_t *sources, const json_t *ids)
{
	ciha__buf ev = CIHA__BUF_INIT;
	json_t *s;
	size_t i;
	int ok = 1, required_seen = rule->required == NULL;
	json_array_foreach(sources, i, s) {
		const char *role = role_of(ids, json_string_value(json_object_get(s, "group")));
		if (!json_object_get(s, "group") || !role_allowed(rule, role))
			ok = 0;
		if (rule->required && role && strcmp(role, rule->required) == 0)
			required_seen = 1;
	}
	describe_sources(&ev, sources, ids);
	if (!required_seen)
		ciha__buf_printf(&ev, "; nothing from %s", rule->required);
	record(a, "security-group-chain", rule->role, ok && required_seen, "%s", ciha__buf_cstr(&ev));
	ciha__buf_dispose(&ev);
}

static void check_public(auditor *a, const char *role, const char *id, const json_t *sources, const json_t *allowed)
{
	ciha__buf ev = CIHA__BUF_INIT;
	json_t *s, *v;
	size_t i;
	int open = 0, may = 0;
	json_array_foreach(allowed, i, v)
		may |= strcmp(json_string_value(v), id) == 0;
	json_array_foreach(sources, i, s)
		if (is_public(json_string_value(json_object_get(s, "cidr")))) {
			ciha__buf_printf(&ev, "%s%s from %s", open ? ", " : "", json_string_value(json_object_get(s, "rule")),
			                 json_string_value(json_object_get(s, "cidr")));
			open = 1;
		}
	if (!open)
		ciha__buf_printf(&ev, "%s: no rule from 0.0.0.0/0 or ::/0", id);
	else if (may)
		ciha__buf_puts(&ev, " (allowed by audit.public_allowed)");
	record(a, "no-public-ingress", role, !open || may, "%s", ciha__buf_cstr(&ev));
	ciha__buf_dispose(&ev);
}

static json_t *resolved_ids(auditor *a, const json_t *values, int *ok)
{
	json_t *ids = json_is_array(values) ? json_array() : json_object(), *v;
	const char *key;
	char *id;
	size_t i;
	*ok = 1;
	json_array_foreach(values, i, v)
		if (*ok && (*ok = ciha__env_resolve(&id, &a->r, v, "audit.public_allowed") == CIHA_OK) != 0) {
			json_array_append_new(ids, json_string(id));
			ciha__free(id);
		}
	if (json_is_object(values))
		json_object_foreach((json_t *)values, key, v)
			if (*ok && (*ok = ciha__env_resolve(&id, &a->r, v, "audit.security_groups") == CIHA_OK) != 0) {
				json_object_set_new(ids, key, json_string(id));
				ciha__free(id);
			}
	return ids;
}

static void audit_security_groups(auditor *a)
{
	json_t *ids, *allowed = NULL, *params, *r = NULL, *sg, *v;
	const char *role;
	size_t i;
	int ok;
	if (!a->env->audit_groups)
		return;
	ids = resolved_ids(a, a->env->audit_groups, &ok);
	if (ok)
		allowed = resolved_ids(a, a->env->public_allowed, &ok);
	params = json_pack("{s:[]}", "GroupId");
	json_object_foreach(ids, role, v)
		json_array_append(json_object_get(params, "GroupId"), v);
	if (!ok || ciha_call(&r, a->c, "ec2", "DescribeSecurityGroups", params) != CIHA_OK)
		unknown(a, "security-groups", "audit.security_groups");
	json_array_foreach(json_object_get(r, "securityGroupInfo"), i, sg) {
		const char *gid = json_string_value(json_object_get(sg, "groupId"));
		json_t *sources = ingress_sources(sg);
		size_t k;
		if ((role = role_of(ids, gid)) != NULL) {
			for (k = 0; k < sizeof(chain) / sizeof(chain[0]); k++)
				if (strcmp(chain[k].role, role) == 0)
					check_chain(a, &chain[k], sources, ids);
			check_public(a, role, gid, sources, allowed);
		}
		json_decref(sources);
	}
	json_decref(params);
	json_decref(r);
	json_decref(ids);
	json_decref(allowed);
}

/* ---- stacks --------------------------------------------------------------------------- */

static void stateful_policies(ciha__buf *ev, const char *body)
{
	json_t *tpl = NULL, *res;
	const char *key;
	if (ciha__template_parse(&tpl, body, "template") != CIHA_OK)
		return;
	json_object_foreach(json_object_get(tpl, "Resources"), key, res) {
		const char *type = json_string_value(json_object_get(res, "Type"));
		if (!type || !ciha__resource_type_is_stateful(type))
			continue;
		ciha__buf_printf(ev, "%s%s (%s): DeletionPolicy=%s UpdateReplacePolicy=%s", ev->len ? "; " : "", key, type,
		                 json_is_string(json_object_get(res, "DeletionPolicy")) ?
		                 json_string_value(json_object_get(res, "DeletionPolicy")) : "(none)",
		                 json_is_string(json_object_get(res, "UpdateReplacePolicy")) ?
		                 json_string_value(json_object_get(res, "UpdateReplacePolicy")) : "(none)");
	}
	json_decref(tpl);
}

static void check_deletion_policies(auditor *a, const ciha__env_stack *s)
{
	ciha__buf ev = CIHA__BUF_INIT;
	json_t *r = NULL, *problems = NULL;
	char *text = NULL;
	const char *body;
	int rc = ciha__stack_call(&r, a->c, "GetTemplate", json_pack("{s:s}", "StackName", s->name), s->name);
	body = json_string_value(json_object_get(r, "TemplateBody"));
	if (rc == CIHA_OK && body && (rc = ciha_stack_template_check(&text, body)) == CIHA_OK)
		problems = json_loads(text, 0, NULL);
	if (rc != CIHA_OK || !body || !problems)
		unknown(a, "deletion-policies", s->name);
	else {
		stateful_policies(&ev, body);
		record(a, "deletion-policies", s->name, json_array_size(problems) == 0, "%s",
		       ev.len ? ciha__buf_cstr(&ev) : "no stateful resources");
	}
	ciha__buf_dispose(&ev);
	ciha_free(text);
	json_decref(problems);
	json_decref(r);
}

static void check_stack_policy(auditor *a, const ciha__env_stack *s)
{
	json_t *have, *want;
	char *text = NULL;
	int rc = ciha_stack_policy_get(&text, a->c, s->name);
	if (rc != CIHA_OK) {
		unknown(a, "stack-policy", s->name);
		return;
	}
	have = text ? json_loads(text, 0, NULL) : NULL;
	want = json_loads(s->policy_body, 0, NULL);
	record(a, "stack-policy", s->name, have && json_equal(have, want), "%s",
	       !have ? "no stack policy set" : json_equal(have, want) ? "set as specified" : "differs from the spec");
	json_decref(have);
	json_decref(want);
	ciha_free(text);
}

static void audit_stacks(auditor *a)
{
	size_t i;
	for (i = 0; i < a->env->nstacks; i++) {
		const ciha__env_stack *s = &a->env->stacks[i];
		json_t *desc = NULL;
		const char *flag;
		if (ciha__stack_describe_json(&desc, a->c, s->name) != CIHA_OK) {
			unknown(a, "stack-deployed", s->name);
			continue;
		}
		flag = ciha__stack_str(desc, "EnableTerminationProtection");
		if (s->protect == 1)
			record(a, "termination-protection", s->name, flag && strcmp(flag, "true") == 0,
			       "EnableTerminationProtection=%s (status %s)", flag ? flag : "(not reported)",
			       ciha__stack_str(desc, "StackStatus") ? ciha__stack_str(desc, "StackStatus") : "?");
		json_decref(desc);
		check_deletion_policies(a, s);
		if (s->policy_body)
			check_stack_policy(a, s);
	}
}

/* ---- snapshots ------------------------------------------------------------------------ */

static void check_snapshot_age(auditor *a, const ciha__target *t, long max_age_s)
{
	char *id = NULL;
	int64_t created = 0, age;
	if (t->missing) {
		record(a, "snapshot-fresh", t->id, 0, "target missing: %s", t->missing);
		return;
	}
	if (ciha__env_newest_snapshot(&id, &created, a->c, t->kind, t->id) != CIHA_OK) {
		unknown(a, "snapshot-fresh", t->id);
		return;
	}
	age = (int64_t)time(NULL) - created;
	if (!id)
		record(a, "snapshot-fresh", t->id, 0, "no completed manual snapshot (max age %ld s)", max_age_s);
	else
		record(a, "snapshot-fresh", t->id, age <= max_age_s, "newest %s, %lld s old (max %ld s)", id, (long long)age,
		       max_age_s);
	ciha__free(id);
}

static void audit_snapshots(auditor *a)
{
	size_t i, j, n;
	for (i = 0; i < a->env->nsnapshots; i++) {
		const ciha__env_snapshots *s = &a->env->snapshots[i];
		long max_age = a->env->max_snapshot_age_s ? a->env->max_snapshot_age_s : 2 * s->policy->interval_s;
		ciha_snapshot_selector *sel = NULL;
		ciha__target *targets = NULL;
		n = 0;
		if (ciha__env_selector(&sel, &a->r, s) != CIHA_OK || ciha__targets_resolve(&targets, &n, a->c, sel) != CIHA_OK)
			unknown(a, "snapshot-fresh", ciha_snapshot_policy_name(s->policy));
		for (j = 0; j < n; j++)
			check_snapshot_age(a, &targets[j], max_age);
		ciha__targets_free(targets, n);
		ciha_snapshot_selector_free(sel);
	}
}

/* ---- alarms ---------------------------------------------------------------------------- */

static int has_action(const json_t *alarm, const char *key, const char *arn)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(alarm, key), i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), arn) == 0)
			return 1;
	return 0;
}

static void list_actions(ciha__buf *b, const json_t *alarm, const char *key)
{
	json_t *v;
	size_t i;
	ciha__buf_printf(b, "%s=[", key);
	json_array_foreach(json_object_get(alarm, key), i, v)
		ciha__buf_printf(b, "%s%s", i ? ", " : "", json_string_value(v));
	ciha__buf_puts(b, "]");
}

static void check_alarms(auditor *a, const ciha_alarm_set *set, const char *arn)
{
	json_t *described = NULL;
	size_t i;
	if (ciha__alarm_describe_prefix(&described, a->c, a->env->alarm_prefix) != CIHA_OK) {
		unknown(a, "alarm-actions", a->env->alarm_prefix);
		return;
	}
	for (i = 0; i < set->n; i++) {
		char *full = ciha__alarm_full_name(set, set->specs[i]);
		const json_t *alarm = full ? ciha__alarm_find(described, full) : NULL;
		ciha__buf ev = CIHA__BUF_INIT;
		if (!alarm)
			ciha__buf_printf(&ev, "alarm %s does not exist", full ? full : "?");
		else {
			list_actions(&ev, alarm, "AlarmActions");
			ciha__buf_puts(&ev, " ");
			list_actions(&ev, alarm, "OKActions");
		}
		record(a, "alarm-actions", full ? full : "?", alarm && has_action(alarm, "AlarmActions", arn) &&
		       has_action(alarm, "OKActions", arn), "%s", ciha__buf_cstr(&ev));
		ciha__buf_dispose(&ev);
		ciha__free(full);
	}
	json_decref(described);
}

static void check_subscription(auditor *a, const char *arn)
{
	const char *url = ciha__env_pagerduty_url(a->env, a->opts);
	char shown[300];
	int confirmed = -1;
	if (!url)
		return;
	ciha__sns_redact_url(shown, sizeof(shown), url);
	if (ciha_alarm_subscription_status(&confirmed, a->c, arn, url) != CIHA_OK) {
		unknown(a, "pagerduty-subscription", a->env->topic);
		return;
	}
	record(a, "pagerduty-subscription", a->env->topic, confirmed == 1, "%s: %s", shown,
	       confirmed == 1 ? "confirmed" : confirmed == 0 ? "pending confirmation" : "not subscribed");
}

static void audit_alarms(auditor *a)
{
	ciha_alarm_set *set = NULL;
	char *arn = NULL;
	int exists = 0;
	if (!a->env->alarm_prefix)
		return;
	if (ciha__env_topic_arn(&arn, &exists, a->c, a->env->topic) != CIHA_OK) {
		unknown(a, "alarm-topic", a->env->topic);
		return;
	}
	record(a, "alarm-topic", a->env->topic, exists, "%s %s", arn, exists ? "exists" : "does not exist");
	if (exists) {
		check_subscription(a, arn);
		if (ciha__env_alarm_set(&set, &a->r, a->env, arn) != CIHA_OK)
			unknown(a, "alarm-actions", a->env->alarm_prefix);
		else
			check_alarms(a, set, arn);
	}
	ciha_alarm_set_free(set);
	ciha__free(arn);
}

/* ---- schedules -------------------------------------------------------------------------- */

static void audit_schedules(auditor *a)
{
	size_t i;
	for (i = 0; i < a->env->nschedules; i++) {
		const ciha__env_schedule *s = &a->env->schedules[i];
		ciha_agent_schedule want;
		char *group = NULL, *diff = NULL;
		if (ciha__env_schedule_build(&want, &group, &a->r, s) != CIHA_OK ||
		    ciha__env_schedule_diff(&diff, a->c, &want) != CIHA_OK)
			unknown(a, "agent-schedule", group ? group : "(unresolved group)");
		else if (*diff)
			record(a, "agent-schedule", group, 0, "%s", diff);
		else
			record(a, "agent-schedule", group, 1, "ciha-stop '%s' to %d, ciha-start '%s' to %d (max %d), %s", s->stop,
			       s->night_size, s->start, s->day_size, s->max_size, s->time_zone);
		ciha__free(group);
		ciha__free(diff);
	}
}

CIHA_EXTERN(ciha_result) ciha_env_audit(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts)
{
	ciha_client *owned = NULL;
	json_t *doc;
	auditor a;
	int rc;
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_audit: out_json is NULL");
	*out_json = NULL;
	memset(&a, 0, sizeof(a));
	if ((rc = ciha__env_begin(&a.c, &owned, client, env, opts)) != CIHA_OK)
		return rc;
	a.env = env;
	a.opts = opts;
	a.checks = json_array();
	ciha__env_resolver_init(&a.r, a.c);
	audit_security_groups(&a);
	audit_stacks(&a);
	audit_snapshots(&a);
	audit_alarms(&a);
	audit_schedules(&a);
	ciha__env_resolver_dispose(&a.r);
	ciha_client_free(owned);
	doc = json_pack("{s:s, s:i, s:i, s:o}", "environment", env->name, "passed", a.passed, "failed", a.failed, "checks",
	                a.checks);
	if ((rc = ciha__env_json_out(out_json, doc)) == CIHA_OK && a.failed)
		rc = ciha__client_fail(client, ciha__error_raise(CIHA_ESTATE, "audit of %s: %d of %d checks failed: %s",
		                                                 env->name, a.failed, a.passed + a.failed,
		                                                 ciha__buf_cstr(&a.failures)));
	else if (rc != CIHA_OK)
		ciha__client_fail(client, rc);
	ciha__buf_dispose(&a.failures);
	return rc;
}
