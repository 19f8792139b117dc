/* stack_spec.c: the desired stack (name, template, parameters, tags, settings),
 * validated as it is built, and its parameters resolved for the API. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alloc_int.h"
#include "call_int.h"
#include "error_int.h"
#include "stack_int.h"
#include "time_int.h"

#define STACK_NAME_MAX 128
#define TEMPLATE_MAX_BYTES (1024 * 1024)  /* CloudFormation's limit for a template in S3 */
#define PARAMETER_KEY_MAX 255
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256
#define TAGS_MAX 50
#define NOTIFICATION_ARNS_MAX 5
#define ROLE_ARN_MAX 2048

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static int need_spec(const ciha_stack_spec *spec, const char *fn)
{
	return spec ? CIHA_OK : ciha__error_raise(CIHA_EINVAL, "%s: no spec", fn);
}

static int oom(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

/* Replace *slot with a copy of value (NULL clears it). */
static int set_copy(char **slot, const char *value)
{
	char *copy = NULL;
	if (value && !(copy = ciha__strdup(value)))
		return oom();
	ciha__free(*slot);
	*slot = copy;
	return CIHA_OK;
}

/* Append a copy of value to a string array. */
static int push_copy(char ***list, size_t *n, const char *value)
{
	char **grown = ciha__realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return oom();
	*list = grown;
	if (!(grown[*n] = ciha__strdup(value)))
		return oom();
	++*n;
	return CIHA_OK;
}

static int contains(char *const *list, size_t n, const char *value)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(list[i], value) == 0)
			return 1;
	return 0;
}

static void free_list(char **list, size_t n)
{
	while (n)
		ciha__free(list[--n]);
	ciha__free(list);
}

/* [A-Za-z][A-Za-z0-9-]{0,127} */
static int stack_name_ok(const char *name)
{
	size_t i;
	if (!is_alpha(name[0]))
		return 0;
	for (i = 1; name[i]; i++)
		if (!is_alnum(name[i]) && name[i] != '-')
			return 0;
	return i <= STACK_NAME_MAX;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_new(ciha_stack_spec **out, const char *name)
{
	ciha_stack_spec *spec;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_spec_new: out is NULL");
	*out = NULL;
	if (!name || !stack_name_ok(name))
		return ciha__error_raise(CIHA_EINVAL, "stack name '%.200s' is not valid: it starts with a letter and holds "
		                         "only letters, digits and hyphens, at most 128 characters", name ? name : "");
	spec = ciha__calloc(1, sizeof(*spec));
	if (!spec || !(spec->name = ciha__strdup(name))) {
		ciha__free(spec);
		return oom();
	}
	spec->termination_protection = -1;
	*out = spec;
	return CIHA_OK;
}

static void param_dispose(ciha__stack_param *p)
{
	ciha__free(p->key);
	ciha__free(p->value);
	ciha__free(p->snapshot_kind);
	ciha__free(p->snapshot_source);
	memset(p, 0, sizeof(*p));
}

CIHA_EXTERN(void) ciha_stack_spec_free(ciha_stack_spec *spec)
{
	size_t i;
	if (!spec)
		return;
	for (i = 0; i < spec->nparams; i++)
		param_dispose(&spec->params[i]);
	ciha__free(spec->params);
	free_list(spec->tag_keys, spec->ntags);
	free_list(spec->tag_values, spec->ntags);
	free_list(spec->capabilities, spec->ncapabilities);
	free_list(spec->notification_arns, spec->nnotification_arns);
	ciha__free(spec->name);
	ciha__free(spec->template_body);
	ciha__free(spec->role_arn);
	ciha__free(spec->on_failure);
	ciha__free(spec->policy_body);
	ciha__free(spec);
}

CIHA_EXTERN(const char *) ciha_stack_spec_name(const ciha_stack_spec *spec)
{
	return spec ? spec->name : NULL;
}

/* ---- the template ------------------------------------------------------- */

static int template_problem(const char *body, size_t len, const char *source)
{
	if (len == 0)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template is empty", source);
	if (len > TEMPLATE_MAX_BYTES)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template is %zu bytes; CloudFormation takes at most %d",
		                         source, len, TEMPLATE_MAX_BYTES);
	if (strlen(body) != len)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template holds a NUL byte", source);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_template_body(ciha_stack_spec *spec, const char *body)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_template_body");
	if (rc == CIHA_OK && !body)
		rc = ciha__error_raise(CIHA_EINVAL, "no template body");
	if (rc == CIHA_OK)
		rc = template_problem(body, strlen(body), "template body");
	return rc == CIHA_OK ? set_copy(&spec->template_body, body) : rc;
}

/* The whole file, at most TEMPLATE_MAX_BYTES + 1 bytes of it. */
static int read_template_file(char **out, size_t *len, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text;
	*out = NULL;
	if (!f)
		return ciha__error_raise(CIHA_EINVAL, "template file %s: %s", path, strerror(errno));
	text = ciha__malloc(TEMPLATE_MAX_BYTES + 2);
	if (!text) {
		fclose(f);
		return oom();
	}
	*len = fread(text, 1, TEMPLATE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		int err = errno;
		fclose(f);
		ciha__free(text);
		return ciha__error_raise(CIHA_EINVAL, "template file %s: %s", path, strerror(err));
	}
	fclose(f);
	text[*len] = '\0';
	*out = text;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_template_file(ciha_stack_spec *spec, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int rc = need_spec(spec, "ciha_stack_spec_set_template_file");
	if (rc == CIHA_OK && (!path || !*path))
		rc = ciha__error_raise(CIHA_EINVAL, "no template file name");
	if (rc == CIHA_OK)
		rc = read_template_file(&text, &len, path);
	if (rc == CIHA_OK)
		rc = template_problem(text, len, path);
	if (rc == CIHA_OK)
		rc = set_copy(&spec->template_body, text);
	ciha__free(text);
	return rc;
}

/* ---- parameters ------------------------------------------------------------ */

static int parameter_key_ok(const char *key)
{
	size_t i;
	for (i = 0; key[i]; i++)
		if (!is_alnum(key[i]))
			return 0;
	return i > 0 && i <= PARAMETER_KEY_MAX;
}

/* The parameter slot for key: the existing one emptied (a later setting wins), or a new one. */
static int param_slot(ciha__stack_param **out, ciha_stack_spec *spec, const char *key)
{
	ciha__stack_param *grown;
	size_t i;
	*out = NULL;
	if (!key || !parameter_key_ok(key))
		return ciha__error_raise(CIHA_EINVAL, "parameter name '%.200s' is not valid: 1 to 255 letters and digits",
		                         key ? key : "");
	for (i = 0; i < spec->nparams; i++)
		if (strcmp(spec->params[i].key, key) == 0) {
			char *kept = spec->params[i].key;
			spec->params[i].key = NULL;
			param_dispose(&spec->params[i]);
			spec->params[i].key = kept;
			*out = &spec->params[i];
			return CIHA_OK;
		}
	grown = ciha__realloc(spec->params, (spec->nparams + 1) * sizeof(*grown));
	if (!grown)
		return oom();
	spec->params = grown;
	memset(&grown[spec->nparams], 0, sizeof(*grown));
	if (!(grown[spec->nparams].key = ciha__strdup(key)))
		return oom();
	*out = &grown[spec->nparams++];
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_add_parameter(ciha_stack_spec *spec, const char *key, const char *value)
{
	ciha__stack_param *p;
	int rc = need_spec(spec, "ciha_stack_spec_add_parameter");
	if (rc == CIHA_OK && !value)
		rc = ciha__error_raise(CIHA_EINVAL, "parameter %.200s: no value", key ? key : "");
	if (rc == CIHA_OK)
		rc = param_slot(&p, spec, key);
	return rc == CIHA_OK ? set_copy(&p->value, value) : rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_use_previous(ciha_stack_spec *spec, const char *key)
{
	ciha__stack_param *p;
	int rc = need_spec(spec, "ciha_stack_spec_use_previous");
	if (rc == CIHA_OK && (rc = param_slot(&p, spec, key)) == CIHA_OK)
		p->use_previous = 1;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_add_snapshot_parameter(ciha_stack_spec *spec, const char *key,
                                                                const char *kind, const char *source)
{
	ciha__stack_param *p;
	int rc = need_spec(spec, "ciha_stack_spec_add_snapshot_parameter");
	if (rc == CIHA_OK && (!kind || (strcmp(kind, "rds") != 0 && strcmp(kind, "ebs") != 0)))
		rc = ciha__error_raise(CIHA_EINVAL, "snapshot parameter kind '%.40s' is not \"rds\" or \"ebs\"",
		                       kind ? kind : "");
	if (rc == CIHA_OK && (!source || !*source))
		rc = ciha__error_raise(CIHA_EINVAL, "snapshot parameter %.200s: no %s to take the snapshot of",
		                       key ? key : "", strcmp(kind, "rds") == 0 ? "DB identifier" : "volume id");
	if (rc == CIHA_OK)
		rc = param_slot(&p, spec, key);
	if (rc == CIHA_OK)
		rc = set_copy(&p->snapshot_kind, kind);
	return rc == CIHA_OK ? set_copy(&p->snapshot_source, source) : rc;
}

/* ---- tags, capabilities, notifications, settings ------------------------------ */

CIHA_EXTERN(ciha_result) ciha_stack_spec_add_tag(ciha_stack_spec *spec, const char *key, const char *value)
{
	size_t i;
	int rc = need_spec(spec, "ciha_stack_spec_add_tag");
	if (rc != CIHA_OK)
		return rc;
	if (!key || !*key || strlen(key) > TAG_KEY_MAX)
		return ciha__error_raise(CIHA_EINVAL, "tag key '%.200s' is not valid: 1 to 128 characters", key ? key : "");
	if (strncmp(key, "aws:", 4) == 0)
		return ciha__error_raise(CIHA_EINVAL, "tag key '%.200s': the aws: prefix is reserved", key);
	if (!value || strlen(value) > TAG_VALUE_MAX)
		return ciha__error_raise(CIHA_EINVAL, "tag %.200s: the value is missing or longer than 256 characters", key);
	for (i = 0; i < spec->ntags; i++)
		if (strcmp(spec->tag_keys[i], key) == 0)
			return set_copy(&spec->tag_values[i], value);
	if (spec->ntags == TAGS_MAX)
		return ciha__error_raise(CIHA_EINVAL, "a stack takes at most %d tags", TAGS_MAX);
	if ((rc = push_copy(&spec->tag_values, &spec->ntags, value)) != CIHA_OK)
		return rc;
	spec->ntags--;   /* both lists grow together */
	if ((rc = push_copy(&spec->tag_keys, &spec->ntags, key)) != CIHA_OK) {
		ciha__free(spec->tag_values[spec->ntags]);
		return rc;
	}
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_add_capability(ciha_stack_spec *spec, const char *capability)
{
	int rc = need_spec(spec, "ciha_stack_spec_add_capability");
	if (rc != CIHA_OK)
		return rc;
	if (!capability || (strcmp(capability, "CAPABILITY_IAM") != 0 && strcmp(capability, "CAPABILITY_NAMED_IAM") != 0 &&
	                    strcmp(capability, "CAPABILITY_AUTO_EXPAND") != 0))
		return ciha__error_raise(CIHA_EINVAL, "capability '%.80s' is not CAPABILITY_IAM, CAPABILITY_NAMED_IAM or "
		                         "CAPABILITY_AUTO_EXPAND", capability ? capability : "");
	if (contains(spec->capabilities, spec->ncapabilities, capability))
		return CIHA_OK;
	return push_copy(&spec->capabilities, &spec->ncapabilities, capability);
}

static int arn_ok(const char *arn)
{
	return arn && strncmp(arn, "arn:", 4) == 0 && strlen(arn) > 4;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_add_notification_arn(ciha_stack_spec *spec, const char *arn)
{
	int rc = need_spec(spec, "ciha_stack_spec_add_notification_arn");
	if (rc != CIHA_OK)
		return rc;
	if (!arn_ok(arn))
		return ciha__error_raise(CIHA_EINVAL, "notification ARN '%.200s' is not an ARN (arn:...)", arn ? arn : "");
	if (contains(spec->notification_arns, spec->nnotification_arns, arn))
		return CIHA_OK;
	if (spec->nnotification_arns == NOTIFICATION_ARNS_MAX)
		return ciha__error_raise(CIHA_EINVAL, "a stack takes at most %d notification ARNs", NOTIFICATION_ARNS_MAX);
	return push_copy(&spec->notification_arns, &spec->nnotification_arns, arn);
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_role_arn(ciha_stack_spec *spec, const char *arn)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_role_arn");
	if (rc == CIHA_OK && arn && (!arn_ok(arn) || strlen(arn) > ROLE_ARN_MAX))
		rc = ciha__error_raise(CIHA_EINVAL, "role ARN '%.200s' is not an IAM role ARN (arn:..., at most 2048 "
		                       "characters)", arn);
	return rc == CIHA_OK ? set_copy(&spec->role_arn, arn) : rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_timeout_minutes(ciha_stack_spec *spec, int minutes)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_timeout_minutes");
	if (rc == CIHA_OK && minutes < 0)
		rc = ciha__error_raise(CIHA_EINVAL, "timeout %d: minutes cannot be negative (0: no timeout)", minutes);
	if (rc == CIHA_OK)
		spec->timeout_minutes = minutes;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_on_failure(ciha_stack_spec *spec, const char *on_failure)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_on_failure");
	if (rc == CIHA_OK && (!on_failure || (strcmp(on_failure, "ROLLBACK") != 0 && strcmp(on_failure, "DELETE") != 0 &&
	                                      strcmp(on_failure, "DO_NOTHING") != 0)))
		rc = ciha__error_raise(CIHA_EINVAL, "on-failure '%.80s' is not ROLLBACK, DELETE or DO_NOTHING",
		                       on_failure ? on_failure : "");
	return rc == CIHA_OK ? set_copy(&spec->on_failure, on_failure) : rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_termination_protection(ciha_stack_spec *spec, int on)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_termination_protection");
	if (rc == CIHA_OK && on != -1 && on != 0 && on != 1)
		rc = ciha__error_raise(CIHA_EINVAL, "termination protection %d is not -1 (leave), 0 (off) or 1 (on)", on);
	if (rc == CIHA_OK)
		spec->termination_protection = on;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_spec_set_policy_body(ciha_stack_spec *spec, const char *policy_json)
{
	int rc = need_spec(spec, "ciha_stack_spec_set_policy_body");
	if (rc == CIHA_OK && policy_json)
		rc = ciha__stack_policy_check(policy_json, "stack policy");
	return rc == CIHA_OK ? set_copy(&spec->policy_body, policy_json) : rc;
}

/* ---- resolving parameters for the API ------------------------------------------ */

static double timestamp(const json_t *item, const char *key)
{
	double t = 0;
	const char *s = json_string_value(json_object_get(item, key));
	return s && ciha__time_parse(s, &t) == 0 ? t : 0;
}

/* The id of the newest item in `list` whose `status_key` is `ready`, or NULL. */
static const char *newest_ready(const json_t *list, const char *status_key, const char *ready, const char *time_key,
                                const char *id_key)
{
	const char *best = NULL;
	double best_time = 0;
	size_t i;
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		const char *status = json_string_value(json_object_get(item, status_key));
		const char *id = json_string_value(json_object_get(item, id_key));
		double t = timestamp(item, time_key);
		if (!id || !status || strcmp(status, ready) != 0 || (best && t <= best_time))
			continue;
		best = id;
		best_time = t;
	}
	return best;
}

/* The newest snapshot of the parameter's source, as a new string in *out. */
static int resolve_snapshot(char **out, ciha_client *c, const ciha__stack_param *p)
{
	int rds = strcmp(p->snapshot_kind, "rds") == 0;
	json_t *params, *result = NULL;
	const char *found;
	int rc;
	*out = NULL;
	if (rds)
		params = json_pack("{s:s, s:s}", "DBInstanceIdentifier", p->snapshot_source, "SnapshotType", "manual");
	else
		params = json_pack("{s:[s], s:[{s:s, s:[s]}]}", "Owner", "self", "Filter", "Name", "volume-id", "Value",
		                   p->snapshot_source);
	if (!params)
		return oom();
	rc = ciha_call_all(&result, c, rds ? "rds" : "ec2", rds ? "DescribeDBSnapshots" : "DescribeSnapshots", params);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	if (rds)
		found = newest_ready(json_object_get(result, "DBSnapshots"), "Status", "available", "SnapshotCreateTime",
		                     "DBSnapshotIdentifier");
	else
		found = newest_ready(json_object_get(result, "snapshotSet"), "status", "completed", "startTime",
		                     "snapshotId");
	if (!found)
		rc = ciha__error_raise(CIHA_ENOTFOUND, "parameter %s: no %s of %s '%s' to restore from", p->key,
		                       rds ? "available manual DB snapshot" : "completed EBS snapshot",
		                       rds ? "DB instance" : "volume", p->snapshot_source);
	else if (!(*out = ciha__strdup(found)))
		rc = oom();
	json_decref(result);
	return rc;
}

static int param_json(json_t **out, ciha_client *c, const ciha__stack_param *p)
{
	char *resolved = NULL;
	int rc = CIHA_OK;
	if (p->use_previous)
		*out = json_pack("{s:s, s:b}", "ParameterKey", p->key, "UsePreviousValue", 1);
	else if (p->snapshot_kind && (rc = resolve_snapshot(&resolved, c, p)) == CIHA_OK)
		*out = json_pack("{s:s, s:s}", "ParameterKey", p->key, "ParameterValue", resolved);
	else if (!p->snapshot_kind)
		*out = json_pack("{s:s, s:s}", "ParameterKey", p->key, "ParameterValue", p->value);
	ciha__free(resolved);
	if (rc != CIHA_OK)
		return rc;
	return *out ? CIHA_OK : oom();
}

int ciha__stack_spec_parameters(json_t **out, ciha_client *c, const ciha_stack_spec *spec)
{
	json_t *list = json_array(), *item = NULL;
	size_t i;
	int rc = list ? CIHA_OK : oom();
	*out = NULL;
	for (i = 0; rc == CIHA_OK && i < spec->nparams; i++)
		if ((rc = param_json(&item, c, &spec->params[i])) == CIHA_OK && json_array_append_new(list, item) != 0)
			rc = oom();
	if (rc != CIHA_OK) {
		json_decref(list);
		return c ? ciha__client_fail(c, rc) : rc;
	}
	*out = list;
	return CIHA_OK;
}
