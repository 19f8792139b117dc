/* snapshot.h: EBS volume snapshots and RDS manual DB snapshots: take, rotate,
 * copy and restore under a named policy. libciha only ever deletes snapshots
 * it created under that policy (tags ciha:managed-by=libciha, ciha:policy=NAME). */
#ifndef CIHA_SNAPSHOT_H
#define CIHA_SNAPSHOT_H

#include "ciha/common.h"
#include "ciha/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Tag keys libciha puts on every snapshot it takes. */
#define CIHA_SNAPSHOT_TAG_MANAGED_BY "ciha:managed-by"
#define CIHA_SNAPSHOT_TAG_MANAGED_BY_VALUE "libciha"
#define CIHA_SNAPSHOT_TAG_POLICY "ciha:policy"
#define CIHA_SNAPSHOT_TAG_SOURCE "ciha:source"
#define CIHA_SNAPSHOT_TAG_CREATED "ciha:created"

typedef enum {
	CIHA_SNAPSHOT_EBS = 1,         /**< EBS volume snapshot */
	CIHA_SNAPSHOT_RDS = 2,         /**< RDS manual DB instance snapshot */
	CIHA_SNAPSHOT_RDS_CLUSTER = 3  /**< Aurora manual DB cluster snapshot */
} ciha_snapshot_kind;

/* ---- policy ------------------------------------------------------------ */

/** A retention policy: a name plus keep rules. Opaque; build it with setters. */
typedef struct ciha_snapshot_policy ciha_snapshot_policy;

/**
 * Start a retention policy.
 * @param out new policy named `name` (letters, digits, '-', '_', '.'); free with ciha_snapshot_policy_free().
 * It keeps nothing until a keep rule is set; take/rotate refuse such a policy.
 * Default interval: 24 h. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_new(ciha_snapshot_policy **out, const char *name);
/**
 * Parse a policy from JSON: {"name": "...", "keep": N, "keep_days": D, "keep_daily": N,
 * "keep_weekly": N, "keep_monthly": N, "min": N, "interval_hours": H, "tags": {"K": "V"},
 * "copy_to": {"region": "...", "keep": N, "kms_key_id": "..."}}.
 * Unknown keys and bad values give CIHA_EINVAL naming `source` and the JSON path. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_from_json(ciha_snapshot_policy **out, const char *json_text,
                                                        const char *source);
/** Free a policy. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_snapshot_policy_free(ciha_snapshot_policy *policy);
/** Keep the newest `n` completed snapshots of each target. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_last(ciha_snapshot_policy *policy, int n);
/** Keep every completed snapshot younger than `days`. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_days(ciha_snapshot_policy *policy, int days);
/** Grandfather-father-son: the newest snapshot of each of the last `daily` days, `weekly` ISO weeks
 *  and `monthly` months that have snapshots. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_keep_gfs(ciha_snapshot_policy *policy, int daily, int weekly,
                                                           int monthly);
/** Never keep fewer than `n` completed snapshots per target, whatever the rules say. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_min(ciha_snapshot_policy *policy, int n);
/** A take is skipped when the target's newest snapshot under the policy is younger than this. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_interval(ciha_snapshot_policy *policy, long seconds);
/** Add a tag to every snapshot taken. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_add_tag(ciha_snapshot_policy *policy, const char *key,
                                                      const char *value);
/** Copy to `region` (KMS key optional) and keep `keep` copies there. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_set_copy(ciha_snapshot_policy *policy, const char *region,
                                                       int keep, const char *kms_key_id);
/** @return borrowed name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_policy_name(const ciha_snapshot_policy *policy);
/** The policy as JSON. @param out new JSON text (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_policy_to_json(char **out, const ciha_snapshot_policy *policy);

/* ---- targets ----------------------------------------------------------- */

/** Which volumes, DB instances and clusters a run covers. Opaque. */
typedef struct ciha_snapshot_selector ciha_snapshot_selector;
/** Start an empty selector. @param out new selector; free with ciha_snapshot_selector_free(). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_selector_new(ciha_snapshot_selector **out);
/** Free a selector. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_snapshot_selector_free(ciha_snapshot_selector *sel);
/** Add an EBS volume by id. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_volume(ciha_snapshot_selector *sel, const char *volume_id);
/** Add an RDS DB instance by identifier. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_db(ciha_snapshot_selector *sel, const char *db_id);
/** Add an Aurora DB cluster by identifier. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_cluster(ciha_snapshot_selector *sel, const char *cluster_id);
/**
 * Select every resource of `kinds` (a mask of 1 << ciha_snapshot_kind; 0 = all
 * three) carrying tag key=value. Several tags must all match. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_tag(ciha_snapshot_selector *sel, const char *key,
                                                        const char *value, unsigned int kinds);

/* ---- runs -------------------------------------------------------------- */

/** A progress event while waiting for snapshots. */
typedef struct {
	unsigned int version;       /**< CIHA_SNAPSHOT_EVENT_VERSION */
	ciha_snapshot_kind kind;
	const char *target;         /**< volume id or DB identifier */
	const char *snapshot_id;
	const char *state;          /**< "pending", "completed", "creating", "available", ... */
	int progress_percent;       /**< -1 when unknown */
} ciha_snapshot_event;
#define CIHA_SNAPSHOT_EVENT_VERSION 1

/** Return non-zero to stop waiting (the run then ends with CIHA_EUSER). */
typedef int (*ciha_snapshot_progress_cb)(const ciha_snapshot_event *event, void *payload);

typedef struct {
	unsigned int version;
	int dry_run;                  /**< plan only: nothing is created, copied or deleted */
	int wait;                     /**< wait until new snapshots are completed/available */
	long wait_timeout_s;          /**< 0: 1800 */
	ciha_snapshot_progress_cb progress;
	void *progress_payload;
	const char *pre_hook;         /**< shell command before each EBS snapshot (CIHA_VOLUME_ID set) */
	const char *post_hook;        /**< always run after pre_hook succeeded, even when the snapshot failed */
	int64_t now;                  /**< Unix time the policy is evaluated at; 0: the clock */
	int concurrency;              /**< deletes and copies in flight; 0: 8 */
	long poll_interval_ms;        /**< while waiting; 0: 15000 (EBS) / 30000 (RDS) */
} ciha_snapshot_options;

#define CIHA_SNAPSHOT_OPTIONS_VERSION 1
#define CIHA_SNAPSHOT_OPTIONS_INIT { CIHA_SNAPSHOT_OPTIONS_VERSION, 0, 0, 0, NULL, NULL, NULL, NULL, 0, 0, 0 }
/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_options_init(ciha_snapshot_options *opts, unsigned int version);

/** The plan or outcome of a run: one item per decision. Opaque, immutable. */
typedef struct ciha_snapshot_report ciha_snapshot_report;

/**
 * Take a snapshot of every selected target (skipping targets whose newest
 * snapshot under the policy is younger than the interval).
 * @param out new report (also on partial failure); free with ciha_snapshot_report_free().
 * @return CIHA_OK when every target succeeded; else the first failure's code
 *         (details per item in the report). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_take(ciha_snapshot_report **out, ciha_client *client,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy,
                                            const ciha_snapshot_options *opts);
/** Delete what the policy no longer keeps (only snapshots libciha took under it). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_rotate(ciha_snapshot_report **out, ciha_client *client,
                                              const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy,
                                              const ciha_snapshot_options *opts);
/** Take, then rotate; a target whose new snapshot failed gets no deletes. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_run(ciha_snapshot_report **out, ciha_client *client,
                                           const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy,
                                           const ciha_snapshot_options *opts);
/** List the snapshots of the targets (action "list"; managed or not). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_list(ciha_snapshot_report **out, ciha_client *client,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy);
/**
 * Copy the newest completed snapshot of each target to the policy's copy
 * region (EBS CopySnapshot, RDS CopyDBSnapshot), then rotate the copies there.
 * A preflight names problems before anything starts. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_copy(ciha_snapshot_report **out, ciha_client *client,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy,
                                            const ciha_snapshot_options *opts);
/**
 * New volume in `availability_zone` from `source` (a snapshot id, or a volume
 * id meaning its newest completed snapshot), waiting until it is available.
 * @param out_volume_id new string (ciha_free). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_restore_volume(char **out_volume_id, ciha_client *client, const char *source,
                                                      const char *availability_zone, const ciha_snapshot_options *opts);
/**
 * New DB instance `new_db_id` from `source` (a manual snapshot identifier, or a
 * DB identifier meaning its newest available manual snapshot), waiting until available.
 * While the snapshot's own database still runs, the new instance goes into its DB
 * subnet group and VPC security groups (a drill lands next to the live database).
 * @param out_db_id new string (ciha_free). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_snapshot_restore_db(char **out_db_id, ciha_client *client, const char *source,
                                                  const char *new_db_id, const ciha_snapshot_options *opts);

/** @return number of items. Since 0.1. */
CIHA_EXTERN(size_t) ciha_snapshot_report_count(const ciha_snapshot_report *report);
/** @return borrowed action of item i: "create", "skip", "keep", "delete", "copy", "list". Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_report_action(const ciha_snapshot_report *report, size_t i);
/** @return the kind of item i. Since 0.1. */
CIHA_EXTERN(ciha_snapshot_kind) ciha_snapshot_report_kind(const ciha_snapshot_report *report, size_t i);
/** @return borrowed target (volume id / DB identifier) of item i. Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_report_target(const ciha_snapshot_report *report, size_t i);
/** @return borrowed snapshot id of item i, or NULL (a create that was only planned). Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_report_snapshot_id(const ciha_snapshot_report *report, size_t i);
/** @return borrowed reason for the decision ("newest completed snapshot", "older than 7 days", ...). Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_report_reason(const ciha_snapshot_report *report, size_t i);
/** @return CIHA_OK when done, CIHA_EAGAIN when only planned (dry run), or the failure's code. Since 0.1. */
CIHA_EXTERN(int) ciha_snapshot_report_outcome(const ciha_snapshot_report *report, size_t i);
/** @return borrowed failure message of item i, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_snapshot_report_message(const ciha_snapshot_report *report, size_t i);
/** @return creation time of the snapshot of item i (Unix), or 0. Since 0.1. */
CIHA_EXTERN(int64_t) ciha_snapshot_report_created(const ciha_snapshot_report *report, size_t i);
/** @return the number of failed items. Since 0.1. */
CIHA_EXTERN(size_t) ciha_snapshot_report_failures(const ciha_snapshot_report *report);
/** The report as JSON. @param out new JSON text {"policy":..., "dry_run":..., "items":[...], "failures": N} (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_snapshot_report_json(char **out, const ciha_snapshot_report *report);
/** Free a report. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_snapshot_report_free(ciha_snapshot_report *report);

#ifdef __cplusplus
}
#endif
#endif
