/* stack.h: CloudFormation stack lifecycle: deploy through change sets, wait
 * with events, describe, protect, delete, drift, stuck stacks, recovery. */
#ifndef CIHA_STACK_H
#define CIHA_STACK_H

#include "ciha/common.h"
#include "ciha/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the desired stack ------------------------------------------------- */

/** What to deploy: name, template, parameters, tags and settings. Opaque; build it with setters. */
typedef struct ciha_stack_spec ciha_stack_spec;

/** Start the description of stack `name` to deploy. @param out new spec for stack `name`; free with ciha_stack_spec_free(). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_new(ciha_stack_spec **out, const char *name);
/** Free a spec. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_stack_spec_free(ciha_stack_spec *spec);
/** The template text (JSON or YAML, passed through unchanged). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_template_body(ciha_stack_spec *spec, const char *body);
/** Read the template from a file now. CIHA_EINVAL naming the file when it cannot be read. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_template_file(ciha_stack_spec *spec, const char *path);
/** A parameter value. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_add_parameter(ciha_stack_spec *spec, const char *key, const char *value);
/** Keep the stack's current value of a parameter (UsePreviousValue). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_use_previous(ciha_stack_spec *spec, const char *key);
/** A stack tag. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_add_tag(ciha_stack_spec *spec, const char *key, const char *value);
/** CAPABILITY_IAM, CAPABILITY_NAMED_IAM or CAPABILITY_AUTO_EXPAND. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_add_capability(ciha_stack_spec *spec, const char *capability);
/** An SNS topic ARN for stack events. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_add_notification_arn(ciha_stack_spec *spec, const char *arn);
/** The IAM role CloudFormation acts as. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_role_arn(ciha_stack_spec *spec, const char *arn);
/** Creation timeout in minutes (0: none). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_timeout_minutes(ciha_stack_spec *spec, int minutes);
/** On creation failure: "ROLLBACK" (default), "DELETE" or "DO_NOTHING". Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_on_failure(ciha_stack_spec *spec, const char *on_failure);
/** Turn termination protection on or off after deploying (-1: leave as is, the default). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_termination_protection(ciha_stack_spec *spec, int on);
/** A stack policy (JSON) to set after deploying. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_spec_set_policy_body(ciha_stack_spec *spec, const char *policy_json);
/**
 * Set parameter `key` to the newest snapshot of a resource: an RDS manual DB
 * snapshot identifier (kind "rds", source = DB identifier) or an EBS snapshot
 * id (kind "ebs", source = volume id). Resolved at deploy time. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_spec_add_snapshot_parameter(ciha_stack_spec *spec, const char *key,
                                                                const char *kind, const char *source);
/** @return borrowed stack name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_spec_name(const ciha_stack_spec *spec);

/* ---- events ------------------------------------------------------------ */

/** A stack event, oldest first, delivered once. */
typedef struct {
	unsigned int version;          /**< CIHA_STACK_EVENT_VERSION */
	const char *event_id;
	const char *stack_name;
	const char *logical_id;
	const char *physical_id;
	const char *resource_type;
	const char *status;            /**< CREATE_IN_PROGRESS, UPDATE_FAILED, ... */
	const char *reason;            /**< may be NULL */
	int64_t timestamp;             /**< Unix seconds */
} ciha_stack_event;
#define CIHA_STACK_EVENT_VERSION 1

/** Return non-zero to stop waiting (the wait then ends with CIHA_EUSER). */
typedef int (*ciha_stack_event_cb)(const ciha_stack_event *event, void *payload);

/* ---- deploy ------------------------------------------------------------ */

typedef struct {
	unsigned int version;
	int no_execute;            /**< create the change set and stop (review) */
	int allow_replace;         /**< allow replacing or removing stateful resources */
	int wait;                  /**< wait for the stack to settle (default 1) */
	long timeout_s;            /**< 0: 3600 */
	long poll_interval_ms;     /**< 0: 5000 */
	ciha_stack_event_cb on_event;
	void *payload;
} ciha_stack_deploy_options;
#define CIHA_STACK_DEPLOY_OPTIONS_VERSION 1
#define CIHA_STACK_DEPLOY_OPTIONS_INIT { CIHA_STACK_DEPLOY_OPTIONS_VERSION, 0, 0, 1, 0, 0, NULL, NULL }
/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_deploy_options_init(ciha_stack_deploy_options *opts, unsigned int version);

/** What a deploy did: the change set's changes and the outcome. Opaque, immutable. */
typedef struct ciha_stack_deployment ciha_stack_deployment;

/**
 * Create or update the stack through a change set. "No changes" is success
 * (action "none"). A change set that replaces or removes a stateful resource
 * (RDS instance/cluster, EBS volume, ...) is refused with CIHA_ESTATE unless
 * allow_replace. A new stack left in REVIEW_IN_PROGRESS by an earlier failed
 * deploy is created again. Idempotency tokens are sent.
 * @param out new deployment (also when the guard refused: it lists the changes).
 * @return CIHA_OK, CIHA_ESTATE (guard, or the stack ended failed: the message
 *         names the root-cause resources), CIHA_ETIMEOUT, ... Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_deploy(ciha_stack_deployment **out, ciha_client *client,
                                           const ciha_stack_spec *spec, const ciha_stack_deploy_options *opts);
/** Free a deployment. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_stack_deployment_free(ciha_stack_deployment *d);
/** @return "create", "update" or "none". Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_action(const ciha_stack_deployment *d);
/** @return 1 if the change set was executed. Since 0.1. */
CIHA_EXTERN(int) ciha_stack_deployment_executed(const ciha_stack_deployment *d);
/** @return borrowed final stack status (or the status when review stopped). Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_status(const ciha_stack_deployment *d);
/** @return borrowed change set ARN/name, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_change_set(const ciha_stack_deployment *d);
/** @return borrowed stack id. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_stack_id(const ciha_stack_deployment *d);
/** @return number of resource changes. Since 0.1. */
CIHA_EXTERN(size_t) ciha_stack_deployment_change_count(const ciha_stack_deployment *d);
/** @return borrowed "Add", "Modify", "Remove" (or "Import", "Dynamic") of change i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_change_action(const ciha_stack_deployment *d, size_t i);
/** @return borrowed logical id of change i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_change_logical_id(const ciha_stack_deployment *d, size_t i);
/** @return borrowed resource type of change i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_change_type(const ciha_stack_deployment *d, size_t i);
/** @return borrowed "True", "False", "Conditional" or NULL (Add) of change i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_deployment_change_replacement(const ciha_stack_deployment *d, size_t i);
/** @return 1 if change i replaces or removes a stateful resource. Since 0.1. */
CIHA_EXTERN(int) ciha_stack_deployment_change_dangerous(const ciha_stack_deployment *d, size_t i);
/** The deployment as JSON. @param out new JSON text of the deployment (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_deployment_json(char **out, const ciha_stack_deployment *d);

/* ---- waiting ----------------------------------------------------------- */

typedef enum {
	CIHA_STACK_WAIT_CREATE = 1,
	CIHA_STACK_WAIT_UPDATE = 2,
	CIHA_STACK_WAIT_DELETE = 3,
	CIHA_STACK_WAIT_ANY = 4        /**< any terminal state: *_COMPLETE or *_FAILED */
} ciha_stack_wait_kind;

typedef struct {
	unsigned int version;
	long timeout_s;                /**< 0: 3600 */
	long poll_interval_ms;         /**< 0: 5000 */
	ciha_stack_event_cb on_event;  /**< new events, oldest first */
	void *payload;
} ciha_stack_wait_options;
#define CIHA_STACK_WAIT_OPTIONS_VERSION 1
#define CIHA_STACK_WAIT_OPTIONS_INIT { CIHA_STACK_WAIT_OPTIONS_VERSION, 0, 0, NULL, NULL }
/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_wait_options_init(ciha_stack_wait_options *opts, unsigned int version);

/**
 * Wait for the stack to settle, with the success and failure rules of the AWS
 * waiters (StackCreateComplete, ...). Events that happen while waiting are
 * streamed in order.
 * @param out_status new string with the final status (ciha_free); may be NULL.
 * @return CIHA_OK, CIHA_ESTATE (a failure state: the message lists the
 *         root-cause failed resources and their reasons), CIHA_ETIMEOUT,
 *         CIHA_EUSER. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_wait(char **out_status, ciha_client *client, const char *stack,
                                         ciha_stack_wait_kind kind, const ciha_stack_wait_options *opts);

/* ---- describe ---------------------------------------------------------- */

/** A snapshot of a stack's description. Opaque, immutable. */
typedef struct ciha_stack ciha_stack;
/** Describe a stack as it is now. @param out new stack; CIHA_ENOTFOUND when it does not exist. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_describe(ciha_stack **out, ciha_client *client, const char *stack);
/** Free a stack description. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_stack_free(ciha_stack *s);
/** @return borrowed name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_name(const ciha_stack *s);
/** @return borrowed stack id (ARN). Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_id(const ciha_stack *s);
/** @return borrowed status. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_status(const ciha_stack *s);
/** @return borrowed status reason, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_status_reason(const ciha_stack *s);
/** @return 1 if termination protection is on. Since 0.1. */
CIHA_EXTERN(int) ciha_stack_termination_protection(const ciha_stack *s);
/** @return borrowed value of output `key`, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_output(const ciha_stack *s, const char *key);
/** @return number of outputs. Since 0.1. */
CIHA_EXTERN(size_t) ciha_stack_outputs_count(const ciha_stack *s);
/** @return borrowed key of output i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_output_key_at(const ciha_stack *s, size_t i);
/** @return borrowed value of output i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_output_value_at(const ciha_stack *s, size_t i);
/** @return borrowed value of parameter `key`, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_stack_parameter(const ciha_stack *s, const char *key);
/** The description as JSON. @param out new JSON text: name, id, status, reason, protection, outputs, parameters, tags, resources (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_json(char **out, const ciha_stack *s);

/**
 * Names and statuses of the account's stacks (deleted ones left out unless
 * `include_deleted`), as new JSON text [{"name","id","status","updated"}] (ciha_free). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_list(char **out_json, ciha_client *client, int include_deleted);
/**
 * The stack's events, newest first, as new JSON text (ciha_free), at most `max` (0: all). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_events(char **out_json, ciha_client *client, const char *stack, size_t max);

/* ---- protection -------------------------------------------------------- */

/** Turn termination protection on (1) or off (0). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_set_termination_protection(ciha_client *client, const char *stack, int on);
/** Set the stack policy (JSON text). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_policy_set(ciha_client *client, const char *stack, const char *policy_json);
/** Read the stack policy. @param out new JSON text of the stack policy, or NULL when none is set. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_policy_get(char **out, ciha_client *client, const char *stack);
/**
 * A stack policy for a template: allow every update except replacing or
 * deleting its stateful resources. @param out new JSON text (ciha_free). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_policy_generate(char **out, const char *template_body);
/**
 * Stateful resources of a template (JSON or YAML) lacking DeletionPolicy or
 * UpdateReplacePolicy Snapshot/Retain, as new JSON text
 * [{"logical_id","type","deletion_policy","update_replace_policy","problem"}].
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_template_check(char **out_json, const char *template_body);

/* ---- delete, drift, stuck stacks --------------------------------------- */

typedef struct {
	unsigned int version;
	int wait;                      /**< default 1 */
	int final_snapshots;           /**< snapshot the stack's volumes and DB instances first, and wait for them */
	const char *snapshot_policy;   /**< policy name for those snapshots (default "final") */
	long timeout_s;
	long poll_interval_ms;
	ciha_stack_event_cb on_event;
	void *payload;
} ciha_stack_delete_options;
#define CIHA_STACK_DELETE_OPTIONS_VERSION 1
#define CIHA_STACK_DELETE_OPTIONS_INIT { CIHA_STACK_DELETE_OPTIONS_VERSION, 1, 0, NULL, 0, 0, NULL, NULL }
/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_stack_delete_options_init(ciha_stack_delete_options *opts, unsigned int version);
/**
 * Delete a stack. Refused with CIHA_ESTATE while termination protection is on.
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_delete(ciha_client *client, const char *stack, const ciha_stack_delete_options *opts);

/**
 * Detect drift and report drifted resources as new JSON text
 * {"status": "DRIFTED"|"IN_SYNC", "resources": [{"logical_id","type","status","differences"}]}. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_drift(char **out_json, ciha_client *client, const char *stack, long timeout_s);

/**
 * Classify a stack that is stuck or broken and name the safe action, as new
 * JSON text {"status", "problem", "action", "holds_data", "resources_to_skip": [...]}.
 * Problems: "rollback-complete", "update-rollback-failed", "review-in-progress",
 * "stale-in-progress", "none". Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_diagnose(char **out_json, ciha_client *client, const char *stack,
                                             long stale_after_s);
/**
 * Apply the safe action diagnose names: continue the update rollback (skipping
 * the failed resources) or delete an empty/never-created stack. A stack that
 * holds data (stateful resources) is only deleted with `force`. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_stack_fix(ciha_client *client, const char *stack, int force);

/* ---- agent schedules (Auto Scaling) ------------------------------------ */

typedef struct {
	unsigned int version;
	const char *group;             /**< Auto Scaling group name */
	const char *stop_recurrence;   /**< cron, e.g. "0 20 * * 1-5" */
	const char *start_recurrence;  /**< cron, e.g. "0 7 * * 1-5" */
	const char *time_zone;         /**< IANA name, e.g. "Europe/Berlin" (default "UTC") */
	int day_min, day_max, day_desired;   /**< sizes for the day (start) */
	int night_min, night_max, night_desired; /**< sizes for the night (stop), usually 0 */
} ciha_agent_schedule;
#define CIHA_AGENT_SCHEDULE_VERSION 1
#define CIHA_AGENT_SCHEDULE_INIT { CIHA_AGENT_SCHEDULE_VERSION, NULL, NULL, NULL, "UTC", 1, 1, 1, 0, 0, 0 }

/** Put the stop and start scheduled actions ("ciha-stop", "ciha-start") on the group. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_agents_schedule_set(ciha_client *client, const ciha_agent_schedule *schedule);
/** The group's scheduled actions as new JSON text. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_agents_schedule_list(char **out_json, ciha_client *client, const char *group);
/** Remove libciha's scheduled actions from the group. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_agents_schedule_remove(ciha_client *client, const char *group);
/** Scale now: desired capacity (min/max widened when needed). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_agents_scale(ciha_client *client, const char *group, int desired);

#ifdef __cplusplus
}
#endif
#endif
