/* snapshot_run.c: take, rotate, run and list over the selected targets. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include "alloc_int.h"
#include "call_int.h"
#include "multi_int.h"
#include "snapshot_int.h"
#include "time_int.h"

enum { RUN_TAKE = 1, RUN_ROTATE = 2, RUN_LIST = 4 };

/* Everything one run needs, per call. */
typedef struct {
	ciha_client *client;
	const ciha_snapshot_policy *policy;
	const ciha_snapshot_options *opts;
	ciha_snapshot_report *report;
	int64_t now;
	int first_error;
} run_ctx;

/* One target's state during a run. */
typedef struct {
	const ciha__target *target;
	const ciha__snap_driver *driver;
	ciha__snap *snaps;
	size_t nsnaps;
	long create_item;     /* report index of the create item, -1 if none */
	int failed;           /* the new snapshot failed */
} target_run;

static void note_error(run_ctx *ctx, int rc)
{
	if (rc != CIHA_OK && ctx->first_error == CIHA_OK)
		ctx->first_error = rc;
}

static int report_fail(run_ctx *ctx, const char *action, const ciha__target *t, const char *snapshot_id, int rc)
{
	note_error(ctx, rc);
	if (ciha__report_add(ctx->report, action, t->kind, t->id, snapshot_id, NULL, rc,
	                     ciha_error_message(ciha_error_last()), 0) < 0)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

static void snaps_free(ciha__snap *snaps, size_t n)
{
	while (n)
		ciha__snap_dispose(&snaps[--n]);
	ciha__free(snaps);
}

static int snaps_push(target_run *tr, ciha__snap *s)
{
	ciha__snap *grown = ciha__realloc(tr->snaps, (tr->nsnaps + 1) * sizeof(*grown));
	if (!grown) {
		ciha__snap_dispose(s);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	tr->snaps = grown;
	grown[tr->nsnaps++] = *s;
	return CIHA_OK;
}

/* ---- hooks ---- */

static void format_duration(char *out, size_t size, long seconds)
{
	if (seconds >= 3600 && seconds % 3600 == 0)
		snprintf(out, size, "%ldh", seconds / 3600);
	else if (seconds >= 3600)
		snprintf(out, size, "%ldh%02ldm", seconds / 3600, (seconds % 3600) / 60);
	else if (seconds >= 60)
		snprintf(out, size, "%ldm", seconds / 60);
	else
		snprintf(out, size, "%lds", seconds);
}

/* Run a hook through /bin/sh with CIHA_VOLUME_ID and CIHA_POLICY set; CIHA_OK on exit 0. */
static int run_hook(const char *which, const char *command, const ciha__target *t, const ciha_snapshot_policy *p)
{
	ciha__buf cmd = CIHA__BUF_INIT;
	int status;
	/* Values go through the environment so no quoting of ids is needed. */
	setenv("CIHA_VOLUME_ID", t->id, 1);
	setenv("CIHA_POLICY", p->name, 1);
	ciha__buf_printf(&cmd, "%s", command);
	status = cmd.failed ? -1 : system(ciha__buf_cstr(&cmd));
	ciha__buf_dispose(&cmd);
	unsetenv("CIHA_VOLUME_ID");
	unsetenv("CIHA_POLICY");
	if (status == -1)
		return ciha__error_raise(CIHA_ERROR, "%s hook for %s could not be started", which, t->id);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ciha__error_raise(CIHA_EUSER, "%s hook for %s failed (%s %d)", which, t->id,
		                         WIFEXITED(status) ? "exit status" : "signal",
		                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return CIHA_OK;
}

/* ---- take ---- */

static const ciha__snap *newest_of_policy(const target_run *tr, const ciha_snapshot_policy *p)
{
	const ciha__snap *best = NULL;
	size_t i;
	for (i = 0; i < tr->nsnaps; i++) {
		const ciha__snap *s = &tr->snaps[i];
		if (!s->managed || !s->policy || strcmp(s->policy, p->name) != 0 || s->state == CIHA__SNAP_FAILED)
			continue;
		if (!best || s->created > best->created)
			best = s;
	}
	return best;
}

/* RDS refuses manual snapshots past the account quota: say so before trying. */
static int check_rds_quota(ciha_client *c, ciha_snapshot_kind kind)
{
	const char *quota_name = kind == CIHA_SNAPSHOT_RDS ? "ManualSnapshots" : "ManualClusterSnapshots";
	json_t *result = NULL, *quotas;
	size_t i;
	int rc = ciha_call(&result, c, "rds", "DescribeAccountAttributes", NULL);
	if (rc != CIHA_OK)
		return CIHA_OK; /* the quota is advisory; CreateDBSnapshot will still say no */
	quotas = json_object_get(result, "AccountQuotas");
	for (i = 0; json_is_array(quotas) && i < json_array_size(quotas); i++) {
		const json_t *q = json_array_get(quotas, i);
		const char *name = json_string_value(json_object_get(q, "AccountQuotaName"));
		const char *used = json_string_value(json_object_get(q, "Used"));
		const char *max = json_string_value(json_object_get(q, "Max"));
		if (name && used && max && strcmp(name, quota_name) == 0 && atol(used) >= atol(max)) {
			rc = ciha__error_raise(CIHA_ESTATE, "RDS %s quota reached: %s of %s used; delete old manual "
			                       "snapshots or raise the quota", quota_name, used, max);
			break;
		}
	}
	json_decref(result);
	return rc;
}

static int create_snapshot(run_ctx *ctx, target_run *tr, ciha__snap *out)
{
	const ciha_snapshot_options *o = ctx->opts;
	int hooked = tr->target->kind == CIHA_SNAPSHOT_EBS && o->pre_hook && *o->pre_hook;
	int rc = CIHA_OK, post_rc = CIHA_OK;
	if (tr->target->kind != CIHA_SNAPSHOT_EBS && (rc = check_rds_quota(ctx->client, tr->target->kind)) != CIHA_OK)
		return rc;
	if (hooked && (rc = run_hook("pre", o->pre_hook, tr->target, ctx->policy)) != CIHA_OK) {
		/* The pre hook may have half-frozen something: the post hook still runs. */
		if (o->post_hook && *o->post_hook)
			run_hook("post", o->post_hook, tr->target, ctx->policy);
		return ciha__error_raise(rc, "%s", ciha_error_message(ciha_error_last()));
	}
	rc = tr->driver->create(out, ctx->client, tr->target, ctx->policy, ctx->now);
	if (hooked && o->post_hook && *o->post_hook) {
		char saved[512];
		int saved_code = ciha_error_code(ciha_error_last());
		snprintf(saved, sizeof(saved), "%s", ciha_error_message(ciha_error_last()));
		post_rc = run_hook("post", o->post_hook, tr->target, ctx->policy);
		if (rc != CIHA_OK)
			return ciha__error_raise(saved_code, "%s", saved);
		if (post_rc != CIHA_OK) {
			/* The snapshot exists and is ours; report the hook without losing the snapshot. */
			return post_rc;
		}
	}
	return rc;
}

/* A dry run's rotation plans with the snapshot the real run would take: completed
 * when the run waits for it, else still pending (and so not counted yet). */
static int plan_new_snapshot(run_ctx *ctx, target_run *tr)
{
	ciha__snap planned;
	memset(&planned, 0, sizeof(planned));
	planned.kind = tr->target->kind;
	planned.created = ctx->now;
	planned.state = ctx->opts->wait ? CIHA__SNAP_COMPLETED : CIHA__SNAP_PENDING;
	planned.progress = -1;
	planned.managed = 1;
	planned.target = ciha__strdup(tr->target->id);
	planned.raw_state = ciha__strdup("planned");
	planned.policy = ciha__strdup(ctx->policy->name);
	if (!planned.target || !planned.raw_state || !planned.policy) {
		ciha__snap_dispose(&planned);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return snaps_push(tr, &planned);
}

static int take_target(run_ctx *ctx, target_run *tr)
{
	const ciha__snap *newest = newest_of_policy(tr, ctx->policy);
	long interval = ciha__policy_effective_interval(ctx->policy);
	char reason[200], age[32], want[32];
	ciha__snap created;
	int rc;

	memset(&created, 0, sizeof(created));
	if (newest && ctx->now - newest->created < interval) {
		format_duration(age, sizeof(age), (long)(ctx->now - newest->created));
		format_duration(want, sizeof(want), ctx->policy->interval_s);
		snprintf(reason, sizeof(reason), "newest snapshot %s is %s old; the policy takes one every %s", newest->id,
		         age, want);
		return ciha__report_add(ctx->report, "skip", tr->target->kind, tr->target->id, newest->id, reason, CIHA_OK,
		                        NULL, newest->created) < 0 ? ciha__error_raise(CIHA_ENOMEM, "out of memory") : CIHA_OK;
	}
	snprintf(reason, sizeof(reason), newest ? "newest snapshot is older than the policy's interval"
	                                        : "no snapshot under policy '%s' yet", ctx->policy->name);
	if (ctx->opts->dry_run) {
		tr->create_item = ciha__report_add(ctx->report, "create", tr->target->kind, tr->target->id, NULL, reason,
		                                   CIHA_EAGAIN, NULL, ctx->now);
		return tr->create_item < 0 ? ciha__error_raise(CIHA_ENOMEM, "out of memory") : plan_new_snapshot(ctx, tr);
	}
	rc = create_snapshot(ctx, tr, &created);
	if (rc != CIHA_OK && created.id == NULL) {
		tr->failed = 1;
		tr->create_item = (long)ctx->report->count;
		return report_fail(ctx, "create", tr->target, NULL, rc);
	}
	tr->create_item = ciha__report_add(ctx->report, "create", tr->target->kind, tr->target->id, created.id, reason,
	                                   rc, rc == CIHA_OK ? NULL : ciha_error_message(ciha_error_last()),
	                                   created.created);
	note_error(ctx, rc);
	if (tr->create_item < 0) {
		ciha__snap_dispose(&created);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return snaps_push(tr, &created);
}

/* ---- wait ---- */

static long poll_interval(const run_ctx *ctx, const ciha__target *t)
{
	if (ctx->opts->poll_interval_ms > 0)
		return ctx->opts->poll_interval_ms;
	return t->kind == CIHA_SNAPSHOT_EBS ? 15000 : 30000;
}

static int emit_progress(run_ctx *ctx, const ciha__snap *s)
{
	ciha_snapshot_event ev;
	if (!ctx->opts->progress)
		return CIHA_OK;
	ev.version = CIHA_SNAPSHOT_EVENT_VERSION;
	ev.kind = s->kind;
	ev.target = s->target;
	ev.snapshot_id = s->id;
	ev.state = s->raw_state;
	ev.progress_percent = s->progress;
	if (ctx->opts->progress(&ev, ctx->opts->progress_payload) != 0)
		return ciha__error_raise(CIHA_EUSER, "the progress callback stopped the wait");
	return CIHA_OK;
}

/* Wait until every new snapshot is completed or failed, polling each in turn. */
static int wait_for_new(run_ctx *ctx, target_run *runs, size_t n)
{
	long long deadline = ciha__mono_ms() + 1000LL * (ctx->opts->wait_timeout_s > 0 ? ctx->opts->wait_timeout_s : 1800);
	long sleep_ms = 0;
	for (;;) {
		size_t i, pending = 0;
		for (i = 0; i < n; i++) {
			target_run *tr = &runs[i];
			ciha__snap *s;
			int rc;
			if (tr->failed || tr->create_item < 0 || tr->nsnaps == 0)
				continue;
			s = &tr->snaps[tr->nsnaps - 1];
			if (s->state != CIHA__SNAP_PENDING)
				continue;
			rc = tr->driver->refresh(s, ctx->client);
			if (rc == CIHA_OK)
				rc = emit_progress(ctx, s);
			if (rc == CIHA_EUSER)
				return rc;
			if (rc != CIHA_OK || s->state == CIHA__SNAP_FAILED) {
				tr->failed = 1;
				if (rc == CIHA_OK)
					rc = ciha__error_raise(CIHA_EAWS, "snapshot %s of %s ended in state %s", s->id, s->target,
					                       s->raw_state);
				note_error(ctx, rc);
				ciha__report_set_outcome(ctx->report, (size_t)tr->create_item, rc,
				                         ciha_error_message(ciha_error_last()));
			} else if (s->state == CIHA__SNAP_PENDING) {
				pending++;
				if (!sleep_ms || poll_interval(ctx, tr->target) < sleep_ms)
					sleep_ms = poll_interval(ctx, tr->target);
			}
		}
		if (pending == 0)
			return CIHA_OK;
		if (ciha__mono_ms() + sleep_ms > deadline) {
			for (i = 0; i < n; i++) {
				target_run *tr = &runs[i];
				if (!tr->failed && tr->create_item >= 0 && tr->nsnaps &&
				    tr->snaps[tr->nsnaps - 1].state == CIHA__SNAP_PENDING) {
					int rc = ciha__error_raise(CIHA_ETIMEOUT, "snapshot %s of %s still %s when the wait timed out",
					                           tr->snaps[tr->nsnaps - 1].id, tr->target->id,
					                           tr->snaps[tr->nsnaps - 1].raw_state);
					tr->failed = 1;
					note_error(ctx, rc);
					ciha__report_set_outcome(ctx->report, (size_t)tr->create_item, rc,
					                         ciha_error_message(ciha_error_last()));
				}
			}
			return CIHA_OK;
		}
		ciha__sleep_ms(sleep_ms);
	}
}

/* ---- rotate ---- */

typedef struct {
	run_ctx *ctx;
	size_t item;
} delete_job;

static int is_in_use(const ciha_error *err)
{
	const char *code = ciha_error_aws_code(err);
	return code && (strcmp(code, "InvalidSnapshot.InUse") == 0 || strcmp(code, "InvalidDBSnapshotState") == 0 ||
	                strcmp(code, "InvalidDBClusterSnapshotStateFault") == 0 ||
	                strcmp(code, "InvalidDBClusterSnapshotState") == 0);
}

static void delete_done(void *user, int rc, const ciha__xml_node *root, const ciha_error *err, void *payload)
{
	delete_job *job = user;
	ciha__report_item *item = &job->ctx->report->items[job->item];
	(void)root;
	(void)payload;
	if (rc == CIHA_OK) {
		ciha__report_set_outcome(job->ctx->report, job->item, CIHA_OK, NULL);
	} else if (is_in_use(err) || rc == CIHA_ENOTFOUND) {
		char reason[400];
		snprintf(reason, sizeof(reason), rc == CIHA_ENOTFOUND ? "already gone: %s" : "in use, kept: %s",
		         ciha_error_message(err));
		ciha__free(item->action);
		item->action = ciha__strdup(rc == CIHA_ENOTFOUND ? "delete" : "keep");
		ciha__free(item->reason);
		item->reason = ciha__strdup(reason);
		ciha__report_set_outcome(job->ctx->report, job->item, CIHA_OK, NULL);
	} else {
		note_error(job->ctx, rc);
		ciha__report_set_outcome(job->ctx->report, job->item, rc, ciha_error_message(err));
	}
}

static int plan_target(run_ctx *ctx, target_run *tr, ciha__multi *multi, delete_job *jobs, size_t *njobs)
{
	ciha__plan_item *plan = NULL;
	size_t i;
	int rc = ciha__rotate_plan(&plan, tr->snaps, tr->nsnaps, ctx->policy, ctx->now, tr->failed);
	if (rc != CIHA_OK)
		return rc;
	for (i = 0; rc == CIHA_OK && i < tr->nsnaps; i++) {
		const ciha__snap *s = plan[i].snap;
		int deleting = plan[i].decision == CIHA__DELETE;
		long idx;
		if (tr->create_item >= 0 && s == &tr->snaps[tr->nsnaps - 1] && !deleting)
			continue; /* the new snapshot already has its create item */
		idx = ciha__report_add(ctx->report, deleting ? "delete" : "keep", s->kind, tr->target->id, s->id,
		                       plan[i].reason, deleting ? CIHA_EAGAIN : CIHA_OK, NULL, s->created);
		if (idx < 0) {
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
			break;
		}
		if (deleting && !ctx->opts->dry_run) {
			json_t *params = tr->driver->delete_params(s);
			jobs[*njobs].ctx = ctx;
			jobs[*njobs].item = (size_t)idx;
			rc = params ? ciha__multi_add(multi, ciha__service_find(tr->driver->service), tr->driver->delete_action,
			                              params, &jobs[*njobs])
			            : ciha__error_raise(CIHA_ENOMEM, "out of memory");
			json_decref(params);
			++*njobs;
		}
	}
	ciha__free(plan);
	return rc;
}

static int rotate_targets(run_ctx *ctx, target_run *runs, size_t n)
{
	ciha__multi *multi = NULL;
	delete_job *jobs;
	size_t i, total = 0, njobs = 0;
	int rc;
	for (i = 0; i < n; i++)
		total += runs[i].nsnaps;
	jobs = ciha__calloc(total ? total : 1, sizeof(*jobs));
	if (!jobs)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha__multi_new(&multi, ctx->client, ctx->opts->concurrency);
	for (i = 0; rc == CIHA_OK && i < n; i++)
		rc = plan_target(ctx, &runs[i], multi, jobs, &njobs);
	if (rc == CIHA_OK && njobs)
		rc = ciha__multi_run(multi, delete_done, NULL);
	ciha__multi_free(multi);
	ciha__free(jobs);
	return rc;
}

/* ---- list ---- */

static int list_target(run_ctx *ctx, const target_run *tr)
{
	size_t i;
	for (i = 0; i < tr->nsnaps; i++) {
		const ciha__snap *s = &tr->snaps[i];
		char reason[200];
		snprintf(reason, sizeof(reason), "%s%s%s%s, %s", s->automated ? "automated" : s->managed ? "libciha" : "manual",
		         s->managed && s->policy ? " policy '" : "", s->managed && s->policy ? s->policy : "",
		         s->managed && s->policy ? "'" : "", s->raw_state);
		if (ciha__report_add(ctx->report, "list", s->kind, tr->target->id, s->id, reason, CIHA_OK, NULL,
		                     s->created) < 0)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

/* ---- the run ---- */

static int run_targets(run_ctx *ctx, const ciha__target *targets, size_t n, int mode)
{
	target_run *runs = ciha__calloc(n ? n : 1, sizeof(*runs));
	size_t i;
	int rc = CIHA_OK;
	if (!runs)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	for (i = 0; rc == CIHA_OK && i < n; i++) {
		target_run *tr = &runs[i];
		int lrc;
		tr->target = &targets[i];
		tr->driver = ciha__snap_driver_for(targets[i].kind);
		tr->create_item = -1;
		lrc = tr->target->missing ? ciha__error_raise(CIHA_ENOTFOUND, "%s", tr->target->missing)
		                          : tr->driver->list(&tr->snaps, &tr->nsnaps, ctx->client, tr->target->id);
		if (lrc != CIHA_OK) {
			/* Without the history nothing safe can be decided for this target. */
			tr->failed = 1;
			tr->snaps = NULL;
			tr->nsnaps = 0;
			rc = report_fail(ctx, "list", tr->target, NULL, lrc);
			tr->target = NULL;
			continue;
		}
		if (mode & RUN_LIST)
			rc = list_target(ctx, tr);
		if (rc == CIHA_OK && (mode & RUN_TAKE))
			rc = take_target(ctx, tr);
	}
	if (rc == CIHA_OK && (mode & RUN_TAKE) && ctx->opts->wait && !ctx->opts->dry_run)
		rc = wait_for_new(ctx, runs, n);
	if (rc == CIHA_OK && (mode & RUN_ROTATE)) {
		size_t kept = 0;
		for (i = 0; i < n; i++)   /* targets whose history could not be read are left out */
			if (runs[i].target)
				runs[kept++] = runs[i];
			else
				snaps_free(runs[i].snaps, runs[i].nsnaps);
		n = kept;
		rc = rotate_targets(ctx, runs, n);
	}
	for (i = 0; i < n; i++)
		snaps_free(runs[i].snaps, runs[i].nsnaps);
	ciha__free(runs);
	return rc;
}

/* One line for the whole run that names the first failure, so a cron mail says what broke. */
static int raise_failures(int code, const ciha_snapshot_report *r)
{
	size_t i;
	for (i = 0; i < r->count; i++)
		if (r->items[i].outcome != CIHA_OK && r->items[i].outcome != CIHA_EAGAIN)
			return ciha__error_raise(code, "%zu of the run's items failed; first: %s %s: %s",
			                         ciha_snapshot_report_failures(r), r->items[i].action, r->items[i].target,
			                         r->items[i].message ? r->items[i].message : ciha_strerror(r->items[i].outcome));
	return ciha__error_raise(code, "the run failed; see the report");
}

static int run(ciha_snapshot_report **out, ciha_client *c, const ciha_snapshot_selector *sel,
               const ciha_snapshot_policy *p, const ciha_snapshot_options *opts, int mode)
{
	static const ciha_snapshot_options defaults = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha__target *targets = NULL;
	size_t n = 0;
	run_ctx ctx;
	int rc;

	if (!out || !c || (!p && !(mode & RUN_LIST)))
		return ciha__error_raise(CIHA_EINVAL, "snapshot run: NULL argument (client, policy and out are required)");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version == 0 || opts->version > CIHA_SNAPSHOT_OPTIONS_VERSION)
		return ciha__client_fail(c, ciha__error_raise(CIHA_EUNSUPPORTED, "snapshot options version %u is not "
		                         "supported; initialise with CIHA_SNAPSHOT_OPTIONS_INIT", opts->version));
	if (!(mode & RUN_LIST) && (rc = ciha__policy_check(p)) != CIHA_OK)
		return ciha__client_fail(c, rc);
	if ((rc = ciha__targets_resolve(&targets, &n, c, sel)) != CIHA_OK)
		return ciha__client_fail(c, rc);
	memset(&ctx, 0, sizeof(ctx));
	ctx.client = c;
	ctx.policy = p;
	ctx.opts = opts;
	ctx.now = opts->now ? opts->now : (int64_t)time(NULL);
	if ((rc = ciha__report_new(&ctx.report, p ? p->name : NULL, opts->dry_run)) == CIHA_OK)
		rc = run_targets(&ctx, targets, n, mode);
	ciha__targets_free(targets, n);
	*out = ctx.report; /* also when the run stopped early: it shows what was done */
	if (rc != CIHA_OK)
		return ciha__client_fail(c, rc);
	if (ctx.first_error != CIHA_OK)
		return ciha__client_fail(c, raise_failures(ctx.first_error, ctx.report));
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_take(ciha_snapshot_report **out, ciha_client *c,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *p,
                                            const ciha_snapshot_options *opts)
{
	return run(out, c, sel, p, opts, RUN_TAKE);
}

CIHA_EXTERN(ciha_result) ciha_snapshot_rotate(ciha_snapshot_report **out, ciha_client *c,
                                              const ciha_snapshot_selector *sel, const ciha_snapshot_policy *p,
                                              const ciha_snapshot_options *opts)
{
	return run(out, c, sel, p, opts, RUN_ROTATE);
}

CIHA_EXTERN(ciha_result) ciha_snapshot_run(ciha_snapshot_report **out, ciha_client *c,
                                           const ciha_snapshot_selector *sel, const ciha_snapshot_policy *p,
                                           const ciha_snapshot_options *opts)
{
	return run(out, c, sel, p, opts, RUN_TAKE | RUN_ROTATE);
}

CIHA_EXTERN(ciha_result) ciha_snapshot_list(ciha_snapshot_report **out, ciha_client *c,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *p)
{
	return run(out, c, sel, p, NULL, RUN_LIST);
}
