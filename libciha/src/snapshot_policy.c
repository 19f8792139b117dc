/* snapshot_policy.c: retention policies: setters, JSON in and out, checks. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ciha/snapshot.h"
#include "alloc_int.h"
#include "error_int.h"
#include "snapshot_int.h"

#define POLICY_NAME_MAX 64
#define TAG_KEY_MAX 128
#define TAG_VALUE_MAX 256
#define CRON_SLACK_MAX_S 3600L

static int name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	       c == '.';
}

/* NULL when the name is fine, else what is wrong with it. */
static const char *policy_name_problem(const char *name)
{
	size_t len;
	if (!name || !*name)
		return "is empty";
	len = strlen(name);
	if (len > POLICY_NAME_MAX)
		return "is longer than 64 characters";
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			return "may only hold letters, digits, '-', '_' and '.'";
	return NULL;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_new(ciha_snapshot_policy **out, const char *name)
{
	const char *problem;
	ciha_snapshot_policy *p;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_policy_new: NULL out");
	*out = NULL;
	problem = policy_name_problem(name);
	if (problem)
		return ciha__error_raise(CIHA_EINVAL, "policy name '%.80s' %s", name ? name : "", problem);
	p = ciha__calloc(1, sizeof(*p));
	if (!p || !(p->name = ciha__strdup(name))) {
		ciha__free(p);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory creating policy '%s'", name);
	}
	p->interval_s = 86400;
	*out = p;
	return CIHA_OK;
}

static void tags_free(ciha__tag *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ciha__free(tags[i].key);
		ciha__free(tags[i].value);
	}
	ciha__free(tags);
}

CIHA_EXTERN(void) ciha_snapshot_policy_free(ciha_snapshot_policy *policy)
{
	if (!policy)
		return;
	tags_free(policy->tags, policy->ntags);
	ciha__free(policy->name);
	ciha__free(policy->copy_region);
	ciha__free(policy->copy_kms_key_id);
	ciha__free(policy);
}

static int check_count(const ciha_snapshot_policy *policy, const char *what, long n)
{
	if (!policy)
		return ciha__error_raise(CIHA_EINVAL, "snapshot policy: NULL policy setting %s", what);
	if (n < 0)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s': %s must be 0 or more, got %ld", policy->name, what, n);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_last(ciha_snapshot_policy *policy, int n)
{
	int rc = check_count(policy, "keep", n);
	if (rc == CIHA_OK)
		policy->keep_last = n;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_days(ciha_snapshot_policy *policy, int days)
{
	int rc = check_count(policy, "keep_days", days);
	if (rc == CIHA_OK)
		policy->keep_days = days;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_gfs(ciha_snapshot_policy *policy, int daily, int weekly,
                                                           int monthly)
{
	int rc = check_count(policy, "keep_daily", daily);
	if (rc == CIHA_OK)
		rc = check_count(policy, "keep_weekly", weekly);
	if (rc == CIHA_OK)
		rc = check_count(policy, "keep_monthly", monthly);
	if (rc != CIHA_OK)
		return rc;
	policy->keep_daily = daily;
	policy->keep_weekly = weekly;
	policy->keep_monthly = monthly;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_min(ciha_snapshot_policy *policy, int n)
{
	int rc = check_count(policy, "min", n);
	if (rc == CIHA_OK)
		policy->min = n;
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_interval(ciha_snapshot_policy *policy, long seconds)
{
	int rc = check_count(policy, "interval", seconds);
	if (rc == CIHA_OK)
		policy->interval_s = seconds;
	return rc;
}

static const char *tag_key_problem(const char *key)
{
	if (!key || !*key)
		return "is empty";
	if (strlen(key) > TAG_KEY_MAX)
		return "is longer than 128 characters";
	if (strncmp(key, "aws:", 4) == 0 || strncmp(key, "ciha:", 5) == 0)
		return "uses a reserved prefix (aws: or ciha:)";
	return NULL;
}

static ciha__tag *tag_find(ciha_snapshot_policy *policy, const char *key)
{
	for (size_t i = 0; i < policy->ntags; i++)
		if (strcmp(policy->tags[i].key, key) == 0)
			return &policy->tags[i];
	return NULL;
}

static int tag_append(ciha_snapshot_policy *policy, const char *key, char *value)
{
	ciha__tag *grown = ciha__realloc(policy->tags, (policy->ntags + 1) * sizeof(*grown));
	char *key_copy;
	if (!grown)
		return CIHA_ENOMEM;
	policy->tags = grown;
	key_copy = ciha__strdup(key);
	if (!key_copy)
		return CIHA_ENOMEM;
	grown[policy->ntags].key = key_copy;
	grown[policy->ntags].value = value;
	policy->ntags++;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_add_tag(ciha_snapshot_policy *policy, const char *key,
                                                      const char *value)
{
	const char *problem;
	ciha__tag *existing;
	char *value_copy;
	if (!policy)
		return ciha__error_raise(CIHA_EINVAL, "snapshot policy: NULL policy adding a tag");
	problem = tag_key_problem(key);
	if (problem)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s': tag key '%.140s' %s", policy->name, key ? key : "",
		                         problem);
	if (!value || strlen(value) > TAG_VALUE_MAX)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s': tag '%s' needs a value of at most 256 characters",
		                         policy->name, key);
	value_copy = ciha__strdup(value);
	if (!value_copy)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory adding tag '%s'", key);
	existing = tag_find(policy, key);
	if (existing) {
		ciha__free(existing->value);
		existing->value = value_copy;
		return CIHA_OK;
	}
	if (tag_append(policy, key, value_copy) != CIHA_OK) {
		ciha__free(value_copy);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory adding tag '%s'", key);
	}
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_copy(ciha_snapshot_policy *policy, const char *region, int keep,
                                                       const char *kms_key_id)
{
	char *region_copy, *kms_copy;
	int rc = check_count(policy, "copy_to.keep", keep);
	if (rc != CIHA_OK)
		return rc;
	if (!region || !*region)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s': copy_to needs a region", policy->name);
	region_copy = ciha__strdup(region);
	kms_copy = ciha__strdup(kms_key_id && *kms_key_id ? kms_key_id : NULL);
	if (!region_copy || (kms_key_id && *kms_key_id && !kms_copy)) {
		ciha__free(region_copy);
		ciha__free(kms_copy);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory setting copy_to on policy '%s'", policy->name);
	}
	ciha__free(policy->copy_region);
	ciha__free(policy->copy_kms_key_id);
	policy->copy_region = region_copy;
	policy->copy_kms_key_id = kms_copy;
	policy->copy_keep = keep;
	return CIHA_OK;
}

CIHA_EXTERN(const char *) ciha_snapshot_policy_name(const ciha_snapshot_policy *policy)
{
	return policy ? policy->name : NULL;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_options_init(ciha_snapshot_options *opts, unsigned int version)
{
	static const ciha_snapshot_options defaults = CIHA_SNAPSHOT_OPTIONS_INIT;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_options_init: NULL options");
	if (version == 0 || version > CIHA_SNAPSHOT_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "snapshot options version %u is not supported by libciha %s "
		                         "(it knows up to %d)", version, CIHA_VERSION_STRING,
		                         CIHA_SNAPSHOT_OPTIONS_VERSION);
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

/* ---- checks ------------------------------------------------------------ */

int ciha__policy_check(const ciha_snapshot_policy *p)
{
	if (!p)
		return ciha__error_raise(CIHA_EINVAL, "no snapshot policy given");
	if (!p->keep_last && !p->keep_days && !p->keep_daily && !p->keep_weekly && !p->keep_monthly)
		return ciha__error_raise(CIHA_EINVAL,
		                         "policy '%s' keeps nothing: set keep, keep_days or keep_daily/weekly/monthly",
		                         p->name);
	if (p->copy_region && p->copy_keep == 0)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s' copies to %s but keeps no copies there: set copy_to.keep",
		                         p->name, p->copy_region);
	return CIHA_OK;
}

long ciha__policy_effective_interval(const ciha_snapshot_policy *p)
{
	long slack;
	if (!p || p->interval_s <= 0)
		return 0;
	slack = p->interval_s / 10;
	if (slack > CRON_SLACK_MAX_S)
		slack = CRON_SLACK_MAX_S;
	return p->interval_s - slack;
}

/* ---- JSON in ----------------------------------------------------------- */

typedef struct {
	const char *source;
	ciha_snapshot_policy *policy;
} json_reader;

/* A short rendering of a JSON value for error messages. */
static void describe_value(char *out, size_t size, const json_t *v)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!text) {
		snprintf(out, size, "a value");
		return;
	}
	if (strlen(text) > 40)
		snprintf(out, size, "%.37s...", text);
	else
		snprintf(out, size, "%s", text);
	free(text);
}

static int value_error(const json_reader *r, const char *path, const char *expected, const json_t *v)
{
	char got[48];
	describe_value(got, sizeof(got), v);
	return ciha__error_raise(CIHA_EINVAL, "%s: %s: expected %s, got %s", r->source, path, expected, got);
}

static int read_count(const json_reader *r, const char *path, const json_t *v, int *out)
{
	json_int_t n;
	if (!json_is_integer(v) || (n = json_integer_value(v)) < 0 || n > INT_MAX)
		return value_error(r, path, "a non-negative integer", v);
	*out = (int)n;
	return CIHA_OK;
}

static int read_string(const json_reader *r, const char *path, const json_t *v, const char **out)
{
	if (!json_is_string(v) || json_string_length(v) == 0)
		return value_error(r, path, "a non-empty string", v);
	*out = json_string_value(v);
	return CIHA_OK;
}

static int read_interval(const json_reader *r, const json_t *v)
{
	double hours;
	if (!json_is_number(v) || (hours = json_number_value(v)) < 0 || hours > (double)LONG_MAX / 3600.0)
		return value_error(r, "$.interval_hours", "a non-negative number of hours", v);
	r->policy->interval_s = (long)llround(hours * 3600.0);
	return CIHA_OK;
}

/* Replace the library's message with one that names the JSON path. */
static int setter_error(const json_reader *r, const char *path, int rc)
{
	if (rc == CIHA_OK || rc == CIHA_ENOMEM)
		return rc;
	return ciha__error_raise(rc, "%s: %s: %s", r->source, path, ciha_error_message(ciha_error_last()));
}

static int read_tags(const json_reader *r, const json_t *tags)
{
	const char *key;
	json_t *value;
	char path[200];
	if (!json_is_object(tags))
		return value_error(r, "$.tags", "an object of strings", tags);
	json_object_foreach((json_t *)tags, key, value) {
		int rc;
		snprintf(path, sizeof(path), "$.tags.%.140s", key);
		if (!json_is_string(value))
			return value_error(r, path, "a string", value);
		rc = setter_error(r, path, ciha_snapshot_policy_add_tag(r->policy, key, json_string_value(value)));
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int read_copy_to(const json_reader *r, const json_t *copy)
{
	const char *key, *region = NULL, *kms = NULL;
	json_t *value;
	int keep = 0, rc = CIHA_OK;
	if (!json_is_object(copy))
		return value_error(r, "$.copy_to", "an object", copy);
	json_object_foreach((json_t *)copy, key, value) {
		if (strcmp(key, "region") == 0)
			rc = read_string(r, "$.copy_to.region", value, &region);
		else if (strcmp(key, "keep") == 0)
			rc = read_count(r, "$.copy_to.keep", value, &keep);
		else if (strcmp(key, "kms_key_id") == 0)
			rc = read_string(r, "$.copy_to.kms_key_id", value, &kms);
		else
			rc = ciha__error_raise(CIHA_EINVAL, "%s: $.copy_to.%.80s: unknown key (known: region, keep, "
			                       "kms_key_id)", r->source, key);
		if (rc != CIHA_OK)
			return rc;
	}
	if (!region)
		return ciha__error_raise(CIHA_EINVAL, "%s: $.copy_to.region: missing", r->source);
	return setter_error(r, "$.copy_to", ciha_snapshot_policy_set_copy(r->policy, region, keep, kms));
}

static int *count_field(ciha_snapshot_policy *p, const char *key)
{
	if (strcmp(key, "keep") == 0)
		return &p->keep_last;
	if (strcmp(key, "keep_days") == 0)
		return &p->keep_days;
	if (strcmp(key, "keep_daily") == 0)
		return &p->keep_daily;
	if (strcmp(key, "keep_weekly") == 0)
		return &p->keep_weekly;
	if (strcmp(key, "keep_monthly") == 0)
		return &p->keep_monthly;
	if (strcmp(key, "min") == 0)
		return &p->min;
	return NULL;
}

static int read_member(const json_reader *r, const char *key, const json_t *value)
{
	char path[100];
	int *count = count_field(r->policy, key);
	snprintf(path, sizeof(path), "$.%.80s", key);
	if (count)
		return read_count(r, path, value, count);
	if (strcmp(key, "name") == 0)
		return CIHA_OK;  /* read first, by read_name */
	if (strcmp(key, "interval_hours") == 0)
		return read_interval(r, value);
	if (strcmp(key, "tags") == 0)
		return read_tags(r, value);
	if (strcmp(key, "copy_to") == 0)
		return read_copy_to(r, value);
	return ciha__error_raise(CIHA_EINVAL, "%s: %s: unknown key (known: name, keep, keep_days, keep_daily, "
	                         "keep_weekly, keep_monthly, min, interval_hours, tags, copy_to)", r->source, path);
}

static int read_name(json_reader *r, const json_t *root)
{
	const json_t *name = json_object_get(root, "name");
	int rc;
	if (!name)
		return ciha__error_raise(CIHA_EINVAL, "%s: $.name: missing (every policy needs a name)", r->source);
	if (!json_is_string(name))
		return value_error(r, "$.name", "a string", name);
	rc = ciha_snapshot_policy_new(&r->policy, json_string_value(name));
	return setter_error(r, "$.name", rc);
}

static int parse_root(json_reader *r, const char *json_text)
{
	json_error_t jerr;
	json_t *root = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
	const char *key;
	json_t *value;
	int rc;
	if (!root)
		return ciha__error_raise(CIHA_EINVAL, "%s:%d:%d: invalid JSON: %s", r->source, jerr.line, jerr.column,
		                         jerr.text);
	if (!json_is_object(root))
		rc = value_error(r, "$", "an object", root);
	else
		rc = read_name(r, root);
	if (rc == CIHA_OK) {
		json_object_foreach(root, key, value) {
			rc = read_member(r, key, value);
			if (rc != CIHA_OK)
				break;
		}
	}
	json_decref(root);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_from_json(ciha_snapshot_policy **out, const char *json_text,
                                                        const char *source)
{
	json_reader r;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_policy_from_json: NULL out");
	*out = NULL;
	r.source = source && *source ? source : "policy";
	r.policy = NULL;
	if (!json_text)
		return ciha__error_raise(CIHA_EINVAL, "%s: no JSON text", r.source);
	rc = parse_root(&r, json_text);
	if (rc != CIHA_OK) {
		ciha_snapshot_policy_free(r.policy);
		return rc;
	}
	*out = r.policy;
	return CIHA_OK;
}

/* ---- JSON out ---------------------------------------------------------- */

static json_t *interval_json(long seconds)
{
	if (seconds % 3600 == 0)
		return json_integer(seconds / 3600);
	return json_real((double)seconds / 3600.0);
}

static json_t *tags_json(const ciha_snapshot_policy *p)
{
	json_t *tags = json_object();
	for (size_t i = 0; tags && i < p->ntags; i++)
		if (json_object_set_new(tags, p->tags[i].key, json_string(p->tags[i].value)) != 0) {
			json_decref(tags);
			return NULL;
		}
	return tags;
}

static json_t *copy_json(const ciha_snapshot_policy *p)
{
	json_t *copy = json_object();
	if (!copy)
		return NULL;
	if (json_object_set_new(copy, "region", json_string(p->copy_region)) != 0 ||
	    json_object_set_new(copy, "keep", json_integer(p->copy_keep)) != 0 ||
	    (p->copy_kms_key_id && json_object_set_new(copy, "kms_key_id", json_string(p->copy_kms_key_id)) != 0)) {
		json_decref(copy);
		return NULL;
	}
	return copy;
}

static json_t *policy_json(const ciha_snapshot_policy *p)
{
	json_t *o = json_object();
	int bad = !o;
	bad = bad || json_object_set_new(o, "name", json_string(p->name)) != 0;
	bad = bad || json_object_set_new(o, "keep", json_integer(p->keep_last)) != 0;
	bad = bad || json_object_set_new(o, "keep_days", json_integer(p->keep_days)) != 0;
	bad = bad || json_object_set_new(o, "keep_daily", json_integer(p->keep_daily)) != 0;
	bad = bad || json_object_set_new(o, "keep_weekly", json_integer(p->keep_weekly)) != 0;
	bad = bad || json_object_set_new(o, "keep_monthly", json_integer(p->keep_monthly)) != 0;
	bad = bad || json_object_set_new(o, "min", json_integer(p->min)) != 0;
	bad = bad || json_object_set_new(o, "interval_hours", interval_json(p->interval_s)) != 0;
	bad = bad || (p->ntags && json_object_set_new(o, "tags", tags_json(p)) != 0);
	bad = bad || (p->copy_region && json_object_set_new(o, "copy_to", copy_json(p)) != 0);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_policy_to_json(char **out, const ciha_snapshot_policy *policy)
{
	json_t *o;
	char *text;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_policy_to_json: NULL out");
	*out = NULL;
	if (!policy)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_policy_to_json: NULL policy");
	o = policy_json(policy);
	text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	*out = ciha__strdup(text);
	free(text);
	if (!*out)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory writing policy '%s' as JSON", policy->name);
	return CIHA_OK;
}
