/* env_spec.c: read and validate an environment spec.
 *
 * The spec (JSON, or YAML when the text does not start with '{'):
 *
 *   {"name": "ci",                       environment name; "${name}" in any string below expands to it
 *    "region": "eu-central-1",           optional; default: the client's region
 *    "stacks": [{                        deployed in this order
 *        "name": "${name}-network",
 *        "template": "../templates/network.yaml",   relative to the spec's directory
 *        "parameters": {"K": VALUE, ...},
 *        "tags": {"K": "V"}, "capabilities": ["CAPABILITY_IAM"],
 *        "protect": true,                termination protection
 *        "policy": "generate" | "FILE",  stack policy: generated from the template (deny replacing or
 *                                        deleting stateful resources) or read from a file
 *        "allow_replace": false}],       let a change set replace or remove stateful resources
 *    "snapshots": [{"policy": {...as ciha_snapshot_policy_from_json...},
 *                   "targets": {"volumes": [VALUE...], "dbs": [VALUE...], "tags": {"K": "V"}}}],
 *    "alarms": {"prefix": "${name}-", "topic": "${name}-alarms",
 *               "pagerduty": {"url": "https://events.pagerduty.com/integration/KEY/enqueue", "allow_http": false},
 *               "alarms": [...as ciha_alarm_set_from_json; any string may be a VALUE...]},
 *    "schedules": [{"group": VALUE, "stop": "0 20 * * 1-5", "start": "0 7 * * 1-5",
 *                   "time_zone": "Europe/Berlin", "day_size": 2, "night_size": 0, "max_size": 8}],
 *    "audit": {"security_groups": {"master": VALUE, "agents": VALUE, "database": VALUE, "nexus": VALUE,
 *                                  "elb": VALUE},
 *              "public_allowed": [VALUE...],            groups that may be open to 0.0.0.0/0
 *              "max_snapshot_age_hours": 26}}           default: twice each policy's interval
 *
 * A VALUE is a literal string or a reference to a deployed stack, resolved when
 * used: {"stack": "ci-network", "resource": "AgentsSecurityGroup"} (the physical
 * id, from ListStackResources) or {"stack": "...", "output": "Key"}; a stack
 * parameter may also be an array of VALUEs (joined with commas) or
 * {"snapshot": "rds:DB-ID" | "ebs:vol-..."} (the newest snapshot). References
 * name stacks of the environment; a stack parameter only earlier stacks.
 * Errors name the source, the path and what was expected:
 *   "env.json: $.stacks[2].template: expected a string naming a template file".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
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

#define FILE_MAX_BYTES (1L << 20)

typedef struct {
	const char *source;
	const char *base_dir;
} reader;

static int fail(const reader *r, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(const reader *r, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ciha__error_raise(CIHA_EINVAL, "%s: %s: %s", r->source, path, what);
}

/* snprintf for document paths (a cut path still names the place). */
static void put_path(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_path(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

static int nomem(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory reading the environment spec");
}

/* A nested parser's "SOURCE: $..." message, moved under `prefix` of our document. */
static int relocate_error(const reader *r, int rc, const char *prefix)
{
	const char *msg = ciha_error_message(ciha_error_last());
	size_t n = strlen(r->source);
	if (rc == CIHA_ENOMEM)
		return rc;
	if (msg && strncmp(msg, r->source, n) == 0 && strncmp(msg + n, ": $", 3) == 0) {
		char *copy = ciha__strdup(msg + n + 3);
		if (!copy)
			return nomem();
		rc = ciha__error_raise(rc, "%s: %s%s", r->source, prefix, copy);
		ciha__free(copy);
		return rc;
	}
	return ciha__error_raise(rc, "%s: %s: %s", r->source, prefix, msg ? msg : "invalid");
}

static char *read_file(const char *path, const char **why)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	long n = -1;
	*why = NULL;
	if (!f) {
		*why = strerror(errno);
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n < 0 || n > FILE_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0)
		*why = n > FILE_MAX_BYTES ? "larger than 1 MiB" : "cannot read it";
	else if (!(text = ciha__malloc((size_t)n + 1)))
		*why = "out of memory";
	else if (fread(text, 1, (size_t)n, f) != (size_t)n) {
		ciha__free(text);
		text = NULL;
		*why = "cannot read it";
	} else
		text[n] = '\0';
	fclose(f);
	return text;
}

static char *join_path(const char *dir, const char *path)
{
	ciha__buf b = CIHA__BUF_INIT;
	if (path[0] == '/' || !dir || !*dir)
		return ciha__strdup(path);
	ciha__buf_printf(&b, "%s/%s", dir, path);
	return ciha__buf_detach(&b);
}

/* ---- small type checks ------------------------------------------------------------ */

static const char *type_name(const json_t *v)
{
	if (!v)
		return "nothing";
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: case JSON_REAL: return "a number";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int want_string(const reader *r, const char *path, const json_t *v, const char *what)
{
	if (json_is_string(v) && json_string_length(v) > 0)
		return CIHA_OK;
	return fail(r, path, "expected %s, got %s", what, json_is_string(v) ? "an empty string" : type_name(v));
}

static int want_bool(const reader *r, const char *path, const json_t *v)
{
	return json_is_boolean(v) ? CIHA_OK : fail(r, path, "expected true or false, got %s", type_name(v));
}

static int want_int(const reader *r, const char *path, const json_t *v, long long min, long long max)
{
	if (json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max)
		return CIHA_OK;
	return fail(r, path, "expected a whole number from %lld to %lld, got %s", min, max,
	            json_is_integer(v) ? "one out of range" : type_name(v));
}

/* Every key of `obj` is in the NULL-terminated `known`. */
static int known_keys(const reader *r, const char *path, const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;
	ciha__buf list = CIHA__BUF_INIT;
	size_t i;
	int rc = CIHA_OK, found;
	json_object_foreach((json_t *)obj, key, v) {
		(void)v;
		for (found = 0, i = 0; known[i] && !found; i++)
			found = strcmp(key, known[i]) == 0;
		if (!found) {
			for (i = 0; known[i]; i++)
				ciha__buf_printf(&list, "%s%s", i ? ", " : "", known[i]);
			rc = fail(r, path, "unknown key '%s' (known: %s)", key, ciha__buf_cstr(&list));
			break;
		}
	}
	ciha__buf_dispose(&list);
	return rc;
}

static int want_object(const reader *r, const char *path, const json_t *v, const char *const *known)
{
	if (!json_is_object(v))
		return fail(r, path, "expected an object, got %s", type_name(v));
	return known ? known_keys(r, path, v, known) : CIHA_OK;
}

/* ---- values and references ----------------------------------------------------------- */

static int stack_index(const ciha_env *env, const char *name)
{
	size_t i;
	for (i = 0; i < env->nstacks; i++)
		if (env->stacks[i].name && strcmp(env->stacks[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int check_ref(const reader *r, const char *path, const json_t *v, const ciha_env *env, size_t before)
{
	static const char *const keys[] = { "stack", "resource", "output", NULL };
	const char *stack;
	char sub[300];
	int idx, rc;
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.stack", path);
	if ((rc = want_string(r, sub, json_object_get(v, "stack"), "a stack name of this environment")) != CIHA_OK)
		return rc;
	stack = json_string_value(json_object_get(v, "stack"));
	idx = stack_index(env, stack);
	if (idx < 0)
		return fail(r, sub, "'%s' is not a stack of this environment", stack);
	if ((size_t)idx >= before)
		return fail(r, sub, "'%s' is deployed after this stack; a parameter can only name an earlier stack", stack);
	if (!json_object_get(v, "resource") == !json_object_get(v, "output"))
		return fail(r, path, "a reference names either \"resource\" (a logical id) or \"output\" (an output key)");
	put_path(sub, sizeof(sub), "%s.%s", path, json_object_get(v, "resource") ? "resource" : "output");
	return want_string(r, sub, json_object_get(v, "resource") ? json_object_get(v, "resource")
	                                                         : json_object_get(v, "output"), "a string");
}

static int check_value(const reader *r, const char *path, const json_t *v, const ciha_env *env, size_t before)
{
	if (json_is_string(v))
		return CIHA_OK;
	if (json_is_object(v) && json_object_get(v, "stack"))
		return check_ref(r, path, v, env, before);
	return fail(r, path, "expected a string or a reference {\"stack\": ..., \"resource\"|\"output\": ...}, got %s",
	            type_name(v));
}

static int check_snapshot_value(const reader *r, const char *path, const json_t *v)
{
	static const char *const keys[] = { "snapshot", NULL };
	const char *s;
	char sub[300];
	int rc;
	put_path(sub, sizeof(sub), "%s.snapshot", path);
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK ||
	    (rc = want_string(r, sub, json_object_get(v, "snapshot"), "\"rds:DB-ID\" or \"ebs:vol-...\"")) != CIHA_OK)
		return rc;
	s = json_string_value(json_object_get(v, "snapshot"));
	if ((strncmp(s, "rds:", 4) != 0 && strncmp(s, "ebs:", 4) != 0) || !s[4])
		return fail(r, sub, "expected \"rds:DB-ID\" or \"ebs:vol-...\", got \"%.80s\"", s);
	return CIHA_OK;
}

static int check_parameter(const reader *r, const char *path, const json_t *v, const ciha_env *env, size_t before)
{
	char sub[300];
	size_t i;
	int rc = CIHA_OK;
	if (json_is_object(v) && json_object_get(v, "snapshot"))
		return check_snapshot_value(r, path, v);
	if (!json_is_array(v))
		return check_value(r, path, v, env, before);
	if (json_array_size(v) == 0)
		return fail(r, path, "expected at least one value in the list");
	for (i = 0; rc == CIHA_OK && i < json_array_size(v); i++) {
		put_path(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = check_value(r, sub, json_array_get(v, i), env, before);
	}
	return rc;
}

static int check_value_list(const reader *r, const char *path, const json_t *v, const ciha_env *env)
{
	char sub[300];
	size_t i;
	int rc = CIHA_OK;
	if (!json_is_array(v))
		return fail(r, path, "expected an array, got %s", type_name(v));
	for (i = 0; rc == CIHA_OK && i < json_array_size(v); i++) {
		put_path(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = check_value(r, sub, json_array_get(v, i), env, env->nstacks);
	}
	return rc;
}

static int check_string_map(const reader *r, const char *path, const json_t *v)
{
	const char *key;
	json_t *value;
	char sub[300];
	int rc;
	if ((rc = want_object(r, path, v, NULL)) != CIHA_OK)
		return rc;
	json_object_foreach((json_t *)v, key, value) {
		put_path(sub, sizeof(sub), "%s.%s", path, key);
		if (!json_is_string(value))
			return fail(r, sub, "expected a string, got %s", type_name(value));
	}
	return CIHA_OK;
}

/* ---- "${name}" ---------------------------------------------------------------- */

static json_t *expanded_string(const char *s, const char *name)
{
	ciha__buf b = CIHA__BUF_INIT;
	const char *hit;
	json_t *out;
	while ((hit = strstr(s, "${name}")) != NULL) {
		ciha__buf_put(&b, s, (size_t)(hit - s));
		ciha__buf_puts(&b, name);
		s = hit + 7;
	}
	ciha__buf_puts(&b, s);
	out = b.failed ? NULL : json_string(ciha__buf_cstr(&b));
	ciha__buf_dispose(&b);
	return out;
}

static int expand(json_t *v, const char *name)
{
	const char *key;
	json_t *member, *s;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, member) {
			if (json_is_string(member) && strstr(json_string_value(member), "${name}")) {
				if (!(s = expanded_string(json_string_value(member), name)) || json_object_set_new(v, key, s) != 0)
					return nomem();
			} else if (expand(member, name) != CIHA_OK)
				return CIHA_ENOMEM;
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			member = json_array_get(v, i);
			if (json_is_string(member) && strstr(json_string_value(member), "${name}")) {
				if (!(s = expanded_string(json_string_value(member), name)) || json_array_set_new(v, i, s) != 0)
					return nomem();
			} else if (expand(member, name) != CIHA_OK)
				return CIHA_ENOMEM;
		}
	}
	return CIHA_OK;
}

/* ---- stacks ------------------------------------------------------------------------ */

static int read_template(const reader *r, const char *path, ciha__env_stack *s, const json_t *v)
{
	const char *why;
	char sub[300];
	int rc;
	put_path(sub, sizeof(sub), "%s.template", path);
	if ((rc = want_string(r, sub, v, "a string naming a template file")) != CIHA_OK)
		return rc;
	if (!(s->template_path = join_path(r->base_dir, json_string_value(v))))
		return nomem();
	if (!(s->template_body = read_file(s->template_path, &why)))
		return fail(r, sub, "cannot read template '%s': %s", s->template_path, why);
	return CIHA_OK;
}

static int read_policy(const reader *r, const char *path, ciha__env_stack *s, const json_t *v)
{
	const char *why;
	char sub[300], *file;
	int rc;
	put_path(sub, sizeof(sub), "%s.policy", path);
	if ((rc = want_string(r, sub, v, "\"generate\" or a string naming a stack policy file")) != CIHA_OK)
		return rc;
	if (strcmp(json_string_value(v), "generate") == 0) {
		if ((rc = ciha_stack_policy_generate(&s->policy_body, s->template_body)) != CIHA_OK)
			return relocate_error(r, rc, sub);
		return CIHA_OK;
	}
	if (!(file = join_path(r->base_dir, json_string_value(v))))
		return nomem();
	s->policy_body = read_file(file, &why);
	rc = s->policy_body ? CIHA_OK : fail(r, sub, "cannot read stack policy '%s': %s", file, why);
	ciha__free(file);
	if (rc == CIHA_OK && (rc = ciha__stack_policy_check(s->policy_body, "policy")) != CIHA_OK)
		rc = fail(r, sub, "%s", ciha_error_message(ciha_error_last()));
	return rc;
}

static int read_parameters(const reader *r, const char *path, const json_t *v, const ciha_env *env, size_t index)
{
	const char *key;
	json_t *value;
	char sub[300];
	int rc;
	if ((rc = want_object(r, path, v, NULL)) != CIHA_OK)
		return rc;
	json_object_foreach((json_t *)v, key, value) {
		put_path(sub, sizeof(sub), "%s.%s", path, key);
		if ((rc = check_parameter(r, sub, value, env, index)) != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int read_capabilities(const reader *r, const char *path, const json_t *v)
{
	char sub[300];
	size_t i;
	int rc = CIHA_OK;
	if (!json_is_array(v))
		return fail(r, path, "expected an array of capabilities, got %s", type_name(v));
	for (i = 0; rc == CIHA_OK && i < json_array_size(v); i++) {
		put_path(sub, sizeof(sub), "%s[%zu]", path, i);
		rc = want_string(r, sub, json_array_get(v, i), "CAPABILITY_IAM, CAPABILITY_NAMED_IAM or CAPABILITY_AUTO_EXPAND");
	}
	return rc;
}

static int read_stack(const reader *r, const json_t *v, ciha_env *env, size_t index)
{
	static const char *const keys[] = { "name", "template", "parameters", "tags", "capabilities", "protect",
		"policy", "allow_replace", NULL };
	ciha__env_stack *s = &env->stacks[index];
	char path[64], sub[300];
	int rc;
	snprintf(path, sizeof(path), "$.stacks[%zu]", index);
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.name", path);
	if ((rc = want_string(r, sub, json_object_get(v, "name"), "a string naming the stack")) != CIHA_OK)
		return rc;
	s->name = json_string_value(json_object_get(v, "name"));
	if (stack_index(env, s->name) != (int)index)
		return fail(r, sub, "stack '%s' is listed twice", s->name);
	s->protect = -1;
	if ((rc = read_template(r, path, s, json_object_get(v, "template"))) != CIHA_OK)
		return rc;
	if ((s->parameters = json_object_get(v, "parameters")) != NULL) {
		put_path(sub, sizeof(sub), "%s.parameters", path);
		if ((rc = read_parameters(r, sub, s->parameters, env, index)) != CIHA_OK)
			return rc;
	}
	put_path(sub, sizeof(sub), "%s.tags", path);
	if ((s->tags = json_object_get(v, "tags")) != NULL && (rc = check_string_map(r, sub, s->tags)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.capabilities", path);
	if ((s->capabilities = json_object_get(v, "capabilities")) != NULL &&
	    (rc = read_capabilities(r, sub, s->capabilities)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.protect", path);
	if (json_object_get(v, "protect") && (rc = want_bool(r, sub, json_object_get(v, "protect"))) != CIHA_OK)
		return rc;
	if (json_object_get(v, "protect"))
		s->protect = json_is_true(json_object_get(v, "protect"));
	put_path(sub, sizeof(sub), "%s.allow_replace", path);
	if (json_object_get(v, "allow_replace") &&
	    (rc = want_bool(r, sub, json_object_get(v, "allow_replace"))) != CIHA_OK)
		return rc;
	s->allow_replace = json_is_true(json_object_get(v, "allow_replace"));
	return json_object_get(v, "policy") ? read_policy(r, path, s, json_object_get(v, "policy")) : CIHA_OK;
}

static int read_stacks(const reader *r, const json_t *v, ciha_env *env)
{
	size_t i, n;
	int rc = CIHA_OK;
	if (!v)
		return CIHA_OK;
	if (!json_is_array(v))
		return fail(r, "$.stacks", "expected an array of stacks, got %s", type_name(v));
	n = json_array_size(v);
	if (n && !(env->stacks = ciha__calloc(n, sizeof(*env->stacks))))
		return nomem();
	env->nstacks = n;
	for (i = 0; i < n; i++)   /* names first: a reference to a later stack is told apart from a typo */
		env->stacks[i].name = json_string_value(json_object_get(json_array_get(v, i), "name"));
	for (i = 0; rc == CIHA_OK && i < n; i++)
		rc = read_stack(r, json_array_get(v, i), env, i);
	return rc;
}

/* ---- snapshots ------------------------------------------------------------------------ */

static int read_targets(const reader *r, const char *path, const json_t *v, ciha__env_snapshots *s,
                        const ciha_env *env)
{
	static const char *const keys[] = { "volumes", "dbs", "tags", NULL };
	char sub[300];
	int rc;
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK)
		return rc;
	s->volumes = json_object_get(v, "volumes");
	s->dbs = json_object_get(v, "dbs");
	s->tags = json_object_get(v, "tags");
	put_path(sub, sizeof(sub), "%s.volumes", path);
	if (s->volumes && (rc = check_value_list(r, sub, s->volumes, env)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.dbs", path);
	if (s->dbs && (rc = check_value_list(r, sub, s->dbs, env)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.tags", path);
	if (s->tags && (rc = check_string_map(r, sub, s->tags)) != CIHA_OK)
		return rc;
	if (json_array_size(s->volumes) + json_array_size(s->dbs) + json_object_size(s->tags) == 0)
		return fail(r, path, "expected at least one target (volumes, dbs or tags)");
	return CIHA_OK;
}

static int read_snapshot_entry(const reader *r, const json_t *v, ciha_env *env, size_t index)
{
	static const char *const keys[] = { "policy", "targets", NULL };
	ciha__env_snapshots *s = &env->snapshots[index];
	char path[64], sub[300], *text;
	int rc;
	snprintf(path, sizeof(path), "$.snapshots[%zu]", index);
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.policy", path);
	if ((rc = want_object(r, sub, json_object_get(v, "policy"), NULL)) != CIHA_OK)
		return rc;
	if (!(text = json_dumps(json_object_get(v, "policy"), JSON_COMPACT)))
		return nomem();
	rc = ciha_snapshot_policy_from_json(&s->policy, text, r->source);
	free(text);
	if (rc != CIHA_OK)
		return relocate_error(r, rc, sub);
	put_path(sub, sizeof(sub), "%s.targets", path);
	return read_targets(r, sub, json_object_get(v, "targets"), s, env);
}

static int read_snapshots(const reader *r, const json_t *v, ciha_env *env)
{
	size_t i, n;
	int rc = CIHA_OK;
	if (!v)
		return CIHA_OK;
	if (!json_is_array(v))
		return fail(r, "$.snapshots", "expected an array of {\"policy\", \"targets\"}, got %s", type_name(v));
	n = json_array_size(v);
	if (n && !(env->snapshots = ciha__calloc(n, sizeof(*env->snapshots))))
		return nomem();
	for (i = 0; rc == CIHA_OK && i < n; i++) {
		env->nsnapshots = i + 1;
		rc = read_snapshot_entry(r, json_array_get(v, i), env, i);
	}
	return rc;
}

/* ---- alarms ------------------------------------------------------------------------------ */

/* A copy of the alarms with every reference replaced by a placeholder, to let the alarm parser validate. */
static json_t *placeholders(const json_t *v)
{
	const char *key;
	json_t *member, *copy;
	size_t i;
	if (ciha__env_is_ref(v))
		return json_string("ref");
	if (json_is_array(v)) {
		copy = json_array();
		for (i = 0; copy && i < json_array_size(v); i++)
			if (json_array_append_new(copy, placeholders(json_array_get(v, i))) != 0) {
				json_decref(copy);
				return NULL;
			}
		return copy;
	}
	if (!json_is_object(v))
		return json_deep_copy(v);
	copy = json_object();
	json_object_foreach((json_t *)v, key, member) {
		if (!copy || json_object_set_new(copy, key, placeholders(member)) != 0) {
			json_decref(copy);
			return NULL;
		}
	}
	return copy;
}

static int check_alarm_refs(const reader *r, const char *path, const json_t *v, const ciha_env *env)
{
	const char *key;
	json_t *member;
	char sub[300];
	size_t i;
	int rc = CIHA_OK;
	if (ciha__env_is_ref(v))
		return check_ref(r, path, v, env, env->nstacks);
	if (json_is_array(v))
		for (i = 0; rc == CIHA_OK && i < json_array_size(v); i++) {
			put_path(sub, sizeof(sub), "%s[%zu]", path, i);
			rc = check_alarm_refs(r, sub, json_array_get(v, i), env);
		}
	else if (json_is_object(v))
		json_object_foreach((json_t *)v, key, member) {
			put_path(sub, sizeof(sub), "%s.%s", path, key);
			if ((rc = check_alarm_refs(r, sub, member, env)) != CIHA_OK)
				break;
		}
	return rc;
}

static int validate_alarm_set(const reader *r, const json_t *alarms, const char *prefix)
{
	json_t *doc = json_pack("{s:s, s:o}", "prefix", prefix, "alarms", placeholders(alarms));
	ciha_alarm_set *set = NULL;
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int rc = text ? ciha_alarm_set_from_json(&set, text, r->source) : nomem();
	json_decref(doc);
	free(text);
	ciha_alarm_set_free(set);
	return rc == CIHA_OK ? CIHA_OK : relocate_error(r, rc, "$.alarms");
}

static int read_pagerduty(const reader *r, const json_t *v, ciha_env *env)
{
	static const char *const keys[] = { "url", "allow_http", NULL };
	int rc;
	if ((rc = want_object(r, "$.alarms.pagerduty", v, keys)) != CIHA_OK ||
	    (rc = want_string(r, "$.alarms.pagerduty.url", json_object_get(v, "url"),
	                      "the PagerDuty CloudWatch integration URL")) != CIHA_OK)
		return rc;
	env->pagerduty_url = json_string_value(json_object_get(v, "url"));
	if (json_object_get(v, "allow_http") &&
	    (rc = want_bool(r, "$.alarms.pagerduty.allow_http", json_object_get(v, "allow_http"))) != CIHA_OK)
		return rc;
	env->allow_http = json_is_true(json_object_get(v, "allow_http"));
	return CIHA_OK;
}

static int read_alarms(const reader *r, const json_t *v, ciha_env *env)
{
	static const char *const keys[] = { "prefix", "topic", "pagerduty", "alarms", NULL };
	int rc;
	if (!v)
		return CIHA_OK;
	if ((rc = want_object(r, "$.alarms", v, keys)) != CIHA_OK ||
	    (rc = want_string(r, "$.alarms.prefix", json_object_get(v, "prefix"), "the alarm name prefix")) != CIHA_OK ||
	    (rc = want_string(r, "$.alarms.topic", json_object_get(v, "topic"), "the SNS topic name")) != CIHA_OK)
		return rc;
	env->alarm_prefix = json_string_value(json_object_get(v, "prefix"));
	env->topic = json_string_value(json_object_get(v, "topic"));
	if (json_object_get(v, "pagerduty") && (rc = read_pagerduty(r, json_object_get(v, "pagerduty"), env)) != CIHA_OK)
		return rc;
	env->alarms = json_object_get(v, "alarms");
	if (!json_is_array(env->alarms))
		return fail(r, "$.alarms.alarms", "expected an array of alarms, got %s",
		            env->alarms ? type_name(env->alarms) : "nothing");
	if ((rc = check_alarm_refs(r, "$.alarms.alarms", env->alarms, env)) != CIHA_OK)
		return rc;
	return validate_alarm_set(r, env->alarms, env->alarm_prefix);
}

/* ---- schedules -------------------------------------------------------------------------- */

static int read_size(const reader *r, const char *path, const json_t *obj, const char *key, int *out)
{
	char sub[300];
	int rc;
	if (!json_object_get(obj, key))
		return CIHA_OK;
	put_path(sub, sizeof(sub), "%s.%s", path, key);
	if ((rc = want_int(r, sub, json_object_get(obj, key), 0, 10000)) == CIHA_OK)
		*out = (int)json_integer_value(json_object_get(obj, key));
	return rc;
}

static int read_schedule(const reader *r, const json_t *v, ciha_env *env, size_t index)
{
	static const char *const keys[] = { "group", "stop", "start", "time_zone", "day_size", "night_size",
		"max_size", NULL };
	ciha__env_schedule *s = &env->schedules[index];
	char path[64], sub[300];
	int rc;
	snprintf(path, sizeof(path), "$.schedules[%zu]", index);
	if ((rc = want_object(r, path, v, keys)) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.group", path);
	if (!json_object_get(v, "group"))
		return fail(r, sub, "missing (the Auto Scaling group, a name or a reference)");
	if ((rc = check_value(r, sub, json_object_get(v, "group"), env, env->nstacks)) != CIHA_OK)
		return rc;
	s->group = json_object_get(v, "group");
	put_path(sub, sizeof(sub), "%s.stop", path);
	if ((rc = want_string(r, sub, json_object_get(v, "stop"), "a cron expression")) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.start", path);
	if ((rc = want_string(r, sub, json_object_get(v, "start"), "a cron expression")) != CIHA_OK)
		return rc;
	put_path(sub, sizeof(sub), "%s.time_zone", path);
	if (json_object_get(v, "time_zone") &&
	    (rc = want_string(r, sub, json_object_get(v, "time_zone"), "an IANA time zone name")) != CIHA_OK)
		return rc;
	s->stop = json_string_value(json_object_get(v, "stop"));
	s->start = json_string_value(json_object_get(v, "start"));
	s->time_zone = json_object_get(v, "time_zone") ? json_string_value(json_object_get(v, "time_zone")) : "UTC";
	s->day_size = 1;
	s->max_size = -1;
	if ((rc = read_size(r, path, v, "day_size", &s->day_size)) != CIHA_OK ||
	    (rc = read_size(r, path, v, "night_size", &s->night_size)) != CIHA_OK ||
	    (rc = read_size(r, path, v, "max_size", &s->max_size)) != CIHA_OK)
		return rc;
	if (s->max_size < 0)
		s->max_size = s->day_size > s->night_size ? s->day_size : s->night_size;
	put_path(sub, sizeof(sub), "%s.max_size", path);
	if (s->max_size < s->day_size || s->max_size < s->night_size)
		return fail(r, sub, "%d is below day_size %d or night_size %d", s->max_size, s->day_size, s->night_size);
	return CIHA_OK;
}

static int read_schedules(const reader *r, const json_t *v, ciha_env *env)
{
	size_t i, n;
	int rc = CIHA_OK;
	if (!v)
		return CIHA_OK;
	if (!json_is_array(v))
		return fail(r, "$.schedules", "expected an array of schedules, got %s", type_name(v));
	n = json_array_size(v);
	if (n && !(env->schedules = ciha__calloc(n, sizeof(*env->schedules))))
		return nomem();
	for (i = 0; rc == CIHA_OK && i < n; i++) {
		env->nschedules = i + 1;
		rc = read_schedule(r, json_array_get(v, i), env, i);
	}
	return rc;
}

/* ---- audit ---------------------------------------------------------------------------- */

static int read_audit(const reader *r, const json_t *v, ciha_env *env)
{
	static const char *const keys[] = { "security_groups", "public_allowed", "max_snapshot_age_hours", NULL };
	static const char *const roles[] = { "master", "agents", "database", "nexus", "elb", NULL };
	const char *key;
	json_t *member;
	char sub[300];
	int rc;
	if (!v)
		return CIHA_OK;
	if ((rc = want_object(r, "$.audit", v, keys)) != CIHA_OK)
		return rc;
	if ((env->audit_groups = json_object_get(v, "security_groups")) != NULL) {
		if ((rc = want_object(r, "$.audit.security_groups", env->audit_groups, roles)) != CIHA_OK)
			return rc;
		json_object_foreach((json_t *)env->audit_groups, key, member) {
			put_path(sub, sizeof(sub), "$.audit.security_groups.%s", key);
			if ((rc = check_value(r, sub, member, env, env->nstacks)) != CIHA_OK)
				return rc;
		}
	}
	if ((env->public_allowed = json_object_get(v, "public_allowed")) != NULL &&
	    (rc = check_value_list(r, "$.audit.public_allowed", env->public_allowed, env)) != CIHA_OK)
		return rc;
	if (json_object_get(v, "max_snapshot_age_hours")) {
		if ((rc = want_int(r, "$.audit.max_snapshot_age_hours", json_object_get(v, "max_snapshot_age_hours"), 1,
		                   24 * 366)) != CIHA_OK)
			return rc;
		env->max_snapshot_age_s = (long)json_integer_value(json_object_get(v, "max_snapshot_age_hours")) * 3600;
	}
	return CIHA_OK;
}

/* ---- the document --------------------------------------------------------------------------- */

static int valid_env_name(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return i > 0 && i <= 40 && s[0] >= 'a' && s[0] <= 'z';
}

static int read_root(const reader *r, ciha_env *env)
{
	static const char *const keys[] = { "name", "region", "stacks", "snapshots", "alarms", "schedules", "audit",
		NULL };
	json_t *doc = env->doc;
	int rc;
	if ((rc = want_object(r, "$", doc, keys)) != CIHA_OK ||
	    (rc = want_string(r, "$.name", json_object_get(doc, "name"), "the environment name")) != CIHA_OK)
		return rc;
	env->name = json_string_value(json_object_get(doc, "name"));
	if (!valid_env_name(env->name))
		return fail(r, "$.name", "'%.60s' is not a name of lower-case letters, digits and '-' (at most 40, "
		            "starting with a letter)", env->name);
	if ((rc = expand(doc, env->name)) != CIHA_OK)
		return rc;
	if (json_object_get(doc, "region") &&
	    (rc = want_string(r, "$.region", json_object_get(doc, "region"), "a region name")) != CIHA_OK)
		return rc;
	env->region = json_string_value(json_object_get(doc, "region"));
	if ((rc = read_stacks(r, json_object_get(doc, "stacks"), env)) != CIHA_OK ||
	    (rc = read_snapshots(r, json_object_get(doc, "snapshots"), env)) != CIHA_OK ||
	    (rc = read_alarms(r, json_object_get(doc, "alarms"), env)) != CIHA_OK ||
	    (rc = read_schedules(r, json_object_get(doc, "schedules"), env)) != CIHA_OK)
		return rc;
	return read_audit(r, json_object_get(doc, "audit"), env);
}

static int parse_document(json_t **out, const char *text, const char *source)
{
	json_error_t jerr;
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '{')
		return ciha__template_parse(out, text, source);
	if (!(*out = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)))
		return ciha__error_raise(CIHA_EINVAL, "%s:%d:%d: invalid JSON: %s", source, jerr.line, jerr.column, jerr.text);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_env_parse(ciha_env **out, const char *text, const char *source, const char *base_dir)
{
	ciha_env *env;
	reader r;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_parse: out is NULL");
	*out = NULL;
	if (!text)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_parse: no text");
	if (!(env = ciha__calloc(1, sizeof(*env))))
		return nomem();
	env->source = ciha__strdup(source && *source ? source : "env");
	env->base_dir = ciha__strdup(base_dir && *base_dir ? base_dir : ".");
	if (!env->source || !env->base_dir) {
		ciha_env_free(env);
		return nomem();
	}
	r.source = env->source;
	r.base_dir = env->base_dir;
	rc = parse_document(&env->doc, text, env->source);
	if (rc == CIHA_OK)
		rc = read_root(&r, env);
	if (rc != CIHA_OK) {
		ciha_env_free(env);
		return rc;
	}
	*out = env;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_env_load(ciha_env **out, const char *path)
{
	const char *why, *slash;
	char *text, *dir;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_load: out is NULL");
	*out = NULL;
	if (!path || !*path)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_load: no file named");
	if (!(text = read_file(path, &why)))
		return ciha__error_raise(CIHA_EINVAL, "%s: cannot read the environment spec: %s", path, why);
	slash = strrchr(path, '/');
	dir = slash ? ciha__strndup(path, slash == path ? 1 : (size_t)(slash - path)) : ciha__strdup(".");
	rc = dir ? ciha_env_parse(out, text, path, dir) : nomem();
	ciha__free(dir);
	ciha__free(text);
	return rc;
}

CIHA_EXTERN(void) ciha_env_free(ciha_env *env)
{
	size_t i;
	if (!env)
		return;
	for (i = 0; i < env->nstacks; i++) {
		ciha__free(env->stacks[i].template_path);
		ciha__free(env->stacks[i].template_body);
		ciha_free(env->stacks[i].policy_body);
	}
	for (i = 0; i < env->nsnapshots; i++)
		ciha_snapshot_policy_free(env->snapshots[i].policy);
	ciha__free(env->stacks);
	ciha__free(env->snapshots);
	ciha__free(env->schedules);
	json_decref(env->doc);
	ciha__free(env->source);
	ciha__free(env->base_dir);
	ciha__free(env);
}

CIHA_EXTERN(const char *) ciha_env_name(const ciha_env *env)
{
	return env ? env->name : NULL;
}

CIHA_EXTERN(ciha_result) ciha_env_options_init(ciha_env_options *opts, unsigned int version)
{
	static const ciha_env_options defaults = CIHA_ENV_OPTIONS_INIT;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_options_init: opts is NULL");
	if (version == 0 || version > CIHA_ENV_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "env options version %u is not supported (this library: %u)",
		                         version, CIHA_ENV_OPTIONS_VERSION);
	*opts = defaults;
	return CIHA_OK;
}
