/* snapshot_rds.c: the RDS drivers: manual DB instance and DB cluster snapshots. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "time_int.h"

/* What differs between instance and cluster snapshots. */
typedef struct {
	ciha_snapshot_kind kind;
	const char *describe;      /* DescribeDBSnapshots */
	const char *list_member;   /* DBSnapshots */
	const char *source_param;  /* DBInstanceIdentifier */
	const char *id_member;     /* DBSnapshotIdentifier */
	const char *create;        /* CreateDBSnapshot */
	const char *create_result; /* DBSnapshot */
	const char *arn_member;    /* DBSnapshotArn */
	const char *copy_source;   /* SourceDBSnapshotIdentifier */
	const char *copy_target;   /* TargetDBSnapshotIdentifier */
} rds_shape;

static const rds_shape instance_shape = { CIHA_SNAPSHOT_RDS, "DescribeDBSnapshots", "DBSnapshots",
	"DBInstanceIdentifier", "DBSnapshotIdentifier", "CreateDBSnapshot", "DBSnapshot", "DBSnapshotArn",
	"SourceDBSnapshotIdentifier", "TargetDBSnapshotIdentifier" };
static const rds_shape cluster_shape = { CIHA_SNAPSHOT_RDS_CLUSTER, "DescribeDBClusterSnapshots",
	"DBClusterSnapshots", "DBClusterIdentifier", "DBClusterSnapshotIdentifier", "CreateDBClusterSnapshot",
	"DBClusterSnapshot", "DBClusterSnapshotArn", "SourceDBClusterSnapshotIdentifier",
	"TargetDBClusterSnapshotIdentifier" };

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static const char *rds_tag(const json_t *item, const char *key)
{
	const json_t *tags = json_object_get(item, "TagList");
	size_t i;
	for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		if (str(t, "Key") && strcmp(str(t, "Key"), key) == 0)
			return str(t, "Value") ? str(t, "Value") : "";
	}
	return NULL;
}

static ciha__snap_state rds_state(const char *status)
{
	if (!status)
		return CIHA__SNAP_PENDING;
	if (strcmp(status, "available") == 0)
		return CIHA__SNAP_COMPLETED;
	if (strcmp(status, "failed") == 0 || strcmp(status, "error") == 0 || strncmp(status, "incompatible", 12) == 0)
		return CIHA__SNAP_FAILED;
	return CIHA__SNAP_PENDING;
}

static int rds_fill(ciha__snap *s, const json_t *item, const rds_shape *shape)
{
	const char *managed = rds_tag(item, CIHA_SNAPSHOT_TAG_MANAGED_BY);
	const char *type = str(item, "SnapshotType");
	const char *progress = str(item, "PercentProgress");
	double created = 0;
	memset(s, 0, sizeof(*s));
	s->kind = shape->kind;
	s->id = ciha__strdup(str(item, shape->id_member));
	s->target = ciha__strdup(str(item, shape->source_param) ? str(item, shape->source_param) : "");
	s->raw_state = ciha__strdup(str(item, "Status") ? str(item, "Status") : "creating");
	s->state = rds_state(str(item, "Status"));
	s->progress = progress && *progress ? atoi(progress) : -1;
	s->managed = managed && strcmp(managed, CIHA_SNAPSHOT_TAG_MANAGED_BY_VALUE) == 0;
	s->policy = ciha__strdup(rds_tag(item, CIHA_SNAPSHOT_TAG_POLICY));
	s->automated = type && strcmp(type, "manual") != 0;
	s->encrypted = str(item, "Encrypted") && strcmp(str(item, "Encrypted"), "true") == 0;
	s->arn = ciha__strdup(str(item, shape->arn_member));
	s->copy_of = ciha__strdup(rds_tag(item, CIHA__TAG_COPY_OF));
	/* Ours carry the policy clock's time (copies: their source's); others have only SnapshotCreateTime. */
	if (!(s->managed && rds_tag(item, CIHA_SNAPSHOT_TAG_CREATED) &&
	      ciha__time_parse(rds_tag(item, CIHA_SNAPSHOT_TAG_CREATED), &created) == 0) &&
	    str(item, "SnapshotCreateTime"))
		ciha__time_parse(str(item, "SnapshotCreateTime"), &created);
	s->created = (int64_t)created;
	if (!s->id || !s->target || !s->raw_state) {
		ciha__snap_dispose(s);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

static void snaps_free(ciha__snap *snaps, size_t n)
{
	while (n)
		ciha__snap_dispose(&snaps[--n]);
	ciha__free(snaps);
}

static int rds_describe(ciha__snap **out, size_t *n, ciha_client *c, const rds_shape *shape, json_t *params)
{
	ciha_pager *pager = NULL;
	json_t *page = NULL;
	int rc;
	*out = NULL;
	*n = 0;
	rc = ciha_pager_new(&pager, c, "rds", shape->describe, params);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	while ((rc = ciha_pager_next(&page, pager)) == CIHA_OK) {
		const json_t *list = json_object_get(page, shape->list_member);
		size_t i, count = json_is_array(list) ? json_array_size(list) : 0;
		ciha__snap *grown = count ? ciha__realloc(*out, (*n + count) * sizeof(**out)) : *out;
		if (count && !grown)
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
		else
			*out = grown;
		for (i = 0; rc == CIHA_OK && i < count; i++)
			if ((rc = rds_fill(&(*out)[*n], json_array_get(list, i), shape)) == CIHA_OK)
				++*n;
		json_decref(page);
		if (rc != CIHA_OK)
			break;
	}
	ciha_pager_free(pager);
	if (rc == CIHA_ITEROVER)
		return CIHA_OK;
	snaps_free(*out, *n);
	*out = NULL;
	*n = 0;
	return rc;
}

static int rds_list_shape(ciha__snap **out, size_t *n, ciha_client *c, const char *source, const rds_shape *shape)
{
	json_t *params = json_pack("{s:s, s:i}", shape->source_param, source, "MaxRecords", 100);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return rds_describe(out, n, c, shape, params);
}

/* A valid, unique DB snapshot identifier: letters, digits and single hyphens, starting with a letter. */
static void rds_snapshot_identifier(char *out, size_t size, const char *policy, const char *source, int64_t now)
{
	char raw[256], stamp[21];
	size_t i, o = 0;
	ciha__time_iso8601((time_t)now, stamp);
	snprintf(raw, sizeof(raw), "ciha-%s-%s-%.4s%.2s%.2s-%.2s%.2s%.2s", policy, source, stamp, stamp + 5,
	         stamp + 8, stamp + 11, stamp + 14, stamp + 17);
	for (i = 0; raw[i] && o + 1 < size && o < 255; i++) {
		char ch = isalnum((unsigned char)raw[i]) ? (char)tolower((unsigned char)raw[i]) : '-';
		if (ch == '-' && (o == 0 || out[o - 1] == '-'))
			continue;
		out[o++] = ch;
	}
	while (o > 0 && out[o - 1] == '-')
		o--;
	out[o] = '\0';
}

/* The identifier is deterministic, so a create retried after its answer was lost
 * meets the snapshot the first attempt took: ours (this policy, this source,
 * this time) is that snapshot; anything else keeps the AlreadyExists error. */
static int rds_adopt_existing(ciha__snap *out, ciha_client *c, const ciha__target *t, const ciha_snapshot_policy *p,
                              int64_t now, const rds_shape *shape, const char *id)
{
	struct ciha_error exists = { CIHA_OK, NULL, NULL, NULL, NULL, 0, 0 };
	ciha__snap *found = NULL;
	size_t n = 0;
	json_t *params = json_pack("{s:s}", shape->id_member, id);
	int rc, ours;
	ciha__error_copy(&exists, &c->err);
	rc = params ? rds_describe(&found, &n, c, shape, params) : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ours = rc == CIHA_OK && n == 1 && found[0].managed && found[0].policy && strcmp(found[0].policy, p->name) == 0 &&
	       strcmp(found[0].target, t->id) == 0 && found[0].created == now;
	if (ours) {
		*out = found[0];
		memset(&found[0], 0, sizeof(found[0]));
		ciha__error_reset(&c->err);
		ciha__log(&c->logger, CIHA_LOG_INFO, "snapshot", "%s %s: %s already exists and is this run's: a retried "
		          "create whose first answer was lost", shape->create, t->id, id);
	} else {
		ciha__error_detail d = { exists.service, exists.http_status, exists.aws_code, exists.request_id, 0 };
		rc = ciha__client_fail(c, ciha__error_raise_detail(exists.code, &d, "%s", exists.message ? exists.message : ""));
	}
	snaps_free(found, n);
	ciha__error_reset(&exists);
	return rc;
}

static int rds_create_shape(ciha__snap *out, ciha_client *c, const ciha__target *t, const ciha_snapshot_policy *p,
                            int64_t now, const rds_shape *shape)
{
	char id[256];
	json_t *tags = ciha__snapshot_tags(p, t->id, now, "Key", "Value");
	json_t *params, *result = NULL;
	int rc;
	rds_snapshot_identifier(id, sizeof(id), p->name, t->id, now);
	params = tags ? json_pack("{s:s, s:s, s:o}", shape->source_param, t->id, shape->id_member, id, "Tags", tags) : NULL;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha__call_service(&result, c, ciha__service_find("rds"), shape->create, params);
	json_decref(params);
	if (rc == CIHA_EEXISTS)
		return rds_adopt_existing(out, c, t, p, now, shape, id);
	if (rc != CIHA_OK)
		return rc;
	rc = rds_fill(out, json_object_get(result, shape->create_result), shape);
	json_decref(result);
	if (rc == CIHA_OK) {
		out->managed = 1;
		out->created = now;  /* what its ciha:created tag says */
		if (!out->policy && !(out->policy = ciha__strdup(p->name))) {
			ciha__snap_dispose(out);
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
		}
	}
	return rc;
}

static int rds_refresh_shape(ciha__snap *s, ciha_client *c, const rds_shape *shape)
{
	ciha__snap *found = NULL;
	size_t n = 0;
	json_t *params = json_pack("{s:s}", shape->id_member, s->id);
	int rc;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = rds_describe(&found, &n, c, shape, params)) != CIHA_OK)
		return rc;
	if (n == 0) {
		ciha__free(found);
		return ciha__error_raise(CIHA_ENOTFOUND, "DB snapshot %s no longer exists", s->id);
	}
	s->state = found[0].state;
	s->progress = found[0].progress;
	ciha__free(s->raw_state);
	s->raw_state = found[0].raw_state;
	found[0].raw_state = NULL;
	snaps_free(found, n);
	return CIHA_OK;
}

static int rds_list(ciha__snap **out, size_t *n, ciha_client *c, const char *t)
{
	return rds_list_shape(out, n, c, t, &instance_shape);
}
static int rds_create(ciha__snap *out, ciha_client *c, const ciha__target *t, const ciha_snapshot_policy *p, int64_t now)
{
	return rds_create_shape(out, c, t, p, now, &instance_shape);
}
static int rds_refresh(ciha__snap *s, ciha_client *c)
{
	return rds_refresh_shape(s, c, &instance_shape);
}
static json_t *rds_delete_params(const ciha__snap *s)
{
	return json_pack("{s:s}", "DBSnapshotIdentifier", s->id);
}

static int cluster_list(ciha__snap **out, size_t *n, ciha_client *c, const char *t)
{
	return rds_list_shape(out, n, c, t, &cluster_shape);
}
static int cluster_create(ciha__snap *out, ciha_client *c, const ciha__target *t, const ciha_snapshot_policy *p,
                          int64_t now)
{
	return rds_create_shape(out, c, t, p, now, &cluster_shape);
}
static int cluster_refresh(ciha__snap *s, ciha_client *c)
{
	return rds_refresh_shape(s, c, &cluster_shape);
}
static json_t *cluster_delete_params(const ciha__snap *s)
{
	return json_pack("{s:s}", "DBClusterSnapshotIdentifier", s->id);
}

/* Copies keep the source's DB identifier, so listing by it finds them in the destination too. */
static json_t *rds_copy_params_shape(const ciha__snap *src, const ciha_snapshot_policy *p, const rds_shape *shape)
{
	json_t *tags = ciha__copy_tags(src, p);
	json_t *params = tags ? json_pack("{s:s, s:s, s:o}", shape->copy_source, src->arn ? src->arn : src->id,
	                                  shape->copy_target, src->id, "Tags", tags) : NULL;
	if (params && p->copy_kms_key_id && json_object_set_new(params, "KmsKeyId", json_string(p->copy_kms_key_id)) != 0) {
		json_decref(params);
		return NULL;
	}
	return params;
}
static json_t *rds_copy_params(const ciha__snap *src, const char *src_region, const ciha_snapshot_policy *p)
{
	(void)src_region;
	return rds_copy_params_shape(src, p, &instance_shape);
}
static json_t *cluster_copy_params(const ciha__snap *src, const char *src_region, const ciha_snapshot_policy *p)
{
	(void)src_region;
	return rds_copy_params_shape(src, p, &cluster_shape);
}
static const char *rds_copy_result_id(const json_t *result)
{
	return str(json_object_get(result, "DBSnapshot"), "DBSnapshotIdentifier");
}
static const char *cluster_copy_result_id(const json_t *result)
{
	return str(json_object_get(result, "DBClusterSnapshot"), "DBClusterSnapshotIdentifier");
}

const ciha__snap_driver ciha__rds_driver = {
	CIHA_SNAPSHOT_RDS, "rds", rds_list, rds_create, rds_refresh, "DeleteDBSnapshot", rds_delete_params,
	rds_list, "CopyDBSnapshot", rds_copy_params, rds_copy_result_id,
};
const ciha__snap_driver ciha__rds_cluster_driver = {
	CIHA_SNAPSHOT_RDS_CLUSTER, "rds", cluster_list, cluster_create, cluster_refresh, "DeleteDBClusterSnapshot",
	cluster_delete_params, cluster_list, "CopyDBClusterSnapshot", cluster_copy_params, cluster_copy_result_id,
};

const ciha__snap_driver *ciha__snap_driver_for(ciha_snapshot_kind kind)
{
	switch (kind) {
	case CIHA_SNAPSHOT_EBS:
		return &ciha__ebs_driver;
	case CIHA_SNAPSHOT_RDS:
		return &ciha__rds_driver;
	case CIHA_SNAPSHOT_RDS_CLUSTER:
		return &ciha__rds_cluster_driver;
	}
	return NULL;
}
