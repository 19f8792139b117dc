/* snapshot_select.c: which volumes, DB instances and clusters a run covers. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "snapshot_int.h"

CIHA_EXTERN(ciha_result) ciha_snapshot_selector_new(ciha_snapshot_selector **out)
{
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_snapshot_selector_new: NULL out");
	*out = ciha__calloc(1, sizeof(**out));
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

void ciha__targets_free(ciha__target *t, size_t n)
{
	size_t i;
	for (i = 0; t && i < n; i++) {
		ciha__free(t[i].id);
		ciha__free(t[i].availability_zone);
		ciha__free(t[i].missing);
	}
	ciha__free(t);
}

CIHA_EXTERN(void) ciha_snapshot_selector_free(ciha_snapshot_selector *sel)
{
	size_t i;
	if (!sel)
		return;
	ciha__targets_free(sel->ids, sel->nids);
	for (i = 0; i < sel->ntags; i++) {
		ciha__free(sel->tags[i].key);
		ciha__free(sel->tags[i].value);
	}
	ciha__free(sel->tags);
	ciha__free(sel);
}

static int target_push(ciha__target **list, size_t *n, ciha_snapshot_kind kind, const char *id, const char *az)
{
	ciha__target *grown = ciha__realloc(*list, (*n + 1) * sizeof(**list));
	if (!grown)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	*list = grown;
	grown[*n].kind = kind;
	grown[*n].id = ciha__strdup(id);
	grown[*n].availability_zone = ciha__strdup(az);
	grown[*n].missing = NULL;
	if (!grown[*n].id || (az && !grown[*n].availability_zone)) {
		ciha__free(grown[*n].id);
		ciha__free(grown[*n].availability_zone);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	++*n;
	return CIHA_OK;
}

static int selector_add(ciha_snapshot_selector *sel, ciha_snapshot_kind kind, const char *id, const char *what)
{
	if (!sel || !id || !*id)
		return ciha__error_raise(CIHA_EINVAL, "%s: empty identifier", what);
	if (kind == CIHA_SNAPSHOT_EBS && strncmp(id, "vol-", 4) != 0)
		return ciha__error_raise(CIHA_EINVAL, "'%s' is not an EBS volume id (vol-...)", id);
	return target_push(&sel->ids, &sel->nids, kind, id, NULL);
}

CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_volume(ciha_snapshot_selector *sel, const char *id)
{
	return selector_add(sel, CIHA_SNAPSHOT_EBS, id, "volume");
}

CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_db(ciha_snapshot_selector *sel, const char *id)
{
	return selector_add(sel, CIHA_SNAPSHOT_RDS, id, "DB instance");
}

CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_cluster(ciha_snapshot_selector *sel, const char *id)
{
	return selector_add(sel, CIHA_SNAPSHOT_RDS_CLUSTER, id, "DB cluster");
}

CIHA_EXTERN(ciha_result) ciha_snapshot_selector_add_tag(ciha_snapshot_selector *sel, const char *key,
                                                        const char *value, unsigned int kinds)
{
	ciha__tag *grown;
	if (!sel || !key || !*key || !value)
		return ciha__error_raise(CIHA_EINVAL, "a selector tag needs a key and a value");
	if (kinds & ~((1u << CIHA_SNAPSHOT_EBS) | (1u << CIHA_SNAPSHOT_RDS) | (1u << CIHA_SNAPSHOT_RDS_CLUSTER)))
		return ciha__error_raise(CIHA_EINVAL, "selector kinds 0x%x: unknown kind bits", kinds);
	grown = ciha__realloc(sel->tags, (sel->ntags + 1) * sizeof(*grown));
	if (!grown)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	sel->tags = grown;
	grown[sel->ntags].key = ciha__strdup(key);
	grown[sel->ntags].value = ciha__strdup(value);
	if (!grown[sel->ntags].key || !grown[sel->ntags].value) {
		ciha__free(grown[sel->ntags].key);
		ciha__free(grown[sel->ntags].value);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	sel->ntags++;
	sel->tag_kinds |= kinds;
	return CIHA_OK;
}

static int kind_selected_by_tags(const ciha_snapshot_selector *sel, ciha_snapshot_kind kind)
{
	return sel->ntags && (sel->tag_kinds == 0 || (sel->tag_kinds & (1u << kind)));
}

static int has_target(const ciha__target *list, size_t n, ciha_snapshot_kind kind, const char *id)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (list[i].kind == kind && strcmp(list[i].id, id) == 0)
			return 1;
	return 0;
}

/* RDS TagList [{Key, Value}] holds every selector tag. */
static int rds_tags_match(const json_t *tags, const ciha_snapshot_selector *sel)
{
	size_t i, j;
	for (i = 0; i < sel->ntags; i++) {
		int found = 0;
		for (j = 0; json_is_array(tags) && j < json_array_size(tags) && !found; j++) {
			const json_t *t = json_array_get(tags, j);
			const char *k = json_string_value(json_object_get(t, "Key"));
			const char *v = json_string_value(json_object_get(t, "Value"));
			found = k && v && strcmp(k, sel->tags[i].key) == 0 && strcmp(v, sel->tags[i].value) == 0;
		}
		if (!found)
			return 0;
	}
	return 1;
}

static int resolve_volumes_by_tag(ciha__target **out, size_t *n, ciha_client *c, const ciha_snapshot_selector *sel)
{
	json_t *filters = json_array(), *params, *all = NULL, *vols;
	size_t i;
	int rc;
	char name[300];
	for (i = 0; i < sel->ntags; i++) {
		snprintf(name, sizeof(name), "tag:%s", sel->tags[i].key);
		json_array_append_new(filters, json_pack("{s:s, s:[s]}", "Name", name, "Value", sel->tags[i].value));
	}
	params = json_pack("{s:o, s:i}", "Filter", filters, "MaxResults", 500);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha_call_all(&all, c, "ec2", "DescribeVolumes", params);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	vols = json_object_get(all, "volumeSet");
	for (i = 0; rc == CIHA_OK && json_is_array(vols) && i < json_array_size(vols); i++) {
		const json_t *v = json_array_get(vols, i);
		const char *id = json_string_value(json_object_get(v, "volumeId"));
		if (id && !has_target(*out, *n, CIHA_SNAPSHOT_EBS, id))
			rc = target_push(out, n, CIHA_SNAPSHOT_EBS, id,
			                 json_string_value(json_object_get(v, "availabilityZone")));
	}
	json_decref(all);
	return rc;
}

static int resolve_rds_by_tag(ciha__target **out, size_t *n, ciha_client *c, const ciha_snapshot_selector *sel,
                              ciha_snapshot_kind kind)
{
	int cluster = kind == CIHA_SNAPSHOT_RDS_CLUSTER;
	const char *action = cluster ? "DescribeDBClusters" : "DescribeDBInstances";
	const char *member = cluster ? "DBClusters" : "DBInstances";
	const char *id_key = cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier";
	json_t *all = NULL, *list;
	size_t i;
	int rc = ciha_call_all(&all, c, "rds", action, NULL);
	if (rc != CIHA_OK)
		return rc;
	list = json_object_get(all, member);
	for (i = 0; rc == CIHA_OK && json_is_array(list) && i < json_array_size(list); i++) {
		const json_t *db = json_array_get(list, i);
		const char *id = json_string_value(json_object_get(db, id_key));
		if (id && rds_tags_match(json_object_get(db, "TagList"), sel) && !has_target(*out, *n, kind, id))
			rc = target_push(out, n, kind, id, NULL);
	}
	json_decref(all);
	return rc;
}

/* Fail early, naming the id, when a target given by id does not exist. */
static int check_exists(ciha_client *c, const ciha__target *t)
{
	json_t *params, *result = NULL;
	int rc;
	if (t->kind == CIHA_SNAPSHOT_EBS)
		params = json_pack("{s:[s]}", "VolumeId", t->id);
	else if (t->kind == CIHA_SNAPSHOT_RDS)
		params = json_pack("{s:s}", "DBInstanceIdentifier", t->id);
	else
		params = json_pack("{s:s}", "DBClusterIdentifier", t->id);
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha_call(&result, c, t->kind == CIHA_SNAPSHOT_EBS ? "ec2" : "rds",
	               t->kind == CIHA_SNAPSHOT_EBS ? "DescribeVolumes"
	               : t->kind == CIHA_SNAPSHOT_RDS ? "DescribeDBInstances" : "DescribeDBClusters", params);
	json_decref(params);
	json_decref(result);
	return rc;
}

int ciha__targets_resolve(ciha__target **out, size_t *n, ciha_client *c, const ciha_snapshot_selector *sel)
{
	size_t i;
	int rc = CIHA_OK;
	*out = NULL;
	*n = 0;
	if (!sel || (sel->nids == 0 && sel->ntags == 0))
		return ciha__error_raise(CIHA_EINVAL, "no targets: select volumes, DB instances or clusters by id or by tag");
	for (i = 0; rc == CIHA_OK && i < sel->nids; i++) {
		const ciha__target *t = &sel->ids[i];
		if (has_target(*out, *n, t->kind, t->id))
			continue;
		rc = check_exists(c, t);
		if (rc == CIHA_OK || rc == CIHA_ENOTFOUND) {
			int exists = rc == CIHA_OK;
			rc = target_push(out, n, t->kind, t->id, t->availability_zone);
			if (rc == CIHA_OK && !exists &&
			    !((*out)[*n - 1].missing = ciha__strdup(ciha_error_message(ciha_error_last()))))
				rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
		}
	}
	if (rc == CIHA_OK && kind_selected_by_tags(sel, CIHA_SNAPSHOT_EBS))
		rc = resolve_volumes_by_tag(out, n, c, sel);
	if (rc == CIHA_OK && kind_selected_by_tags(sel, CIHA_SNAPSHOT_RDS))
		rc = resolve_rds_by_tag(out, n, c, sel, CIHA_SNAPSHOT_RDS);
	if (rc == CIHA_OK && kind_selected_by_tags(sel, CIHA_SNAPSHOT_RDS_CLUSTER))
		rc = resolve_rds_by_tag(out, n, c, sel, CIHA_SNAPSHOT_RDS_CLUSTER);
	if (rc != CIHA_OK) {
		ciha__targets_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
