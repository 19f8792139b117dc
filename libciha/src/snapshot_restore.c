/* snapshot_restore.c: a new volume or DB instance from the latest (or a given) snapshot. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "snapshot_int.h"
#include "time_int.h"

typedef struct {
	const ciha_snapshot_options *opts;
	long long deadline;
	long poll_ms;
} waiter;

static int waiter_init(waiter *w, const ciha_snapshot_options *opts, long default_poll_ms)
{
	static const ciha_snapshot_options defaults = CIHA_SNAPSHOT_OPTIONS_INIT;
	w->opts = opts ? opts : &defaults;
	if (w->opts->version == 0 || w->opts->version > CIHA_SNAPSHOT_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "snapshot options version %u is not supported; initialise "
		                         "with CIHA_SNAPSHOT_OPTIONS_INIT", w->opts->version);
	w->deadline = ciha__mono_ms() + 1000LL * (w->opts->wait_timeout_s > 0 ? w->opts->wait_timeout_s : 3600);
	w->poll_ms = w->opts->poll_interval_ms > 0 ? w->opts->poll_interval_ms : default_poll_ms;
	return CIHA_OK;
}

static int waiter_report(const waiter *w, ciha_snapshot_kind kind, const char *target, const char *id,
                         const char *state)
{
	if (w->opts->progress) {
		ciha_snapshot_event ev = { CIHA_SNAPSHOT_EVENT_VERSION, kind, target, id, state, -1 };
		if (w->opts->progress(&ev, w->opts->progress_payload) != 0)
			return ciha__error_raise(CIHA_EUSER, "the progress callback stopped the wait for %s", target);
	}
	return CIHA_OK;
}

/* Report progress; sleep until the next poll. CIHA_EAGAIN means poll again. */
static int waiter_step(waiter *w, ciha_snapshot_kind kind, const char *target, const char *id, const char *state)
{
	int rc = waiter_report(w, kind, target, id, state);
	if (rc != CIHA_OK)
		return rc;
	if (ciha__mono_ms() + w->poll_ms > w->deadline)
		return ciha__error_raise(CIHA_ETIMEOUT, "%s is still %s when the wait timed out", target, state);
	ciha__sleep_ms(w->poll_ms);
	return CIHA_EAGAIN;
}

static int state_in(const char *state, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(state, *list) == 0)
			return 1;
	return 0;
}

/* The newest snapshot of `source` in state `good` (manual only for RDS). */
static int newest_snapshot(char **out, ciha_client *c, ciha_snapshot_kind kind, const char *source)
{
	const ciha__snap_driver *d = ciha__snap_driver_for(kind);
	ciha__snap *snaps = NULL;
	const ciha__snap *best = NULL;
	size_t i, n = 0;
	int rc = d->list(&snaps, &n, c, source);
	if (rc != CIHA_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (snaps[i].state == CIHA__SNAP_COMPLETED && !snaps[i].automated && (!best || snaps[i].created > best->created))
			best = &snaps[i];
	if (best)
		*out = ciha__strdup(best->id);
	else
		rc = ciha__error_raise(CIHA_ENOTFOUND, "%s has no completed %s snapshot to restore from", source,
		                       kind == CIHA_SNAPSHOT_EBS ? "EBS" : "manual DB");
	for (i = 0; i < n; i++)
		ciha__snap_dispose(&snaps[i]);
	ciha__free(snaps);
	if (best && !*out)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return rc;
}

/* How to poll a restored resource until it is usable. */
typedef struct {
	ciha_snapshot_kind kind;
	const char *service, *action, *id_param, *list, *status, *noun;
	int id_is_list;                  /* EC2 takes VolumeId.N, RDS one identifier */
	const char *const *good, *const *bad;
} resource_poll;

static const char *const volume_good[] = { "available", "in-use", NULL };
static const char *const volume_bad[] = { "error", "deleting", "deleted", NULL };
static const resource_poll volume_poll = { CIHA_SNAPSHOT_EBS, "ec2", "DescribeVolumes", "VolumeId", "volumeSet",
	"status", "restored volume", 1, volume_good, volume_bad };
static const char *const db_good[] = { "available", NULL };
static const char *const db_bad[] = { "failed", "incompatible-restore", "incompatible-parameters",
	"incompatible-network", "storage-full", "deleting", "inaccessible-encryption-credentials", NULL };
static const resource_poll db_poll = { CIHA_SNAPSHOT_RDS, "rds", "DescribeDBInstances", "DBInstanceIdentifier",
	"DBInstances", "DBInstanceStatus", "restored DB instance", 0, db_good, db_bad };

static int wait_usable(ciha_client *c, const char *id, const resource_poll *rp, waiter *w)
{
	for (;;) {
		json_t *r = NULL, *params = rp->id_is_list ? json_pack("{s:[s]}", rp->id_param, id)
		                                           : json_pack("{s:s}", rp->id_param, id);
		const char *state;
		char state_copy[48];
		int rc = params ? ciha_call(&r, c, rp->service, rp->action, params)
		                : ciha__error_raise(CIHA_ENOMEM, "out of memory");
		json_decref(params);
		if (rc != CIHA_OK)
			return rc;
		state = json_string_value(json_object_get(json_array_get(json_object_get(r, rp->list), 0), rp->status));
		snprintf(state_copy, sizeof(state_copy), "%s", state ? state : "creating");
		json_decref(r);
		if (state_in(state_copy, rp->good))
			return waiter_report(w, rp->kind, id, id, state_copy);
		if (state_in(state_copy, rp->bad))
			return ciha__error_raise(CIHA_EAWS, "%s %s ended in state %s", rp->noun, id, state_copy);
		if ((rc = waiter_step(w, rp->kind, id, id, state_copy)) != CIHA_EAGAIN)
			return rc;
	}
}

CIHA_EXTERN(ciha_result) ciha_snapshot_restore_volume(char **out_volume_id, ciha_client *c, const char *source,
                                                      const char *az, const ciha_snapshot_options *opts)
{
	char *snapshot_id = NULL;
	json_t *params, *r = NULL;
	waiter w;
	int rc;
	if (!out_volume_id || !c || !source || !*source || !az || !*az)
		return ciha__error_raise(CIHA_EINVAL, "restore volume: a source (snap-... or vol-...) and an availability "
		                         "zone are required");
	*out_volume_id = NULL;
	if ((rc = waiter_init(&w, opts, 5000)) != CIHA_OK)
		return ciha__client_fail(c, rc);
	if (strncmp(source, "snap-", 5) == 0)
		snapshot_id = ciha__strdup(source);
	else if (strncmp(source, "vol-", 4) == 0)
		rc = newest_snapshot(&snapshot_id, c, CIHA_SNAPSHOT_EBS, source);
	else
		rc = ciha__error_raise(CIHA_EINVAL, "restore volume: '%s' is neither a snapshot id (snap-...) nor a volume "
		                       "id (vol-...)", source);
	if (rc == CIHA_OK && !snapshot_id)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc != CIHA_OK)
		return ciha__client_fail(c, rc);
	params = json_pack("{s:s, s:s, s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}]}]}", "AvailabilityZone", az,
	                   "SnapshotId", snapshot_id, "TagSpecification", "ResourceType", "volume", "Tag",
	                   "Key", "ciha:restored-from", "Value", snapshot_id,
	                   "Key", CIHA_SNAPSHOT_TAG_MANAGED_BY, "Value", CIHA_SNAPSHOT_TAG_MANAGED_BY_VALUE);
	rc = params ? ciha_call(&r, c, "ec2", "CreateVolume", params) : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(params);
	ciha__free(snapshot_id);
	if (rc == CIHA_OK) {
		*out_volume_id = ciha__strdup(json_string_value(json_object_get(r, "volumeId")));
		if (!*out_volume_id)
			rc = ciha__error_raise(CIHA_EAWS, "CreateVolume returned no volume id");
	}
	json_decref(r);
	if (rc == CIHA_OK && (!opts || opts->wait))
		rc = wait_usable(c, *out_volume_id, &volume_poll, &w);
	if (rc != CIHA_OK) {
		ciha__free(*out_volume_id);
		*out_volume_id = NULL;
		return ciha__client_fail(c, rc);
	}
	return CIHA_OK;
}

/* Is `source` the identifier of a manual DB snapshot? */
static int is_db_snapshot(ciha_client *c, const char *source)
{
	json_t *r = NULL, *params = json_pack("{s:s}", "DBSnapshotIdentifier", source);
	int rc = params ? ciha_call(&r, c, "rds", "DescribeDBSnapshots", params) : CIHA_ENOMEM;
	int found = rc == CIHA_OK && json_array_size(json_object_get(r, "DBSnapshots")) > 0;
	json_decref(params);
	json_decref(r);
	return found;
}

static const char *json_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* When the snapshot's database still runs, restore into its network (subnet
 * group and VPC security groups); otherwise RDS uses the snapshot's own, or the
 * default VPC. Best effort: a failed lookup leaves the request as it is. */
static void place_like_live_db(json_t *params, ciha_client *c, const char *snapshot_id)
{
	json_t *snap = NULL, *db = NULL, *q = json_pack("{s:s}", "DBSnapshotIdentifier", snapshot_id);
	const char *source = NULL;
	if (q && ciha_call(&snap, c, "rds", "DescribeDBSnapshots", q) == CIHA_OK)
		source = json_str(json_array_get(json_object_get(snap, "DBSnapshots"), 0), "DBInstanceIdentifier");
	json_decref(q);
	q = source ? json_pack("{s:s}", "DBInstanceIdentifier", source) : NULL;
	if (q && ciha_call(&db, c, "rds", "DescribeDBInstances", q) == CIHA_OK) {
		const json_t *live = json_array_get(json_object_get(db, "DBInstances"), 0);
		const char *group = json_str(json_object_get(live, "DBSubnetGroup"), "DBSubnetGroupName");
		const json_t *sgs = json_object_get(live, "VpcSecurityGroups");
		json_t *ids = json_array();
		size_t i;
		for (i = 0; ids && json_is_array(sgs) && i < json_array_size(sgs); i++) {
			const char *id = json_str(json_array_get(sgs, i), "VpcSecurityGroupId");
			if (id)
				json_array_append_new(ids, json_string(id));
		}
		if (group)
			json_object_set_new(params, "DBSubnetGroupName", json_string(group));
		if (ids && json_array_size(ids))
			json_object_set(params, "VpcSecurityGroupIds", ids);
		json_decref(ids);
	}
	ciha_error_clear();
	json_decref(q);
	json_decref(snap);
	json_decref(db);
}

CIHA_EXTERN(ciha_result) ciha_snapshot_restore_db(char **out_db_id, ciha_client *c, const char *source,
                                                  const char *new_db_id, const ciha_snapshot_options *opts)
{
	char *snapshot_id = NULL;
	json_t *params, *r = NULL;
	waiter w;
	int rc;
	if (!out_db_id || !c || !source || !*source || !new_db_id || !*new_db_id)
		return ciha__error_raise(CIHA_EINVAL, "restore DB: a source (snapshot or DB identifier) and a new DB "
		                         "identifier are required");
	*out_db_id = NULL;
	if ((rc = waiter_init(&w, opts, 15000)) != CIHA_OK)
		return ciha__client_fail(c, rc);
	if (is_db_snapshot(c, source))
		snapshot_id = ciha__strdup(source);
	else
		rc = newest_snapshot(&snapshot_id, c, CIHA_SNAPSHOT_RDS, source);
	if (rc == CIHA_OK && !snapshot_id)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc != CIHA_OK)
		return ciha__client_fail(c, rc);
	params = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "DBInstanceIdentifier", new_db_id,
	                   "DBSnapshotIdentifier", snapshot_id, "Tags", "Key", "ciha:restored-from", "Value", snapshot_id);
	if (params)
		place_like_live_db(params, c, snapshot_id);
	rc = params ? ciha_call(&r, c, "rds", "RestoreDBInstanceFromDBSnapshot", params)
	            : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(params);
	json_decref(r);
	ciha__free(snapshot_id);
	if (rc == CIHA_OK && (!opts || opts->wait))
		rc = wait_usable(c, new_db_id, &db_poll, &w);
	if (rc == CIHA_OK && !(*out_db_id = ciha__strdup(new_db_id)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(c, rc);
}
