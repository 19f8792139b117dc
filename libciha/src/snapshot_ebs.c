/* snapshot_ebs.c: the EBS driver: list, create, refresh and delete snapshots of a volume. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "log_int.h"
#include "snapshot_int.h"
#include "time_int.h"

static const ciha__service *ec2(void)
{
	return ciha__service_find("ec2");
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* EC2 lists decode as arrays, or as "" when empty. */
static size_t list_size(const json_t *list)
{
	return json_is_array(list) ? json_array_size(list) : 0;
}

static const char *ec2_tag(const json_t *snapshot, const char *key)
{
	const json_t *tags = json_object_get(snapshot, "tagSet");
	size_t i;
	for (i = 0; i < list_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		const char *k = str(t, "key");
		if (k && strcmp(k, key) == 0)
			return str(t, "value") ? str(t, "value") : "";
	}
	return NULL;
}

static ciha__snap_state ebs_state(const char *status)
{
	if (!status || strcmp(status, "pending") == 0)
		return CIHA__SNAP_PENDING;
	if (strcmp(status, "completed") == 0)
		return CIHA__SNAP_COMPLETED;
	if (strcmp(status, "error") == 0)
		return CIHA__SNAP_FAILED;
	return CIHA__SNAP_PENDING; /* recoverable, recovering */
}

static int ebs_fill(ciha__snap *s, const json_t *item)
{
	const char *managed = ec2_tag(item, CIHA_SNAPSHOT_TAG_MANAGED_BY);
	const char *progress = str(item, "progress");
	double created = 0;
	memset(s, 0, sizeof(*s));
	s->kind = CIHA_SNAPSHOT_EBS;
	s->id = ciha__strdup(str(item, "snapshotId"));
	s->target = ciha__strdup(str(item, "volumeId") ? str(item, "volumeId") : "");
	s->raw_state = ciha__strdup(str(item, "status") ? str(item, "status") : "pending");
	s->state = ebs_state(str(item, "status"));
	s->progress = progress && *progress ? atoi(progress) : -1;
	s->managed = managed && strcmp(managed, CIHA_SNAPSHOT_TAG_MANAGED_BY_VALUE) == 0;
	s->policy = ciha__strdup(ec2_tag(item, CIHA_SNAPSHOT_TAG_POLICY));
	s->copy_of = ciha__strdup(ec2_tag(item, CIHA__TAG_COPY_OF));
	s->encrypted = str(item, "encrypted") && strcmp(str(item, "encrypted"), "true") == 0;
	/* Ours carry the policy clock's time (copies: their source's); others have only StartTime. */
	if (!(s->managed && ec2_tag(item, CIHA_SNAPSHOT_TAG_CREATED) &&
	      ciha__time_parse(ec2_tag(item, CIHA_SNAPSHOT_TAG_CREATED), &created) == 0) && str(item, "startTime"))
		ciha__time_parse(str(item, "startTime"), &created);
	s->created = (int64_t)created;
	if (!s->id || !s->target || !s->raw_state) {
		ciha__snap_dispose(s);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

/* Append every item of `list` to a growing array of snapshots. */
static int snaps_append(ciha__snap **out, size_t *n, const json_t *list)
{
	size_t i, count = list_size(list);
	ciha__snap *grown;
	if (!count)
		return CIHA_OK;
	grown = ciha__realloc(*out, (*n + count) * sizeof(**out));
	if (!grown)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	*out = grown;
	for (i = 0; i < count; i++) {
		int rc = ebs_fill(&grown[*n], json_array_get(list, i));
		if (rc != CIHA_OK)
			return rc;
		++*n;
	}
	return CIHA_OK;
}

static int ebs_describe(ciha__snap **out, size_t *n, ciha_client *c, json_t *params)
{
	ciha_pager *pager = NULL;
	json_t *page = NULL;
	int rc;
	*out = NULL;
	*n = 0;
	rc = ciha_pager_new(&pager, c, "ec2", "DescribeSnapshots", params);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	while ((rc = ciha_pager_next(&page, pager)) == CIHA_OK) {
		rc = snaps_append(out, n, json_object_get(page, "snapshotSet"));
		json_decref(page);
		if (rc != CIHA_OK)
			break;
	}
	ciha_pager_free(pager);
	if (rc == CIHA_ITEROVER)
		return CIHA_OK;
	while (*n)
		ciha__snap_dispose(&(*out)[--*n]);
	ciha__free(*out);
	*out = NULL;
	return rc;
}

static int ebs_list(ciha__snap **out, size_t *n, ciha_client *c, const char *volume_id)
{
	json_t *params = json_pack("{s:[s], s:[{s:s, s:[s]}], s:i}", "Owner", "self",
	                           "Filter", "Name", "volume-id", "Value", volume_id, "MaxResults", 1000);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return ebs_describe(out, n, c, params);
}

/* The tags libciha puts on a snapshot, as [{"Key":..,"Value":..}] in `key`/`value` wire names. */
json_t *ciha__snapshot_tags(const ciha_snapshot_policy *p, const char *source, int64_t now, const char *key_name,
                            const char *value_name)
{
	char when[21];
	json_t *tags = json_array();
	size_t i;
	ciha__time_iso8601((time_t)now, when);
	json_array_append_new(tags, json_pack("{s:s, s:s}", key_name, CIHA_SNAPSHOT_TAG_MANAGED_BY, value_name,
	                                      CIHA_SNAPSHOT_TAG_MANAGED_BY_VALUE));
	json_array_append_new(tags, json_pack("{s:s, s:s}", key_name, CIHA_SNAPSHOT_TAG_POLICY, value_name, p->name));
	json_array_append_new(tags, json_pack("{s:s, s:s}", key_name, CIHA_SNAPSHOT_TAG_SOURCE, value_name, source));
	json_array_append_new(tags, json_pack("{s:s, s:s}", key_name, CIHA_SNAPSHOT_TAG_CREATED, value_name, when));
	for (i = 0; i < p->ntags; i++)
		json_array_append_new(tags, json_pack("{s:s, s:s}", key_name, p->tags[i].key, value_name, p->tags[i].value));
	if (json_array_size(tags) != 4 + p->ntags) {
		json_decref(tags);
		return NULL;
	}
	return tags;
}

/* CreateSnapshot's answer lists the snapshot's fields but no tags: set what its tags say. */
static int ebs_created(ciha__snap *out, const json_t *result, const ciha_snapshot_policy *p, int64_t now)
{
	int rc = ebs_fill(out, result);
	if (rc != CIHA_OK)
		return rc;
	out->managed = 1;
	out->created = now;  /* what its ciha:created tag says */
	if (!out->policy && !(out->policy = ciha__strdup(p->name))) {
		ciha__snap_dispose(out);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

/* One CreateSnapshot request: not retried, not even by curl on a reused connection that died. */
static int ebs_create_once(ciha__snap *out, ciha_client *c, const json_t *params, const ciha_snapshot_policy *p,
                           int64_t now)
{
	json_t *result = NULL;
	int rc;
	c->send_once = 1;
	rc = ciha__call_service(&result, c, ec2(), "CreateSnapshot", params);
	c->send_once = 0;
	if (rc == CIHA_OK)
		rc = ebs_created(out, result, p, now);
	json_decref(result);
	return rc;
}

/* The snapshot an attempt whose answer was lost may have taken: ours, of this volume, at this time. */
static int ebs_find_taken(ciha__snap *out, int *found, ciha_client *c, const char *volume_id,
                          const ciha_snapshot_policy *p, int64_t now)
{
	ciha__snap *snaps = NULL;
	size_t n = 0;
	char when[21];
	json_t *params;
	int rc;
	*found = 0;
	ciha__time_iso8601((time_t)now, when);
	params = json_pack("{s:[s], s:[{s:s, s:[s]}, {s:s, s:[s]}, {s:s, s:[s]}]}", "Owner", "self", "Filter",
	                   "Name", "volume-id", "Value", volume_id, "Name", "tag:" CIHA_SNAPSHOT_TAG_POLICY, "Value",
	                   p->name, "Name", "tag:" CIHA_SNAPSHOT_TAG_CREATED, "Value", when);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = ebs_describe(&snaps, &n, c, params)) != CIHA_OK)
		return rc;
	if (n > 0) {
		*out = snaps[0];
		memset(&snaps[0], 0, sizeof(snaps[0]));
		*found = 1;
	}
	while (n)
		ciha__snap_dispose(&snaps[--n]);
	ciha__free(snaps);
	return CIHA_OK;
}

static ciha__retry_kind retry_kind_of(int code)
{
	return code == CIHA_ETHROTTLED ? CIHA__RETRY_THROTTLE : code == CIHA_ETIMEOUT ? CIHA__RETRY_TIMEOUT
	                                                                              : CIHA__RETRY_TRANSIENT;
}

/* The failure of the last attempt again, as this thread's and the client's error. */
static int restore_error(ciha_client *c, const struct ciha_error *e)
{
	ciha__error_detail d = { e->service, e->http_status, e->aws_code, e->request_id, e->retryable };
	return ciha__client_fail(c, ciha__error_raise_detail(e->code, &d, "%s", e->message ? e->message : ""));
}

/*
 * CreateSnapshot has no idempotency token: retrying after an answer lost on the
 * way back (timeout, reset, 5xx) would take a second snapshot. So each attempt
 * is sent once, and after a retryable failure the volume's snapshots are
 * searched for the one that attempt may have taken (its ciha:created is `now`)
 * before anything is sent again.
 */
static int ebs_create(ciha__snap *out, ciha_client *c, const ciha__target *t, const ciha_snapshot_policy *p,
                      int64_t now)
{
	char description[256];
	json_t *tags = ciha__snapshot_tags(p, t->id, now, "Key", "Value");
	json_t *params;
	struct ciha_error failure = { CIHA_OK, NULL, NULL, NULL, NULL, 0, 0 };
	int attempt, rc, found = 0;
	snprintf(description, sizeof(description), "libciha policy %s: %s", p->name, t->id);
	params = tags ? json_pack("{s:s, s:s, s:[{s:s, s:o}]}", "VolumeId", t->id, "Description", description,
	                          "TagSpecification", "ResourceType", "snapshot", "Tag", tags) : NULL;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	for (attempt = 1;; attempt++) {
		rc = ebs_create_once(out, c, params, p, now);
		if (rc == CIHA_OK || !c->err.retryable)
			break;
		ciha__error_copy(&failure, &c->err);
		if ((rc = ebs_find_taken(out, &found, c, t->id, p, now)) != CIHA_OK) {
			rc = ciha__client_fail(c, ciha__error_raise(failure.code, "CreateSnapshot of %s failed (%s) and whether "
			                       "it took a snapshot is unknown: %s", t->id, failure.message ? failure.message : "",
			                       ciha_error_message(ciha_error_last())));
			break;
		}
		if (found)
			break;
		if (attempt >= c->retry.max_attempts || !ciha__retry_quota_acquire(&c->quota, retry_kind_of(failure.code))) {
			rc = restore_error(c, &failure);
			break;
		}
		ciha__log(&c->logger, CIHA_LOG_INFO, "snapshot", "CreateSnapshot of %s failed (%s) and took no snapshot; "
		          "retrying", t->id, failure.message ? failure.message : "");
		ciha__sleep_ms(ciha__retry_delay_ms(attempt));
	}
	if (found)
		ciha__log(&c->logger, CIHA_LOG_INFO, "snapshot", "CreateSnapshot of %s failed (%s) but took %s; not "
		          "sent again", t->id, failure.message ? failure.message : "", out->id);
	c->last_attempts = attempt;
	ciha__error_reset(&failure);
	json_decref(params);
	return rc;
}

static int ebs_refresh(ciha__snap *s, ciha_client *c)
{
	ciha__snap *found = NULL;
	size_t n = 0;
	json_t *params = json_pack("{s:[s]}", "SnapshotId", s->id);
	int rc;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = ebs_describe(&found, &n, c, params)) != CIHA_OK)
		return rc;
	if (n == 0) {
		ciha__free(found);
		return ciha__error_raise(CIHA_ENOTFOUND, "snapshot %s no longer exists", s->id);
	}
	s->state = found[0].state;
	s->progress = found[0].progress;
	ciha__free(s->raw_state);
	s->raw_state = found[0].raw_state;
	found[0].raw_state = NULL;
	while (n)
		ciha__snap_dispose(&found[--n]);
	ciha__free(found);
	return CIHA_OK;
}

static json_t *ebs_delete_params(const ciha__snap *s)
{
	return json_pack("{s:s}", "SnapshotId", s->id);
}

static int ebs_list_copies(ciha__snap **out, size_t *n, ciha_client *c, const char *volume_id)
{
	json_t *params = json_pack("{s:[s], s:[{s:s, s:[s]}], s:i}", "Owner", "self", "Filter",
	                           "Name", "tag:" CIHA_SNAPSHOT_TAG_SOURCE, "Value", volume_id, "MaxResults", 1000);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return ebs_describe(out, n, c, params);
}

/* A copy carries the source's tags (its ciha:created keeps the original age) plus ciha:copy-of. */
json_t *ciha__copy_tags(const ciha__snap *src, const ciha_snapshot_policy *p)
{
	json_t *tags = ciha__snapshot_tags(p, src->target, src->created, "Key", "Value");
	if (tags && json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", CIHA__TAG_COPY_OF, "Value", src->id)) != 0) {
		json_decref(tags);
		return NULL;
	}
	return tags;
}

static json_t *ebs_copy_params(const ciha__snap *src, const char *src_region, const ciha_snapshot_policy *p)
{
	char description[256];
	json_t *tags = ciha__copy_tags(src, p), *params;
	snprintf(description, sizeof(description), "libciha policy %s: copy of %s from %s", p->name, src->id, src_region);
	params = tags ? json_pack("{s:s, s:s, s:s, s:[{s:s, s:o}]}", "SourceRegion", src_region, "SourceSnapshotId",
	                          src->id, "Description", description, "TagSpecification", "ResourceType", "snapshot",
	                          "Tag", tags) : NULL;
	if (params && p->copy_kms_key_id && (json_object_set_new(params, "Encrypted", json_true()) != 0 ||
	                                     json_object_set_new(params, "KmsKeyId", json_string(p->copy_kms_key_id)) != 0)) {
		json_decref(params);
		return NULL;
	}
	return params;
}

static const char *ebs_copy_result_id(const json_t *result)
{
	return json_string_value(json_object_get(result, "snapshotId"));
}

const ciha__snap_driver ciha__ebs_driver = {
	CIHA_SNAPSHOT_EBS, "ec2", ebs_list, ebs_create, ebs_refresh, "DeleteSnapshot", ebs_delete_params,
	ebs_list_copies, "CopySnapshot", ebs_copy_params, ebs_copy_result_id,
};
