/* snapshot_int.h: snapshot records, policies, plans and reports shared by the
 * snapshot modules (policy, rotate plan, EBS/RDS drivers, runs, CLI). */
#ifndef CIHA_SNAPSHOT_INT_H
#define CIHA_SNAPSHOT_INT_H
#include <jansson.h>
#include "ciha/snapshot.h"
#include "client_int.h"

/* ---- policy (snapshot_policy.c) ---- */
typedef struct {
	char *key;
	char *value;
} ciha__tag;

struct ciha_snapshot_policy {
	char *name;
	int keep_last;        /* 0 = rule off */
	int keep_days;
	int keep_daily, keep_weekly, keep_monthly;
	int min;              /* floor */
	long interval_s;      /* default 86400 */
	ciha__tag *tags;
	size_t ntags;
	char *copy_region;    /* NULL = no copy */
	int copy_keep;
	char *copy_kms_key_id;
};

/* Does the policy keep anything? (CIHA_EINVAL with a clear message if not) */
int ciha__policy_check(const ciha_snapshot_policy *p);
/* A take is skipped when the newest snapshot is younger than the interval less a cron slack. */
long ciha__policy_effective_interval(const ciha_snapshot_policy *p);

/* ---- a snapshot as seen by the planner ---- */
typedef enum { CIHA__SNAP_PENDING = 0, CIHA__SNAP_COMPLETED = 1, CIHA__SNAP_FAILED = 2 } ciha__snap_state;

typedef struct {
	char *id;             /* snap-..., or the DB snapshot identifier */
	char *target;         /* vol-..., DB identifier, cluster identifier */
	ciha_snapshot_kind kind;
	int64_t created;      /* Unix seconds (StartTime / SnapshotCreateTime / ciha:created) */
	ciha__snap_state state;
	char *raw_state;      /* "completed", "available", "creating", ... */
	int progress;         /* percent, -1 unknown */
	int managed;          /* ciha:managed-by=libciha */
	char *policy;         /* ciha:policy, or NULL */
	int automated;        /* RDS automated snapshot (never touched) */
	int encrypted;
	char *arn;            /* RDS snapshot ARN (cross-region copies need it) */
	char *copy_of;        /* ciha:copy-of: the source snapshot of a copy */
} ciha__snap;

void ciha__snap_dispose(ciha__snap *s);

/* ---- the plan (rotate.c): pure, no I/O ---- */
typedef enum { CIHA__KEEP = 0, CIHA__DELETE = 1 } ciha__decision;

typedef struct {
	const ciha__snap *snap;  /* borrowed from the input */
	ciha__decision decision;
	char reason[160];
} ciha__plan_item;

/*
 * Decide keep/delete for the snapshots of ONE target under policy p at time
 * `now`. Input in any order; output sorted newest first, one item per input
 * snapshot. Rules: only snapshots with managed && policy == p->name can be
 * deleted (others: keep, "not created by libciha under policy X" / "automated
 * snapshot"); pending ones are kept; failed ones (ours) are deleted; the
 * newest completed is always kept; keep_last, keep_days and GFS keep; the floor
 * `min` restores the newest deletions until min completed remain; when
 * `target_failed` is set nothing is deleted ("new snapshot failed ...").
 * Returns CIHA_OK, CIHA_ENOMEM; *out is ciha__malloc'd (ciha__free).
 */
int ciha__rotate_plan(ciha__plan_item **out, const ciha__snap *snaps, size_t n, const ciha_snapshot_policy *p,
                      int64_t now, int target_failed);

/* ---- reports (snapshot_report.c) ---- */
typedef struct {
	char *action;         /* "create", "skip", "keep", "delete", "copy", "list" */
	ciha_snapshot_kind kind;
	char *target;
	char *snapshot_id;
	char *reason;
	int outcome;          /* CIHA_OK, CIHA_EAGAIN (planned), or an error code */
	char *message;
	int64_t created;
	char *region;         /* where the snapshot lives (copies), NULL = client region */
} ciha__report_item;

struct ciha_snapshot_report {
	char *policy;
	int dry_run;
	ciha__report_item *items;
	size_t count, cap;
};

int ciha__report_new(ciha_snapshot_report **out, const char *policy, int dry_run);
/* Append an item (strings copied); returns its index or -1 on ENOMEM. */
long ciha__report_add(ciha_snapshot_report *r, const char *action, ciha_snapshot_kind kind, const char *target,
                      const char *snapshot_id, const char *reason, int outcome, const char *message,
                      int64_t created);
/* Set the outcome (and message) of item i. */
void ciha__report_set_outcome(ciha_snapshot_report *r, size_t i, int outcome, const char *message);
int ciha__report_set_snapshot_id(ciha_snapshot_report *r, size_t i, const char *snapshot_id);
int ciha__report_set_region(ciha_snapshot_report *r, size_t i, const char *region);
/* The report as JSON (new reference). */
json_t *ciha__report_to_json(const ciha_snapshot_report *r);

/* ---- targets and drivers (snapshot_select.c, snapshot_ebs.c, snapshot_rds.c) ---- */
typedef struct {
	ciha_snapshot_kind kind;
	char *id;
	char *availability_zone;  /* EBS */
	char *missing;            /* given by id but not found: why (the run reports it and goes on) */
} ciha__target;

struct ciha_snapshot_selector {
	ciha__target *ids;
	size_t nids;
	ciha__tag *tags;
	size_t ntags;
	unsigned int tag_kinds;   /* mask of 1 << kind; 0 = all */
};

/* Resolve the selector to concrete targets (ids given + tag matches, across pages, deduplicated).
 * An id that does not exist stays in the list with `missing` set, so one deleted
 * volume does not stop the backups of the others. */
int ciha__targets_resolve(ciha__target **out, size_t *n, ciha_client *c, const ciha_snapshot_selector *sel);
void ciha__targets_free(ciha__target *t, size_t n);

/* One driver per kind. */
typedef struct {
	ciha_snapshot_kind kind;
	const char *service;      /* "ec2" / "rds" */
	/* every snapshot of `target` owned by this account (managed or not), across pages */
	int (*list)(ciha__snap **out, size_t *n, ciha_client *c, const char *target);
	/* start a snapshot of target with the policy's tags; sets *out (owned by caller) */
	int (*create)(ciha__snap *out, ciha_client *c, const ciha__target *target, const ciha_snapshot_policy *p,
	              int64_t now);
	/* one describe of a snapshot, refreshing state/progress */
	int (*refresh)(ciha__snap *s, ciha_client *c);
	/* build the delete request (for the multi runner): action + params */
	const char *delete_action;
	json_t *(*delete_params)(const ciha__snap *s);
	/* snapshots of target in the client's region including copies (copy_of set) made elsewhere */
	int (*list_copies)(ciha__snap **out, size_t *n, ciha_client *c, const char *target);
	/* the copy request, made in the destination region: action + params */
	const char *copy_action;
	json_t *(*copy_params)(const ciha__snap *src, const char *src_region, const ciha_snapshot_policy *p);
	/* the new snapshot's id in a copy response (result decoded schemalessly) */
	const char *(*copy_result_id)(const json_t *result);
} ciha__snap_driver;

/* Tag naming the snapshot a copy was made from. */
#define CIHA__TAG_COPY_OF "ciha:copy-of"
/* The tags of a copy of src: ours (with src's creation time) plus ciha:copy-of. NULL on ENOMEM. */
json_t *ciha__copy_tags(const ciha__snap *src, const ciha_snapshot_policy *p);

const ciha__snap_driver *ciha__snap_driver_for(ciha_snapshot_kind kind);
extern const ciha__snap_driver ciha__ebs_driver;
extern const ciha__snap_driver ciha__rds_driver;
extern const ciha__snap_driver ciha__rds_cluster_driver;

/* The tags libciha puts on a snapshot (managed-by, policy, source, created, the
 * policy's own), as a JSON array of {key_name: K, value_name: V}. NULL on ENOMEM. */
json_t *ciha__snapshot_tags(const ciha_snapshot_policy *p, const char *source, int64_t now, const char *key_name,
                            const char *value_name);
#endif
