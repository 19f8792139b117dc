/* env_plan.c: references to deployed stacks, the stack/alarm/snapshot/schedule
 * objects built from an environment, and the plan: what apply would change. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "env_int.h"
#include "snapshot_int.h"
#include "stack_int.h"

static int nomem(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

/* ---- shared helpers ------------------------------------------------------------------ */

int ciha__env_begin(ciha_client **use, ciha_client **owned, ciha_client *client, const ciha_env *env,
                    const ciha_env_options *opts)
{
	*use = client;
	*owned = NULL;
	if (!client || !env)
		return ciha__error_raise(CIHA_EINVAL, "environment: a client and an environment are required");
	if (opts && (opts->version == 0 || opts->version > CIHA_ENV_OPTIONS_VERSION))
		return ciha__client_fail(client, ciha__error_raise(CIHA_EUNSUPPORTED, "env options version %u is not "
		                         "supported (this library: %u)", opts->version, CIHA_ENV_OPTIONS_VERSION));
	if (!env->region || strcmp(env->region, ciha_client_region(client)) == 0)
		return CIHA_OK;
	if (ciha__client_clone_region(owned, client, env->region) != CIHA_OK)
		return ciha__client_fail(client, ciha__error_raise(CIHA_ERROR, "environment %s: no client for region %s: %s",
		                         env->name, env->region, ciha_error_message(ciha_error_last())));
	*use = *owned;
	return CIHA_OK;
}

void ciha__env_progress(const ciha_env_options *opts, const char *step, const char *fmt, ...)
{
	char detail[600];
	va_list ap;
	if (!opts || !opts->progress)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	opts->progress(step, detail, opts->payload);
}

int ciha__env_json_out(char **out, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	*out = text ? ciha__strdup(text) : NULL;
	free(text);
	return *out ? CIHA_OK : nomem();
}

const char *ciha__env_error_text(ciha_client *c, const char *fallback)
{
	const char *m = ciha_error_message(ciha_error_last());
	if ((!m || !*m) && c)
		m = ciha_error_message(ciha_client_error(c));
	return m && *m ? m : fallback;
}

void ciha__env_forget_error(ciha_client *c)
{
	if (c)
		ciha__error_reset(&c->err);
}

void ciha__env_note_failure(ciha__env_failure *f, int rc)
{
	if (f->code != CIHA_OK || rc == CIHA_OK)
		return;
	f->code = rc;
	ciha__error_copy(&f->err, ciha_error_last());
}

int ciha__env_raise_failure(ciha__env_failure *f, ciha_client *c)
{
	ciha__error_detail d;
	int rc = f->code;
	if (rc == CIHA_OK)
		return CIHA_OK;
	d.service = f->err.service;
	d.http_status = f->err.http_status;
	d.aws_code = f->err.aws_code;
	d.request_id = f->err.request_id;
	d.retryable = f->err.retryable;
	rc = ciha__error_raise_detail(rc, &d, "%s", f->err.message ? f->err.message : ciha_strerror(rc));
	ciha__error_reset(&f->err);
	f->code = CIHA_OK;
	return ciha__client_fail(c, rc);
}

const char *ciha__env_pagerduty_url(const ciha_env *env, const ciha_env_options *opts)
{
	return opts && opts->pagerduty_url ? opts->pagerduty_url : env->pagerduty_url;
}

int ciha__env_allow_http(const ciha_env *env, const ciha_env_options *opts)
{
	static const char *const loopback[] = { "http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:",
		"http://localhost/", "http://[::1]:", "http://[::1]/", NULL };
	size_t i;
	if (env->allow_http)
		return 1;
	for (i = 0; opts && opts->pagerduty_url && loopback[i]; i++)
		if (strncmp(opts->pagerduty_url, loopback[i], strlen(loopback[i])) == 0)
			return 1;
	return 0;
}

int ciha__env_newest_snapshot(char **id, int64_t *created, ciha_client *c, ciha_snapshot_kind kind, const char *target)
{
	const ciha__snap_driver *d = ciha__snap_driver_for(kind);
	ciha__snap *snaps = NULL;
	const ciha__snap *best = NULL;
	size_t i, n = 0;
	int rc = d->list(&snaps, &n, c, target);
	*id = NULL;
	*created = 0;
	if (rc != CIHA_OK)
		return ciha__client_fail(c, rc);
	for (i = 0; i < n; i++)
		if (snaps[i].state == CIHA__SNAP_COMPLETED && !snaps[i].automated && (!best || snaps[i].created > best->created))
			best = &snaps[i];
	if (best) {
		*created = best->created;
		if (!(*id = ciha__strdup(best->id)))
			rc = nomem();
	}
	for (i = 0; i < n; i++)
		ciha__snap_dispose(&snaps[i]);
	ciha__free(snaps);
	return rc;
}

/* ---- references ---------------------------------------------------------------------- */

void ciha__env_resolver_init(ciha__env_resolver *r, ciha_client *c)
{
	r->c = c;
	r->cache = json_object();
}

void ciha__env_resolver_dispose(ciha__env_resolver *r)
{
	json_decref(r->cache);
	r->cache = NULL;
}

void ciha__env_resolver_forget(ciha__env_resolver *r, const char *stack)
{
	json_object_del(r->cache, stack);
}

int ciha__env_is_ref(const json_t *value)
{
	return json_is_object(value) && json_object_get(value, "stack") != NULL;
}

/* {"resources": {logical: physical}, "outputs": {key: value}} of a deployed stack. */
static int stack_facts(json_t **out, ciha__env_resolver *r, const char *stack, const char *what)
{
	json_t *desc = NULL, *list = NULL, *facts, *m;
	const char *status;
	size_t i;
	int rc;
	if ((*out = json_object_get(r->cache, stack)) != NULL)
		return CIHA_OK;
	rc = ciha__stack_describe_json(&desc, r->c, stack);
	status = rc == CIHA_OK ? ciha__stack_str(desc, "StackStatus") : NULL;
	if (rc == CIHA_ENOTFOUND || (status && strcmp(status, "REVIEW_IN_PROGRESS") == 0)) {
		json_decref(desc);
		return ciha__client_fail(r->c, ciha__error_raise(CIHA_ENOTFOUND, "stack '%s' is not deployed (needed by %s)",
		                                                 stack, what));
	}
	if (rc == CIHA_OK)
		rc = ciha__stack_resources(&list, r->c, stack);
	if (rc != CIHA_OK) {
		json_decref(desc);
		return rc;
	}
	facts = json_pack("{s:{}, s:{}}", "resources", "outputs");
	for (i = 0; facts && i < json_array_size(list); i++) {
		m = json_array_get(list, i);
		if (ciha__stack_str(m, "LogicalResourceId") && ciha__stack_str(m, "PhysicalResourceId"))
			json_object_set_new(json_object_get(facts, "resources"), ciha__stack_str(m, "LogicalResourceId"),
			                    json_string(ciha__stack_str(m, "PhysicalResourceId")));
	}
	for (i = 0; facts && i < json_array_size(json_object_get(desc, "Outputs")); i++) {
		m = json_array_get(json_object_get(desc, "Outputs"), i);
		if (ciha__stack_str(m, "OutputKey") && json_is_string(json_object_get(m, "OutputValue")))
			json_object_set(json_object_get(facts, "outputs"), ciha__stack_str(m, "OutputKey"),
			                json_object_get(m, "OutputValue"));
	}
	json_decref(desc);
	json_decref(list);
	if (!facts || json_object_set_new(r->cache, stack, facts) != 0)
		return ciha__client_fail(r->c, nomem());
	*out = facts;
	return CIHA_OK;
}

static int resolve_ref(char **out, ciha__env_resolver *r, const json_t *ref, const char *what)
{
	const char *stack = json_string_value(json_object_get(ref, "stack"));
	const char *resource = json_string_value(json_object_get(ref, "resource"));
	const char *output = json_string_value(json_object_get(ref, "output"));
	const char *found;
	json_t *facts;
	int rc = stack_facts(&facts, r, stack, what);
	if (rc != CIHA_OK)
		return rc;
	found = json_string_value(json_object_get(json_object_get(facts, resource ? "resources" : "outputs"),
	                                          resource ? resource : output));
	if (!found)
		return ciha__client_fail(r->c, ciha__error_raise(CIHA_ENOTFOUND, "stack '%s' has no %s '%s' (needed by %s)",
		                         stack, resource ? "resource" : "output", resource ? resource : output, what));
	return (*out = ciha__strdup(found)) ? CIHA_OK : ciha__client_fail(r->c, nomem());
}

int ciha__env_resolve(char **out, ciha__env_resolver *r, const json_t *value, const char *what)
{
	ciha__buf b = CIHA__BUF_INIT;
	char *part;
	size_t i;
	int rc = CIHA_OK;
	*out = NULL;
	if (json_is_string(value))
		return (*out = ciha__strdup(json_string_value(value))) ? CIHA_OK : ciha__client_fail(r->c, nomem());
	if (ciha__env_is_ref(value))
		return resolve_ref(out, r, value, what);
	if (!json_is_array(value))
		return ciha__client_fail(r->c, ciha__error_raise(CIHA_EINVAL, "%s: not a value", what));
	for (i = 0; rc == CIHA_OK && i < json_array_size(value); i++) {
		if ((rc = ciha__env_resolve(&part, r, json_array_get(value, i), what)) == CIHA_OK)
			ciha__buf_printf(&b, "%s%s", i ? "," : "", part);
		ciha__free(part);
	}
	if (rc == CIHA_OK && !(*out = ciha__buf_detach(&b)))
		rc = ciha__client_fail(r->c, nomem());
	ciha__buf_dispose(&b);
	return rc;
}

/* A deep copy of `v` with every reference replaced by its value. */
static int resolve_tree(json_t **out, ciha__env_resolver *r, const json_t *v, const char *what)
{
	const char *key;
	json_t *member, *copy;
	char *text;
	size_t i;
	int rc = CIHA_OK;
	*out = NULL;
	if (ciha__env_is_ref(v)) {
		if ((rc = resolve_ref(&text, r, v, what)) != CIHA_OK)
			return rc;
		*out = json_string(text);
		ciha__free(text);
		return *out ? CIHA_OK : nomem();
	}
	if (!json_is_object(v) && !json_is_array(v))
		return (*out = json_deep_copy(v)) ? CIHA_OK : nomem();
	copy = json_is_array(v) ? json_array() : json_object();
	for (i = 0; copy && rc == CIHA_OK && json_is_array(v) && i < json_array_size(v); i++)
		if ((rc = resolve_tree(&member, r, json_array_get(v, i), what)) == CIHA_OK &&
		    json_array_append_new(copy, member) != 0)
			rc = nomem();
	if (copy && json_is_object(v))
		json_object_foreach((json_t *)v, key, member) {
			json_t *resolved;
			if (rc != CIHA_OK || (rc = resolve_tree(&resolved, r, member, what)) != CIHA_OK)
				break;
			if (json_object_set_new(copy, key, resolved) != 0)
				rc = nomem();
		}
	if (!copy || rc != CIHA_OK) {
		json_decref(copy);
		return copy ? rc : nomem();
	}
	*out = copy;
	return CIHA_OK;
}

/* ---- objects built from the spec --------------------------------------------------------- */

static int add_parameter(ciha_stack_spec *spec, ciha__env_resolver *r, const ciha__env_stack *s, const char *key,
                         const json_t *value)
{
	const char *snap = json_string_value(json_object_get(value, "snapshot"));
	char kind[4], what[300], *text = NULL;
	int rc;
	if (snap) {
		memcpy(kind, snap, 3);
		kind[3] = '\0';
		return ciha_stack_spec_add_snapshot_parameter(spec, key, kind, snap + 4);
	}
	snprintf(what, sizeof(what), "parameter %s of stack %s", key, s->name);
	if ((rc = ciha__env_resolve(&text, r, value, what)) == CIHA_OK)
		rc = ciha_stack_spec_add_parameter(spec, key, text);
	ciha__free(text);
	return rc;
}

int ciha__env_stack_spec(ciha_stack_spec **out, ciha__env_resolver *r, const ciha__env_stack *s)
{
	ciha_stack_spec *spec = NULL;
	const char *key;
	json_t *value;
	size_t i;
	int rc = ciha_stack_spec_new(&spec, s->name);
	*out = NULL;
	if (rc == CIHA_OK)
		rc = ciha_stack_spec_set_template_body(spec, s->template_body);
	if (rc == CIHA_OK && s->parameters)
		json_object_foreach((json_t *)s->parameters, key, value)
			if ((rc = add_parameter(spec, r, s, key, value)) != CIHA_OK)
				break;
	if (rc == CIHA_OK && s->tags)
		json_object_foreach((json_t *)s->tags, key, value)
			if ((rc = ciha_stack_spec_add_tag(spec, key, json_string_value(value))) != CIHA_OK)
				break;
	for (i = 0; rc == CIHA_OK && i < json_array_size(s->capabilities); i++)
		rc = ciha_stack_spec_add_capability(spec, json_string_value(json_array_get(s->capabilities, i)));
	if (rc == CIHA_OK && s->protect >= 0)
		rc = ciha_stack_spec_set_termination_protection(spec, s->protect);
	if (rc == CIHA_OK && s->policy_body)
		rc = ciha_stack_spec_set_policy_body(spec, s->policy_body);
	if (rc != CIHA_OK) {
		ciha_stack_spec_free(spec);
		return ciha__client_fail(r->c, rc);
	}
	*out = spec;
	return CIHA_OK;
}

int ciha__env_alarm_set(ciha_alarm_set **out, ciha__env_resolver *r, const ciha_env *env, const char *topic_arn)
{
	json_t *alarms = NULL, *doc;
	char *text;
	int rc = resolve_tree(&alarms, r, env->alarms, "the alarms");
	*out = NULL;
	if (rc != CIHA_OK)
		return rc;
	doc = json_pack("{s:s, s:s, s:o}", "prefix", env->alarm_prefix, "topic_arn", topic_arn, "alarms", alarms);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	rc = text ? ciha_alarm_set_from_json(out, text, env->source) : nomem();
	free(text);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(r->c, rc);
}

static int add_targets(ciha_snapshot_selector *sel, ciha__env_resolver *r, const json_t *list, int db)
{
	char *id;
	size_t i;
	int rc = CIHA_OK;
	for (i = 0; rc == CIHA_OK && i < json_array_size(list); i++) {
		if ((rc = ciha__env_resolve(&id, r, json_array_get(list, i), db ? "a snapshot target DB" :
		                            "a snapshot target volume")) != CIHA_OK)
			return rc;
		rc = db ? ciha_snapshot_selector_add_db(sel, id) : ciha_snapshot_selector_add_volume(sel, id);
		ciha__free(id);
	}
	return rc;
}

int ciha__env_selector(ciha_snapshot_selector **out, ciha__env_resolver *r, const ciha__env_snapshots *s)
{
	ciha_snapshot_selector *sel = NULL;
	const char *key;
	json_t *value;
	int rc = ciha_snapshot_selector_new(&sel);
	*out = NULL;
	if (rc == CIHA_OK)
		rc = add_targets(sel, r, s->volumes, 0);
	if (rc == CIHA_OK)
		rc = add_targets(sel, r, s->dbs, 1);
	if (rc == CIHA_OK && s->tags)
		json_object_foreach((json_t *)s->tags, key, value)
			if ((rc = ciha_snapshot_selector_add_tag(sel, key, json_string_value(value), 0)) != CIHA_OK)
				break;
	if (rc != CIHA_OK) {
		ciha_snapshot_selector_free(sel);
		return rc;
	}
	*out = sel;
	return CIHA_OK;
}

int ciha__env_schedule_build(ciha_agent_schedule *out, char **group, ciha__env_resolver *r, const ciha__env_schedule *s)
{
	static const ciha_agent_schedule init = CIHA_AGENT_SCHEDULE_INIT;
	int rc = ciha__env_resolve(group, r, s->group, "an agent schedule");
	if (rc != CIHA_OK)
		return rc;
	*out = init;
	out->group = *group;
	out->stop_recurrence = s->stop;
	out->start_recurrence = s->start;
	out->time_zone = s->time_zone;
	out->day_min = out->day_desired = s->day_size;
	out->day_max = s->max_size;
	out->night_min = out->night_desired = out->night_max = s->night_size;
	return CIHA_OK;
}

static void diff_action(ciha__buf *b, const json_t *have, const char *name, const char *recurrence, const char *tz,
                        int min, int max, int desired)
{
	const char *hr = json_string_value(json_object_get(have, "recurrence"));
	const char *htz = json_string_value(json_object_get(have, "time_zone"));
	if (!have) {
		ciha__buf_printf(b, "%s%s: missing", b->len ? "; " : "", name);
		return;
	}
	if (!hr || strcmp(hr, recurrence) != 0)
		ciha__buf_printf(b, "%s%s: recurrence '%s' -> '%s'", b->len ? "; " : "", name, hr ? hr : "", recurrence);
	if (htz && strcmp(htz, tz) != 0)
		ciha__buf_printf(b, "%s%s: time zone %s -> %s", b->len ? "; " : "", name, htz, tz);
	if (json_integer_value(json_object_get(have, "min_size")) != min ||
	    json_integer_value(json_object_get(have, "max_size")) != max ||
	    json_integer_value(json_object_get(have, "desired_capacity")) != desired)
		ciha__buf_printf(b, "%s%s: sizes min/max/desired %lld/%lld/%lld -> %d/%d/%d", b->len ? "; " : "", name,
		                 (long long)json_integer_value(json_object_get(have, "min_size")),
		                 (long long)json_integer_value(json_object_get(have, "max_size")),
		                 (long long)json_integer_value(json_object_get(have, "desired_capacity")), min, max, desired);
}

static const json_t *find_action(const json_t *list, const char *name)
{
	size_t i;
	for (i = 0; i < json_array_size(list); i++) {
		const char *n = json_string_value(json_object_get(json_array_get(list, i), "name"));
		if (n && strcmp(n, name) == 0)
			return json_array_get(list, i);
	}
	return NULL;
}

int ciha__env_schedule_diff(char **diff, ciha_client *c, const ciha_agent_schedule *want)
{
	ciha__buf b = CIHA__BUF_INIT;
	json_t *have;
	char *text = NULL;
	int rc = ciha_agents_schedule_list(&text, c, want->group);
	*diff = NULL;
	if (rc != CIHA_OK)
		return rc;
	have = json_loads(text, 0, NULL);
	ciha_free(text);
	diff_action(&b, find_action(have, "ciha-stop"), "ciha-stop", want->stop_recurrence, want->time_zone,
	            want->night_min, want->night_max, want->night_desired);
	diff_action(&b, find_action(have, "ciha-start"), "ciha-start", want->start_recurrence, want->time_zone,
	            want->day_min, want->day_max, want->day_desired);
	json_decref(have);
	if (!(*diff = ciha__buf_detach(&b)))
		rc = ciha__client_fail(c, nomem());
	ciha__buf_dispose(&b);
	return rc;
}

int ciha__env_topic_arn(char **out, int *exists, ciha_client *c, const char *topic)
{
	ciha_identity *id = NULL;
	json_t *all = NULL, *list;
	ciha__buf b = CIHA__BUF_INIT;
	size_t i, n = strlen(topic);
	int rc = ciha_call_all(&all, c, "sns", "ListTopics", NULL);
	*out = NULL;
	*exists = 0;
	if (rc != CIHA_OK)
		return rc;
	list = json_object_get(all, "Topics");
	for (i = 0; i < json_array_size(list) && !*out; i++) {
		const char *arn = json_string_value(json_object_get(json_array_get(list, i), "TopicArn"));
		size_t len = arn ? strlen(arn) : 0;
		if (len > n && arn[len - n - 1] == ':' && strcmp(arn + len - n, topic) == 0) {
			*exists = 1;
			*out = ciha__strdup(arn);
		}
	}
	json_decref(all);
	if (*exists)
		return *out ? CIHA_OK : ciha__client_fail(c, nomem());
	if ((rc = ciha_client_whoami(&id, c)) != CIHA_OK)
		return rc;
	ciha__buf_printf(&b, "arn:aws:sns:%s:%s:%s", ciha_client_region(c), ciha_identity_account(id), topic);
	ciha_identity_free(id);
	*out = ciha__buf_detach(&b);
	ciha__buf_dispose(&b);
	return *out ? CIHA_OK : ciha__client_fail(c, nomem());
}

/* ---- the plan ------------------------------------------------------------------------------- */

typedef struct {
	ciha_client *c;
	const ciha_env *env;
	const ciha_env_options *opts;
	ciha__env_resolver r;
	json_t *doc;
	long changes;
	ciha__env_failure failure;
} planner;

/* A section that cannot be planned: "pending" when it waits for a stack apply creates, else an error. */
static json_t *blocked(planner *p, int rc, const char *subject_key, const char *subject)
{
	const char *msg = ciha__env_error_text(p->c, ciha_strerror(rc));
	json_t *item;
	if (rc == CIHA_ENOTFOUND)
		item = json_pack("{s:s, s:s, s:s}", subject_key, subject, "action", "pending", "reason", msg);
	else {
		item = json_pack("{s:s, s:s, s:s}", subject_key, subject, "action", "error", "error", msg);
		ciha__env_note_failure(&p->failure, rc);
	}
	ciha__env_forget_error(p->c);
	return item;
}

static json_t *template_resources(const ciha__env_stack *s)
{
	json_t *tpl = NULL, *list = json_array(), *res;
	const char *key;
	if (ciha__template_parse(&tpl, s->template_body, s->template_path) != CIHA_OK)
		return list;
	json_object_foreach(json_object_get(tpl, "Resources"), key, res)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s?}", "action", "Add", "logical_id", key, "type",
		                                      json_string_value(json_object_get(res, "Type"))));
	json_decref(tpl);
	return list;
}

static int stack_deployed(planner *p, const char *name)
{
	json_t *desc = NULL;
	const char *status;
	int rc = ciha__stack_describe_json(&desc, p->c, name), deployed;
	status = rc == CIHA_OK ? ciha__stack_str(desc, "StackStatus") : NULL;
	deployed = rc == CIHA_OK && status && strcmp(status, "REVIEW_IN_PROGRESS") != 0;
	json_decref(desc);
	if (rc != CIHA_OK && rc != CIHA_ENOTFOUND)
		return rc;
	ciha__env_forget_error(p->c);
	return deployed;
}

static void drop_review(planner *p, const ciha_stack_deployment *d)
{
	const char *cs = ciha_stack_deployment_change_set(d);
	json_t *params;
	if (!cs || ciha_stack_deployment_executed(d) || strcmp(ciha_stack_deployment_action(d), "none") == 0)
		return;
	params = json_pack("{s:s}", "ChangeSetName", cs);
	if (ciha__stack_call(NULL, p->c, "DeleteChangeSet", params, ciha_stack_deployment_stack_id(d)) != CIHA_OK)
		ciha__env_forget_error(p->c);
}

static json_t *review_stack(planner *p, const ciha__env_stack *s)
{
	ciha_stack_deploy_options o = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	ciha_stack_deployment *d = NULL;
	ciha_stack_spec *spec = NULL;
	json_t *item, *dj = NULL;
	char *text = NULL;
	int rc = ciha__env_stack_spec(&spec, &p->r, s);
	o.no_execute = 1;
	o.allow_replace = 1;   /* the plan shows dangerous changes instead of stopping at them */
	o.poll_interval_ms = p->opts ? p->opts->poll_interval_ms : 0;
	if (rc == CIHA_OK)
		rc = ciha_stack_deploy(&d, p->c, spec, &o);
	ciha_stack_spec_free(spec);
	if (rc == CIHA_OK && (rc = ciha_stack_deployment_json(&text, d)) == CIHA_OK)
		dj = json_loads(text, 0, NULL);
	ciha_free(text);
	if (rc != CIHA_OK) {
		ciha_stack_deployment_free(d);
		return blocked(p, rc == CIHA_ENOTFOUND ? CIHA_ERROR : rc, "name", s->name);
	}
	drop_review(p, d);
	if (strcmp(ciha_stack_deployment_action(d), "none") == 0)
		item = json_pack("{s:s, s:s}", "name", s->name, "action", "unchanged");
	else {
		item = json_pack("{s:s, s:s, s:O}", "name", s->name, "action", "update", "changes",
		                 json_object_get(dj, "changes") ? json_object_get(dj, "changes") : json_null());
		p->changes++;
	}
	json_decref(dj);
	ciha_stack_deployment_free(d);
	return item;
}

static void plan_stacks(planner *p)
{
	json_t *list = json_object_get(p->doc, "stacks");
	size_t i;
	for (i = 0; i < p->env->nstacks; i++) {
		const ciha__env_stack *s = &p->env->stacks[i];
		int deployed = stack_deployed(p, s->name);
		json_t *item;
		if (deployed < 0)
			item = blocked(p, deployed, "name", s->name);
		else if (!deployed) {
			item = json_pack("{s:s, s:s, s:o}", "name", s->name, "action", "create", "changes", template_resources(s));
			p->changes++;
		} else
			item = review_stack(p, s);
		ciha__env_progress(p->opts, "plan", "stack %s: %s", s->name,
		                   json_string_value(json_object_get(item, "action")));
		json_array_append_new(list, item);
	}
}

static json_t *plan_items(const char *json_text)
{
	json_t *doc = json_text ? json_loads(json_text, 0, NULL) : NULL;
	return doc ? doc : json_null();
}

static void plan_alarm_set(planner *p, const char *arn)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_plan *plan = NULL;
	char *text = NULL;
	size_t i;
	int rc = ciha__env_alarm_set(&set, &p->r, p->env, arn);
	if (rc == CIHA_OK)
		rc = ciha_alarm_apply(&plan, p->c, set, 1);
	if (rc != CIHA_OK) {
		json_object_set_new(p->doc, "alarms", blocked(p, rc, "prefix", p->env->alarm_prefix));
	} else if (ciha_alarm_plan_json(&text, plan) == CIHA_OK) {
		json_object_set_new(p->doc, "alarms", plan_items(text));
		for (i = 0; i < ciha_alarm_plan_count(plan); i++)
			p->changes += strcmp(ciha_alarm_plan_action(plan, i), "unchanged") != 0;
	}
	ciha_free(text);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
}

static void plan_alarms(planner *p)
{
	const char *url = ciha__env_pagerduty_url(p->env, p->opts);
	char *arn = NULL;
	int exists = 0, confirmed = -1;
	int rc = ciha__env_topic_arn(&arn, &exists, p->c, p->env->topic);
	if (rc != CIHA_OK) {
		json_object_set_new(p->doc, "topic", blocked(p, rc, "name", p->env->topic));
		return;
	}
	json_object_set_new(p->doc, "topic", json_pack("{s:s, s:s, s:s}", "name", p->env->topic, "arn", arn, "action",
	                                                exists ? "unchanged" : "create"));
	p->changes += !exists;
	if (url && exists && (rc = ciha_alarm_subscription_status(&confirmed, p->c, arn, url)) != CIHA_OK)
		json_object_set_new(p->doc, "subscription", blocked(p, rc, "topic", p->env->topic));
	else if (url) {
		json_object_set_new(p->doc, "subscription", json_pack("{s:s}", "action", confirmed < 0 ? "subscribe" :
		                    confirmed ? "unchanged" : "pending confirmation"));
		p->changes += confirmed < 0;
	}
	plan_alarm_set(p, arn);
	ciha__env_progress(p->opts, "plan", "alarms under %s planned", p->env->alarm_prefix);
	ciha__free(arn);
}

static void plan_schedules(planner *p)
{
	json_t *list = json_object_get(p->doc, "schedules");
	size_t i;
	for (i = 0; i < p->env->nschedules; i++) {
		ciha_agent_schedule want;
		char *group = NULL, *diff = NULL;
		int rc = ciha__env_schedule_build(&want, &group, &p->r, &p->env->schedules[i]);
		if (rc == CIHA_OK)
			rc = ciha__env_schedule_diff(&diff, p->c, &want);
		if (rc != CIHA_OK)
			json_array_append_new(list, blocked(p, rc, "group", group ? group : "(not deployed)"));
		else {
			json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "group", group, "action",
			                                      *diff ? "set" : "unchanged", "diff", diff));
			p->changes += *diff != '\0';
		}
		ciha__free(group);
		ciha__free(diff);
	}
}

static long count_snapshot_changes(const ciha_snapshot_report *report)
{
	long n = 0;
	size_t i;
	for (i = 0; i < ciha_snapshot_report_count(report); i++) {
		const char *a = ciha_snapshot_report_action(report, i);
		n += strcmp(a, "create") == 0 || strcmp(a, "delete") == 0 || strcmp(a, "copy") == 0;
	}
	return n;
}

static void plan_snapshot_entry(planner *p, const ciha__env_snapshots *s, json_t *list)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_selector *sel = NULL;
	ciha_snapshot_report *report = NULL;
	char *text = NULL;
	int rc = ciha__env_selector(&sel, &p->r, s);
	o.dry_run = 1;
	if (rc == CIHA_OK)
		rc = ciha_snapshot_run(&report, p->c, sel, s->policy, &o);
	if (report && ciha_snapshot_report_json(&text, report) == CIHA_OK) {
		json_array_append_new(list, plan_items(text));
		p->changes += count_snapshot_changes(report);
	} else if (rc != CIHA_OK)
		json_array_append_new(list, blocked(p, rc, "policy", ciha_snapshot_policy_name(s->policy)));
	ciha_free(text);
	ciha_snapshot_report_free(report);
	ciha_snapshot_selector_free(sel);
}

CIHA_EXTERN(ciha_result) ciha_env_plan(char **out_json, ciha_client *client, const ciha_env *env,
                                       const ciha_env_options *opts)
{
	ciha_client *owned = NULL;
	planner p;
	size_t i;
	int rc;
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_plan: out_json is NULL");
	*out_json = NULL;
	memset(&p, 0, sizeof(p));
	if ((rc = ciha__env_begin(&p.c, &owned, client, env, opts)) != CIHA_OK)
		return rc;
	p.env = env;
	p.opts = opts;
	ciha__env_resolver_init(&p.r, p.c);
	p.doc = json_pack("{s:s, s:[], s:[], s:[]}", "environment", env->name, "stacks", "schedules", "snapshots");
	if (!p.doc || !p.r.cache) {
		ciha__env_resolver_dispose(&p.r);
		json_decref(p.doc);
		ciha_client_free(owned);
		return ciha__client_fail(client, nomem());
	}
	plan_stacks(&p);
	if (env->alarm_prefix)
		plan_alarms(&p);
	plan_schedules(&p);
	for (i = 0; i < env->nsnapshots; i++)
		plan_snapshot_entry(&p, &env->snapshots[i], json_object_get(p.doc, "snapshots"));
	json_object_set_new(p.doc, "changes", json_integer(p.changes));
	ciha__env_resolver_dispose(&p.r);
	ciha_client_free(owned);
	rc = ciha__env_json_out(out_json, p.doc);
	if (rc != CIHA_OK) {
		ciha__error_reset(&p.failure.err);
		return ciha__client_fail(client, rc);
	}
	return ciha__env_raise_failure(&p.failure, client);
}
