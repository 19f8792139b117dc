/* env_int.h: the parsed environment and what plan, apply, audit and drill
 * share: references to stack resources, the objects built from the spec
 * (stack specs, alarm sets, schedules, selectors) and progress. */
#ifndef CIHA_ENV_INT_H
#define CIHA_ENV_INT_H
#include <jansson.h>
#include "ciha/env.h"
#include "ciha/stack.h"
#include "ciha/snapshot.h"
#include "ciha/alarm.h"
#include "ciha/call.h"
#include "client_int.h"

/* JSON members below are borrowed from ciha_env.doc (the validated document,
 * "${name}" already expanded). A "value" is a string, a reference object
 * ({"stack","resource"} / {"stack","output"}) or, for stack parameters, an
 * array of those (joined with commas) or {"snapshot": "rds:ID" | "ebs:vol-..."}. */
typedef struct {
	const char *name;
	char *template_path;       /* resolved against the spec's directory */
	char *template_body;
	const json_t *parameters;  /* object or NULL */
	const json_t *tags;        /* object of strings or NULL */
	const json_t *capabilities;/* array of strings or NULL */
	int protect;               /* -1 not stated, 0, 1 */
	char *policy_body;         /* generated or read from a file; NULL: none */
	int allow_replace;
} ciha__env_stack;

typedef struct {
	ciha_snapshot_policy *policy;
	const json_t *volumes;     /* array of values or NULL */
	const json_t *dbs;
	const json_t *tags;        /* object of strings or NULL */
} ciha__env_snapshots;

typedef struct {
	const json_t *group;       /* value */
	const char *stop, *start, *time_zone;
	int day_size, night_size, max_size;
} ciha__env_schedule;

struct ciha_env {
	json_t *doc;
	char *source;              /* the file (or source) named in messages */
	char *base_dir;
	const char *name;
	const char *region;        /* NULL: the client's */
	ciha__env_stack *stacks;
	size_t nstacks;
	ciha__env_snapshots *snapshots;
	size_t nsnapshots;
	const char *alarm_prefix;  /* NULL: no alarms section */
	const char *topic;
	const char *pagerduty_url;
	int allow_http;
	const json_t *alarms;      /* array */
	ciha__env_schedule *schedules;
	size_t nschedules;
	const json_t *audit_groups;  /* object role -> value, or NULL */
	const json_t *public_allowed;/* array of values, or NULL */
	long max_snapshot_age_s;     /* 0: twice each policy's interval */
};

/* ---- references (env_plan.c) ---- */
typedef struct {
	ciha_client *c;
	json_t *cache;             /* stack -> {"resources": {logical: physical}, "outputs": {key: value}} */
} ciha__env_resolver;

void ciha__env_resolver_init(ciha__env_resolver *r, ciha_client *c);
void ciha__env_resolver_dispose(ciha__env_resolver *r);
/* Forget what is known of `stack` (it was just deployed). */
void ciha__env_resolver_forget(ciha__env_resolver *r, const char *stack);
/* A value as text (*out new, ciha__free). `what` names it in errors: "parameter SubnetIds of ci-master".
 * A stack that is not deployed is CIHA_ENOTFOUND. */
int ciha__env_resolve(char **out, ciha__env_resolver *r, const json_t *value, const char *what);
/* Is the value a {"stack", ...} reference? */
int ciha__env_is_ref(const json_t *value);

/* ---- objects built from the spec (env_plan.c) ---- */
int ciha__env_stack_spec(ciha_stack_spec **out, ciha__env_resolver *r, const ciha__env_stack *s);
/* The alarm set with references resolved and the topic set. */
int ciha__env_alarm_set(ciha_alarm_set **out, ciha__env_resolver *r, const ciha_env *env, const char *topic_arn);
int ciha__env_selector(ciha_snapshot_selector **out, ciha__env_resolver *r, const ciha__env_snapshots *s);
/* The schedule with the group resolved (*group new, ciha__free). */
int ciha__env_schedule_build(ciha_agent_schedule *out, char **group, ciha__env_resolver *r, const ciha__env_schedule *s);
/* The SNS topic ARN of the env's topic, *exists 1/0 (nothing is created). */
int ciha__env_topic_arn(char **out, int *exists, ciha_client *c, const char *topic);
/* The PagerDuty URL: the override, else the spec's. */
const char *ciha__env_pagerduty_url(const ciha_env *env, const ciha_env_options *opts);
/* May the subscription use http? The spec says so, or the override is a loopback receiver. */
int ciha__env_allow_http(const ciha_env *env, const ciha_env_options *opts);
/* Compare our scheduled actions with the desired ones: *diff new text ("" when equal, "missing" ...). */
int ciha__env_schedule_diff(char **diff, ciha_client *c, const ciha_agent_schedule *want);
/* The first failure of a run that goes on after failures: note it, and raise it again at the end. */
typedef struct {
	int code;
	struct ciha_error err;
} ciha__env_failure;
void ciha__env_note_failure(ciha__env_failure *f, int rc);
/* CIHA_OK when nothing failed; else raises the first failure again (thread and client) and returns its code. */
int ciha__env_raise_failure(ciha__env_failure *f, ciha_client *c);
/* Wipe the client's error left by a failure we report in the JSON and go on from. */
void ciha__env_forget_error(ciha_client *c);

/* ---- shared helpers (env_plan.c) ---- */
/* Check the options; a client for the env's region when it differs (*owned to free, else NULL). */
int ciha__env_begin(ciha_client **use, ciha_client **owned, ciha_client *client, const ciha_env *env,
                    const ciha_env_options *opts);
void ciha__env_progress(const ciha_env_options *opts, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Indented JSON text of `doc` (taken) as a new string (ciha_free). */
int ciha__env_json_out(char **out, json_t *doc);
/* The client's current error message, or `fallback`. */
const char *ciha__env_error_text(ciha_client *c, const char *fallback);
/* The newest completed (manual, for RDS) snapshot of a target: id (new) and creation time; *id NULL when none. */
int ciha__env_newest_snapshot(char **id, int64_t *created, ciha_client *c, ciha_snapshot_kind kind,
                              const char *target);
#endif
