/* snapshot_copy.c: copy each target's newest snapshot to another region and
 * keep the policy's number of copies there. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "call_int.h"
#include "decode_int.h"
#include "multi_int.h"
#include "snapshot_int.h"

typedef struct {
	const ciha__target *target;
	const ciha__snap_driver *driver;
	ciha__snap *source;       /* newest completed snapshot under the policy, borrowed from `src` */
	ciha__snap *src, *dst;    /* snapshots in the source region, and copies in the destination */
	size_t nsrc, ndst;
	long copy_item;
	ciha_snapshot_report *report;
	int failed;
	int copied;               /* a new copy was made: the destination's list is stale */
} copy_target;

static void snaps_free(ciha__snap *s, size_t n)
{
	while (n)
		ciha__snap_dispose(&s[--n]);
	ciha__free(s);
}

static int looks_like_region(const char *r)
{
	size_t i, dashes = 0;
	if (!r || strlen(r) < 9 || !isdigit((unsigned char)r[strlen(r) - 1]))
		return 0;
	for (i = 0; r[i]; i++) {
		if (r[i] == '-')
			dashes++;
		else if (!islower((unsigned char)r[i]) && !isdigit((unsigned char)r[i]))
			return 0;
	}
	return dashes >= 2;
}

/* arn:aws:kms:REGION:ACCOUNT:key/ID: the key must live in the destination region. */
static int check_kms_key(const ciha_snapshot_policy *p)
{
	const char *key = p->copy_kms_key_id;
	char region[64];
	const char *start, *end;
	if (!key)
		return CIHA_OK;
	if (strncmp(key, "alias/aws/", 10) == 0)
		return ciha__error_raise(CIHA_EINVAL, "KMS key %s is an AWS-managed default key: it cannot be shared, so "
		                         "copies that other accounts must restore need a customer-managed key", key);
	if (strncmp(key, "arn:", 4) != 0)
		return CIHA_OK;
	start = strstr(key, ":kms:");
	if (!start)
		return ciha__error_raise(CIHA_EINVAL, "KMS key '%s' is not a KMS ARN", key);
	start += 5;
	end = strchr(start, ':');
	if (!end || (size_t)(end - start) >= sizeof(region))
		return ciha__error_raise(CIHA_EINVAL, "KMS key '%s' is not a KMS ARN", key);
	memcpy(region, start, (size_t)(end - start));
	region[end - start] = '\0';
	if (strcmp(region, p->copy_region) != 0)
		return ciha__error_raise(CIHA_EINVAL, "KMS key %s is in %s, but copies go to %s: KMS keys are regional, "
		                         "use a key in %s", key, region, p->copy_region, p->copy_region);
	return CIHA_OK;
}

static int preflight_policy(const ciha_client *c, const ciha_snapshot_policy *p)
{
	if (!p->copy_region)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s' has no copy region: set copy_to.region or --copy-region",
		                         p->name);
	if (!looks_like_region(p->copy_region))
		return ciha__error_raise(CIHA_EINVAL, "copy region '%s' is not a region name like eu-west-1", p->copy_region);
	if (strcmp(p->copy_region, ciha_client_region(c)) == 0)
		return ciha__error_raise(CIHA_EINVAL, "copy region %s is the region the snapshots are in", p->copy_region);
	if (p->copy_keep < 1)
		return ciha__error_raise(CIHA_EINVAL, "policy '%s' keeps %d copies; keep at least 1", p->name, p->copy_keep);
	return check_kms_key(p);
}

static ciha__snap *newest_completed(ciha__snap *snaps, size_t n, const ciha_snapshot_policy *p)
{
	ciha__snap *best = NULL;
	size_t i;
	for (i = 0; i < n; i++) {
		ciha__snap *s = &snaps[i];
		if (s->state == CIHA__SNAP_COMPLETED && s->managed && s->policy && strcmp(s->policy, p->name) == 0 &&
		    !s->copy_of && (!best || s->created > best->created))
			best = s;
	}
	return best;
}

/* Problems that would make a copy fail, found before anything starts. */
static int preflight_source(const copy_target *t, const ciha_snapshot_policy *p)
{
	if (t->source && t->source->encrypted && !p->copy_kms_key_id)
		return ciha__error_raise(CIHA_EINVAL, "%s is encrypted: copies to %s need a KMS key there "
		                         "(copy_to.kms_key_id / --kms-key)", t->source->id, p->copy_region);
	if (t->source && t->source->encrypted && t->target->kind != CIHA_SNAPSHOT_EBS)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "%s is an encrypted RDS snapshot: cross-region copies of those "
		                         "need a pre-signed URL, which libciha does not make yet", t->source->id);
	return CIHA_OK;
}

static const ciha__snap *existing_copy(const copy_target *t)
{
	size_t i;
	for (i = 0; i < t->ndst; i++)
		if (t->dst[i].copy_of && strcmp(t->dst[i].copy_of, t->source->id) == 0)
			return &t->dst[i];
	return NULL;
}

typedef struct {
	copy_target *target;
	const ciha__snap_driver *driver;
	size_t item;
} copy_job;

static void copy_done(void *user, int rc, const ciha__xml_node *root, const ciha_error *err, void *payload)
{
	copy_job *job = user;
	copy_target *t = job->target;
	(void)payload;
	if (rc == CIHA_OK) {
		json_t *result = NULL;
		const char *rid = NULL;
		const ciha__xml_node *node = ciha__decode_result_node(root, ciha__service_find(job->driver->service)->protocol,
		                                                      job->driver->copy_action, &rid);
		if (ciha__decode_schemaless(&result, node) == CIHA_OK && job->driver->copy_result_id(result))
			ciha__report_set_snapshot_id(t->report, job->item, job->driver->copy_result_id(result));
		json_decref(result);
		ciha__report_set_outcome(t->report, job->item, CIHA_OK, NULL);
		t->copied = 1;
	} else {
		t->failed = 1;
		ciha__report_set_outcome(t->report, job->item, rc, ciha_error_message(err));
	}
}

static void delete_done(void *user, int rc, const ciha__xml_node *root, const ciha_error *err, void *payload)
{
	copy_target *t = payload;
	size_t item = (size_t)user - 1;
	(void)root;
	ciha__report_set_outcome(t->report, item, rc == CIHA_ENOTFOUND ? CIHA_OK : rc, rc == CIHA_OK ? NULL
	                         : ciha_error_message(err));
}

/* Rotate the copies of one target in the destination: keep the newest copy_keep. */
static int rotate_copies(copy_target *t, ciha_client *dest, const ciha_snapshot_policy *p, int64_t now, int dry_run,
                         int concurrency)
{
	ciha_snapshot_policy copies = *p;
	ciha__plan_item *plan = NULL;
	ciha__multi *multi = NULL;
	size_t i, queued = 0;
	int rc;
	copies.keep_last = p->copy_keep;
	copies.keep_days = copies.keep_daily = copies.keep_weekly = copies.keep_monthly = 0;
	if ((rc = ciha__rotate_plan(&plan, t->dst, t->ndst, &copies, now, t->failed)) != CIHA_OK)
		return rc;
	rc = ciha__multi_new(&multi, dest, concurrency);
	for (i = 0; rc == CIHA_OK && i < t->ndst; i++) {
		const ciha__snap *s = plan[i].snap;
		int deleting = plan[i].decision == CIHA__DELETE;
		long idx;
		if (!s->copy_of)
			continue;
		idx = ciha__report_add(t->report, deleting ? "delete" : "keep", s->kind, t->target->id, s->id,
		                       plan[i].reason, deleting ? CIHA_EAGAIN : CIHA_OK, NULL, s->created);
		if (idx < 0 || ciha__report_set_region(t->report, (size_t)idx, ciha_client_region(dest)) != CIHA_OK) {
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
			break;
		}
		if (deleting && !dry_run) {
			json_t *params = t->driver->delete_params(s);
			rc = params ? ciha__multi_add(multi, ciha__service_find(t->driver->service), t->driver->delete_action,
			                              params, (void *)(size_t)(idx + 1))
			            : ciha__error_raise(CIHA_ENOMEM, "out of memory");
			json_decref(params);
			queued++;
		}
	}
	if (rc == CIHA_OK && queued)
		rc = ciha__multi_run(multi, delete_done, t);
	ciha__multi_free(multi);
	ciha__free(plan);
	return rc;
}

typedef struct {
	ciha_client *source;
	ciha_client *dest;
	const ciha_snapshot_policy *policy;
	const ciha_snapshot_options *opts;
	ciha_snapshot_report *report;
	copy_target *targets;
	size_t n;
	int64_t now;
} copy_run;

static int load_histories(copy_run *r, const ciha__target *targets)
{
	size_t i;
	for (i = 0; i < r->n; i++) {
		copy_target *t = &r->targets[i];
		int rc;
		t->target = &targets[i];
		t->driver = ciha__snap_driver_for(targets[i].kind);
		t->report = r->report;
		t->copy_item = -1;
		if (t->target->missing) {
			t->failed = 1;
			if (ciha__report_add(r->report, "copy", t->target->kind, t->target->id, NULL, NULL, CIHA_ENOTFOUND,
			                     t->target->missing, 0) < 0)
				return ciha__error_raise(CIHA_ENOMEM, "out of memory");
			continue;
		}
		if ((rc = t->driver->list(&t->src, &t->nsrc, r->source, t->target->id)) != CIHA_OK ||
		    (rc = t->driver->list_copies(&t->dst, &t->ndst, r->dest, t->target->id)) != CIHA_OK)
			return rc;
		t->source = newest_completed(t->src, t->nsrc, r->policy);
		if ((rc = preflight_source(t, r->policy)) != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int queue_copies(copy_run *r, ciha__multi *multi, copy_job *jobs)
{
	size_t i;
	int rc = CIHA_OK;
	for (i = 0; rc == CIHA_OK && i < r->n; i++) {
		copy_target *t = &r->targets[i];
		const ciha__snap *done;
		char reason[200];
		long idx;
		if (t->target->missing)
			continue;
		if (!t->source) {
			idx = ciha__report_add(r->report, "copy", t->target->kind, t->target->id, NULL,
			                       "no completed snapshot under the policy to copy", CIHA_ENOTFOUND,
			                       "take a snapshot first", 0);
			t->failed = 1;
		} else if ((done = existing_copy(t)) != NULL) {
			snprintf(reason, sizeof(reason), "%s already copied to %s as %s", t->source->id, r->policy->copy_region,
			         done->id);
			idx = ciha__report_add(r->report, "skip", t->target->kind, t->target->id, done->id, reason, CIHA_OK,
			                       NULL, t->source->created);
		} else {
			json_t *params = t->driver->copy_params(t->source, ciha_client_region(r->source), r->policy);
			snprintf(reason, sizeof(reason), "copy of %s to %s", t->source->id, r->policy->copy_region);
			idx = ciha__report_add(r->report, "copy", t->target->kind, t->target->id, NULL, reason, CIHA_EAGAIN,
			                       NULL, t->source->created);
			if (idx >= 0 && params && !r->opts->dry_run) {
				jobs[i].target = t;
				jobs[i].driver = t->driver;
				jobs[i].item = (size_t)idx;
				rc = ciha__multi_add(multi, ciha__service_find(t->driver->service), t->driver->copy_action, params,
				                     &jobs[i]);
			} else if (!params) {
				rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
			}
			json_decref(params);
		}
		if (rc == CIHA_OK && (idx < 0 || ciha__report_set_region(r->report, (size_t)idx, r->policy->copy_region)))
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return rc;
}

static int copy_all(copy_run *r, const ciha__target *targets)
{
	ciha__multi *multi = NULL;
	copy_job *jobs = ciha__calloc(r->n ? r->n : 1, sizeof(*jobs));
	size_t i;
	int rc;
	if (!jobs)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = load_histories(r, targets);
	if (rc == CIHA_OK)
		rc = ciha__multi_new(&multi, r->dest, r->opts->concurrency);
	if (rc == CIHA_OK)
		rc = queue_copies(r, multi, jobs);
	if (rc == CIHA_OK && !r->opts->dry_run)
		rc = ciha__multi_run(multi, copy_done, NULL);
	ciha__multi_free(multi);
	ciha__free(jobs);
	for (i = 0; rc == CIHA_OK && i < r->n; i++) {
		copy_target *t = &r->targets[i];
		if (t->target->missing)
			continue;
		if (t->copied) {
			/* The new copy counts towards copy_keep. */
			snaps_free(t->dst, t->ndst);
			t->dst = NULL;
			t->ndst = 0;
			rc = t->driver->list_copies(&t->dst, &t->ndst, r->dest, t->target->id);
		}
		if (rc == CIHA_OK)
			rc = rotate_copies(t, r->dest, r->policy, r->now, r->opts->dry_run, r->opts->concurrency);
	}
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_snapshot_copy(ciha_snapshot_report **out, ciha_client *c,
                                            const ciha_snapshot_selector *sel, const ciha_snapshot_policy *p,
                                            const ciha_snapshot_options *opts)
{
	static const ciha_snapshot_options defaults = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha__target *targets = NULL;
	copy_run r;
	size_t i;
	int rc;

	if (!out || !c || !p)
		return ciha__error_raise(CIHA_EINVAL, "snapshot copy: NULL argument (client, policy and out are required)");
	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.source = c;
	r.policy = p;
	r.opts = opts ? opts : &defaults;
	r.now = r.opts->now ? r.opts->now : (int64_t)time(NULL);
	if ((rc = ciha__policy_check(p)) != CIHA_OK || (rc = preflight_policy(c, p)) != CIHA_OK ||
	    (rc = ciha__targets_resolve(&targets, &r.n, c, sel)) != CIHA_OK)
		return ciha__client_fail(c, rc);
	r.targets = ciha__calloc(r.n ? r.n : 1, sizeof(*r.targets));
	rc = r.targets ? ciha__client_clone_region(&r.dest, c, p->copy_region) : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = ciha__report_new(&r.report, p->name, r.opts->dry_run);
	if (rc == CIHA_OK)
		rc = copy_all(&r, targets);
	for (i = 0; r.targets && i < r.n; i++) {
		snaps_free(r.targets[i].src, r.targets[i].nsrc);
		snaps_free(r.targets[i].dst, r.targets[i].ndst);
	}
	ciha__free(r.targets);
	ciha__targets_free(targets, r.n);
	ciha_client_free(r.dest);
	if (rc != CIHA_OK) {
		ciha_snapshot_report_free(r.report);
		return ciha__client_fail(c, rc);
	}
	*out = r.report;
	if (ciha_snapshot_report_failures(r.report))
		return ciha__client_fail(c, ciha__error_raise(CIHA_ERROR, "%zu of the copy's items failed; see the report",
		                                              ciha_snapshot_report_failures(r.report)));
	return CIHA_OK;
}
