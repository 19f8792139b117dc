/* env_drill.c: a disaster-recovery drill. Restore every database and volume
 * of the environment's snapshot targets from its newest snapshot into scratch
 * resources, check them, measure recovery time and data age, publish both to
 * CloudWatch and delete the scratch resources, also when SIGINT or SIGTERM
 * arrives (the handlers set a flag checked between steps and while waiting).
 * The handlers are process-wide for the duration of the drill: run one drill
 * at a time. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alloc_int.h"
#include "error_int.h"
#include "env_int.h"
#include "snapshot_int.h"
#include "time_int.h"

static volatile sig_atomic_t drill_signal;

static void on_signal(int sig)
{
	drill_signal = sig;
}

typedef struct {
	struct sigaction old_int, old_term;
} saved_handlers;

static void install_handlers(saved_handlers *saved)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: a sleep between polls ends early */
	drill_signal = 0;
	sigaction(SIGINT, &sa, &saved->old_int);
	sigaction(SIGTERM, &sa, &saved->old_term);
}

static void restore_handlers(const saved_handlers *saved)
{
	sigaction(SIGINT, &saved->old_int, NULL);
	sigaction(SIGTERM, &saved->old_term, NULL);
}

typedef struct {
	ciha_client *c;
	const ciha_env *env;
	const ciha_env_options *opts;
	json_t *resources;
	double recovery_s, rpo_s;
	int failed;
	ciha__env_failure failure;
} driller;

static int interrupted(void)
{
	return drill_signal != 0;
}

static int restore_progress(const ciha_snapshot_event *e, void *payload)
{
	const driller *d = payload;
	ciha__env_progress(d->opts, "drill", "%s: %s", e->target, e->state ? e->state : "");
	return interrupted();
}

static void add_check(json_t *item, const char *check, int ok, const char *detail)
{
	json_array_append_new(json_object_get(item, "checks"), json_pack("{s:s, s:b, s:s}", "check", check, "ok", ok,
	                                                                  "detail", detail));
	if (!ok)
		json_object_set_new(item, "ok", json_false());
}

static json_t *call_json(driller *d, const char *service, const char *action, json_t *params)
{
	json_t *r = NULL;
	int rc = params ? ciha_call(&r, d->c, service, action, params) : CIHA_ENOMEM;
	json_decref(params);
	return rc == CIHA_OK ? r : NULL;
}

/* ---- one database ------------------------------------------------------------------- */

static void check_db(driller *d, json_t *item, const char *scratch, const json_t *snap)
{
	json_t *r = call_json(d, "rds", "DescribeDBInstances", json_pack("{s:s}", "DBInstanceIdentifier", scratch));
	const json_t *db = json_array_get(json_object_get(r, "DBInstances"), 0);
	const char *status = json_string_value(json_object_get(db, "DBInstanceStatus"));
	const char *engine = json_string_value(json_object_get(db, "Engine"));
	const char *want_engine = json_string_value(json_object_get(snap, "Engine"));
	const char *storage = json_string_value(json_object_get(db, "AllocatedStorage"));
	const char *want_storage = json_string_value(json_object_get(snap, "AllocatedStorage"));
	char detail[300];
	snprintf(detail, sizeof(detail), "status %s", status ? status : "(not found)");
	add_check(item, "available", status && strcmp(status, "available") == 0, detail);
	snprintf(detail, sizeof(detail), "engine %s, snapshot %s", engine ? engine : "?", want_engine ? want_engine : "?");
	add_check(item, "engine", engine && want_engine && strcmp(engine, want_engine) == 0, detail);
	snprintf(detail, sizeof(detail), "%s GiB, snapshot %s GiB", storage ? storage : "?", want_storage ? want_storage : "?");
	add_check(item, "storage", storage && want_storage && strcmp(storage, want_storage) == 0, detail);
	json_decref(r);
}

static void scratch_name(char *out, size_t size, const char *source)
{
	char stamp[24];
	size_t room, i, j;
	snprintf(stamp, sizeof(stamp), "-drill-%lld", (long long)time(NULL));
	room = 63 - strlen(stamp);
	for (i = 0, j = 0; source[i] && j < room && j + 1 < size; i++)
		if (!(source[i] == '-' && (j == 0 || out[j - 1] == '-')))
			out[j++] = source[i];
	while (j > 0 && out[j - 1] == '-')
		j--;
	out[j] = '\0';
	snprintf(out + j, size - j, "%s", stamp);
}

static void restore_db(driller *d, json_t *item, const char *source, const char *snapshot_id,
                       const ciha_snapshot_options *o)
{
	char scratch[64], *made = NULL;
	json_t *snap = call_json(d, "rds", "DescribeDBSnapshots", json_pack("{s:s}", "DBSnapshotIdentifier", snapshot_id));
	int rc;
	scratch_name(scratch, sizeof(scratch), source);
	json_object_set_new(item, "scratch", json_string(scratch));
	ciha__env_progress(d->opts, "drill", "restoring DB %s from %s into %s", source, snapshot_id, scratch);
	rc = ciha_snapshot_restore_db(&made, d->c, snapshot_id, scratch, o);
	if (rc == CIHA_OK)
		check_db(d, item, scratch, json_array_get(json_object_get(snap, "DBSnapshots"), 0));
	else
		add_check(item, "restore", 0, ciha__env_error_text(d->c, ciha_strerror(rc)));
	ciha__env_note_failure(&d->failure, rc);
	ciha_free(made);
	json_decref(snap);
}

/* ---- one volume ---------------------------------------------------------------------- */

/* Wait for a new volume here rather than in restore_volume, which forgets the id of a volume
 * whose wait was interrupted: the scratch volume must be known to be deleted. */
static int wait_volume(driller *d, const char *volume_id, const ciha_snapshot_options *o)
{
	long interval = o->poll_interval_ms > 0 ? o->poll_interval_ms : 5000;
	long long deadline = ciha__mono_ms() + (o->wait_timeout_s > 0 ? o->wait_timeout_s : 1800) * 1000LL;
	for (;;) {
		json_t *r = call_json(d, "ec2", "DescribeVolumes", json_pack("{s:[s]}", "VolumeId", volume_id));
		const char *state = json_string_value(json_object_get(json_array_get(json_object_get(r, "volumeSet"), 0),
		                                                      "status"));
		int done = state && (strcmp(state, "available") == 0 || strcmp(state, "in-use") == 0);
		int bad = !r || (state && strcmp(state, "error") == 0);
		json_decref(r);
		if (done)
			return CIHA_OK;
		if (bad)
			return ciha__client_fail(d->c, ciha__error_raise(CIHA_EAWS, "restored volume %s did not become available",
			                                                 volume_id));
		if (interrupted())
			return ciha__client_fail(d->c, ciha__error_raise(CIHA_EUSER, "interrupted"));
		if (ciha__mono_ms() > deadline)
			return ciha__client_fail(d->c, ciha__error_raise(CIHA_ETIMEOUT, "restored volume %s still %s",
			                                                 volume_id, state ? state : "unknown"));
		ciha__sleep_ms(interval);
	}
}

static const json_t *first_volume(const json_t *r)
{
	return json_array_get(json_object_get(r, "volumeSet"), 0);
}

static void restore_volume(driller *d, json_t *item, const char *source, const char *snapshot_id,
                           const ciha_snapshot_options *o)
{
	json_t *src = call_json(d, "ec2", "DescribeVolumes", json_pack("{s:[s]}", "VolumeId", source));
	json_t *snap = call_json(d, "ec2", "DescribeSnapshots", json_pack("{s:[s]}", "SnapshotId", snapshot_id));
	json_t *made_r = NULL;
	const char *az = json_string_value(json_object_get(first_volume(src), "availabilityZone"));
	const char *want = json_string_value(json_object_get(json_array_get(json_object_get(snap, "snapshotSet"), 0),
	                                                     "volumeSize"));
	const char *size;
	char *made = NULL, detail[300];
	int rc = az ? CIHA_OK : ciha__client_fail(d->c, ciha__error_raise(CIHA_ENOTFOUND, "source volume %s is gone: "
	                                           "no availability zone to restore into", source));
	if (rc == CIHA_OK) {
		ciha_snapshot_options started = *o;
		started.wait = 0;
		ciha__env_progress(d->opts, "drill", "restoring volume %s from %s in %s", source, snapshot_id, az);
		rc = ciha_snapshot_restore_volume(&made, d->c, snapshot_id, az, &started);
	}
	if (made)
		json_object_set_new(item, "scratch", json_string(made));
	if (rc == CIHA_OK)
		rc = wait_volume(d, made, o);
	if (rc == CIHA_OK) {
		made_r = call_json(d, "ec2", "DescribeVolumes", json_pack("{s:[s]}", "VolumeId", made));
		size = json_string_value(json_object_get(first_volume(made_r), "size"));
		snprintf(detail, sizeof(detail), "%s GiB, snapshot %s GiB, source %s GiB", size ? size : "?", want ? want : "?",
		         json_string_value(json_object_get(first_volume(src), "size")) ?
		         json_string_value(json_object_get(first_volume(src), "size")) : "?");
		add_check(item, "size", size && want && strcmp(size, want) == 0, detail);
		add_check(item, "available", json_string_value(json_object_get(first_volume(made_r), "status")) != NULL,
		          json_string_value(json_object_get(first_volume(made_r), "status")) ?
		          json_string_value(json_object_get(first_volume(made_r), "status")) : "(not found)");
	} else
		add_check(item, "restore", 0, ciha__env_error_text(d->c, ciha_strerror(rc)));
	ciha__env_note_failure(&d->failure, rc);
	ciha_free(made);
	json_decref(made_r);
	json_decref(src);
	json_decref(snap);
}

/* ---- targets ------------------------------------------------------------------------- */

static void drill_target(driller *d, const ciha__target *t)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	const char *kind = t->kind == CIHA_SNAPSHOT_EBS ? "volume" : "db";
	json_t *item = json_pack("{s:s, s:s, s:b, s:[]}", "kind", kind, "source", t->id, "ok", 1, "checks");
	char *snapshot_id = NULL;
	int64_t created = 0;
	long long t0;
	json_array_append_new(d->resources, item);
	if (t->kind == CIHA_SNAPSHOT_RDS_CLUSTER || t->missing) {
		add_check(item, "restore", 0, t->missing ? t->missing : "Aurora clusters are not drilled");
		return;
	}
	if (ciha__env_newest_snapshot(&snapshot_id, &created, d->c, t->kind, t->id) != CIHA_OK || !snapshot_id) {
		add_check(item, "snapshot", 0, snapshot_id ? ciha__env_error_text(d->c, "no snapshot") :
		          "no completed manual snapshot to restore from");
		ciha__env_forget_error(d->c);
		return;
	}
	json_object_set_new(item, "snapshot", json_string(snapshot_id));
	json_object_set_new(item, "snapshot_created", json_integer(created));
	o.wait = 1;
	o.poll_interval_ms = d->opts ? d->opts->poll_interval_ms : 0;
	o.wait_timeout_s = d->opts ? d->opts->timeout_s : 0;
	o.progress = restore_progress;
	o.progress_payload = d;
	t0 = ciha__mono_ms();
	if (t->kind == CIHA_SNAPSHOT_EBS)
		restore_volume(d, item, t->id, snapshot_id, &o);
	else
		restore_db(d, item, t->id, snapshot_id, &o);
	json_object_set_new(item, "restore_seconds", json_real((double)(ciha__mono_ms() - t0) / 1000.0));
	json_object_set_new(item, "rpo_seconds", json_integer((json_int_t)(time(NULL) - created)));
	if ((double)(time(NULL) - created) > d->rpo_s)
		d->rpo_s = (double)(time(NULL) - created);
	ciha__env_progress(d->opts, "drill", "%s %s restored from %s", kind, t->id, snapshot_id);
	ciha__free(snapshot_id);
}

static void drill_entries(driller *d)
{
	size_t i, j, n;
	ciha__env_resolver r;
	ciha__env_resolver_init(&r, d->c);
	for (i = 0; i < d->env->nsnapshots && !interrupted(); i++) {
		ciha_snapshot_selector *sel = NULL;
		ciha__target *targets = NULL;
		int rc = ciha__env_selector(&sel, &r, &d->env->snapshots[i]);
		n = 0;
		if (rc == CIHA_OK)
			rc = ciha__targets_resolve(&targets, &n, d->c, sel);
		if (rc != CIHA_OK)
			json_array_append_new(d->resources, json_pack("{s:s, s:b, s:s}", "policy",
			                      ciha_snapshot_policy_name(d->env->snapshots[i].policy), "ok", 0, "error",
			                      ciha__env_error_text(d->c, ciha_strerror(rc))));
		ciha__env_note_failure(&d->failure, rc);
		for (j = 0; j < n && !interrupted(); j++)
			drill_target(d, &targets[j]);
		ciha__targets_free(targets, n);
		ciha_snapshot_selector_free(sel);
	}
	ciha__env_resolver_dispose(&r);
}

/* ---- cleanup, metrics, report --------------------------------------------------------------- */

static void delete_scratch(driller *d, json_t *item)
{
	const char *scratch = json_string_value(json_object_get(item, "scratch"));
	const char *kind = json_string_value(json_object_get(item, "kind"));
	json_t *r;
	if (!scratch)
		return;
	if (d->opts && d->opts->keep_drill_resources) {
		json_object_set_new(item, "cleanup", json_string("kept"));
		return;
	}
	if (strcmp(kind, "db") == 0)
		r = call_json(d, "rds", "DeleteDBInstance", json_pack("{s:s, s:b, s:b}", "DBInstanceIdentifier", scratch,
		                                                      "SkipFinalSnapshot", 1, "DeleteAutomatedBackups", 1));
	else
		r = call_json(d, "ec2", "DeleteVolume", json_pack("{s:s}", "VolumeId", scratch));
	if (r || ciha_error_code(ciha_client_error(d->c)) == CIHA_ENOTFOUND)
		json_object_set_new(item, "cleanup", json_string("deleted"));
	else {
		char msg[400];
		snprintf(msg, sizeof(msg), "failed: %s", ciha__env_error_text(d->c, "unknown error"));
		json_object_set_new(item, "cleanup", json_string(msg));
		json_object_set_new(item, "ok", json_false());
	}
	ciha__env_progress(d->opts, "drill", "%s %s: %s", kind, scratch,
	                   json_string_value(json_object_get(item, "cleanup")));
	json_decref(r);
	ciha__env_forget_error(d->c);
}

static int publish(driller *d)
{
	json_t *params = json_pack("{s:s, s:[{s:s, s:[{s:s, s:s}], s:f, s:s}, {s:s, s:[{s:s, s:s}], s:f, s:s}]}",
	                           "Namespace", CIHA_METRIC_NAMESPACE, "MetricData",
	                           "MetricName", "RecoveryTimeSeconds", "Dimensions", "Name", "Environment", "Value",
	                           d->env->name, "Value", d->recovery_s, "Unit", "Seconds",
	                           "MetricName", "RecoveryPointAgeSeconds", "Dimensions", "Name", "Environment", "Value",
	                           d->env->name, "Value", d->rpo_s, "Unit", "Seconds");
	json_t *r = call_json(d, "cloudwatch", "PutMetricData", params);
	int ok = r != NULL;
	json_decref(r);
	if (!ok)
		ciha__env_note_failure(&d->failure, ciha_error_code(ciha_client_error(d->c)));
	return ok;
}

static int all_ok(const json_t *resources)
{
	json_t *item;
	size_t i;
	json_array_foreach(resources, i, item)
		if (!json_is_true(json_object_get(item, "ok")))
			return 0;
	return 1;
}

static int finish(driller *d, char **out_json, ciha_client *client, int signal_seen)
{
	int ok = all_ok(d->resources), published = 0, rc;
	json_t *doc;
	if (!signal_seen && json_array_size(d->resources))
		published = publish(d);
	doc = json_pack("{s:s, s:b, s:O, s:f, s:f, s:b, s:b}", "environment", d->env->name, "interrupted", signal_seen != 0,
	                "resources", d->resources, "recovery_time_seconds", d->recovery_s, "recovery_point_age_seconds",
	                d->rpo_s, "metrics_published", published, "ok", ok && !signal_seen);
	if ((rc = ciha__env_json_out(out_json, doc)) != CIHA_OK) {
		ciha__error_reset(&d->failure.err);
		return ciha__client_fail(client, rc);
	}
	if (signal_seen) {
		ciha__error_reset(&d->failure.err);
		return ciha__client_fail(client, ciha__error_raise(CIHA_EUSER, "drill of %s interrupted by signal %d; "
		                         "scratch resources %s", d->env->name, signal_seen,
		                         d->opts && d->opts->keep_drill_resources ? "kept" : "deleted"));
	}
	if (d->failure.code != CIHA_OK)
		return ciha__env_raise_failure(&d->failure, client);
	if (!ok)
		return ciha__client_fail(client, ciha__error_raise(CIHA_ESTATE, "drill of %s: a restored resource failed "
		                         "its checks (see the report)", d->env->name));
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_env_drill(char **out_json, ciha_client *client, const ciha_env *env,
                                        const ciha_env_options *opts)
{
	ciha_client *owned = NULL;
	saved_handlers saved;
	driller d;
	json_t *item;
	long long t0;
	size_t i;
	int rc, signal_seen;
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_env_drill: out_json is NULL");
	*out_json = NULL;
	memset(&d, 0, sizeof(d));
	if ((rc = ciha__env_begin(&d.c, &owned, client, env, opts)) != CIHA_OK)
		return rc;
	d.env = env;
	d.opts = opts;
	if (!(d.resources = json_array())) {
		ciha_client_free(owned);
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	}
	install_handlers(&saved);
	t0 = ciha__mono_ms();
	drill_entries(&d);
	d.recovery_s = (double)(ciha__mono_ms() - t0) / 1000.0;
	signal_seen = drill_signal;
	json_array_foreach(d.resources, i, item)
		delete_scratch(&d, item);
	restore_handlers(&saved);
	if (signal_seen)
		ciha__env_progress(opts, "drill", "interrupted by signal %d: scratch resources cleaned up", signal_seen);
	rc = finish(&d, out_json, owned ? owned : client, signal_seen);
	if (owned && rc != CIHA_OK)
		ciha__error_copy(&client->err, &owned->err);
	ciha_client_free(owned);
	json_decref(d.resources);
	return rc;
}
