/* agents.c: build agents on an Auto Scaling group: night/day schedules and scaling now. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "stack_int.h"

#define STOP_ACTION "ciha-stop"
#define START_ACTION "ciha-start"

/* ---- cron ------------------------------------------------------------- */

typedef struct {
	const char *what;
	int lo, hi;
	const char *names;   /* three-letter names run together, or NULL */
	int name_base;       /* value of the first name */
} cron_field;

static const cron_field cron_fields[5] = {
	{ "minute", 0, 59, NULL, 0 },
	{ "hour", 0, 23, NULL, 0 },
	{ "day-of-month", 1, 31, NULL, 0 },
	{ "month", 1, 12, "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC", 1 },
	{ "day-of-week", 0, 7, "SUNMONTUEWEDTHUFRISAT", 0 },
};

static int parse_number(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;
	if (n == 0 || n > 4)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_cron_value(const char *s, size_t n, const cron_field *f, int *out)
{
	size_t k;
	if (parse_number(s, n, out) == 0)
		return *out >= f->lo && *out <= f->hi ? 0 : -1;
	if (!f->names || n != 3)
		return -1;
	for (k = 0; f->names[k * 3]; k++) {
		if (toupper((unsigned char)s[0]) == f->names[k * 3] && toupper((unsigned char)s[1]) == f->names[k * 3 + 1] &&
		    toupper((unsigned char)s[2]) == f->names[k * 3 + 2]) {
			*out = f->name_base + (int)k;
			return 0;
		}
	}
	return -1;
}

/* One list element: "*", "V" or "A-B", optionally followed by "/STEP". */
static int check_cron_element(const char *s, size_t n, const cron_field *f)
{
	const char *slash = memchr(s, '/', n);
	size_t base = slash ? (size_t)(slash - s) : n;
	const char *dash = memchr(s, '-', base);
	int a, b, step;
	if (slash && (parse_number(slash + 1, n - base - 1, &step) != 0 || step == 0))
		return -1;
	if (base == 1 && s[0] == '*')
		return 0;
	if (!dash)
		return parse_cron_value(s, base, f, &a);
	if (parse_cron_value(s, (size_t)(dash - s), f, &a) != 0 ||
	    parse_cron_value(dash + 1, base - (size_t)(dash - s) - 1, f, &b) != 0)
		return -1;
	return a <= b ? 0 : -1;
}

static int check_cron_field(const char *s, size_t n, const cron_field *f)
{
	while (n > 0) {
		const char *comma = memchr(s, ',', n);
		size_t len = comma ? (size_t)(comma - s) : n;
		if (len == 0 || check_cron_element(s, len, f) != 0)
			return -1;
		if (!comma)
			return 0;
		n -= len + 1;
		s = comma + 1;
		if (n == 0)
			return -1;
	}
	return -1;
}

/* Standard 5-field cron as Auto Scaling takes it: minute hour day-of-month month day-of-week. */
static int check_cron(const char *expr, const char *which)
{
	const char *p = expr, *start[6];
	size_t len[6];
	int nfields = 0, i;
	if (!expr || !*expr)
		return ciha__error_raise(CIHA_EINVAL, "the agent schedule needs a %s recurrence (cron, e.g. \"0 20 * * 1-5\")",
		                         which);
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (nfields < 6)
			start[nfields] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (nfields < 6)
			len[nfields] = (size_t)(p - start[nfields]);
		nfields++;
	}
	if (nfields != 5)
		return ciha__error_raise(CIHA_EINVAL,
		                         "%s recurrence '%s' has %d fields; cron needs 5 (minute hour day-of-month month "
		                         "day-of-week)", which, expr, nfields);
	for (i = 0; i < 5; i++)
		if (check_cron_field(start[i], len[i], &cron_fields[i]) != 0)
			return ciha__error_raise(CIHA_EINVAL, "%s recurrence '%s': bad %s field '%.*s' (allowed %d-%d)", which,
			                         expr, cron_fields[i].what, (int)len[i], start[i], cron_fields[i].lo,
			                         cron_fields[i].hi);
	return CIHA_OK;
}

static int check_sizes(const char *which, int min, int max, int desired)
{
	if (min < 0 || min > desired || desired > max)
		return ciha__error_raise(CIHA_EINVAL, "%s sizes must satisfy 0 <= min (%d) <= desired (%d) <= max (%d)",
		                         which, min, desired, max);
	return CIHA_OK;
}

static int check_schedule(const ciha_agent_schedule *s)
{
	int rc;
	if (s->version != CIHA_AGENT_SCHEDULE_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "agent schedule version %u is not supported (this library: %d)",
		                         s->version, CIHA_AGENT_SCHEDULE_VERSION);
	if (!s->group || !*s->group)
		return ciha__error_raise(CIHA_EINVAL, "the agent schedule names no Auto Scaling group");
	if ((rc = check_cron(s->stop_recurrence, "stop")) != CIHA_OK || (rc = check_cron(s->start_recurrence, "start")) != CIHA_OK)
		return rc;
	if (s->time_zone && !*s->time_zone)
		return ciha__error_raise(CIHA_EINVAL, "the agent schedule's time zone is empty (e.g. \"Europe/Berlin\")");
	if ((rc = check_sizes("day", s->day_min, s->day_max, s->day_desired)) != CIHA_OK)
		return rc;
	return check_sizes("night", s->night_min, s->night_max, s->night_desired);
}

/* ---- Auto Scaling calls -------------------------------------------------- */

/* Call an Auto Scaling action; takes the reference to params. */
static int asg_call(json_t **out, ciha_client *c, const char *action, json_t *params)
{
	json_t *result = NULL;
	int rc;
	if (!params)
		return ciha__client_fail(c, ciha__error_raise(CIHA_ENOMEM, "out of memory building %s", action));
	rc = ciha__call_service(&result, c, ciha__service_find("autoscaling"), action, params);
	json_decref(params);
	if (out)
		*out = result;
	else
		json_decref(result);
	return rc;
}

static const char *str_member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int int_member(const json_t *o, const char *key)
{
	const char *v = str_member(o, key);
	return v ? atoi(v) : 0;
}

/* The group's description; CIHA_ENOTFOUND when it does not exist. */
static int describe_group(json_t **out, ciha_client *c, const char *group)
{
	json_t *r = NULL, *groups;
	int rc = asg_call(&r, c, "DescribeAutoScalingGroups", json_pack("{s:[s]}", "AutoScalingGroupNames", group));
	if (rc != CIHA_OK)
		return rc;
	groups = json_object_get(r, "AutoScalingGroups");
	if (!json_is_array(groups) || json_array_size(groups) == 0) {
		json_decref(r);
		return ciha__client_fail(c, ciha__error_raise(CIHA_ENOTFOUND, "Auto Scaling group '%s' does not exist", group));
	}
	*out = json_incref(json_array_get(groups, 0));
	json_decref(r);
	return CIHA_OK;
}

static int group_must_exist(ciha_client *c, const char *group)
{
	json_t *g = NULL;
	int rc;
	if (!group || !*group)
		return ciha__client_fail(c, ciha__error_raise(CIHA_EINVAL, "no Auto Scaling group named"));
	rc = describe_group(&g, c, group);
	json_decref(g);
	return rc;
}

static int put_action(ciha_client *c, const char *group, const char *name, const char *recurrence,
                      const char *time_zone, int min, int max, int desired)
{
	return asg_call(NULL, c, "PutScheduledUpdateGroupAction",
	                json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i}", "AutoScalingGroupName", group,
	                          "ScheduledActionName", name, "Recurrence", recurrence, "TimeZone", time_zone,
	                          "MinSize", min, "MaxSize", max, "DesiredCapacity", desired));
}

CIHA_EXTERN(ciha_result) ciha_agents_schedule_set(ciha_client *client, const ciha_agent_schedule *s)
{
	const char *tz;
	int rc;
	if (!client || !s)
		return ciha__error_raise(CIHA_EINVAL, "ciha_agents_schedule_set: NULL argument");
	if ((rc = check_schedule(s)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	if ((rc = group_must_exist(client, s->group)) != CIHA_OK)
		return rc;
	tz = s->time_zone ? s->time_zone : "UTC";
	rc = put_action(client, s->group, STOP_ACTION, s->stop_recurrence, tz, s->night_min, s->night_max,
	                s->night_desired);
	if (rc == CIHA_OK)
		rc = put_action(client, s->group, START_ACTION, s->start_recurrence, tz, s->day_min, s->day_max,
		                s->day_desired);
	return rc;
}

static int is_ours(const char *name)
{
	return name && (strcmp(name, STOP_ACTION) == 0 || strcmp(name, START_ACTION) == 0);
}

static json_t *size_or_null(const json_t *action, const char *key)
{
	return str_member(action, key) ? json_integer(int_member(action, key)) : json_null();
}

static json_t *action_to_json(const json_t *a)
{
	const char *name = str_member(a, "ScheduledActionName");
	const char *recurrence = str_member(a, "Recurrence"), *tz = str_member(a, "TimeZone");
	const char *start = str_member(a, "StartTime");
	return json_pack("{s:s?, s:b, s:s?, s:s?, s:o, s:o, s:o, s:s?}", "name", name, "managed", is_ours(name),
	                 "recurrence", recurrence, "time_zone", tz, "min_size", size_or_null(a, "MinSize"),
	                 "max_size", size_or_null(a, "MaxSize"), "desired_capacity", size_or_null(a, "DesiredCapacity"),
	                 "start_time", start);
}

/* Every scheduled action of the group, across pages (the raw API members). */
static int scheduled_actions(json_t **out, ciha_client *c, const char *group)
{
	json_t *params = json_pack("{s:s}", "AutoScalingGroupName", group), *r = NULL;
	int rc;
	if (!params)
		return ciha__client_fail(c, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	rc = ciha_call_all(&r, c, "autoscaling", "DescribeScheduledActions", params);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	*out = json_incref(json_object_get(r, "ScheduledUpdateGroupActions"));
	json_decref(r);
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = json_array();
	}
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_agents_schedule_list(char **out_json, ciha_client *client, const char *group)
{
	json_t *actions = NULL, *list;
	char *text;
	size_t i;
	int rc;
	if (!out_json || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_agents_schedule_list: NULL argument");
	*out_json = NULL;
	if ((rc = group_must_exist(client, group)) != CIHA_OK || (rc = scheduled_actions(&actions, client, group)) != CIHA_OK)
		return rc;
	list = json_array();
	for (i = 0; list && i < json_array_size(actions); i++)
		if (json_array_append_new(list, action_to_json(json_array_get(actions, i))) != 0) {
			json_decref(list);
			list = NULL;
		}
	json_decref(actions);
	text = list ? json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(list);
	*out_json = ciha__strdup(text);
	free(text);
	if (!*out_json)
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory listing scheduled actions"));
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_agents_schedule_remove(ciha_client *client, const char *group)
{
	json_t *actions = NULL;
	size_t i;
	int rc;
	if (!client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_agents_schedule_remove: NULL client");
	if ((rc = group_must_exist(client, group)) != CIHA_OK || (rc = scheduled_actions(&actions, client, group)) != CIHA_OK)
		return rc;
	for (i = 0; rc == CIHA_OK && i < json_array_size(actions); i++) {
		const char *name = str_member(json_array_get(actions, i), "ScheduledActionName");
		if (is_ours(name))
			rc = asg_call(NULL, client, "DeleteScheduledAction",
			              json_pack("{s:s, s:s}", "AutoScalingGroupName", group, "ScheduledActionName", name));
	}
	json_decref(actions);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_agents_scale(ciha_client *client, const char *group, int desired)
{
	json_t *g = NULL;
	int rc, min, max;
	if (!client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_agents_scale: NULL client");
	if (desired < 0)
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "cannot scale '%s' to %d agents", group ? group : "",
		                                                   desired));
	if (!group || !*group)
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "no Auto Scaling group named"));
	if ((rc = describe_group(&g, client, group)) != CIHA_OK)
		return rc;
	min = int_member(g, "MinSize");
	max = int_member(g, "MaxSize");
	json_decref(g);
	if (desired < min || desired > max)
		rc = asg_call(NULL, client, "UpdateAutoScalingGroup",
		              json_pack("{s:s, s:i, s:i}", "AutoScalingGroupName", group, "MinSize", desired < min ? desired : min,
		                        "MaxSize", desired > max ? desired : max));
	if (rc == CIHA_OK)
		rc = asg_call(NULL, client, "SetDesiredCapacity",
		              json_pack("{s:s, s:i, s:b}", "AutoScalingGroupName", group, "DesiredCapacity", desired,
		                        "HonorCooldown", 0));
	return rc;
}
