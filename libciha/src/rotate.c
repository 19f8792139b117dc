/* rotate.c: the rotation planner. Decides, for the snapshots of one target,
 * which to keep and which to delete under a policy, and says why. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "error_int.h"
#include "snapshot_int.h"

#define SECONDS_PER_DAY 86400

void ciha__snap_dispose(ciha__snap *s)
{
	if (!s)
		return;
	ciha__free(s->id);
	ciha__free(s->target);
	ciha__free(s->raw_state);
	ciha__free(s->policy);
	ciha__free(s->arn);
	ciha__free(s->copy_of);
	memset(s, 0, sizeof(*s));
}

/* ---- calendar (proleptic Gregorian, UTC) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if (a % b != 0 && (a < 0) != (b < 0))
		q--;
	return q;
}

typedef struct {
	int64_t year;
	int month, day;
} civil_date;

/* Days since 1970-01-01 to a date (Howard Hinnant's civil_from_days). */
static civil_date civil_from_days(int64_t days)
{
	civil_date c;
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
	c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
	c.year = yoe + era * 400 + (c.month <= 2);
	return c;
}

static int64_t days_from_civil(int64_t year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

typedef struct {
	int64_t year;
	int week;
} iso_week;

static iso_week iso_week_of_day(int64_t days)
{
	iso_week w;
	int weekday = (int)(days + 3 - floor_div(days + 3, 7) * 7) + 1;  /* Monday = 1; 1970-01-01 was a Thursday */
	int64_t thursday = days - (weekday - 4);
	civil_date c = civil_from_days(thursday);
	w.year = c.year;
	w.week = (int)((thursday - days_from_civil(c.year, 1, 1)) / 7) + 1;
	return w;
}

/* ---- grandfather-father-son periods ---- */

typedef enum { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH } period;

static int64_t period_key(period per, int64_t created)
{
	int64_t days = floor_div(created, SECONDS_PER_DAY);
	civil_date c;
	iso_week w;
	switch (per) {
	case PERIOD_DAY:
		return days;
	case PERIOD_WEEK:
		w = iso_week_of_day(days);
		return w.year * 100 + w.week;
	case PERIOD_MONTH:
	default:
		c = civil_from_days(days);
		return c.year * 12 + (c.month - 1);
	}
}

static void period_label(char *out, size_t size, period per, int64_t created)
{
	int64_t days = floor_div(created, SECONDS_PER_DAY);
	civil_date c = civil_from_days(days);
	iso_week w;
	switch (per) {
	case PERIOD_DAY:
		snprintf(out, size, "daily %04lld-%02d-%02d", (long long)c.year, c.month, c.day);
		break;
	case PERIOD_WEEK:
		w = iso_week_of_day(days);
		snprintf(out, size, "weekly %04lld-W%02d", (long long)w.year, w.week);
		break;
	case PERIOD_MONTH:
	default:
		snprintf(out, size, "monthly %04lld-%02d", (long long)c.year, c.month);
		break;
	}
}

/* ---- plan items ---- */

static int item_order(const void *a, const void *b)
{
	const ciha__snap *x = ((const ciha__plan_item *)a)->snap, *y = ((const ciha__plan_item *)b)->snap;
	int by_id;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	by_id = strcmp(x->id ? x->id : "", y->id ? y->id : "");
	if (by_id)
		return by_id;
	return x < y ? -1 : (x > y);
}

static void set_reason(ciha__plan_item *it, ciha__decision decision, const char *reason)
{
	it->decision = decision;
	snprintf(it->reason, sizeof(it->reason), "%s", reason);
}

/* Keep `it` for `reason`, adding to the reasons of the rules that already keep it. */
static void keep_for(ciha__plan_item *it, const char *reason)
{
	size_t len = strlen(it->reason);
	if (it->decision == CIHA__KEEP && len > 0)
		snprintf(it->reason + len, sizeof(it->reason) - len, "; %s", reason);
	else
		snprintf(it->reason, sizeof(it->reason), "%s", reason);
	it->decision = CIHA__KEEP;
}

static int under_policy(const ciha__snap *s, const ciha_snapshot_policy *p)
{
	return !s->automated && s->managed && s->policy && strcmp(s->policy, p->name) == 0;
}

/* Decide what rules cannot change: foreign, pending and failed snapshots.
 * Returns 1 when the item is a completed snapshot of ours, left to the rules. */
static int decide_fixed(ciha__plan_item *it, const ciha_snapshot_policy *p)
{
	const ciha__snap *s = it->snap;
	char reason[sizeof(it->reason)];
	if (s->automated) {
		set_reason(it, CIHA__KEEP, "automated snapshot");
	} else if (!s->managed) {
		set_reason(it, CIHA__KEEP, "not created by libciha");
	} else if (!under_policy(s, p)) {
		if (s->policy)
			snprintf(reason, sizeof(reason), "created by libciha under policy '%.64s'", s->policy);
		else
			snprintf(reason, sizeof(reason), "created by libciha without a policy tag");
		set_reason(it, CIHA__KEEP, reason);
	} else if (s->state == CIHA__SNAP_PENDING) {
		snprintf(reason, sizeof(reason), "not completed yet (%.40s)", s->raw_state ? s->raw_state : "pending");
		set_reason(it, CIHA__KEEP, reason);
	} else if (s->state == CIHA__SNAP_FAILED) {
		snprintf(reason, sizeof(reason), "failed snapshot (state %.40s)", s->raw_state ? s->raw_state : "error");
		set_reason(it, CIHA__DELETE, reason);
	} else {
		it->decision = CIHA__DELETE;
		it->reason[0] = '\0';
		return 1;
	}
	return 0;
}

static void keep_newest(ciha__plan_item **mine, size_t nmine, int n)
{
	char reason[48];
	snprintf(reason, sizeof(reason), "one of the newest %d", n);
	for (size_t i = 0; i < nmine && i < (size_t)n; i++)
		keep_for(mine[i], reason);
}

static void keep_younger(ciha__plan_item **mine, size_t nmine, int days, int64_t now)
{
	char reason[48];
	int64_t cutoff = now - (int64_t)days * SECONDS_PER_DAY;
	snprintf(reason, sizeof(reason), "younger than %d day%s", days, days == 1 ? "" : "s");
	for (size_t i = 0; i < nmine; i++)
		if (mine[i]->snap->created >= cutoff)
			keep_for(mine[i], reason);
}

/* The newest snapshot of each of the latest `n` periods that have one (mine is newest first). */
static void keep_periods(ciha__plan_item **mine, size_t nmine, int n, period per)
{
	char label[48];
	int64_t last_key = 0;
	int seen = 0;
	for (size_t i = 0; i < nmine && seen < n; i++) {
		int64_t key = period_key(per, mine[i]->snap->created);
		if (seen > 0 && key == last_key)
			continue;
		last_key = key;
		seen++;
		period_label(label, sizeof(label), per, mine[i]->snap->created);
		keep_for(mine[i], label);
	}
}

static void apply_floor(ciha__plan_item **mine, size_t nmine, int min)
{
	char reason[48];
	size_t kept = 0;
	snprintf(reason, sizeof(reason), "floor: policy keeps at least %d", min);
	for (size_t i = 0; i < nmine; i++)
		kept += mine[i]->decision == CIHA__KEEP;
	for (size_t i = 0; i < nmine && kept < (size_t)min; i++)
		if (mine[i]->decision == CIHA__DELETE) {
			keep_for(mine[i], reason);
			kept++;
		}
}

static void apply_rules(ciha__plan_item **mine, size_t nmine, const ciha_snapshot_policy *p, int64_t now)
{
	if (nmine == 0)
		return;
	keep_for(mine[0], "newest completed snapshot");
	if (p->keep_last > 0)
		keep_newest(mine, nmine, p->keep_last);
	if (p->keep_days > 0)
		keep_younger(mine, nmine, p->keep_days, now);
	if (p->keep_daily > 0)
		keep_periods(mine, nmine, p->keep_daily, PERIOD_DAY);
	if (p->keep_weekly > 0)
		keep_periods(mine, nmine, p->keep_weekly, PERIOD_WEEK);
	if (p->keep_monthly > 0)
		keep_periods(mine, nmine, p->keep_monthly, PERIOD_MONTH);
	for (size_t i = 0; i < nmine; i++)
		if (mine[i]->decision == CIHA__DELETE)
			set_reason(mine[i], CIHA__DELETE, "older than every keep rule");
	apply_floor(mine, nmine, p->min);
}

static void keep_everything(ciha__plan_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		set_reason(&items[i], CIHA__KEEP, "new snapshot of this target failed; nothing deleted");
}

int ciha__rotate_plan(ciha__plan_item **out, const ciha__snap *snaps, size_t n, const ciha_snapshot_policy *p,
                      int64_t now, int target_failed)
{
	ciha__plan_item *items, **mine;
	size_t nmine = 0;
	int rc;
	if (!out || (n && !snaps))
		return ciha__error_raise(CIHA_EINVAL, "rotate plan: NULL argument");
	*out = NULL;
	rc = ciha__policy_check(p);
	if (rc != CIHA_OK)
		return rc;
	items = ciha__calloc(n, sizeof(*items));
	mine = ciha__calloc(n, sizeof(*mine));
	if (!items || !mine) {
		ciha__free(items);
		ciha__free(mine);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory planning the rotation of %zu snapshots", n);
	}
	for (size_t i = 0; i < n; i++)
		items[i].snap = &snaps[i];
	qsort(items, n, sizeof(*items), item_order);
	for (size_t i = 0; i < n; i++)
		if (decide_fixed(&items[i], p))
			mine[nmine++] = &items[i];
	apply_rules(mine, nmine, p, now);
	if (target_failed)
		keep_everything(items, n);
	ciha__free(mine);
	*out = items;
	return CIHA_OK;
}
