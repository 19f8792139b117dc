/* alarm_set.c: a set of alarm specs under a name prefix, and its JSON form. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "error_int.h"

static int check_topic_arn(const char *topic_arn)
{
	if (!topic_arn || strncmp(topic_arn, "arn:", 4) != 0 || !strstr(topic_arn, ":sns:"))
		return ciha__error_raise(CIHA_EINVAL, "'%.200s' is not an SNS topic ARN (arn:aws:sns:...)",
		                         topic_arn ? topic_arn : "(null)");
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_alarm_set_free(ciha_alarm_set *set)
{
	size_t i;
	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		ciha_alarm_spec_free(set->specs[i]);
	ciha__free(set->specs);
	ciha__free(set->prefix);
	ciha__free(set->topic_arn);
	ciha__free(set);
}

CIHA_EXTERN(ciha_result) ciha_alarm_set_new(ciha_alarm_set **out, const char *prefix, const char *topic_arn)
{
	ciha_alarm_set *set;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_set_new: NULL out");
	*out = NULL;
	if ((rc = ciha__alarm_name_check(prefix, "the alarm name prefix")) != CIHA_OK)
		return rc;
	if (topic_arn && (rc = check_topic_arn(topic_arn)) != CIHA_OK)
		return rc;
	set = ciha__calloc(1, sizeof(*set));
	if (!set)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	set->prefix = ciha__strdup(prefix);
	set->topic_arn = ciha__strdup(topic_arn);
	if (!set->prefix || (topic_arn && !set->topic_arn)) {
		ciha_alarm_set_free(set);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	*out = set;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_set_set_topic(ciha_alarm_set *set, const char *topic_arn)
{
	char *copy;
	int rc;
	if (!set)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_set_set_topic: NULL set");
	if ((rc = check_topic_arn(topic_arn)) != CIHA_OK)
		return rc;
	if (!(copy = ciha__strdup(topic_arn)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__free(set->topic_arn);
	set->topic_arn = copy;
	return CIHA_OK;
}

char *ciha__alarm_full_name(const ciha_alarm_set *set, const ciha_alarm_spec *spec)
{
	size_t np = strlen(set->prefix), nn = strlen(spec->name);
	char *full = ciha__malloc(np + nn + 1);
	if (full) {
		memcpy(full, set->prefix, np);
		memcpy(full + np, spec->name, nn + 1);
	}
	return full;
}

const ciha_alarm_spec *ciha__alarm_set_find(const ciha_alarm_set *set, const char *full)
{
	size_t i, np = strlen(set->prefix);
	if (strncmp(full, set->prefix, np) != 0)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcmp(set->specs[i]->name, full + np) == 0)
			return set->specs[i];
	return NULL;
}

static int set_grow(ciha_alarm_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 8;
	ciha_alarm_spec **grown;
	if (set->n < set->cap)
		return CIHA_OK;
	grown = ciha__realloc(set->specs, cap * sizeof(*grown));
	if (!grown)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	set->specs = grown;
	set->cap = cap;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_set_add(ciha_alarm_set *set, const ciha_alarm_spec *spec)
{
	ciha_alarm_spec *copy;
	size_t i;
	int rc;
	if (!set || !spec)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_set_add: NULL %s", set ? "spec" : "set");
	if ((rc = ciha__alarm_spec_check(spec)) != CIHA_OK)
		return rc;
	if (strlen(set->prefix) + strlen(spec->name) > 255)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': prefix and name together are longer than 255 "
		                         "characters", spec->name);
	for (i = 0; i < set->n; i++)
		if (strcmp(set->specs[i]->name, spec->name) == 0)
			return ciha__error_raise(CIHA_EEXISTS, "alarm '%s' is already in the set", spec->name);
	if ((rc = set_grow(set)) != CIHA_OK || (rc = ciha__alarm_spec_copy(&copy, spec)) != CIHA_OK)
		return rc;
	set->specs[set->n++] = copy;
	return CIHA_OK;
}

/* ---- JSON in ----------------------------------------------------------- */

typedef struct {
	const char *source;
	char path[160];          /* "$.alarms[3]" */
} reader;

static int fail_at(const reader *r, const char *key, int code, const char *what)
{
	if (key)
		return ciha__error_raise(code, "%s: %s.%s: %s", r->source, r->path, key, what);
	return ciha__error_raise(code, "%s: %s: %s", r->source, r->path, what);
}

static int wrong_type(const reader *r, const char *key, const char *expected, const json_t *v)
{
	char msg[200];
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(msg, sizeof(msg), "expected %s, got %.40s%s", expected, text ? text : "a value",
	         text && strlen(text) > 40 ? "..." : "");
	free(text);
	return fail_at(r, key, CIHA_EINVAL, msg);
}

/* Reword a setter's failure so it names the source and the path. */
static int setter_failed(const reader *r, const char *key, int rc)
{
	if (rc == CIHA_OK || rc == CIHA_ENOMEM)
		return rc;
	return fail_at(r, key, rc, ciha_error_message(ciha_error_last()));
}

static int get_string(const reader *r, const json_t *obj, const char *key, const char **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return CIHA_OK;
	if (!json_is_string(v) || json_string_length(v) == 0)
		return wrong_type(r, key, "a non-empty string", v);
	*out = json_string_value(v);
	return CIHA_OK;
}

static int get_number(const reader *r, const json_t *obj, const char *key, double *out, int *given)
{
	const json_t *v = json_object_get(obj, key);
	*given = v != NULL;
	if (!v)
		return CIHA_OK;
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return wrong_type(r, key, "a number", v);
	*out = json_number_value(v);
	return CIHA_OK;
}

static int get_int(const reader *r, const json_t *obj, const char *key, int *out, int *given)
{
	const json_t *v = json_object_get(obj, key);
	*given = v != NULL;
	if (!v)
		return CIHA_OK;
	if (!json_is_integer(v) || json_integer_value(v) < INT_MIN || json_integer_value(v) > INT_MAX)
		return wrong_type(r, key, "an integer", v);
	*out = (int)json_integer_value(v);
	return CIHA_OK;
}

static int require_string(const reader *r, const json_t *obj, const char *key, const char **out)
{
	int rc = get_string(r, obj, key, out);
	if (rc == CIHA_OK && !*out)
		return fail_at(r, key, CIHA_EINVAL, "missing");
	return rc;
}

static int require_number(const reader *r, const json_t *obj, const char *key, double *out)
{
	int given, rc = get_number(r, obj, key, out, &given);
	if (rc == CIHA_OK && !given)
		return fail_at(r, key, CIHA_EINVAL, "missing");
	return rc;
}

/* ---- presets by name ---- */

typedef struct {
	const char *preset;
	const char *keys[3];     /* its arguments, NULL-terminated */
} preset_entry;

static const preset_entry presets[] = {
	{ "elb-no-healthy-host", { "load_balancer", NULL, NULL } },
	{ "alb-no-healthy-host", { "load_balancer", "target_group", NULL } },
	{ "volume-not-mounted", { "host", "mount_point", NULL } },
	{ "asg-below-min", { "group", "min", NULL } },
	{ "rds-free-storage-low", { "db_id", "bytes", NULL } },
	{ "status-check-failed", { "instance_id", NULL, NULL } },
	{ "snapshot-too-old", { "target", "max_age_s", NULL } },
	{ NULL, { NULL, NULL, NULL } }
};

static const char *const spec_keys[] = { "name", "preset", "namespace", "metric", "dimensions", "statistic",
	"comparison", "threshold", "period", "periods", "datapoints", "missing_data", "description", "unit", NULL };

static const preset_entry *preset_find(const char *name)
{
	size_t i;
	for (i = 0; name && presets[i].preset; i++)
		if (strcmp(presets[i].preset, name) == 0)
			return &presets[i];
	return NULL;
}

/* The preset's arguments: string 0 and 1, or string 0 and a number. */
static int build_preset(const reader *r, const preset_entry *p, const json_t *entry, const char *name,
                        ciha_alarm_spec **out)
{
	const char *a = NULL, *b = NULL;
	double x = 0;
	int rc = require_string(r, entry, p->keys[0], &a);
	if (rc != CIHA_OK)
		return rc;
	if (p->keys[1] && (strcmp(p->keys[1], "min") == 0 || strcmp(p->keys[1], "bytes") == 0 ||
	                   strcmp(p->keys[1], "max_age_s") == 0))
		rc = require_number(r, entry, p->keys[1], &x);
	else if (p->keys[1])
		rc = require_string(r, entry, p->keys[1], &b);
	if (rc != CIHA_OK)
		return rc;
	if (strcmp(p->preset, "elb-no-healthy-host") == 0)
		rc = ciha_alarm_preset_elb_no_healthy_host(out, name, a);
	else if (strcmp(p->preset, "alb-no-healthy-host") == 0)
		rc = ciha_alarm_preset_alb_no_healthy_host(out, name, a, b);
	else if (strcmp(p->preset, "volume-not-mounted") == 0)
		rc = ciha_alarm_preset_volume_not_mounted(out, name, a, b);
	else if (strcmp(p->preset, "asg-below-min") == 0)
		rc = x == floor(x) && fabs(x) <= INT_MAX ? ciha_alarm_preset_asg_below_min(out, name, a, (int)x)
		                                         : fail_at(r, "min", CIHA_EINVAL, "expected an integer");
	else if (strcmp(p->preset, "rds-free-storage-low") == 0)
		rc = ciha_alarm_preset_rds_free_storage_low(out, name, a, x);
	else if (strcmp(p->preset, "status-check-failed") == 0)
		rc = ciha_alarm_preset_status_check_failed(out, name, a);
	else
		rc = x == floor(x) && fabs(x) <= (double)LONG_MAX ? ciha_alarm_preset_snapshot_too_old(out, name, a, (long)x)
		                                                 : fail_at(r, "max_age_s", CIHA_EINVAL, "expected an integer");
	return setter_failed(r, NULL, rc);
}

static int key_known(const char *key, const preset_entry *p)
{
	size_t i;
	for (i = 0; spec_keys[i]; i++)
		if (strcmp(spec_keys[i], key) == 0)
			return 1;
	for (i = 0; p && p->keys[i]; i++)
		if (strcmp(p->keys[i], key) == 0)
			return 1;
	return 0;
}

static int check_keys(const reader *r, const json_t *entry, const preset_entry *p)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)entry, key, value) {
		char msg[200];
		(void)value;
		if (key_known(key, p))
			continue;
		if (p)
			snprintf(msg, sizeof(msg), "unknown key for preset %s (its arguments: %s%s%s, and any custom alarm "
			         "key)", p->preset, p->keys[0], p->keys[1] ? ", " : "", p->keys[1] ? p->keys[1] : "");
		else
			snprintf(msg, sizeof(msg), "unknown key (known: name, preset, namespace, metric, dimensions, "
			         "statistic, comparison, threshold, period, periods, datapoints, missing_data, description, unit)");
		return fail_at(r, key, CIHA_EINVAL, msg);
	}
	return CIHA_OK;
}

/* ---- custom keys, also overrides of a preset ---- */

static int read_metric(const reader *r, const json_t *entry, ciha_alarm_spec *spec)
{
	const char *ns = NULL, *metric = NULL;
	int rc;
	if ((rc = get_string(r, entry, "namespace", &ns)) != CIHA_OK ||
	    (rc = get_string(r, entry, "metric", &metric)) != CIHA_OK)
		return rc;
	if (!ns && !metric)
		return CIHA_OK;
	if (!(ns ? ns : spec->namespace_))
		return fail_at(r, "namespace", CIHA_EINVAL, "missing (a metric needs its namespace)");
	if (!(metric ? metric : spec->metric))
		return fail_at(r, "metric", CIHA_EINVAL, "missing (a namespace needs its metric)");
	return setter_failed(r, ns ? "namespace" : "metric",
	                     ciha_alarm_spec_set_metric(spec, ns ? ns : spec->namespace_, metric ? metric : spec->metric));
}

static int read_dimensions(reader *r, const json_t *entry, ciha_alarm_spec *spec)
{
	const json_t *dims = json_object_get(entry, "dimensions");
	const char *name;
	json_t *value;
	size_t base = strlen(r->path);
	if (!dims)
		return CIHA_OK;
	if (!json_is_object(dims))
		return wrong_type(r, "dimensions", "an object of strings", dims);
	ciha__alarm_spec_clear_dimensions(spec);
	json_object_foreach((json_t *)dims, name, value) {
		int rc;
		snprintf(r->path + base, sizeof(r->path) - base, ".dimensions");
		if (!json_is_string(value))
			rc = wrong_type(r, name, "a string", value);
		else
			rc = setter_failed(r, name, ciha_alarm_spec_add_dimension(spec, name, json_string_value(value)));
		r->path[base] = '\0';
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int read_threshold(const reader *r, const json_t *entry, ciha_alarm_spec *spec)
{
	const char *comparison = NULL;
	double threshold = spec->threshold;
	int given, rc;
	if ((rc = get_string(r, entry, "comparison", &comparison)) != CIHA_OK ||
	    (rc = get_number(r, entry, "threshold", &threshold, &given)) != CIHA_OK)
		return rc;
	if (!comparison && !given)
		return CIHA_OK;
	if (!comparison && !spec->comparison)
		return fail_at(r, "comparison", CIHA_EINVAL, "missing (a threshold needs its comparison)");
	if (comparison && !given && !spec->comparison)
		return fail_at(r, "threshold", CIHA_EINVAL, "missing (a comparison needs its threshold)");
	return setter_failed(r, comparison ? "comparison" : "threshold",
	                     ciha_alarm_spec_set_threshold(spec, comparison ? comparison : spec->comparison, threshold));
}

static int read_evaluation(const reader *r, const json_t *entry, ciha_alarm_spec *spec)
{
	int period = spec->period_s, periods = spec->periods, datapoints, g1, g2, g3, rc;
	if ((rc = get_int(r, entry, "period", &period, &g1)) != CIHA_OK ||
	    (rc = get_int(r, entry, "periods", &periods, &g2)) != CIHA_OK)
		return rc;
	datapoints = g2 ? periods : spec->datapoints;
	if ((rc = get_int(r, entry, "datapoints", &datapoints, &g3)) != CIHA_OK)
		return rc;
	if (!g1 && !g2 && !g3)
		return CIHA_OK;
	return setter_failed(r, g3 ? "datapoints" : g2 ? "periods" : "period",
	                     ciha_alarm_spec_set_evaluation(spec, period, periods, datapoints));
}

typedef int (*string_setter)(ciha_alarm_spec *, const char *);

static int read_string_setting(const reader *r, const json_t *entry, const char *key, ciha_alarm_spec *spec,
                               string_setter set)
{
	const char *value = NULL;
	int rc = get_string(r, entry, key, &value);
	if (rc != CIHA_OK || !value)
		return rc;
	return setter_failed(r, key, set(spec, value));
}

static int read_settings(reader *r, const json_t *entry, ciha_alarm_spec *spec)
{
	int rc;
	if ((rc = read_metric(r, entry, spec)) != CIHA_OK || (rc = read_dimensions(r, entry, spec)) != CIHA_OK ||
	    (rc = read_string_setting(r, entry, "statistic", spec, ciha_alarm_spec_set_statistic)) != CIHA_OK ||
	    (rc = read_threshold(r, entry, spec)) != CIHA_OK || (rc = read_evaluation(r, entry, spec)) != CIHA_OK ||
	    (rc = read_string_setting(r, entry, "missing_data", spec, ciha_alarm_spec_set_missing_data)) != CIHA_OK ||
	    (rc = read_string_setting(r, entry, "description", spec, ciha_alarm_spec_set_description)) != CIHA_OK)
		return rc;
	return read_string_setting(r, entry, "unit", spec, ciha_alarm_spec_set_unit);
}

static int read_alarm(reader *r, const json_t *entry, ciha_alarm_set *set)
{
	const char *name = NULL, *preset = NULL;
	const preset_entry *p = NULL;
	ciha_alarm_spec *spec = NULL;
	int rc;
	if (!json_is_object(entry))
		return wrong_type(r, NULL, "an object", entry);
	if ((rc = require_string(r, entry, "name", &name)) != CIHA_OK ||
	    (rc = get_string(r, entry, "preset", &preset)) != CIHA_OK)
		return rc;
	if (preset && !(p = preset_find(preset)))
		return fail_at(r, "preset", CIHA_EINVAL, "unknown preset (known: elb-no-healthy-host, alb-no-healthy-host, "
		               "volume-not-mounted, asg-below-min, rds-free-storage-low, status-check-failed, "
		               "snapshot-too-old)");
	if ((rc = check_keys(r, entry, p)) != CIHA_OK)
		return rc;
	rc = p ? build_preset(r, p, entry, name, &spec) : setter_failed(r, "name", ciha_alarm_spec_new(&spec, name));
	if (rc == CIHA_OK)
		rc = read_settings(r, entry, spec);
	if (rc == CIHA_OK)
		rc = setter_failed(r, NULL, ciha_alarm_set_add(set, spec));
	ciha_alarm_spec_free(spec);
	return rc;
}

static int read_alarms(reader *r, const json_t *alarms, ciha_alarm_set *set)
{
	size_t i;
	if (!json_is_array(alarms))
		return wrong_type(r, "alarms", "an array of alarms", alarms);
	for (i = 0; i < json_array_size(alarms); i++) {
		int rc;
		snprintf(r->path, sizeof(r->path), "$.alarms[%zu]", i);
		rc = read_alarm(r, json_array_get(alarms, i), set);
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int read_root(reader *r, const json_t *root, ciha_alarm_set **out)
{
	const char *prefix = NULL, *topic = NULL, *key;
	const json_t *alarms;
	json_t *value;
	int rc;
	snprintf(r->path, sizeof(r->path), "$");
	if (!json_is_object(root))
		return wrong_type(r, NULL, "an object", root);
	json_object_foreach((json_t *)root, key, value) {
		(void)value;
		if (strcmp(key, "prefix") != 0 && strcmp(key, "topic_arn") != 0 && strcmp(key, "alarms") != 0)
			return fail_at(r, key, CIHA_EINVAL, "unknown key (known: prefix, topic_arn, alarms)");
	}
	if ((rc = require_string(r, root, "prefix", &prefix)) != CIHA_OK ||
	    (rc = get_string(r, root, "topic_arn", &topic)) != CIHA_OK)
		return rc;
	if ((rc = ciha_alarm_set_new(out, prefix, NULL)) != CIHA_OK)
		return setter_failed(r, "prefix", rc);
	if (topic && (rc = setter_failed(r, "topic_arn", ciha_alarm_set_set_topic(*out, topic))) != CIHA_OK)
		return rc;
	alarms = json_object_get(root, "alarms");
	if (!alarms)
		return fail_at(r, "alarms", CIHA_EINVAL, "missing (the set's alarms)");
	return read_alarms(r, alarms, *out);
}

CIHA_EXTERN(ciha_result) ciha_alarm_set_from_json(ciha_alarm_set **out, const char *json_text, const char *source)
{
	reader r;
	json_error_t jerr;
	json_t *root;
	ciha_alarm_set *set = NULL;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_set_from_json: NULL out");
	*out = NULL;
	r.source = source && *source ? source : "alarms";
	if (!json_text)
		return ciha__error_raise(CIHA_EINVAL, "%s: no JSON text", r.source);
	root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return ciha__error_raise(CIHA_EINVAL, "%s:%d:%d: invalid JSON: %s", r.source, jerr.line, jerr.column,
		                         jerr.text);
	rc = read_root(&r, root, &set);
	json_decref(root);
	if (rc != CIHA_OK) {
		ciha_alarm_set_free(set);
		return rc;
	}
	*out = set;
	return CIHA_OK;
}
