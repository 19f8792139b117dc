/* alarm.h: CloudWatch alarms -> SNS -> PagerDuty, reconciled as desired state,
 * probes that publish the metrics they watch, and a fire drill. */
#ifndef CIHA_ALARM_H
#define CIHA_ALARM_H

#include "ciha/common.h"
#include "ciha/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Namespace of libciha's own metrics (mount probe, snapshot age). */
#define CIHA_METRIC_NAMESPACE "CIHA"

/* ---- topic and subscription ------------------------------------------- */

/** Create the SNS topic `name` if missing. @param out_arn new string (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_topic_ensure(char **out_arn, ciha_client *client, const char *name);
/**
 * Subscribe a PagerDuty CloudWatch integration URL (HTTPS only; any other
 * scheme is CIHA_EINVAL unless `allow_http` for local receivers) to the topic, once.
 * The integration key in the URL never appears in logs or errors.
 * @param out_subscription_arn new string, or "pending confirmation". Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_alarm_subscribe(char **out_subscription_arn, ciha_client *client, const char *topic_arn,
                                              const char *endpoint_url, int allow_http);
/**
 * Is `endpoint_url` subscribed to the topic and confirmed? *confirmed is 1
 * (confirmed), 0 (pending confirmation) or -1 (not subscribed). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_alarm_subscription_status(int *confirmed, ciha_client *client, const char *topic_arn,
                                                        const char *endpoint_url);

/* ---- alarm specs ------------------------------------------------------- */

/** One alarm's desired state. Opaque; build with setters or a preset. */
typedef struct ciha_alarm_spec ciha_alarm_spec;

/** Start the desired state of one alarm.
 * @param out new spec named `name` (the set's prefix is added when applied). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_new(ciha_alarm_spec **out, const char *name);
/** Free an alarm spec. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_alarm_spec_free(ciha_alarm_spec *spec);
/** The metric the alarm watches: its CloudWatch namespace and metric name. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_metric(ciha_alarm_spec *spec, const char *namespace_, const char *metric);
/** Add a dimension of the metric (name and value); call once per dimension. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_add_dimension(ciha_alarm_spec *spec, const char *name, const char *value);
/** "Average", "Sum", "Minimum", "Maximum", "SampleCount" (default "Average"). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_statistic(ciha_alarm_spec *spec, const char *statistic);
/** e.g. "LessThanThreshold", "GreaterThanOrEqualToThreshold". Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_threshold(ciha_alarm_spec *spec, const char *comparison, double threshold);
/** Period in seconds (10, 30 or a multiple of 60), periods evaluated, datapoints that must breach. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_evaluation(ciha_alarm_spec *spec, int period_s, int periods,
                                                        int datapoints);
/** "breaching", "notBreaching", "ignore" or "missing" (default "missing" is refused: every alarm states it). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_missing_data(ciha_alarm_spec *spec, const char *treatment);
/** The alarm's description (AlarmDescription). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_description(ciha_alarm_spec *spec, const char *description);
/** The unit of the metric (CloudWatch Unit, e.g. "Seconds", "Count"). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_unit(ciha_alarm_spec *spec, const char *unit);
/** @return borrowed name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_alarm_spec_name(const ciha_alarm_spec *spec);

/* Presets for the CI scenario (each a complete spec; adjust with setters). */
/** Classic ELB `load_balancer` has no healthy host. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_elb_no_healthy_host(ciha_alarm_spec **out, const char *name,
                                                               const char *load_balancer);
/** ALB target group has no healthy host (dimensions "app/..." and "targetgroup/..."). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_alb_no_healthy_host(ciha_alarm_spec **out, const char *name,
                                                               const char *load_balancer, const char *target_group);
/** A mount point of a host is not mounted (our metric; missing data breaches, so a dead host pages). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_volume_not_mounted(ciha_alarm_spec **out, const char *name,
                                                              const char *host, const char *mount_point);
/** Auto Scaling group has fewer than `min` instances in service. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_asg_below_min(ciha_alarm_spec **out, const char *name, const char *group,
                                                         int min);
/** RDS free storage below `bytes`. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_rds_free_storage_low(ciha_alarm_spec **out, const char *name,
                                                                const char *db_id, double bytes);
/** EC2 status check failed. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_status_check_failed(ciha_alarm_spec **out, const char *name,
                                                               const char *instance_id);
/** The newest snapshot of `target` is older than `max_age_s` (our metric; missing data breaches). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_preset_snapshot_too_old(ciha_alarm_spec **out, const char *name,
                                                            const char *target, long max_age_s);

/* ---- desired state ----------------------------------------------------- */

/** A set of alarms under a name prefix, all sending ALARM and OK to one topic. Opaque. */
typedef struct ciha_alarm_set ciha_alarm_set;
/** Start an empty set of alarms under `prefix` that send ALARM and OK to `topic_arn`.
 * @param out new set; names are "<prefix><spec name>". Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_set_new(ciha_alarm_set **out, const char *prefix, const char *topic_arn);
/**
 * Parse {"prefix": "...", "topic_arn": "...", "alarms": [{"name", "preset": "elb-no-healthy-host", ...}
 * | {"name", "namespace", "metric", "dimensions": {...}, "statistic", "comparison", "threshold",
 * "period", "periods", "datapoints", "missing_data", "description", "unit"}]}.
 * Errors name `source` and the JSON path. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_alarm_set_from_json(ciha_alarm_set **out, const char *json_text, const char *source);
/** Free an alarm set. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_alarm_set_free(ciha_alarm_set *set);
/** Add a spec (copied). Duplicate names are CIHA_EEXISTS. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_set_add(ciha_alarm_set *set, const ciha_alarm_spec *spec);
/** Change the SNS topic the set's alarms send ALARM and OK to. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_set_set_topic(ciha_alarm_set *set, const char *topic_arn);

/** The result of a reconcile: one item per alarm. Opaque. */
typedef struct ciha_alarm_plan ciha_alarm_plan;
/**
 * Reconcile: create the missing alarms, update the changed, delete stale ones
 * under the prefix that libciha manages (never others). With `dry_run`
 * nothing changes and the plan shows the diff.
 * @return CIHA_OK, or the first failure (per-item detail in the plan). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_alarm_apply(ciha_alarm_plan **out, ciha_client *client, const ciha_alarm_set *set,
                                          int dry_run);
/** Free a plan. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_alarm_plan_free(ciha_alarm_plan *plan);
/** @return the number of items (one per alarm) in the plan. Since 0.1. */
CIHA_EXTERN(size_t) ciha_alarm_plan_count(const ciha_alarm_plan *plan);
/** @return "create", "update", "delete" or "unchanged". Since 0.1. */
CIHA_EXTERN(const char *) ciha_alarm_plan_action(const ciha_alarm_plan *plan, size_t i);
/** @return borrowed full alarm name. Since 0.1. */
CIHA_EXTERN(const char *) ciha_alarm_plan_name(const ciha_alarm_plan *plan, size_t i);
/** @return borrowed human-readable diff ("Threshold: 1 -> 2; OKActions: added"), or "". Since 0.1. */
CIHA_EXTERN(const char *) ciha_alarm_plan_diff(const ciha_alarm_plan *plan, size_t i);
/** @return CIHA_OK, CIHA_EAGAIN (planned only) or the failure code. Since 0.1. */
CIHA_EXTERN(int) ciha_alarm_plan_outcome(const ciha_alarm_plan *plan, size_t i);
/** The plan as JSON. @param out new JSON text (ciha_free). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_plan_json(char **out, const ciha_alarm_plan *plan);

/** Alarms under `prefix` with state, actions and missing-data treatment, as new JSON text. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_alarm_list(char **out_json, ciha_client *client, const char *prefix);

/**
 * Fire drill: check that every alarm of the set sends ALARM and OK to the
 * topic, that the topic has a confirmed subscription to `endpoint_url`, then
 * publish an ALARM notification shaped like CloudWatch's for one alarm
 * through the topic and, after `resolve_after_ms`, the OK one. Returns the
 * steps as new JSON text [{"step","ok","detail"}]; CIHA_ESTATE if a check fails.
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_alarm_drill(char **out_json, ciha_client *client, const ciha_alarm_set *set,
                                          const char *endpoint_url, long resolve_after_ms);

/* ---- probes ------------------------------------------------------------ */

/**
 * Check that each of `mount_points` is mounted (from `mountinfo_path`, NULL:
 * /proc/self/mountinfo), optionally on `expected_source` (device or file
 * system type, parallel array, entries may be NULL), and publish metric
 * "VolumeMounted" (1 or 0) with dimensions Host and MountPoint to
 * CIHA_METRIC_NAMESPACE unless `publish` is 0. Report as new JSON text.
 * @return CIHA_OK, or CIHA_ESTATE when any mount point is missing. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_probe_mounts(char **out_json, ciha_client *client, const char *host,
                                           const char *const *mount_points, const char *const *expected_source,
                                           size_t n, const char *mountinfo_path, int publish);
/**
 * Age in seconds of the newest completed snapshot of `target` (vol-... or a DB
 * identifier), published as "SnapshotAgeSeconds" with dimension Target unless
 * `publish` is 0. CIHA_ENOTFOUND when there is none. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_probe_snapshot_age(int64_t *out_age_s, ciha_client *client, const char *target,
                                                 int publish);

/* ---- PagerDuty Events API v2 ------------------------------------------ */

/** A PagerDuty Events API v2 client. Opaque; holds the routing key (never logged). */
typedef struct ciha_pagerduty ciha_pagerduty;
/**
 * Create a PagerDuty Events API v2 client for `routing_key` (copied).
 * @param endpoint_url NULL: https://events.pagerduty.com/v2/enqueue (or CIHA_PAGERDUTY_URL).
 * @param client supplies timeouts, TLS settings and the log sink (borrowed for the pager's life); may be NULL.
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_pagerduty_new(ciha_pagerduty **out, const char *routing_key, const char *endpoint_url,
                                            ciha_client *client);
/** NULL-safe; wipes the key. Since 0.1. */
CIHA_EXTERN(void) ciha_pagerduty_free(ciha_pagerduty *pd);
/**
 * Trigger an incident. severity: "critical", "error", "warning", "info".
 * custom_details_json may be NULL. @param out_dedup_key new string (ciha_free), may be NULL. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_pagerduty_trigger(char **out_dedup_key, ciha_pagerduty *pd, const char *dedup_key,
                                                const char *summary, const char *source, const char *severity,
                                                const char *custom_details_json);
/** Acknowledge the incident with `dedup_key`. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_pagerduty_acknowledge(ciha_pagerduty *pd, const char *dedup_key);
/** Resolve the incident with `dedup_key`. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_pagerduty_resolve(ciha_pagerduty *pd, const char *dedup_key);
/**
 * Page for a failed libciha job with a stable dedup key ("ciha:<job>") when
 * `failed`, or resolve that incident when it succeeded. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_pagerduty_report_job(ciha_pagerduty *pd, const char *job, int failed,
                                                   const char *summary);

#ifdef __cplusplus
}
#endif
#endif
