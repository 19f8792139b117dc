/* test_moto_snapshots.c: the snapshot capability end to end. Against moto
 * (CIHA_TEST_ENDPOINT): targets by id and tag, take with our tags, cron-safe
 * skips, rotation that never touches a foreign snapshot, dry runs, reports,
 * hooks, restore (also after the DB is gone), copies to another region and
 * Aurora clusters. Against tests/tools/awsstub.py (what moto cannot do):
 * pagination, slow and failing snapshots, the RDS quota preflight, snapshots
 * in use and a run that fails half-way and converges on the next run. */
#define _POSIX_C_SOURCE 200809L
#define CIHA_TESTING 1   /* linked against libciha_test.la: the test seams exist */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <jansson.h>
#include "../check.h"
#include "ciha/call.h"
#include "ciha/client.h"
#include "ciha/snapshot.h"
#include "http_int.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DAY 86400

static ciha_credentials_provider *creds;
static ciha_client *moto, *moto_west;
static char run_id[24];
static int64_t t0;            /* the injected clock's start: a whole second */
static char work_dir[256];

/* ---- clients and calls ------------------------------------------------------------ */

static ciha_client *client_for(const char *endpoint, const char *region, int max_attempts)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	o.region = region;
	o.endpoint_url = endpoint;
	o.credentials = creds;
	o.max_attempts = max_attempts;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	if (ciha_client_new(&c, &o) != CIHA_OK) {
		fprintf(stderr, "ciha_client_new: %s\n", ciha_error_message(ciha_error_last()));
		exit(1);
	}
	return c;
}

/* Call and check success; steals params; returns the result (never NULL). */
static json_t *call_ok(ciha_client *c, const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	int rc = ciha_call(&out, c, service, action, params);
	CHECK_MSG(rc == CIHA_OK, "%s %s: %s", service, action, ciha_error_message(ciha_client_error(c)));
	json_decref(params);
	return out ? out : json_object();
}

static char *strdup_or_empty(const char *s)
{
	char *copy = malloc(strlen(s ? s : "") + 1);
	if (!copy)
		exit(1);
	strcpy(copy, s ? s : "");
	return copy;
}

static void name(char *out, size_t size, const char *what)
{
	snprintf(out, size, "%s-%s", what, run_id);
}

static char *new_volume(const char *backup)
{
	json_t *tags = json_pack("[{s:s, s:s}]", "Key", "Run", "Value", run_id), *r;
	char *id;
	if (backup)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", "Backup", "Value", backup));
	r = call_ok(moto, "ec2", "CreateVolume", json_pack("{s:s, s:i, s:[{s:s, s:o}]}", "AvailabilityZone", "us-east-1a",
	            "Size", 1, "TagSpecification", "ResourceType", "volume", "Tag", tags));
	id = strdup_or_empty(json_string_value(json_object_get(r, "volumeId")));
	json_decref(r);
	CHECK(strncmp(id, "vol-", 4) == 0);
	return id;
}

static void new_db(const char *id, const char *backup)
{
	json_t *tags = json_pack("[{s:s, s:s}]", "Key", "Run", "Value", run_id);
	if (backup)
		json_array_append_new(tags, json_pack("{s:s, s:s}", "Key", "Backup", "Value", backup));
	json_decref(call_ok(moto, "rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:o}",
	           "DBInstanceIdentifier", id, "Engine", "postgres", "DBInstanceClass", "db.t3.micro", "AllocatedStorage", 5,
	           "MasterUsername", "ciha", "MasterUserPassword", "ciha-password-1", "Tags", tags)));
}

/* The snapshots of a volume in the client's region (new reference). */
static json_t *ebs_snapshots_of(ciha_client *c, const char *volume_id)
{
	json_t *r = call_ok(c, "ec2", "DescribeSnapshots", json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name", "volume-id",
	                    "Value", volume_id));
	json_t *list = json_incref(json_object_get(r, "snapshotSet"));
	json_decref(r);
	return json_is_array(list) ? list : (json_decref(list), json_array());
}

static json_t *ebs_snapshots_tagged(ciha_client *c, const char *key, const char *value)
{
	char filter[128];
	json_t *r, *list;
	snprintf(filter, sizeof filter, "tag:%s", key);
	r = call_ok(c, "ec2", "DescribeSnapshots", json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name", filter, "Value", value));
	list = json_incref(json_object_get(r, "snapshotSet"));
	json_decref(r);
	return json_is_array(list) ? list : (json_decref(list), json_array());
}

static json_t *db_snapshots_of(const char *member, const char *action, const char *param, const char *db)
{
	json_t *r = call_ok(moto, "rds", action, json_pack("{s:s}", param, db));
	json_t *list = json_incref(json_object_get(r, member));
	json_decref(r);
	return json_is_array(list) ? list : (json_decref(list), json_array());
}

static json_t *rds_snapshots_of(const char *db)
{
	return db_snapshots_of("DBSnapshots", "DescribeDBSnapshots", "DBInstanceIdentifier", db);
}

static int ebs_snapshot_exists(const char *id)
{
	json_t *params = json_pack("{s:[s]}", "SnapshotId", id), *out = NULL;
	int rc = ciha_call(&out, moto, "ec2", "DescribeSnapshots", params);
	int found = rc == CIHA_OK && json_array_size(json_object_get(out, "snapshotSet")) == 1;
	json_decref(params);
	json_decref(out);
	return found;
}

static int rds_snapshot_exists(const char *id)
{
	json_t *params = json_pack("{s:s}", "DBSnapshotIdentifier", id), *out = NULL;
	int rc = ciha_call(&out, moto, "rds", "DescribeDBSnapshots", params);
	int found = rc == CIHA_OK && json_array_size(json_object_get(out, "DBSnapshots")) == 1;
	json_decref(params);
	json_decref(out);
	return found;
}

/* The value of tag `key` in a tag list of {key_name, value_name} objects, or NULL. */
static const char *tag_value(const json_t *tags, const char *key_name, const char *value_name, const char *key)
{
	size_t i;
	for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		const char *k = json_string_value(json_object_get(t, key_name));
		if (k && strcmp(k, key) == 0)
			return json_string_value(json_object_get(t, value_name));
	}
	return NULL;
}

static size_t with_id(const json_t *list, const char *id_key, const char *id)
{
	size_t i, n = 0;
	for (i = 0; i < json_array_size(list); i++)
		n += strcmp(json_string_value(json_object_get(json_array_get(list, i), id_key)), id) == 0;
	return n;
}

/* ---- policies, selectors, reports ---------------------------------------------------- */

static ciha_snapshot_policy *policy_keep(const char *what, int keep)
{
	ciha_snapshot_policy *p = NULL;
	char n[64];
	name(n, sizeof n, what);
	CHECK(ciha_snapshot_policy_new(&p, n) == CIHA_OK);
	if (keep > 0)
		CHECK(ciha_snapshot_policy_set_keep_last(p, keep) == CIHA_OK);
	return p;
}

static ciha_snapshot_selector *select_ids(const char *volume, const char *db)
{
	ciha_snapshot_selector *s = NULL;
	CHECK(ciha_snapshot_selector_new(&s) == CIHA_OK);
	if (volume)
		CHECK(ciha_snapshot_selector_add_volume(s, volume) == CIHA_OK);
	if (db)
		CHECK(ciha_snapshot_selector_add_db(s, db) == CIHA_OK);
	return s;
}

static ciha_snapshot_options options_at(int64_t now)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	o.now = now;
	o.poll_interval_ms = 10;
	o.wait_timeout_s = 20;
	return o;
}

static size_t count_action(const ciha_snapshot_report *r, const char *action)
{
	size_t i, n = 0;
	for (i = 0; i < ciha_snapshot_report_count(r); i++)
		n += strcmp(ciha_snapshot_report_action(r, i), action) == 0;
	return n;
}

static size_t count_for(const ciha_snapshot_report *r, const char *action, const char *target)
{
	size_t i, n = 0;
	for (i = 0; i < ciha_snapshot_report_count(r); i++)
		n += strcmp(ciha_snapshot_report_action(r, i), action) == 0 &&
		     strcmp(ciha_snapshot_report_target(r, i), target) == 0;
	return n;
}

/* Index of the first item with action and target, or -1. */
static long find_item(const ciha_snapshot_report *r, const char *action, const char *target)
{
	size_t i;
	for (i = 0; i < ciha_snapshot_report_count(r); i++)
		if (strcmp(ciha_snapshot_report_action(r, i), action) == 0 &&
		    strcmp(ciha_snapshot_report_target(r, i), target) == 0)
			return (long)i;
	return -1;
}

static long find_snapshot(const ciha_snapshot_report *r, const char *snapshot_id)
{
	size_t i;
	for (i = 0; i < ciha_snapshot_report_count(r); i++)
		if (ciha_snapshot_report_snapshot_id(r, i) && strcmp(ciha_snapshot_report_snapshot_id(r, i), snapshot_id) == 0)
			return (long)i;
	return -1;
}

static void dump_report(const ciha_snapshot_report *r)
{
	char *json = NULL;
	if (r && ciha_snapshot_report_json(&json, r) == CIHA_OK)
		fprintf(stderr, "    report: %s\n", json);
	ciha_free(json);
}

/* The snapshot id of the create item of `target` (malloc'd; "" if none). */
static char *created_id(const ciha_snapshot_report *r, const char *target)
{
	long i = find_item(r, "create", target);
	CHECK_MSG(i >= 0, "no create item for %s", target);
	if (i < 0)
		dump_report(r);
	return strdup_or_empty(i >= 0 ? ciha_snapshot_report_snapshot_id(r, (size_t)i) : NULL);
}

/* Take a snapshot of every selected target at `now`, expecting success. */
static ciha_snapshot_report *take_all(ciha_client *c, const ciha_snapshot_selector *s, const ciha_snapshot_policy *p,
                                      int64_t now)
{
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(now);
	int rc = ciha_snapshot_take(&r, c, s, p, &o);
	CHECK_MSG(rc == CIHA_OK, "take: %s", ciha_error_message(ciha_client_error(c)));
	if (rc != CIHA_OK)
		dump_report(r);
	return r;
}

/* Take at `now`; the new snapshot id of `target` (malloc'd). */
static char *take_at(ciha_client *c, const ciha_snapshot_selector *s, const ciha_snapshot_policy *p, int64_t now,
                     const char *target)
{
	ciha_snapshot_report *r = take_all(c, s, p, now);
	char *id = created_id(r, target);
	ciha_snapshot_report_free(r);
	return id;
}

/* ---- moto: targets and take ----------------------------------------------------------- */

static void test_take__targets_by_tag_and_id_with_our_tags_and_cron_safe_skip(void)
{
	char *a = new_volume("daily"), *b = new_volume("daily"), *plain = new_volume(NULL), db[64], *snap_a, *snap_db;
	ciha_snapshot_selector *by_tag = NULL, *by_id;
	ciha_snapshot_policy *p = policy_keep("take", 7);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	json_t *list, *tags;
	char when[32];
	int rc;

	name(db, sizeof db, "db-take");
	new_db(db, "daily");
	CHECK(ciha_snapshot_policy_add_tag(p, "Team", "ci") == CIHA_OK);
	CHECK(ciha_snapshot_selector_new(&by_tag) == CIHA_OK);
	CHECK(ciha_snapshot_selector_add_tag(by_tag, "Backup", "daily", 0) == CIHA_OK);
	CHECK(ciha_snapshot_selector_add_tag(by_tag, "Run", run_id, 0) == CIHA_OK);

	rc = ciha_snapshot_take(&r, moto, by_tag, p, &o);
	CHECK_MSG(rc == CIHA_OK, "%s", ciha_error_message(ciha_client_error(moto)));
	CHECK_INT(ciha_snapshot_report_count(r), 3);   /* a, b and the DB; not the volume without Backup */
	CHECK_INT(count_action(r, "create"), 3);
	CHECK(find_item(r, "create", a) >= 0 && find_item(r, "create", b) >= 0 && find_item(r, "create", db) >= 0);
	CHECK(find_item(r, "create", plain) < 0);
	CHECK_INT(ciha_snapshot_report_failures(r), 0);
	snap_a = strdup_or_empty(find_item(r, "create", a) >= 0 ?
	                         ciha_snapshot_report_snapshot_id(r, (size_t)find_item(r, "create", a)) : NULL);
	snap_db = strdup_or_empty(find_item(r, "create", db) >= 0 ?
	                          ciha_snapshot_report_snapshot_id(r, (size_t)find_item(r, "create", db)) : NULL);
	ciha_snapshot_report_free(r);

	/* our tags, as AWS shows them */
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){ (time_t)t0 }));
	list = ebs_snapshots_of(moto, a);
	CHECK_INT(json_array_size(list), 1);
	tags = json_object_get(json_array_get(list, 0), "tagSet");
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "snapshotId")), snap_a);
	CHECK_STR(tag_value(tags, "key", "value", "ciha:managed-by"), "libciha");
	CHECK_STR(tag_value(tags, "key", "value", "ciha:policy"), ciha_snapshot_policy_name(p));
	CHECK_STR(tag_value(tags, "key", "value", "ciha:source"), a);
	CHECK_STR(tag_value(tags, "key", "value", "ciha:created"), when);
	CHECK_STR(tag_value(tags, "key", "value", "Team"), "ci");
	json_decref(list);
	CHECK(rds_snapshot_exists(snap_db));
	list = db_snapshots_of("DBSnapshots", "DescribeDBSnapshots", "DBSnapshotIdentifier", snap_db);
	tags = json_object_get(json_array_get(list, 0), "TagList");
	CHECK_STR(tag_value(tags, "Key", "Value", "ciha:managed-by"), "libciha");
	CHECK_STR(tag_value(tags, "Key", "Value", "ciha:policy"), ciha_snapshot_policy_name(p));
	CHECK_STR(tag_value(tags, "Key", "Value", "ciha:source"), db);
	CHECK_STR(tag_value(tags, "Key", "Value", "ciha:created"), when);
	CHECK_STR(tag_value(tags, "Key", "Value", "Team"), "ci");
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "SnapshotType")), "manual");
	json_decref(list);

	/* cron runs it again an hour later: nothing new */
	o.now = t0 + 3600;
	rc = ciha_snapshot_take(&r, moto, by_tag, p, &o);
	CHECK_INT(rc, CIHA_OK);
	CHECK_INT(count_action(r, "skip"), 3);
	CHECK_INT(count_action(r, "create"), 0);
	CHECK(find_item(r, "skip", a) >= 0 && strstr(ciha_snapshot_report_reason(r, (size_t)find_item(r, "skip", a)),
	                                             snap_a) != NULL);
	ciha_snapshot_report_free(r);
	list = ebs_snapshots_of(moto, a);
	CHECK_INT(json_array_size(list), 1);
	json_decref(list);

	/* a day later: a new one each */
	o.now = t0 + DAY + 1;
	CHECK_INT(ciha_snapshot_take(&r, moto, by_tag, p, &o), CIHA_OK);
	CHECK_INT(count_action(r, "create"), 3);
	ciha_snapshot_report_free(r);
	list = ebs_snapshots_of(moto, a);
	CHECK_INT(json_array_size(list), 2);
	json_decref(list);

	/* by id: the untagged volume gets planned, the DB is inside its interval */
	by_id = select_ids(plain, db);
	o.now = t0 + DAY + 2;
	o.dry_run = 1;
	CHECK_INT(ciha_snapshot_take(&r, moto, by_id, p, &o), CIHA_OK);
	CHECK_INT(ciha_snapshot_report_count(r), 2);
	CHECK(find_item(r, "create", plain) >= 0 && ciha_snapshot_report_outcome(r, (size_t)find_item(r, "create", plain))
	      == CIHA_EAGAIN && ciha_snapshot_report_snapshot_id(r, (size_t)find_item(r, "create", plain)) == NULL);
	CHECK(find_item(r, "skip", db) >= 0);
	ciha_snapshot_report_free(r);
	list = ebs_snapshots_of(moto, plain);
	CHECK_INT(json_array_size(list), 0);
	json_decref(list);

	free(a);
	free(b);
	free(plain);
	free(snap_a);
	free(snap_db);
	ciha_snapshot_selector_free(by_tag);
	ciha_snapshot_selector_free(by_id);
	ciha_snapshot_policy_free(p);
}

static void test_take__unknown_target_is_named(void)
{
	ciha_snapshot_selector *s = select_ids("vol-0000000000badbad0", NULL);
	ciha_snapshot_policy *p = policy_keep("unknown", 3);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	int rc = ciha_snapshot_take(&r, moto, s, p, &o);
	CHECK(rc != CIHA_OK);
	CHECK_MSG(strstr(ciha_error_message(ciha_client_error(moto)), "vol-0000000000badbad0") != NULL, "%s",
	          ciha_error_message(ciha_client_error(moto)));
	ciha_snapshot_report_free(r);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
	s = select_ids(NULL, NULL);
	CHECK(ciha_snapshot_take(&r, moto, s, NULL, &o) == CIHA_EINVAL);
	CHECK(ciha_snapshot_selector_add_volume(s, "snap-123") == CIHA_EINVAL);
	ciha_snapshot_selector_free(s);
}

/* ---- moto: rotation and foreign snapshots ---------------------------------------------- */

typedef struct {
	char *volume;
	char db[64];
	char *ebs[6], *rds[6];         /* ours, taken at t0 + k days */
	char *foreign_ebs_untagged, *foreign_ebs_other_policy;
	char foreign_rds[80];
	ciha_snapshot_policy *p;
} history;

static void history_build(history *h, const char *what)
{
	ciha_snapshot_selector *s;
	json_t *r;
	char other[64];
	int k;
	memset(h, 0, sizeof *h);
	h->volume = new_volume(NULL);
	name(h->db, sizeof h->db, what);
	new_db(h->db, NULL);
	h->p = policy_keep(what, 3);
	s = select_ids(h->volume, h->db);
	for (k = 0; k < 6; k++) {
		ciha_snapshot_report *taken = take_all(moto, s, h->p, t0 + (int64_t)k * DAY);
		h->ebs[k] = created_id(taken, h->volume);
		h->rds[k] = created_id(taken, h->db);
		ciha_snapshot_report_free(taken);
	}
	ciha_snapshot_selector_free(s);
	/* someone else's snapshots of the same volume and DB */
	r = call_ok(moto, "ec2", "CreateSnapshot", json_pack("{s:s, s:s}", "VolumeId", h->volume, "Description", "manual"));
	h->foreign_ebs_untagged = strdup_or_empty(json_string_value(json_object_get(r, "snapshotId")));
	json_decref(r);
	name(other, sizeof other, "other-policy");
	r = call_ok(moto, "ec2", "CreateSnapshot", json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]}]}",
	            "VolumeId", h->volume, "TagSpecification", "ResourceType", "snapshot", "Tag",
	            "Key", "ciha:managed-by", "Value", "libciha", "Key", "ciha:policy", "Value", other,
	            "Key", "ciha:created", "Value", "2001-01-01T00:00:00Z"));
	h->foreign_ebs_other_policy = strdup_or_empty(json_string_value(json_object_get(r, "snapshotId")));
	json_decref(r);
	snprintf(h->foreign_rds, sizeof h->foreign_rds, "manual-%s", h->db);
	json_decref(call_ok(moto, "rds", "CreateDBSnapshot", json_pack("{s:s, s:s}", "DBInstanceIdentifier", h->db,
	                    "DBSnapshotIdentifier", h->foreign_rds)));
}

static void history_free(history *h)
{
	int k;
	for (k = 0; k < 6; k++) {
		free(h->ebs[k]);
		free(h->rds[k]);
	}
	free(h->volume);
	free(h->foreign_ebs_untagged);
	free(h->foreign_ebs_other_policy);
	ciha_snapshot_policy_free(h->p);
}

static void check_foreign_untouched(const history *h)
{
	json_t *list = rds_snapshots_of(h->db);
	size_t i, automated = 0;
	CHECK(ebs_snapshot_exists(h->foreign_ebs_untagged));
	CHECK(ebs_snapshot_exists(h->foreign_ebs_other_policy));
	CHECK(rds_snapshot_exists(h->foreign_rds));
	for (i = 0; i < json_array_size(list); i++)
		automated += strcmp(json_string_value(json_object_get(json_array_get(list, i), "SnapshotType")), "automated") == 0;
	CHECK_MSG(automated >= 1, "moto's automated snapshot of %s is gone", h->db);
	json_decref(list);
}

static void check_report_json(const ciha_snapshot_report *r, int dry_run)
{
	char *text = NULL;
	json_t *doc, *items;
	size_t i;
	CHECK(ciha_snapshot_report_json(&text, r) == CIHA_OK);
	doc = text ? json_loads(text, 0, NULL) : NULL;
	CHECK_MSG(doc != NULL, "report JSON does not parse: %s", text ? text : "(null)");
	items = json_object_get(doc, "items");
	CHECK(json_is_boolean(json_object_get(doc, "dry_run")) && json_is_true(json_object_get(doc, "dry_run")) == dry_run);
	CHECK(json_is_array(items) && json_array_size(items) == ciha_snapshot_report_count(r));
	CHECK_INT(json_integer_value(json_object_get(doc, "failures")), ciha_snapshot_report_failures(r));
	for (i = 0; i < json_array_size(items); i++) {
		const json_t *item = json_array_get(items, i);
		const char *reason = json_string_value(json_object_get(item, "reason"));
		CHECK_MSG(reason && *reason, "item %zu has no reason", i);
		CHECK_STR(json_string_value(json_object_get(item, "action")), ciha_snapshot_report_action(r, i));
	}
	json_decref(doc);
	ciha_free(text);
}

static void test_rotate__keep_last_dry_run_then_real_foreign_untouched(void)
{
	history h;
	ciha_snapshot_selector *s;
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o;
	json_t *ebs_before, *rds_before, *after;
	int k, rc;

	history_build(&h, "rot");
	s = select_ids(h.volume, h.db);
	o = options_at(t0 + 5 * DAY + 3600);
	ebs_before = ebs_snapshots_of(moto, h.volume);
	rds_before = rds_snapshots_of(h.db);
	CHECK_INT(json_array_size(ebs_before), 8);   /* 6 ours, 2 foreign */

	/* the plan */
	o.dry_run = 1;
	rc = ciha_snapshot_rotate(&r, moto, s, h.p, &o);
	CHECK_MSG(rc == CIHA_OK, "%s", ciha_error_message(ciha_client_error(moto)));
	CHECK_INT(count_for(r, "delete", h.volume), 3);
	CHECK_INT(count_for(r, "delete", h.db), 3);
	for (k = 0; k < 3; k++) {
		long i = find_snapshot(r, h.ebs[k]);
		CHECK(i >= 0 && strcmp(ciha_snapshot_report_action(r, (size_t)i), "delete") == 0 &&
		      ciha_snapshot_report_outcome(r, (size_t)i) == CIHA_EAGAIN);
		i = find_snapshot(r, h.rds[k]);
		CHECK(i >= 0 && strcmp(ciha_snapshot_report_action(r, (size_t)i), "delete") == 0);
	}
	CHECK(find_snapshot(r, h.foreign_ebs_untagged) >= 0 &&
	      strcmp(ciha_snapshot_report_action(r, (size_t)find_snapshot(r, h.foreign_ebs_untagged)), "keep") == 0);
	check_report_json(r, 1);
	ciha_snapshot_report_free(r);
	after = ebs_snapshots_of(moto, h.volume);
	CHECK_INT(json_array_size(after), json_array_size(ebs_before));
	json_decref(after);
	after = rds_snapshots_of(h.db);
	CHECK_INT(json_array_size(after), json_array_size(rds_before));
	json_decref(after);
	check_foreign_untouched(&h);

	/* the real run deletes what the plan said, and nothing else */
	o.dry_run = 0;
	rc = ciha_snapshot_rotate(&r, moto, s, h.p, &o);
	CHECK_MSG(rc == CIHA_OK, "%s", ciha_error_message(ciha_client_error(moto)));
	CHECK_INT(count_action(r, "delete"), 6);
	CHECK_INT(ciha_snapshot_report_failures(r), 0);
	check_report_json(r, 0);
	ciha_snapshot_report_free(r);
	for (k = 0; k < 6; k++) {
		CHECK_MSG(ebs_snapshot_exists(h.ebs[k]) == (k >= 3), "EBS snapshot %d", k);
		CHECK_MSG(rds_snapshot_exists(h.rds[k]) == (k >= 3), "RDS snapshot %d", k);
	}
	check_foreign_untouched(&h);
	after = ebs_snapshots_of(moto, h.volume);
	CHECK_INT(json_array_size(after), 5);
	json_decref(after);

	/* again: nothing left to delete */
	rc = ciha_snapshot_rotate(&r, moto, s, h.p, &o);
	CHECK_INT(rc, CIHA_OK);
	CHECK_INT(count_action(r, "delete"), 0);
	ciha_snapshot_report_free(r);
	check_foreign_untouched(&h);

	/* list shows ours and the foreign ones, saying which is which */
	CHECK_INT(ciha_snapshot_list(&r, moto, s, h.p), CIHA_OK);
	CHECK_INT(count_for(r, "list", h.volume), 5);
	CHECK(find_snapshot(r, h.foreign_ebs_untagged) >= 0 &&
	      strstr(ciha_snapshot_report_reason(r, (size_t)find_snapshot(r, h.foreign_ebs_untagged)), "manual") != NULL);
	CHECK(find_snapshot(r, h.ebs[5]) >= 0 &&
	      strstr(ciha_snapshot_report_reason(r, (size_t)find_snapshot(r, h.ebs[5])), "libciha") != NULL);
	ciha_snapshot_report_free(r);

	json_decref(ebs_before);
	json_decref(rds_before);
	ciha_snapshot_selector_free(s);
	history_free(&h);
}

/* ---- moto: hooks ------------------------------------------------------------------------ */

static int file_has_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "r");
	char buf[256];
	int found = 0;
	while (f && fgets(buf, sizeof buf, f))
		found |= strncmp(buf, line, strlen(line)) == 0 && (buf[strlen(line)] == '\n' || buf[strlen(line)] == '\0');
	if (f)
		fclose(f);
	return found;
}

static void test_run__hooks_and_a_failing_pre_hook_keeps_that_target_whole(void)
{
	char *good = new_volume(NULL), *bad = new_volume(NULL), pre[512], post[512], pre_log[300], post_log[300];
	ciha_snapshot_selector *s = select_ids(good, NULL);
	ciha_snapshot_policy *p = policy_keep("hooks", 1);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o;
	json_t *list;
	int k, rc;

	CHECK(ciha_snapshot_selector_add_volume(s, bad) == CIHA_OK);
	for (k = 0; k < 3; k++)
		ciha_snapshot_report_free(take_all(moto, s, p, t0 + (int64_t)k * DAY));
	snprintf(pre_log, sizeof pre_log, "%s/pre.log", work_dir);
	snprintf(post_log, sizeof post_log, "%s/post.log", work_dir);
	snprintf(pre, sizeof pre, "echo \"$CIHA_VOLUME_ID\" >>'%s'; test \"$CIHA_VOLUME_ID\" != %s", pre_log, bad);
	snprintf(post, sizeof post, "echo \"$CIHA_VOLUME_ID\" >>'%s'", post_log);
	o = options_at(t0 + 3 * DAY);
	o.pre_hook = pre;
	o.post_hook = post;
	rc = ciha_snapshot_run(&r, moto, s, p, &o);
	CHECK(rc != CIHA_OK);
	CHECK_INT(ciha_snapshot_report_failures(r), 1);
	CHECK(file_has_line(pre_log, good) && file_has_line(pre_log, bad));
	CHECK_MSG(file_has_line(post_log, good) && file_has_line(post_log, bad), "post hook must run for both");
	/* the good volume: new snapshot, three old ones deleted */
	CHECK(find_item(r, "create", good) >= 0 && ciha_snapshot_report_outcome(r, (size_t)find_item(r, "create", good)) ==
	      CIHA_OK);
	CHECK_INT(count_for(r, "delete", good), 3);
	/* the bad one: a failed create naming the hook, and no deletes */
	CHECK(find_item(r, "create", bad) >= 0 && ciha_snapshot_report_outcome(r, (size_t)find_item(r, "create", bad)) !=
	      CIHA_OK);
	CHECK(find_item(r, "create", bad) >= 0 && ciha_snapshot_report_message(r, (size_t)find_item(r, "create", bad)) &&
	      strstr(ciha_snapshot_report_message(r, (size_t)find_item(r, "create", bad)), "pre hook") != NULL);
	CHECK_INT(count_for(r, "delete", bad), 0);
	if (ciha_snapshot_report_failures(r) != 1)
		dump_report(r);
	ciha_snapshot_report_free(r);
	list = ebs_snapshots_of(moto, good);
	CHECK_INT(json_array_size(list), 1);
	json_decref(list);
	list = ebs_snapshots_of(moto, bad);
	CHECK_INT(json_array_size(list), 3);
	json_decref(list);
	free(good);
	free(bad);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

/* ---- moto: restore ---------------------------------------------------------------------- */

static int events;

static int count_events(const ciha_snapshot_event *ev, void *payload)
{
	(void)payload;
	events += ev->version == CIHA_SNAPSHOT_EVENT_VERSION;
	return 0;
}

static char *volume_source_snapshot(const char *volume_id)
{
	json_t *r = call_ok(moto, "ec2", "DescribeVolumes", json_pack("{s:[s]}", "VolumeId", volume_id));
	const json_t *v = json_array_get(json_object_get(r, "volumeSet"), 0);
	char *snap = strdup_or_empty(json_string_value(json_object_get(v, "snapshotId")));
	CHECK_STR(json_string_value(json_object_get(v, "status")), "available");
	CHECK_STR(json_string_value(json_object_get(v, "availabilityZone")), "us-east-1b");
	json_decref(r);
	return snap;
}

static void test_restore__volume_from_newest_and_from_a_snapshot_id(void)
{
	char *volume = new_volume(NULL), *snaps[3], *restored = NULL, *source;
	ciha_snapshot_selector *s = select_ids(volume, NULL);
	ciha_snapshot_policy *p = policy_keep("restore", 5);
	ciha_snapshot_options o = options_at(0);
	time_t started;
	int k;
	snaps[0] = take_at(moto, s, p, t0 - 3 * DAY, volume);
	snaps[1] = take_at(moto, s, p, t0 + 2 * DAY, volume);
	snaps[2] = take_at(moto, s, p, t0 + 4 * DAY, volume);
	o.wait = 1;
	o.progress = count_events;
	events = 0;
	CHECK_MSG(ciha_snapshot_restore_volume(&restored, moto, volume, "us-east-1b", &o) == CIHA_OK, "%s",
	          ciha_error_message(ciha_client_error(moto)));
	CHECK(restored && strncmp(restored, "vol-", 4) == 0 && strcmp(restored, volume) != 0);
	CHECK(events >= 1);
	source = restored ? volume_source_snapshot(restored) : NULL;
	CHECK_STR(source, snaps[2]);
	free(source);
	ciha_free(restored);
	restored = NULL;
	CHECK_INT(ciha_snapshot_restore_volume(&restored, moto, snaps[0], "us-east-1b", &o), CIHA_OK);
	source = restored ? volume_source_snapshot(restored) : NULL;
	CHECK_STR(source, snaps[0]);
	free(source);
	ciha_free(restored);
	restored = NULL;
	/* the volume is available at once on moto: no poll interval is slept after that */
	o.poll_interval_ms = 4000;
	started = time(NULL);
	CHECK_INT(ciha_snapshot_restore_volume(&restored, moto, snaps[1], "us-east-1b", &o), CIHA_OK);
	CHECK_MSG(time(NULL) - started < 3, "restore took %ld s", (long)(time(NULL) - started));
	ciha_free(restored);
	restored = NULL;
	CHECK_INT(ciha_snapshot_restore_volume(&restored, moto, "ami-123", "us-east-1b", &o), CIHA_EINVAL);
	CHECK(restored == NULL);
	for (k = 0; k < 3; k++)
		free(snaps[k]);
	free(volume);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static const char *db_restored_from(const char *db, json_t **keep)
{
	json_t *r = call_ok(moto, "rds", "DescribeDBInstances", json_pack("{s:s}", "DBInstanceIdentifier", db));
	const json_t *inst = json_array_get(json_object_get(r, "DBInstances"), 0);
	CHECK_STR(json_string_value(json_object_get(inst, "DBInstanceStatus")), "available");
	*keep = r;
	return tag_value(json_object_get(inst, "TagList"), "Key", "Value", "ciha:restored-from");
}

static void test_restore__db_after_the_instance_was_deleted(void)
{
	char db[64], again[64], from_snapshot[64], *snaps[2], *restored = NULL;
	ciha_snapshot_selector *s;
	ciha_snapshot_policy *p = policy_keep("dr", 5);
	ciha_snapshot_options o = options_at(0);
	json_t *keep = NULL;
	name(db, sizeof db, "db-dr");
	name(again, sizeof again, "db-dr-restored");
	name(from_snapshot, sizeof from_snapshot, "db-dr-from-snap");
	new_db(db, NULL);
	s = select_ids(NULL, db);
	snaps[0] = take_at(moto, s, p, t0 - 2 * DAY, db);
	snaps[1] = take_at(moto, s, p, t0 - DAY, db);
	/* the disaster: the instance is deleted, its automated snapshots with it */
	json_decref(call_ok(moto, "rds", "DeleteDBInstance", json_pack("{s:s, s:b}", "DBInstanceIdentifier", db,
	                    "SkipFinalSnapshot", 1)));
	o.wait = 1;
	CHECK_MSG(ciha_snapshot_restore_db(&restored, moto, db, again, &o) == CIHA_OK, "%s",
	          ciha_error_message(ciha_client_error(moto)));
	CHECK_STR(restored, again);
	CHECK_STR(db_restored_from(again, &keep), snaps[1]);
	json_decref(keep);
	ciha_free(restored);
	restored = NULL;
	CHECK_INT(ciha_snapshot_restore_db(&restored, moto, snaps[0], from_snapshot, &o), CIHA_OK);
	CHECK_STR(db_restored_from(from_snapshot, &keep), snaps[0]);
	json_decref(keep);
	ciha_free(restored);
	restored = NULL;
	/* a DB id that has no snapshot at all: a clear error */
	CHECK(ciha_snapshot_restore_db(&restored, moto, "no-such-db-anywhere", "x-new", &o) == CIHA_ENOTFOUND);
	CHECK(strstr(ciha_error_message(ciha_client_error(moto)), "no-such-db-anywhere") != NULL);
	free(snaps[0]);
	free(snaps[1]);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

/* ---- moto: copies ------------------------------------------------------------------------ */

static void test_copy__to_us_west_2_tagged_idempotent_and_rotated(void)
{
	char *volume = new_volume(NULL), *first, db[64], *first_db;
	ciha_snapshot_selector *s;
	ciha_snapshot_policy *p = policy_keep("copy", 5);
	ciha_snapshot_report *taken;
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	json_t *copies;
	long i;
	int k, rc;

	name(db, sizeof db, "db-copy");
	new_db(db, NULL);
	s = select_ids(volume, db);
	CHECK(ciha_snapshot_policy_set_copy(p, "us-west-2", 2, NULL) == CIHA_OK);
	taken = take_all(moto, s, p, t0);
	first = created_id(taken, volume);
	first_db = created_id(taken, db);
	ciha_snapshot_report_free(taken);
	rc = ciha_snapshot_copy(&r, moto, s, p, &o);
	CHECK_MSG(rc == CIHA_OK, "%s", ciha_error_message(ciha_client_error(moto)));
	i = find_item(r, "copy", volume);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) == CIHA_OK && ciha_snapshot_report_snapshot_id(r, (size_t)i));
	if (i < 0)
		dump_report(r);
	ciha_snapshot_report_free(r);
	copies = ebs_snapshots_tagged(moto_west, "ciha:copy-of", first);
	CHECK_INT(json_array_size(copies), 1);
	CHECK_STR(tag_value(json_object_get(json_array_get(copies, 0), "tagSet"), "key", "value", "ciha:managed-by"),
	          "libciha");
	CHECK_STR(tag_value(json_object_get(json_array_get(copies, 0), "tagSet"), "key", "value", "ciha:source"), volume);
	json_decref(copies);
	copies = call_ok(moto_west, "rds", "DescribeDBSnapshots", json_pack("{s:s}", "DBInstanceIdentifier", db));
	CHECK_INT(json_array_size(json_object_get(copies, "DBSnapshots")), 1);
	CHECK_STR(tag_value(json_object_get(json_array_get(json_object_get(copies, "DBSnapshots"), 0), "TagList"), "Key",
	                    "Value", "ciha:copy-of"), first_db);
	json_decref(copies);

	/* run again: already there */
	CHECK_INT(ciha_snapshot_copy(&r, moto, s, p, &o), CIHA_OK);
	CHECK_INT(count_action(r, "copy"), 0);
	CHECK_INT(count_for(r, "skip", volume), 1);
	CHECK_INT(count_for(r, "skip", db), 1);
	ciha_snapshot_report_free(r);
	copies = ebs_snapshots_tagged(moto_west, "ciha:source", volume);
	CHECK_INT(json_array_size(copies), 1);
	json_decref(copies);

	/* three more days: three more copies, of which the region keeps 2 */
	for (k = 1; k <= 3; k++) {
		free(take_at(moto, s, p, t0 + (int64_t)k * DAY, volume));
		o.now = t0 + (int64_t)k * DAY + 60;
		CHECK_INT(ciha_snapshot_copy(&r, moto, s, p, &o), CIHA_OK);
		CHECK_INT(count_action(r, "copy"), 2);
		CHECK_INT(count_for(r, "delete", volume), k >= 2);
		CHECK_INT(count_for(r, "delete", db), k >= 2);
		ciha_snapshot_report_free(r);
	}
	copies = ebs_snapshots_tagged(moto_west, "ciha:source", volume);
	CHECK_INT(json_array_size(copies), 2);
	json_decref(copies);
	copies = ebs_snapshots_of(moto, volume);
	CHECK_INT(json_array_size(copies), 4);   /* the source region keeps its own */
	json_decref(copies);
	copies = call_ok(moto_west, "rds", "DescribeDBSnapshots", json_pack("{s:s}", "DBInstanceIdentifier", db));
	CHECK_INT(json_array_size(json_object_get(copies, "DBSnapshots")), 2);
	json_decref(copies);

	/* preflight: a problem is named before anything starts */
	CHECK(ciha_snapshot_policy_set_copy(p, "us-west-2", 2, "alias/aws/ebs") == CIHA_OK);
	CHECK(ciha_snapshot_copy(&r, moto, s, p, &o) == CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_client_error(moto)), "AWS-managed") != NULL);
	ciha_snapshot_report_free(r);

	free(first);
	free(first_db);
	free(volume);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

/* ---- moto: Aurora clusters ----------------------------------------------------------- */

static void test_cluster__take_and_rotate(void)
{
	char cluster[64], *snaps[3];
	ciha_snapshot_selector *s = NULL;
	ciha_snapshot_policy *p = policy_keep("aurora", 1);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0 + 2 * DAY + 60);
	json_t *list;
	size_t i, automated = 0;
	int k;
	name(cluster, sizeof cluster, "aurora");
	json_decref(call_ok(moto, "rds", "CreateDBCluster", json_pack("{s:s, s:s, s:s, s:s}", "DBClusterIdentifier",
	                    cluster, "Engine", "aurora-postgresql", "MasterUsername", "ciha", "MasterUserPassword",
	                    "ciha-password-1")));
	CHECK(ciha_snapshot_selector_new(&s) == CIHA_OK);
	CHECK(ciha_snapshot_selector_add_cluster(s, cluster) == CIHA_OK);
	for (k = 0; k < 3; k++)
		snaps[k] = take_at(moto, s, p, t0 + (int64_t)k * DAY, cluster);
	list = db_snapshots_of("DBClusterSnapshots", "DescribeDBClusterSnapshots", "DBClusterSnapshotIdentifier", snaps[2]);
	CHECK_STR(tag_value(json_object_get(json_array_get(list, 0), "TagList"), "Key", "Value", "ciha:policy"),
	          ciha_snapshot_policy_name(p));
	json_decref(list);
	CHECK_INT(ciha_snapshot_rotate(&r, moto, s, p, &o), CIHA_OK);
	CHECK_INT(count_for(r, "delete", cluster), 2);
	ciha_snapshot_report_free(r);
	list = db_snapshots_of("DBClusterSnapshots", "DescribeDBClusterSnapshots", "DBClusterIdentifier", cluster);
	CHECK_INT(with_id(list, "DBClusterSnapshotIdentifier", snaps[2]), 1);
	CHECK_INT(with_id(list, "DBClusterSnapshotIdentifier", snaps[0]) + with_id(list, "DBClusterSnapshotIdentifier",
	          snaps[1]), 0);
	for (i = 0; i < json_array_size(list); i++)
		automated += strcmp(json_string_value(json_object_get(json_array_get(list, i), "SnapshotType")), "automated") == 0;
	CHECK_MSG(automated >= 1, "the cluster's automated snapshot must stay");
	json_decref(list);
	for (k = 0; k < 3; k++)
		free(snaps[k]);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

/* ---- the fixture server: tests/tools/awsstub.py --------------------------------------------- */

static FILE *stub_pipe;
static long stub_pid;
static char stub_url[64];
static ciha__http *control;
static ciha_client *stub;

static void stub_start(void)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tools/awsstub.py' --max-seconds 300", srcdir);
	stub_pipe = popen(cmd, "r");
	if (!stub_pipe)
		CHECK_SKIP("cannot run python3 for tests/tools/awsstub.py");
	while (fgets(line, sizeof line, stub_pipe)) {
		sscanf(line, "PORT %ld", &port);
		if (sscanf(line, "PID %ld", &stub_pid) == 1)
			break;
	}
	if (!port || !stub_pid) {
		fprintf(stderr, "awsstub.py did not start (is python3 installed? CIHA_SRCDIR=%s)\n", srcdir);
		exit(1);
	}
	snprintf(stub_url, sizeof stub_url, "http://127.0.0.1:%ld", port);
}

static void stub_stop(void)
{
	kill((pid_t)stub_pid, SIGTERM);
	pclose(stub_pipe);
}

/* A control request; the parsed JSON answer (new reference, never NULL). */
static json_t *stub_control(const char *method, const char *path, const char *body)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[128];
	json_t *answer = NULL;
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s%s", stub_url, path);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.timeout_ms = 10000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.outcome == CIHA__HTTP_OK && resp.status == 200)
		answer = json_loadb(resp.body.ptr, resp.body.len, 0, NULL);
	CHECK_MSG(answer != NULL, "%s %s failed: %ld %s", method, path, resp.status, resp.transport_error);
	ciha__http_response_dispose(&resp);
	return answer ? answer : json_object();
}

/* Forget everything, then load `state` (stolen). */
static void stub_load(json_t *state)
{
	char *text = json_dumps(state, JSON_COMPACT);
	json_decref(stub_control("POST", "/__stub/reset", ""));
	json_decref(stub_control("POST", "/__stub/state", text));
	free(text);
	json_decref(state);
}

static void stub_update(const char *json_text)
{
	json_decref(stub_control("POST", "/__stub/state", json_text));
}

/* Requests of `action` in the log; with `token_key`, their tokens in order into `tokens` ("" for none). */
static size_t logged(const char *action, const char *token_key, char tokens[][16], size_t max)
{
	json_t *log = stub_control("GET", "/__stub/log", NULL);
	size_t i, n = 0;
	for (i = 0; i < json_array_size(log); i++) {
		const json_t *form = json_object_get(json_array_get(log, i), "form");
		if (strcmp(json_string_value(json_object_get(form, "Action")) ? json_string_value(json_object_get(form,
		           "Action")) : "", action) != 0)
			continue;
		if (token_key && n < max)
			snprintf(tokens[n], 16, "%s", json_string_value(json_object_get(form, token_key)) ?
			         json_string_value(json_object_get(form, token_key)) : "");
		n++;
	}
	json_decref(log);
	return n;
}

static size_t logged_count(const char *action)
{
	return logged(action, NULL, NULL, 0);
}

static void iso(char out[32], int64_t t)
{
	time_t when = (time_t)t;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&when));
}

/* Our snapshot k of `target` under `policy` at start + k days, as awsstub state. */
static json_t *stub_snapshot(int rds, const char *target, const char *policy, int k, int64_t start)
{
	char id[96], when[32];
	iso(when, start + (int64_t)k * DAY);
	snprintf(id, sizeof id, rds ? "ciha-%s-%04d" : "snap-%s-%04d", target + (rds ? 0 : 4), k);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "id", id, rds ? "db" : "volume", target,
	                 "time", (json_int_t)(start + (int64_t)k * DAY), rds ? "status" : "state",
	                 rds ? "available" : "completed", "type", "manual", "tags", "ciha:managed-by", "libciha",
	                 "ciha:policy", policy, "ciha:source", target, "ciha:created", when);
}

/* State with `volumes` and `dbs` (NULL-terminated) each holding n of our snapshots. */
static json_t *stub_state(const char *const *volumes, const char *const *dbs, const char *policy, int n, int64_t start)
{
	json_t *state = json_pack("{s:[], s:[], s:[], s:[]}", "volumes", "dbs", "snapshots", "db_snapshots");
	int k;
	for (; volumes && *volumes; volumes++) {
		json_array_append_new(json_object_get(state, "volumes"), json_pack("{s:s, s:s, s:{s:s}}", "id", *volumes,
		                      "az", "us-east-1a", "tags", "Backup", "daily"));
		for (k = 0; k < n; k++)
			json_array_append_new(json_object_get(state, "snapshots"), stub_snapshot(0, *volumes, policy, k, start));
	}
	for (; dbs && *dbs; dbs++) {
		json_array_append_new(json_object_get(state, "dbs"), json_pack("{s:s, s:{s:s}}", "id", *dbs, "tags", "Backup",
		                      "daily"));
		for (k = 0; k < n; k++)
			json_array_append_new(json_object_get(state, "db_snapshots"), stub_snapshot(1, *dbs, policy, k, start));
	}
	return state;
}

/* Ids of the snapshots of `target` the stub holds now, sorted, comma-separated, with the target part dropped. */
static void stub_holds(char *out, size_t size, int rds, const char *target)
{
	json_t *state = stub_control("GET", "/__stub/state", NULL);
	const json_t *list = json_object_get(state, rds ? "db_snapshots" : "snapshots");
	size_t i, used = 0;
	out[0] = '\0';
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *snap = json_array_get(list, i);
		const char *id = json_string_value(json_object_get(snap, "id"));
		if (strcmp(json_string_value(json_object_get(snap, rds ? "db" : "volume")), target) != 0)
			continue;
		used += (size_t)snprintf(out + used, size > used ? size - used : 0, "%s%s", used ? "," : "",
		                         strrchr(id, '-') ? strrchr(id, '-') + 1 : id);
	}
	json_decref(state);
}

static ciha_snapshot_policy *stub_policy(int keep)
{
	ciha_snapshot_policy *p = NULL;
	CHECK(ciha_snapshot_policy_new(&p, "nightly") == CIHA_OK);
	CHECK(ciha_snapshot_policy_set_keep_last(p, keep) == CIHA_OK);
	return p;
}

static void test_stub__list_and_rotate_read_every_page(void)
{
	static const char *const volumes[] = { "vol-0000000000000aaa1", NULL };
	static const char *const dbs[] = { "db-pages", NULL };
	json_t *state = stub_state(volumes, dbs, "nightly", 100, t0 - 100 * DAY);
	ciha_snapshot_selector *s = select_ids(volumes[0], dbs[0]);
	ciha_snapshot_policy *p = stub_policy(7);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char tokens[8][16], held[4096];
	int k;
	for (k = 0; k < 5; k++)   /* someone else's snapshots, untagged */
		json_array_append_new(json_object_get(state, "snapshots"), json_pack("{s:s, s:s, s:I, s:s}", "id",
		                      k == 0 ? "snap-foreign-0" : k == 1 ? "snap-foreign-1" : k == 2 ? "snap-foreign-2" :
		                      k == 3 ? "snap-foreign-3" : "snap-foreign-4", "volume", volumes[0],
		                      "time", (json_int_t)(t0 - 500 * DAY), "state", "completed"));
	json_array_append_new(json_object_get(state, "db_snapshots"), json_pack("{s:s, s:s, s:I, s:s}", "id",
	                      "rds:db-pages-2020-01-01-00-00", "db", dbs[0], "time", (json_int_t)(t0 - 900 * DAY),
	                      "type", "automated"));
	json_object_set_new(state, "page_size", json_integer(40));
	stub_load(state);

	CHECK_INT(ciha_snapshot_list(&r, stub, s, p), CIHA_OK);
	CHECK_INT(count_for(r, "list", volumes[0]), 105);
	CHECK_INT(count_for(r, "list", dbs[0]), 101);
	ciha_snapshot_report_free(r);
	CHECK_INT(logged("DescribeSnapshots", "NextToken", tokens, 8), 3);
	CHECK_STR(tokens[0], "");
	CHECK_STR(tokens[1], "40");
	CHECK_STR(tokens[2], "80");
	CHECK_INT(logged("DescribeDBSnapshots", "Marker", tokens, 8), 3);
	CHECK_STR(tokens[2], "80");

	CHECK_INT(ciha_snapshot_rotate(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_for(r, "delete", volumes[0]), 93);
	CHECK_INT(count_for(r, "delete", dbs[0]), 93);
	CHECK_INT(ciha_snapshot_report_failures(r), 0);
	ciha_snapshot_report_free(r);
	CHECK_INT(logged_count("DescribeSnapshots"), 6);
	CHECK_INT(logged_count("DeleteSnapshot"), 93);
	CHECK_INT(logged_count("DeleteDBSnapshot"), 93);
	stub_holds(held, sizeof held, 0, volumes[0]);
	CHECK_STR(held, "0093,0094,0095,0096,0097,0098,0099,0,1,2,3,4");
	stub_holds(held, sizeof held, 1, dbs[0]);
	CHECK_STR(held, "0093,0094,0095,0096,0097,0098,0099,00");
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__targets_by_tag_across_pages(void)
{
	json_t *state = json_pack("{s:[], s:i}", "volumes", "page_size", 40);
	ciha_snapshot_selector *s = NULL;
	ciha_snapshot_policy *p = stub_policy(3);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char id[32];
	int k;
	for (k = 0; k < 90; k++) {
		snprintf(id, sizeof id, "vol-%017d", k);
		json_array_append_new(json_object_get(state, "volumes"), json_pack("{s:s, s:{s:s}}", "id", id, "tags",
		                      "Backup", k % 18 == 5 ? "weekly" : "daily"));
	}
	stub_load(state);
	CHECK(ciha_snapshot_selector_new(&s) == CIHA_OK);
	CHECK(ciha_snapshot_selector_add_tag(s, "Backup", "daily", 1u << CIHA_SNAPSHOT_EBS) == CIHA_OK);
	o.dry_run = 1;
	CHECK_INT(ciha_snapshot_take(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_action(r, "create"), 85);
	CHECK(find_item(r, "create", "vol-00000000000000005") < 0);
	CHECK(find_item(r, "create", "vol-00000000000000089") >= 0);
	ciha_snapshot_report_free(r);
	CHECK_INT(logged_count("DescribeVolumes"), 3);
	CHECK_INT(logged_count("DescribeDBInstances"), 0);   /* EBS only */
	CHECK_INT(logged_count("CreateSnapshot"), 0);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

typedef struct {
	int events;
	char first[32], last[32];
	int last_percent;
} progress_seen;

static int record_progress(const ciha_snapshot_event *ev, void *payload)
{
	progress_seen *seen = payload;
	if (!seen->events++)
		snprintf(seen->first, sizeof seen->first, "%s", ev->state);
	snprintf(seen->last, sizeof seen->last, "%s", ev->state);
	seen->last_percent = ev->progress_percent;
	return 0;
}

static int stop_at_first(const ciha_snapshot_event *ev, void *payload)
{
	(void)ev;
	(void)payload;
	return 1;
}

static void test_stub__wait_reports_progress_until_completed(void)
{
	static const char *const volumes[] = { "vol-00000000000000wa1", NULL };
	static const char *const dbs[] = { "db-wait", NULL };
	json_t *state = stub_state(volumes, dbs, "nightly", 0, t0);
	ciha_snapshot_selector *s = select_ids(volumes[0], dbs[0]);
	ciha_snapshot_policy *p = stub_policy(3);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	progress_seen seen;
	long i;
	json_object_set_new(state, "pending_polls", json_integer(3));
	stub_load(state);
	memset(&seen, 0, sizeof seen);
	o.wait = 1;
	o.progress = record_progress;
	o.progress_payload = &seen;
	CHECK_MSG(ciha_snapshot_take(&r, stub, s, p, &o) == CIHA_OK, "%s", ciha_error_message(ciha_client_error(stub)));
	CHECK_MSG(seen.events >= 6, "%d progress events", seen.events);   /* 3 polls each */
	CHECK_STR(seen.first, "pending");
	CHECK(strcmp(seen.last, "completed") == 0 || strcmp(seen.last, "available") == 0);
	CHECK_INT(seen.last_percent, 100);
	i = find_item(r, "create", volumes[0]);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) == CIHA_OK);
	i = find_item(r, "create", dbs[0]);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) == CIHA_OK);
	ciha_snapshot_report_free(r);
	CHECK_INT(logged_count("DescribeSnapshots"), 1 + 3);   /* the history, then 3 polls */
	CHECK_INT(logged_count("DescribeDBSnapshots"), 1 + 3);
	/* a callback that says stop ends the wait */
	stub_update("{\"pending_polls\": 50}");
	o.now = t0 + 2 * DAY;
	o.progress = stop_at_first;
	CHECK_INT(ciha_snapshot_take(&r, stub, s, p, &o), CIHA_EUSER);
	CHECK_INT(logged_count("DescribeSnapshots") + logged_count("DescribeDBSnapshots"), 2 * (1 + 3) + 2 + 1);
	ciha_snapshot_report_free(r);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__snapshot_in_error_fails_its_target_and_deletes_nothing_there(void)
{
	static const char *const volumes[] = { "vol-00000000000000ok1", "vol-0000000000000bad1", NULL };
	json_t *state = stub_state(volumes, NULL, "nightly", 5, t0 - 5 * DAY);
	ciha_snapshot_selector *s = select_ids(volumes[0], NULL);
	ciha_snapshot_policy *p = stub_policy(2);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char held[512];
	long i;
	json_object_set_new(state, "pending_polls", json_integer(2));
	json_object_set_new(state, "final_states", json_pack("{s:s}", volumes[1], "error"));
	stub_load(state);
	CHECK(ciha_snapshot_selector_add_volume(s, volumes[1]) == CIHA_OK);
	o.wait = 1;
	CHECK(ciha_snapshot_run(&r, stub, s, p, &o) != CIHA_OK);
	CHECK_INT(ciha_snapshot_report_failures(r), 1);
	i = find_item(r, "create", volumes[1]);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) != CIHA_OK);
	CHECK(i >= 0 && ciha_snapshot_report_message(r, (size_t)i) &&
	      strstr(ciha_snapshot_report_message(r, (size_t)i), "error") != NULL);
	CHECK_INT(count_for(r, "delete", volumes[1]), 0);
	CHECK_INT(count_for(r, "delete", volumes[0]), 4);
	i = find_item(r, "create", volumes[0]);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) == CIHA_OK);
	ciha_snapshot_report_free(r);
	stub_holds(held, sizeof held, 0, volumes[1]);
	CHECK_MSG(strncmp(held, "0000,0001,0002,0003,0004,", 25) == 0, "%s", held);
	CHECK_INT(logged_count("DeleteSnapshot"), 4);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__rds_quota_preflight_refuses_the_take(void)
{
	static const char *const dbs[] = { "db-quota", NULL };
	json_t *state = stub_state(NULL, dbs, "nightly", 3, t0 - 3 * DAY);
	ciha_snapshot_selector *s = select_ids(NULL, dbs[0]);
	ciha_snapshot_policy *p = stub_policy(7);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	long i;
	json_object_set_new(state, "quota", json_pack("{s:{s:i}}", "ManualSnapshots", "max", 3));
	stub_load(state);
	CHECK(ciha_snapshot_take(&r, stub, s, p, &o) != CIHA_OK);
	i = find_item(r, "create", dbs[0]);
	CHECK(i >= 0 && ciha_snapshot_report_outcome(r, (size_t)i) != CIHA_OK);
	CHECK_MSG(i >= 0 && ciha_snapshot_report_message(r, (size_t)i) &&
	          strstr(ciha_snapshot_report_message(r, (size_t)i), "ManualSnapshots quota reached: 3 of 3 used"),
	          "%s", i >= 0 && ciha_snapshot_report_message(r, (size_t)i) ? ciha_snapshot_report_message(r, (size_t)i) : "");
	ciha_snapshot_report_free(r);
	CHECK_INT(logged_count("DescribeAccountAttributes"), 1);
	CHECK_INT(logged_count("CreateDBSnapshot"), 0);
	/* room again: the take goes through */
	stub_update("{\"quota\": {\"ManualSnapshots\": {\"max\": 4}}}");
	CHECK_INT(ciha_snapshot_take(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_action(r, "create"), 1);
	ciha_snapshot_report_free(r);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__half_way_failure_then_the_next_run_converges(void)
{
	static const char *const volumes[] = { "vol-000000000000fault", "vol-0000000000000calm", NULL };
	json_t *state = stub_state(volumes, NULL, "nightly", 12, t0 - 12 * DAY);
	ciha_snapshot_selector *s = select_ids(volumes[0], NULL);
	ciha_snapshot_policy *p = stub_policy(4);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char faulty[512], calm[512];
	long i;
	json_object_set_new(state, "fail_delete", json_pack("{s:i}", "snap-000000000000fault-0002", 500));
	stub_load(state);
	CHECK(ciha_snapshot_selector_add_volume(s, volumes[1]) == CIHA_OK);
	CHECK(ciha_snapshot_rotate(&r, stub, s, p, &o) != CIHA_OK);
	CHECK_INT(ciha_snapshot_report_failures(r), 1);
	i = find_snapshot(r, "snap-000000000000fault-0002");
	CHECK(i >= 0 && strcmp(ciha_snapshot_report_action(r, (size_t)i), "delete") == 0 &&
	      ciha_snapshot_report_outcome(r, (size_t)i) != CIHA_OK && ciha_snapshot_report_message(r, (size_t)i));
	CHECK_INT(count_for(r, "delete", volumes[0]), 8);
	CHECK_INT(count_for(r, "delete", volumes[1]), 8);
	check_report_json(r, 0);
	ciha_snapshot_report_free(r);
	stub_holds(faulty, sizeof faulty, 0, volumes[0]);
	CHECK_STR(faulty, "0002,0008,0009,0010,0011");
	/* the fault is gone: the next run deletes what is left and nothing more */
	stub_update("{\"fail_delete\": {\"snap-000000000000fault-0002\": 0}}");
	CHECK_MSG(ciha_snapshot_rotate(&r, stub, s, p, &o) == CIHA_OK, "%s", ciha_error_message(ciha_client_error(stub)));
	CHECK_INT(count_action(r, "delete"), 1);
	ciha_snapshot_report_free(r);
	stub_holds(faulty, sizeof faulty, 0, volumes[0]);
	stub_holds(calm, sizeof calm, 0, volumes[1]);
	CHECK_STR(faulty, calm);
	CHECK_STR(calm, "0008,0009,0010,0011");
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__dry_run_of_run_plans_what_the_run_does(void)
{
	static const char *const volumes[] = { "vol-00000000000000dry", NULL };
	ciha_snapshot_selector *s = select_ids(volumes[0], NULL);
	ciha_snapshot_policy *p = stub_policy(2);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char held[256];
	stub_load(stub_state(volumes, NULL, "nightly", 5, t0 - 5 * DAY));
	o.dry_run = 1;
	/* without waiting, the new snapshot is still pending when the rotation runs: it does not count yet */
	CHECK_INT(ciha_snapshot_run(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_for(r, "create", volumes[0]), 1);
	CHECK_INT(count_for(r, "delete", volumes[0]), 3);
	ciha_snapshot_report_free(r);
	o.wait = 1;
	CHECK_INT(ciha_snapshot_run(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_for(r, "delete", volumes[0]), 4);
	CHECK(find_snapshot(r, "snap-00000000000000dry-0004") >= 0 &&
	      strcmp(ciha_snapshot_report_action(r, (size_t)find_snapshot(r, "snap-00000000000000dry-0004")), "keep") == 0);
	ciha_snapshot_report_free(r);
	CHECK_INT(logged_count("CreateSnapshot") + logged_count("DeleteSnapshot"), 0);
	o.dry_run = 0;
	CHECK_INT(ciha_snapshot_run(&r, stub, s, p, &o), CIHA_OK);
	CHECK_INT(count_for(r, "delete", volumes[0]), 4);
	ciha_snapshot_report_free(r);
	stub_holds(held, sizeof held, 0, volumes[0]);
	CHECK_MSG(strncmp(held, "0004,", 5) == 0 && strchr(held + 5, ',') == NULL, "%s", held);
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}

static void test_stub__snapshot_in_use_is_kept_and_reported(void)
{
	static const char *const volumes[] = { "vol-0000000000000used", NULL };
	static const char *const dbs[] = { "db-used", NULL };
	json_t *state = stub_state(volumes, dbs, "nightly", 4, t0 - 4 * DAY);
	ciha_snapshot_selector *s = select_ids(volumes[0], dbs[0]);
	ciha_snapshot_policy *p = stub_policy(2);
	ciha_snapshot_report *r = NULL;
	ciha_snapshot_options o = options_at(t0);
	char held[256];
	long i;
	json_object_set_new(state, "in_use", json_pack("[s, s]", "snap-0000000000000used-0000", "ciha-db-used-0000"));
	stub_load(state);
	CHECK_MSG(ciha_snapshot_rotate(&r, stub, s, p, &o) == CIHA_OK, "%s", ciha_error_message(ciha_client_error(stub)));
	CHECK_INT(ciha_snapshot_report_failures(r), 0);
	i = find_snapshot(r, "snap-0000000000000used-0000");
	CHECK(i >= 0 && strcmp(ciha_snapshot_report_action(r, (size_t)i), "keep") == 0 &&
	      strstr(ciha_snapshot_report_reason(r, (size_t)i), "in use") != NULL);
	i = find_snapshot(r, "ciha-db-used-0000");
	CHECK(i >= 0 && strcmp(ciha_snapshot_report_action(r, (size_t)i), "keep") == 0);
	CHECK_INT(count_for(r, "delete", volumes[0]), 1);
	ciha_snapshot_report_free(r);
	stub_holds(held, sizeof held, 0, volumes[0]);
	CHECK_STR(held, "0000,0002,0003");
	stub_holds(held, sizeof held, 1, dbs[0]);
	CHECK_STR(held, "0000,0002,0003");
	ciha_snapshot_selector_free(s);
	ciha_snapshot_policy_free(p);
}


static void remove_work_dir(void)
{
	char path[300];
	snprintf(path, sizeof path, "%s/pre.log", work_dir);
	remove(path);
	snprintf(path, sizeof path, "%s/post.log", work_dir);
	remove(path);
	rmdir(work_dir);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("CIHA_TEST_ENDPOINT is not set: run through tests/run (or make check with moto server)");
	if (ciha_global_init(0) != CIHA_OK)
		return 1;
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	snprintf(run_id, sizeof run_id, "r%ld%ld", (long)getpid(), (long)(time(NULL) % 100000));
	t0 = (int64_t)time(NULL);
	snprintf(work_dir, sizeof work_dir, "/tmp/ciha-snapshots-XXXXXX");
	if (!mkdtemp(work_dir) ||
	    ciha_credentials_provider_new_static(&creds, "AKIDEXAMPLE", SECRET, NULL) != CIHA_OK)
		return 1;
	moto = client_for(endpoint, "us-east-1", 0);
	moto_west = client_for(endpoint, "us-west-2", 0);

	RUN(test_take__targets_by_tag_and_id_with_our_tags_and_cron_safe_skip);
	RUN(test_take__unknown_target_is_named);
	RUN(test_rotate__keep_last_dry_run_then_real_foreign_untouched);
	RUN(test_run__hooks_and_a_failing_pre_hook_keeps_that_target_whole);
	RUN(test_restore__volume_from_newest_and_from_a_snapshot_id);
	RUN(test_restore__db_after_the_instance_was_deleted);
	RUN(test_copy__to_us_west_2_tagged_idempotent_and_rotated);
	RUN(test_cluster__take_and_rotate);

	stub_start();
	if (ciha__http_new(&control, NULL) != CIHA_OK)
		return 1;
	stub = client_for(stub_url, "us-east-1", 2);
	RUN(test_stub__list_and_rotate_read_every_page);
	RUN(test_stub__targets_by_tag_across_pages);
	RUN(test_stub__wait_reports_progress_until_completed);
	RUN(test_stub__snapshot_in_error_fails_its_target_and_deletes_nothing_there);
	RUN(test_stub__rds_quota_preflight_refuses_the_take);
	RUN(test_stub__half_way_failure_then_the_next_run_converges);
	RUN(test_stub__snapshot_in_use_is_kept_and_reported);
	RUN(test_stub__dry_run_of_run_plans_what_the_run_does);
	ciha_client_free(stub);
	ciha__http_free(control);
	stub_stop();

	ciha_client_free(moto);
	ciha_client_free(moto_west);
	ciha_credentials_provider_release(creds);
	ciha_global_cleanup();
	remove_work_dir();
	return CHECK_DONE("test_moto_snapshots");
}
