/* env.h: the whole CI environment as one spec: plan, apply, audit and a
 * disaster-recovery drill over the stack, snapshot and alarm capabilities. */
#ifndef CIHA_ENV_H
#define CIHA_ENV_H

#include "ciha/common.h"
#include "ciha/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed, validated environment spec. Opaque, immutable. */
typedef struct ciha_env ciha_env;

/**
 * Read an environment spec (JSON, or YAML when the file does not start with
 * '{'). Relative template paths are resolved against the file's directory.
 * Errors are CIHA_EINVAL naming the file, the path in the document
 * ("$.stacks[2].template") and what was expected.
 * @param out new env; free with ciha_env_free(). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_env_load(ciha_env **out, const char *path);
/** The same from text; `base_dir` resolves relative paths (NULL: cwd). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_env_parse(ciha_env **out, const char *text, const char *source, const char *base_dir);
/** Free an env. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_env_free(ciha_env *env);
/** @return borrowed environment name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_env_name(const ciha_env *env);

/** Progress while applying, auditing or drilling: a step and what happened. */
typedef void (*ciha_env_progress_cb)(const char *step, const char *detail, void *payload);

typedef struct {
	unsigned int version;
	ciha_env_progress_cb progress;
	void *payload;
	long poll_interval_ms;       /**< waits for stacks, snapshots, restores; 0: defaults */
	long timeout_s;              /**< per wait; 0: defaults */
	const char *pagerduty_url;   /**< override the spec's PagerDuty endpoint (tests, local receivers) */
	int keep_drill_resources;    /**< drill: leave the scratch resources (debugging) */
} ciha_env_options;
#define CIHA_ENV_OPTIONS_VERSION 1
#define CIHA_ENV_OPTIONS_INIT { CIHA_ENV_OPTIONS_VERSION, NULL, NULL, 0, 0, NULL, 0 }
/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_env_options_init(ciha_env_options *opts, unsigned int version);

/**
 * Every change apply would make (stacks: create/update with their change sets
 * or "unchanged"; alarms: the reconcile plan; schedules; snapshot policies:
 * takes and deletes due now), nothing executed.
 * @param out_json new JSON text (ciha_free). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_env_plan(char **out_json, ciha_client *client, const ciha_env *env,
                                       const ciha_env_options *opts);
/**
 * Converge: deploy the stacks in order, wire topic, subscription and alarms,
 * set agent schedules, take and rotate snapshots. Safe to re-run.
 * @param out_json new JSON report (ciha_free), also on failure. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_env_apply(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts);
/**
 * Check the invariants that make CI production-like, each pass/fail with
 * evidence: security groups chained, no 0.0.0.0/0 where it should not be,
 * termination protection, Snapshot/Retain policies on stateful resources,
 * a fresh completed manual snapshot per target, alarms with ALARM and OK
 * actions to a confirmed subscription, agent schedules.
 * @param out_json new JSON {"passed": N, "failed": N, "checks": [{"check","subject","ok","evidence"}]}.
 * @return CIHA_OK when all pass, CIHA_ESTATE when any fails. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_env_audit(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts);
/**
 * Disaster-recovery drill: restore the database from its newest manual
 * snapshot and each data volume from its newest snapshot into scratch
 * resources, check them, measure recovery time and data age (RPO), publish
 * both as metrics (RecoveryTimeSeconds, RecoveryPointAgeSeconds), and delete
 * the scratch resources, also when interrupted (SIGINT/SIGTERM).
 * @param out_json new JSON report. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_env_drill(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts);

#ifdef __cplusplus
}
#endif
#endif
