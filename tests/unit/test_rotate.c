/* test_rotate.c: the rotation planner on synthetic histories with an injected
 * clock, its invariants on random histories, and snapshot reports. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "ciha/errors.h"
#include "ciha/snapshot.h"
#include "alloc_int.h"
#include "error_int.h"
#include "snapshot_int.h"
#include "check.h"

#define DAY 86400
#define POLICY "daily"

/* ---- dates, computed independently of the planner's calendar ---- */

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t utc(int y, int m, int d, int hh, int mm, int ss)
{
	static const int month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t days = 0;
	for (int year = 1970; year < y; year++)
		days += is_leap(year) ? 366 : 365;
	for (int month = 1; month < m; month++)
		days += month_days[month - 1] + (month == 2 && is_leap(y));
	days += d - 1;
	return days * DAY + hh * 3600 + mm * 60 + ss;
}

static void date_of(char out[11], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- synthetic histories ---- */

typedef struct {
	ciha__snap *v;
	size_t n, cap;
} history;

/* Append a completed snapshot libciha took under POLICY; returns it (valid until the next add). */
static ciha__snap *history_add(history *h, const char *id, int64_t created)
{
	ciha__snap *s;
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = ciha__realloc(h->v, h->cap * sizeof(*h->v));
	}
	s = &h->v[h->n++];
	memset(s, 0, sizeof(*s));
	s->id = ciha__strdup(id);
	s->target = ciha__strdup("vol-0123456789abcdef0");
	s->kind = CIHA_SNAPSHOT_EBS;
	s->created = created;
	s->state = CIHA__SNAP_COMPLETED;
	s->raw_state = ciha__strdup("completed");
	s->progress = 100;
	s->managed = 1;
	s->policy = ciha__strdup(POLICY);
	return s;
}

static ciha__snap *history_add_state(history *h, const char *id, int64_t created, ciha__snap_state state,
                                     const char *raw_state)
{
	ciha__snap *s = history_add(h, id, created);
	s->state = state;
	ciha__free(s->raw_state);
	s->raw_state = ciha__strdup(raw_state);
	return s;
}

static void set_owner(ciha__snap *s, int managed, const char *policy, int automated)
{
	s->managed = managed;
	s->automated = automated;
	ciha__free(s->policy);
	s->policy = ciha__strdup(policy);
}

/* One snapshot a day at 03:00 UTC from `first` through `last` (inclusive), skipping [skip_from, skip_to). */
static void add_daily(history *h, int64_t first, int64_t last, int64_t skip_from, int64_t skip_to)
{
	char id[32], date[11];
	for (int64_t t = first + 3 * 3600; t <= last + 3 * 3600; t += DAY) {
		if (t >= skip_from && t < skip_to)
			continue;
		date_of(date, t);
		snprintf(id, sizeof(id), "snap-%s", date);
		history_add(h, id, t);
	}
}

static void history_free(history *h)
{
	for (size_t i = 0; i < h->n; i++)
		ciha__snap_dispose(&h->v[i]);
	ciha__free(h->v);
	memset(h, 0, sizeof(*h));
}

static ciha_snapshot_policy *policy_new(int keep_last, int keep_days, int daily, int weekly, int monthly, int min)
{
	ciha_snapshot_policy *p = NULL;
	ciha_snapshot_policy_new(&p, POLICY);
	ciha_snapshot_policy_set_keep_last(p, keep_last);
	ciha_snapshot_policy_set_keep_days(p, keep_days);
	ciha_snapshot_policy_set_keep_gfs(p, daily, weekly, monthly);
	ciha_snapshot_policy_set_min(p, min);
	return p;
}

/* ---- invariants every plan must hold ---- */

static int ours_completed(const ciha__snap *s, const ciha_snapshot_policy *p)
{
	return s->managed && !s->automated && s->policy && strcmp(s->policy, p->name) == 0 &&
	       s->state == CIHA__SNAP_COMPLETED;
}

static int deletable(const ciha__snap *s, const ciha_snapshot_policy *p)
{
	return s->managed && !s->automated && s->policy && strcmp(s->policy, p->name) == 0 &&
	       s->state != CIHA__SNAP_PENDING;
}

static int check_each_input_once(const ciha__plan_item *items, const history *h)
{
	int ok = 1;
	unsigned char *seen = ciha__calloc(h->n, 1);
	for (size_t i = 0; i < h->n; i++) {
		size_t at = (size_t)(items[i].snap - h->v);
		if (at >= h->n || seen[at]++)
			ok = 0;
	}
	ciha__free(seen);
	return ok;
}

static int check_order(const ciha__plan_item *items, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const ciha__snap *a = items[i - 1].snap, *b = items[i].snap;
		if (a->created < b->created || (a->created == b->created && strcmp(a->id, b->id) > 0))
			return 0;
	}
	return 1;
}

static void check_invariants(const ciha__plan_item *items, const history *h, const ciha_snapshot_policy *p,
                             int target_failed)
{
	size_t completed = 0, kept_completed = 0, floor;
	const ciha__plan_item *newest = NULL;
	CHECK(check_each_input_once(items, h));
	CHECK(check_order(items, h->n));
	for (size_t i = 0; i < h->n; i++) {
		const ciha__snap *s = items[i].snap;
		CHECK_MSG(items[i].reason[0] != '\0', "%s has no reason", s->id);
		if (items[i].decision == CIHA__DELETE)
			CHECK_MSG(deletable(s, p) && !target_failed, "%s deleted: %s", s->id, items[i].reason);
		if (!ours_completed(s, p))
			continue;
		completed++;
		kept_completed += items[i].decision == CIHA__KEEP;
		if (!newest)
			newest = &items[i];
	}
	if (newest)
		CHECK_MSG(newest->decision == CIHA__KEEP, "newest completed %s deleted", newest->snap->id);
	floor = (size_t)p->min < completed ? (size_t)p->min : completed;
	CHECK_MSG(kept_completed >= floor, "kept %zu completed, floor %zu", kept_completed, floor);
}

static ciha__plan_item *plan(const history *h, const ciha_snapshot_policy *p, int64_t now, int target_failed)
{
	ciha__plan_item *items = NULL;
	CHECK_INT(ciha__rotate_plan(&items, h->v, h->n, p, now, target_failed), CIHA_OK);
	if (items)
		check_invariants(items, h, p, target_failed);
	return items;
}

static const ciha__plan_item *find(const ciha__plan_item *items, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].snap->id, id) == 0)
			return &items[i];
	return NULL;
}

static size_t count_kept(const ciha__plan_item *items, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		kept += items[i].decision == CIHA__KEEP;
	return kept;
}

/* The item's decision and reason, or a failure naming the id. */
static void check_item(const ciha__plan_item *items, size_t n, const char *id, ciha__decision decision,
                       const char *reason)
{
	const ciha__plan_item *it = find(items, n, id);
	CHECK_MSG(it != NULL, "%s missing from the plan", id);
	if (!it)
		return;
	CHECK_MSG(it->decision == decision, "%s: decision %d, expected %d (%s)", id, it->decision, decision, it->reason);
	CHECK_STR(it->reason, reason);
}

/* ---- scenarios ---- */

static void test_rotate__gfs_three_years_daily(void)
{
	static const char *const expected[] = {
		"2026-12-03", "2026-12-02", "2026-12-01", "2026-11-30", "2026-11-29", "2026-11-28", "2026-11-27",
		"2026-11-22", "2026-11-15", "2026-10-31", "2026-09-30", "2026-08-31", "2026-07-31", "2026-06-30",
		"2026-05-31", "2026-04-30", "2026-03-31", "2026-02-28", "2026-01-31"
	};
	const size_t nexpected = sizeof(expected) / sizeof(expected[0]);
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 0, 7, 4, 12, 0);
	ciha__plan_item *items;
	add_daily(&h, utc(2024, 1, 1, 0, 0, 0), utc(2026, 12, 3, 0, 0, 0), 0, 0);
	CHECK_INT(h.n, 1068);
	items = plan(&h, p, utc(2026, 12, 3, 12, 0, 0), 0);
	if (items) {
		CHECK_INT(count_kept(items, h.n), nexpected);
		for (size_t i = 0; i < nexpected; i++) {
			char id[32];
			snprintf(id, sizeof(id), "snap-%s", expected[i]);
			CHECK_MSG(find(items, h.n, id) && find(items, h.n, id)->decision == CIHA__KEEP, "%s not kept", id);
		}
		check_item(items, h.n, "snap-2026-12-03", CIHA__KEEP,
		           "newest completed snapshot; daily 2026-12-03; weekly 2026-W49; monthly 2026-12");
		check_item(items, h.n, "snap-2026-11-30", CIHA__KEEP, "daily 2026-11-30; monthly 2026-11");
		check_item(items, h.n, "snap-2026-11-29", CIHA__KEEP, "daily 2026-11-29; weekly 2026-W48");
		check_item(items, h.n, "snap-2026-11-22", CIHA__KEEP, "weekly 2026-W47");
		check_item(items, h.n, "snap-2026-01-31", CIHA__KEEP, "monthly 2026-01");
		check_item(items, h.n, "snap-2025-12-31", CIHA__DELETE, "older than every keep rule");
		check_item(items, h.n, "snap-2026-11-26", CIHA__DELETE, "older than every keep rule");
		check_item(items, h.n, "snap-2024-01-01", CIHA__DELETE, "older than every keep rule");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__missing_week_reaches_further_back(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 0, 0, 4, 0, 0);
	ciha__plan_item *items;
	/* no snapshots in ISO week 2026-W47 (Mon 16 - Sun 22 November) */
	add_daily(&h, utc(2026, 10, 1, 0, 0, 0), utc(2026, 12, 3, 0, 0, 0), utc(2026, 11, 16, 0, 0, 0),
	          utc(2026, 11, 23, 0, 0, 0));
	items = plan(&h, p, utc(2026, 12, 3, 12, 0, 0), 0);
	if (items) {
		CHECK(find(items, h.n, "snap-2026-11-20") == NULL);
		CHECK_INT(count_kept(items, h.n), 4);
		check_item(items, h.n, "snap-2026-12-03", CIHA__KEEP, "newest completed snapshot; weekly 2026-W49");
		check_item(items, h.n, "snap-2026-11-29", CIHA__KEEP, "weekly 2026-W48");
		check_item(items, h.n, "snap-2026-11-15", CIHA__KEEP, "weekly 2026-W46");
		check_item(items, h.n, "snap-2026-11-08", CIHA__KEEP, "weekly 2026-W45");
		check_item(items, h.n, "snap-2026-11-01", CIHA__DELETE, "older than every keep rule");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__iso_weeks_across_years(void)
{
	static const struct {
		int y, m, d;
		const char *reason;
	} cases[] = {
		{ 2020, 12, 31, "newest completed snapshot; weekly 2020-W53" },
		{ 2021, 1, 3, "newest completed snapshot; weekly 2020-W53" },
		{ 2021, 1, 4, "newest completed snapshot; weekly 2021-W01" },
		{ 2024, 12, 30, "newest completed snapshot; weekly 2025-W01" },
		{ 2026, 1, 1, "newest completed snapshot; weekly 2026-W01" },
		{ 1969, 12, 31, "newest completed snapshot; weekly 1970-W01" },
	};
	ciha_snapshot_policy *p = policy_new(0, 0, 0, 1, 0, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		history h = { NULL, 0, 0 };
		ciha__plan_item *items;
		/* the last second of the day; 1969-12-31T23:59:59Z is -1 */
		int64_t t = cases[i].y >= 1970 ? utc(cases[i].y, cases[i].m, cases[i].d, 23, 59, 59) : -1;
		history_add(&h, "snap-1", t);
		items = plan(&h, p, t + DAY, 0);
		if (items)
			CHECK_STR(items[0].reason, cases[i].reason);
		ciha__free(items);
		history_free(&h);
	}
	ciha_snapshot_policy_free(p);
}

static void test_rotate__daily_uses_utc_days(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 0, 2, 0, 0, 0);
	ciha__plan_item *items;
	history_add(&h, "snap-late", utc(2026, 3, 1, 23, 59, 59));
	history_add(&h, "snap-early", utc(2026, 3, 1, 0, 0, 0));
	history_add(&h, "snap-prev", utc(2026, 2, 28, 23, 59, 59));
	history_add(&h, "snap-midnight", utc(2026, 3, 2, 0, 0, 0));
	items = plan(&h, p, utc(2026, 3, 2, 6, 0, 0), 0);
	if (items) {
		check_item(items, h.n, "snap-midnight", CIHA__KEEP, "newest completed snapshot; daily 2026-03-02");
		check_item(items, h.n, "snap-late", CIHA__KEEP, "daily 2026-03-01");
		check_item(items, h.n, "snap-early", CIHA__DELETE, "older than every keep rule");
		check_item(items, h.n, "snap-prev", CIHA__DELETE, "older than every keep rule");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__failed_and_pending(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(2, 0, 0, 0, 0, 0);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	history_add_state(&h, "snap-pending", now - 600, CIHA__SNAP_PENDING, "pending");
	history_add_state(&h, "snap-failed-new", now - 1200, CIHA__SNAP_FAILED, "error");
	history_add(&h, "snap-a", now - DAY);
	history_add_state(&h, "snap-old-pending", now - 2 * DAY, CIHA__SNAP_PENDING, "creating");
	history_add(&h, "snap-b", now - 3 * DAY);
	history_add(&h, "snap-c", now - 4 * DAY);
	history_add_state(&h, "snap-failed-old", now - 5 * DAY, CIHA__SNAP_FAILED, NULL);
	items = plan(&h, p, now, 0);
	if (items) {
		CHECK_STR(items[0].snap->id, "snap-pending");
		check_item(items, h.n, "snap-pending", CIHA__KEEP, "not completed yet (pending)");
		check_item(items, h.n, "snap-failed-new", CIHA__DELETE, "failed snapshot (state error)");
		check_item(items, h.n, "snap-a", CIHA__KEEP, "newest completed snapshot; one of the newest 2");
		check_item(items, h.n, "snap-old-pending", CIHA__KEEP, "not completed yet (creating)");
		check_item(items, h.n, "snap-b", CIHA__KEEP, "one of the newest 2");
		check_item(items, h.n, "snap-c", CIHA__DELETE, "older than every keep rule");
		check_item(items, h.n, "snap-failed-old", CIHA__DELETE, "failed snapshot (state error)");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__foreign_snapshots_interleaved(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(1, 0, 0, 0, 0, 0);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	char id[32];
	for (int i = 0; i < 40; i++) {
		ciha__snap *s;
		snprintf(id, sizeof(id), "snap-%02d", i);
		s = history_add(&h, id, now - (int64_t)i * DAY);
		if (i % 5 == 1)
			set_owner(s, 0, NULL, 0);
		else if (i % 5 == 2)
			set_owner(s, 1, "other", 0);
		else if (i % 5 == 3)
			set_owner(s, 0, NULL, 1);
		else if (i % 5 == 4 && i > 20)
			set_owner(s, 1, NULL, 0);
		else if (i == 0)
			set_owner(s, 0, POLICY, 0);  /* a policy tag without the managed-by marker */
	}
	items = plan(&h, p, now, 0);
	if (items) {
		check_item(items, h.n, "snap-00", CIHA__KEEP, "not created by libciha");
		check_item(items, h.n, "snap-01", CIHA__KEEP, "not created by libciha");
		check_item(items, h.n, "snap-02", CIHA__KEEP, "created by libciha under policy 'other'");
		check_item(items, h.n, "snap-03", CIHA__KEEP, "automated snapshot");
		check_item(items, h.n, "snap-04", CIHA__KEEP, "newest completed snapshot; one of the newest 1");
		check_item(items, h.n, "snap-05", CIHA__DELETE, "older than every keep rule");
		check_item(items, h.n, "snap-24", CIHA__KEEP, "created by libciha without a policy tag");
		check_item(items, h.n, "snap-37", CIHA__KEEP, "created by libciha under policy 'other'");
		check_item(items, h.n, "snap-38", CIHA__KEEP, "automated snapshot");
		check_item(items, h.n, "snap-39", CIHA__KEEP, "created by libciha without a policy tag");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__keep_last_over_ten_thousand(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(7, 0, 0, 0, 0, 0);
	ciha__plan_item *items;
	int64_t base = utc(2025, 1, 1, 0, 0, 0);
	char id[32];
	/* added oldest-last in a scrambled order: i * 7919 mod 10000 visits every index once */
	for (int i = 0; i < 10000; i++) {
		int k = (int)(((long)i * 7919) % 10000);
		snprintf(id, sizeof(id), "snap-%05d", k);
		history_add(&h, id, base + (int64_t)k * 3600);
	}
	items = plan(&h, p, base + 10000L * 3600, 0);
	if (items) {
		CHECK_INT(count_kept(items, h.n), 7);
		for (int i = 0; i < 7; i++) {
			snprintf(id, sizeof(id), "snap-%05d", 9999 - i);
			CHECK_STR(items[i].snap->id, id);
			CHECK_INT(items[i].decision, CIHA__KEEP);
		}
		CHECK_STR(items[0].reason, "newest completed snapshot; one of the newest 7");
		CHECK_STR(items[6].reason, "one of the newest 7");
		CHECK_STR(items[7].reason, "older than every keep rule");
		CHECK_STR(items[9999].snap->id, "snap-00000");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__keep_days_boundary_second(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 14, 0, 0, 0, 0);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	history_add(&h, "snap-new", now - 60);
	history_add(&h, "snap-on-boundary", now - 14 * DAY);
	history_add(&h, "snap-one-second-older", now - 14 * DAY - 1);
	history_add(&h, "snap-future", now + 3600);  /* clock skew: still younger */
	items = plan(&h, p, now, 0);
	if (items) {
		check_item(items, h.n, "snap-future", CIHA__KEEP, "newest completed snapshot; younger than 14 days");
		check_item(items, h.n, "snap-new", CIHA__KEEP, "younger than 14 days");
		check_item(items, h.n, "snap-on-boundary", CIHA__KEEP, "younger than 14 days");
		check_item(items, h.n, "snap-one-second-older", CIHA__DELETE, "older than every keep rule");
	}
	ciha__free(items);
	ciha_snapshot_policy_set_keep_days(p, 1);
	items = plan(&h, p, now, 0);
	if (items)
		check_item(items, h.n, "snap-new", CIHA__KEEP, "younger than 1 day");
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__floor_when_everything_is_old(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 7, 0, 0, 0, 3);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	char id[32];
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "snap-%d", i);
		history_add(&h, id, now - (int64_t)(30 + i) * DAY);
	}
	history_add_state(&h, "snap-failed", now - 31 * DAY - 5, CIHA__SNAP_FAILED, "error");
	items = plan(&h, p, now, 0);
	if (items) {
		check_item(items, h.n, "snap-0", CIHA__KEEP, "newest completed snapshot");
		check_item(items, h.n, "snap-1", CIHA__KEEP, "floor: policy keeps at least 3");
		check_item(items, h.n, "snap-failed", CIHA__DELETE, "failed snapshot (state error)");
		check_item(items, h.n, "snap-2", CIHA__KEEP, "floor: policy keeps at least 3");
		check_item(items, h.n, "snap-3", CIHA__DELETE, "older than every keep rule");
		CHECK_INT(count_kept(items, h.n), 3);
	}
	ciha__free(items);
	/* a floor above the history keeps everything completed */
	ciha_snapshot_policy_set_min(p, 50);
	items = plan(&h, p, now, 0);
	if (items)
		CHECK_INT(count_kept(items, h.n), 10);
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__floor_counts_rule_keeps(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(2, 0, 0, 0, 0, 2);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	history_add(&h, "snap-a", now - DAY);
	history_add(&h, "snap-b", now - 2 * DAY);
	history_add(&h, "snap-c", now - 3 * DAY);
	items = plan(&h, p, now, 0);
	if (items) {
		CHECK_INT(count_kept(items, h.n), 2);
		check_item(items, h.n, "snap-c", CIHA__DELETE, "older than every keep rule");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__target_failed_deletes_nothing(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(1, 0, 0, 0, 0, 0);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	history_add(&h, "snap-a", now - DAY);
	history_add(&h, "snap-b", now - 2 * DAY);
	history_add_state(&h, "snap-failed", now - 3 * DAY, CIHA__SNAP_FAILED, "error");
	set_owner(history_add(&h, "snap-foreign", now - 4 * DAY), 0, NULL, 0);
	items = plan(&h, p, now, 1);
	if (items) {
		CHECK_INT(count_kept(items, h.n), h.n);
		for (size_t i = 0; i < h.n; i++)
			CHECK_STR(items[i].reason, "new snapshot of this target failed; nothing deleted");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__single_old_snapshot_is_kept(void)
{
	history h = { NULL, 0, 0 };
	ciha_snapshot_policy *p = policy_new(0, 1, 1, 1, 0, 0);
	ciha__plan_item *items;
	int64_t now = utc(2026, 6, 10, 12, 0, 0);
	ciha_snapshot_policy_set_keep_gfs(p, 0, 0, 0);
	history_add(&h, "snap-ancient", now - 400 * DAY);
	history_add_state(&h, "snap-failed", now - 60, CIHA__SNAP_FAILED, "error");
	items = plan(&h, p, now, 0);
	if (items) {
		check_item(items, h.n, "snap-ancient", CIHA__KEEP, "newest completed snapshot");
		check_item(items, h.n, "snap-failed", CIHA__DELETE, "failed snapshot (state error)");
	}
	ciha__free(items);
	history_free(&h);
	ciha_snapshot_policy_free(p);
}

static void test_rotate__identical_timestamps_are_ordered_by_id(void)
{
	static const char *const ids[] = { "snap-d", "snap-b", "snap-e", "snap-a", "snap-c" };
	ciha_snapshot_policy *p = policy_new(2, 0, 1, 0, 0, 0);
	int64_t t = utc(2026, 6, 10, 3, 0, 0);
	for (int rotation = 0; rotation < 5; rotation++) {
		history h = { NULL, 0, 0 };
		ciha__plan_item *items;
		for (int i = 0; i < 5; i++)
			history_add(&h, ids[(i + rotation) % 5], t);
		items = plan(&h, p, t + 3600, 0);
		if (items) {
			CHECK_STR(items[0].snap->id, "snap-a");
			CHECK_STR(items[0].reason, "newest completed snapshot; one of the newest 2; daily 2026-06-10");
			CHECK_STR(items[1].snap->id, "snap-b");
			CHECK_STR(items[1].reason, "one of the newest 2");
			CHECK_STR(items[2].snap->id, "snap-c");
			CHECK_INT(items[2].decision, CIHA__DELETE);
			CHECK_STR(items[4].snap->id, "snap-e");
		}
		ciha__free(items);
		history_free(&h);
	}
	ciha_snapshot_policy_free(p);
}

static void test_rotate__empty_history_and_bad_arguments(void)
{
	ciha_snapshot_policy *p = policy_new(1, 0, 0, 0, 0, 0), *empty = policy_new(0, 0, 0, 0, 0, 5);
	ciha__plan_item *items = NULL;
	ciha__snap one;
	CHECK_INT(ciha__rotate_plan(&items, NULL, 0, p, 0, 0), CIHA_OK);
	CHECK(items != NULL);
	ciha__free(items);
	items = NULL;
	memset(&one, 0, sizeof(one));
	CHECK_INT(ciha__rotate_plan(&items, &one, 1, empty, 0, 0), CIHA_EINVAL);
	CHECK(items == NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "keeps nothing") != NULL);
	CHECK_INT(ciha__rotate_plan(&items, NULL, 1, p, 0, 0), CIHA_EINVAL);
	CHECK_INT(ciha__rotate_plan(NULL, &one, 1, p, 0, 0), CIHA_EINVAL);
	CHECK_INT(ciha__rotate_plan(&items, &one, 1, NULL, 0, 0), CIHA_EINVAL);
	ciha_snapshot_policy_free(p);
	ciha_snapshot_policy_free(empty);
}

/* ---- random histories ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static int rng_below(int n)
{
	return (int)(rng_next() % (uint64_t)n);
}

static ciha_snapshot_policy *random_policy(void)
{
	ciha_snapshot_policy *p;
	do {
		p = policy_new(rng_below(3) ? 0 : rng_below(10), rng_below(3) ? 0 : rng_below(60),
		               rng_below(2) ? 0 : rng_below(10), rng_below(2) ? 0 : rng_below(6),
		               rng_below(2) ? 0 : rng_below(13), rng_below(2) ? 0 : rng_below(8));
		if (ciha__policy_check(p) == CIHA_OK)
			return p;
		ciha_snapshot_policy_free(p);
	} while (1);
}

static void random_owner(ciha__snap *s)
{
	switch (rng_below(8)) {
	case 0:
		set_owner(s, 0, NULL, 0);
		break;
	case 1:
		set_owner(s, 1, "other", 0);
		break;
	case 2:
		set_owner(s, 0, NULL, 1);
		break;
	case 3:
		set_owner(s, 1, NULL, 0);
		break;
	default:
		break;  /* ours */
	}
}

static void random_history(history *h, int64_t now)
{
	int n = rng_below(80);
	char id[32];
	for (int i = 0; i < n; i++) {
		int64_t created = rng_below(4) == 0 && h->n ? h->v[rng_below((int)h->n)].created
		                                            : now - rng_below(800 * DAY) + 2 * DAY;
		ciha__snap *s;
		snprintf(id, sizeof(id), "snap-%08x", (unsigned)rng_next());
		s = history_add(h, id, created);
		if (rng_below(6) == 0)
			s->state = rng_below(2) ? CIHA__SNAP_PENDING : CIHA__SNAP_FAILED;
		random_owner(s);
	}
}

static void test_rotate__invariants_on_random_histories(void)
{
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 200; round++) {
		history h = { NULL, 0, 0 };
		int64_t now = utc(2026, 1, 1, 0, 0, 0) + rng_below(365 * DAY);
		ciha_snapshot_policy *p = random_policy();
		ciha__plan_item *items;
		random_history(&h, now);
		items = plan(&h, p, now, rng_below(10) == 0);
		ciha__free(items);
		history_free(&h);
		ciha_snapshot_policy_free(p);
	}
}

static void test_rotate__dispose_frees_every_string(void)
{
	history h = { NULL, 0, 0 };
	long before = ciha__alloc_outstanding();
	ciha__snap *s = history_add(&h, "snap-1", 1);
	s->arn = ciha__strdup("arn:aws:rds:eu-west-1:123456789012:snapshot:snap-1");
	s->copy_of = ciha__strdup("snap-0");
	ciha__snap_dispose(s);
	CHECK(s->id == NULL && s->target == NULL && s->raw_state == NULL && s->policy == NULL && s->arn == NULL &&
	      s->copy_of == NULL);
	ciha__snap_dispose(NULL);
	ciha__free(h.v);
	CHECK_INT(ciha__alloc_outstanding(), before);
}

/* ---- reports ---- */

static void test_report__items_and_accessors(void)
{
	ciha_snapshot_report *r = NULL;
	int64_t t = utc(2026, 12, 3, 3, 0, 0);
	CHECK_INT(ciha__report_new(&r, "daily", 1), CIHA_OK);
	if (!r)
		return;
	CHECK_INT(ciha__report_add(r, "create", CIHA_SNAPSHOT_EBS, "vol-1", NULL, "interval elapsed", CIHA_EAGAIN,
	                           NULL, 0), 0);
	CHECK_INT(ciha__report_add(r, "delete", CIHA_SNAPSHOT_RDS, "db-1", "ciha-db-1-x", "older than every keep rule",
	                           CIHA_OK, NULL, t), 1);
	CHECK_INT(ciha_snapshot_report_count(r), 2);
	CHECK_STR(ciha_snapshot_report_action(r, 0), "create");
	CHECK_INT(ciha_snapshot_report_kind(r, 1), CIHA_SNAPSHOT_RDS);
	CHECK_STR(ciha_snapshot_report_target(r, 1), "db-1");
	CHECK(ciha_snapshot_report_snapshot_id(r, 0) == NULL);
	CHECK_STR(ciha_snapshot_report_snapshot_id(r, 1), "ciha-db-1-x");
	CHECK_STR(ciha_snapshot_report_reason(r, 1), "older than every keep rule");
	CHECK_INT(ciha_snapshot_report_outcome(r, 0), CIHA_EAGAIN);
	CHECK(ciha_snapshot_report_message(r, 1) == NULL);
	CHECK_INT(ciha_snapshot_report_created(r, 1), t);
	CHECK_INT(ciha_snapshot_report_failures(r), 0);

	ciha__report_set_outcome(r, 1, CIHA_ESTATE, "snapshot is in use by ami-1");
	CHECK_INT(ciha__report_set_snapshot_id(r, 0, "snap-new"), CIHA_OK);
	CHECK_INT(ciha__report_set_region(r, 0, "eu-west-1"), CIHA_OK);
	CHECK_STR(ciha_snapshot_report_snapshot_id(r, 0), "snap-new");
	CHECK_STR(r->items[0].region, "eu-west-1");
	CHECK_INT(ciha_snapshot_report_outcome(r, 1), CIHA_ESTATE);
	CHECK_STR(ciha_snapshot_report_message(r, 1), "snapshot is in use by ami-1");
	CHECK_INT(ciha_snapshot_report_failures(r), 1);
	ciha__report_set_outcome(r, 1, CIHA_OK, NULL);
	CHECK(ciha_snapshot_report_message(r, 1) == NULL);

	/* out of range and NULL */
	CHECK(ciha_snapshot_report_action(r, 2) == NULL);
	CHECK_INT(ciha_snapshot_report_kind(r, 2), 0);
	CHECK(ciha_snapshot_report_target(r, 99) == NULL);
	CHECK(ciha_snapshot_report_snapshot_id(r, 2) == NULL);
	CHECK(ciha_snapshot_report_reason(r, 2) == NULL);
	CHECK_INT(ciha_snapshot_report_outcome(r, 2), CIHA_EINVAL);
	CHECK(ciha_snapshot_report_message(r, 2) == NULL);
	CHECK_INT(ciha_snapshot_report_created(r, 2), 0);
	CHECK_INT(ciha__report_set_snapshot_id(r, 2, "x"), CIHA_EINVAL);
	CHECK_INT(ciha__report_set_region(r, 2, "x"), CIHA_EINVAL);
	ciha__report_set_outcome(r, 2, CIHA_OK, NULL);
	CHECK_INT(ciha_snapshot_report_count(NULL), 0);
	CHECK(ciha_snapshot_report_action(NULL, 0) == NULL);
	CHECK_INT(ciha_snapshot_report_failures(NULL), 0);
	CHECK_INT(ciha__report_add(NULL, "keep", CIHA_SNAPSHOT_EBS, "v", "s", "r", CIHA_OK, NULL, 0), -1);
	ciha_snapshot_report_free(r);
	ciha_snapshot_report_free(NULL);
}

static void test_report__grows(void)
{
	ciha_snapshot_report *r = NULL;
	char id[32];
	CHECK_INT(ciha__report_new(&r, NULL, 0), CIHA_OK);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "snap-%d", i);
		CHECK_INT(ciha__report_add(r, "keep", CIHA_SNAPSHOT_EBS, "vol-1", id, "r", CIHA_OK, NULL, i), i);
	}
	CHECK_INT(ciha_snapshot_report_count(r), 1000);
	CHECK_STR(ciha_snapshot_report_snapshot_id(r, 999), "snap-999");
	ciha_snapshot_report_free(r);
}

static json_t *report_parsed(const ciha_snapshot_report *r)
{
	char *text = NULL;
	json_t *root;
	CHECK_INT(ciha_snapshot_report_json(&text, r), CIHA_OK);
	root = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(root != NULL);
	ciha_free(text);
	return root;
}

static void test_report__json(void)
{
	ciha_snapshot_report *r = NULL;
	json_t *root, *items, *first, *second, *summary;
	char *text = (char *)1;
	CHECK_INT(ciha__report_new(&r, "daily", 1), CIHA_OK);
	ciha__report_add(r, "create", CIHA_SNAPSHOT_EBS, "vol-1", NULL, "no snapshot yet", CIHA_EAGAIN, NULL, 0);
	ciha__report_add(r, "keep", CIHA_SNAPSHOT_RDS_CLUSTER, "aurora-1", "ciha-aurora-1", "newest completed snapshot",
	                 CIHA_OK, NULL, utc(2026, 12, 3, 3, 0, 0));
	ciha__report_add(r, "delete", CIHA_SNAPSHOT_RDS, "db-1", "ciha-db-1", "older than every keep rule",
	                 CIHA_ENOTFOUND, "already gone", utc(2025, 1, 2, 3, 4, 5));
	ciha__report_add(r, "delete", CIHA_SNAPSHOT_EBS, "vol-1", "snap-2", "older than every keep rule", CIHA_OK,
	                 NULL, 1);
	ciha__report_add(r, "copy", CIHA_SNAPSHOT_EBS, "vol-1", "snap-3", "newest completed snapshot", CIHA_OK, NULL,
	                 2);
	ciha__report_set_region(r, 4, "eu-west-1");
	root = report_parsed(r);
	if (root) {
		CHECK_STR(json_string_value(json_object_get(root, "policy")), "daily");
		CHECK(json_is_true(json_object_get(root, "dry_run")));
		CHECK_INT(json_integer_value(json_object_get(root, "failures")), 1);
		items = json_object_get(root, "items");
		CHECK_INT(json_array_size(items), 5);
		first = json_array_get(items, 0);
		CHECK_STR(json_string_value(json_object_get(first, "action")), "create");
		CHECK_STR(json_string_value(json_object_get(first, "kind")), "ebs");
		CHECK_STR(json_string_value(json_object_get(first, "outcome")), "planned");
		CHECK(json_is_null(json_object_get(first, "snapshot_id")));
		CHECK(json_is_null(json_object_get(first, "created")));
		CHECK(json_is_null(json_object_get(first, "message")));
		CHECK(json_is_null(json_object_get(first, "region")));
		second = json_array_get(items, 1);
		CHECK_STR(json_string_value(json_object_get(second, "kind")), "rds-cluster");
		CHECK_STR(json_string_value(json_object_get(second, "outcome")), "ok");
		CHECK_STR(json_string_value(json_object_get(second, "created")), "2026-12-03T03:00:00Z");
		CHECK_STR(json_string_value(json_object_get(json_array_get(items, 2), "kind")), "rds");
		CHECK_STR(json_string_value(json_object_get(json_array_get(items, 2), "outcome")), "CIHA_ENOTFOUND");
		CHECK_STR(json_string_value(json_object_get(json_array_get(items, 2), "message")), "already gone");
		CHECK_STR(json_string_value(json_object_get(json_array_get(items, 2), "created")), "2025-01-02T03:04:05Z");
		CHECK_STR(json_string_value(json_object_get(json_array_get(items, 4), "region")), "eu-west-1");
		summary = json_object_get(root, "summary");
		CHECK_INT(json_integer_value(json_object_get(summary, "create")), 1);
		CHECK_INT(json_integer_value(json_object_get(summary, "skip")), 0);
		CHECK_INT(json_integer_value(json_object_get(summary, "keep")), 1);
		CHECK_INT(json_integer_value(json_object_get(summary, "delete")), 2);
		CHECK_INT(json_integer_value(json_object_get(summary, "copy")), 1);
		json_decref(root);
	}
	ciha_snapshot_report_free(r);

	CHECK_INT(ciha__report_new(&r, NULL, 0), CIHA_OK);
	root = report_parsed(r);
	if (root) {
		CHECK(json_is_null(json_object_get(root, "policy")));
		CHECK(json_is_false(json_object_get(root, "dry_run")));
		CHECK_INT(json_array_size(json_object_get(root, "items")), 0);
		json_decref(root);
	}
	ciha_snapshot_report_free(r);
	CHECK_INT(ciha_snapshot_report_json(&text, NULL), CIHA_EINVAL);
	CHECK(text == NULL);
	CHECK(ciha__report_to_json(NULL) == NULL);
}

static void test_rotate__no_leaks(void)
{
	ciha__error_thread_cleanup();
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

int main(void)
{
	RUN(test_rotate__gfs_three_years_daily);
	RUN(test_rotate__missing_week_reaches_further_back);
	RUN(test_rotate__iso_weeks_across_years);
	RUN(test_rotate__daily_uses_utc_days);
	RUN(test_rotate__failed_and_pending);
	RUN(test_rotate__foreign_snapshots_interleaved);
	RUN(test_rotate__keep_last_over_ten_thousand);
	RUN(test_rotate__keep_days_boundary_second);
	RUN(test_rotate__floor_when_everything_is_old);
	RUN(test_rotate__floor_counts_rule_keeps);
	RUN(test_rotate__target_failed_deletes_nothing);
	RUN(test_rotate__single_old_snapshot_is_kept);
	RUN(test_rotate__identical_timestamps_are_ordered_by_id);
	RUN(test_rotate__empty_history_and_bad_arguments);
	RUN(test_rotate__invariants_on_random_histories);
	RUN(test_rotate__dispose_frees_every_string);
	RUN(test_report__items_and_accessors);
	RUN(test_report__grows);
	RUN(test_report__json);
	RUN(test_rotate__no_leaks);
	return CHECK_DONE("test_rotate");
}
