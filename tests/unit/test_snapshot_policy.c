/* test_snapshot_policy.c: policy setters, JSON parsing with precise errors, round trips, checks. */
#include <string.h>
#include "ciha/errors.h"
#include "ciha/snapshot.h"
#include "alloc_int.h"
#include "error_int.h"
#include "snapshot_int.h"
#include "check.h"

static const char *last_message(void)
{
	return ciha_error_message(ciha_error_last());
}

static ciha_snapshot_policy *policy_named(const char *name)
{
	ciha_snapshot_policy *p = NULL;
	CHECK_INT(ciha_snapshot_policy_new(&p, name), CIHA_OK);
	return p;
}

/* Parse `json` expecting CIHA_EINVAL with exactly `message`. */
static void check_parse_error(const char *json, const char *message)
{
	ciha_snapshot_policy *p = (ciha_snapshot_policy *)1;
	CHECK_INT(ciha_snapshot_policy_from_json(&p, json, "policy.json"), CIHA_EINVAL);
	CHECK(p == NULL);
	CHECK_STR(last_message(), message);
}

static void test_policy__names(void)
{
	char longest[65], too_long[66];
	ciha_snapshot_policy *p = NULL;
	memset(longest, 'a', 64);
	longest[64] = '\0';
	memset(too_long, 'b', 65);
	too_long[65] = '\0';
	p = policy_named("ci-master_data.v2");
	CHECK_STR(ciha_snapshot_policy_name(p), "ci-master_data.v2");
	CHECK_INT(p->interval_s, 86400);
	CHECK_INT(p->keep_last + p->keep_days + p->keep_daily + p->keep_weekly + p->keep_monthly + p->min, 0);
	ciha_snapshot_policy_free(p);
	p = policy_named(longest);
	ciha_snapshot_policy_free(p);

	CHECK_INT(ciha_snapshot_policy_new(&p, too_long), CIHA_EINVAL);
	CHECK(p == NULL);
	CHECK(strstr(last_message(), "longer than 64") != NULL);
	CHECK_INT(ciha_snapshot_policy_new(&p, ""), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy name '' is empty");
	CHECK_INT(ciha_snapshot_policy_new(&p, NULL), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_new(&p, "ci daily"), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy name 'ci daily' may only hold letters, digits, '-', '_' and '.'");
	CHECK_INT(ciha_snapshot_policy_new(&p, "a/b"), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_new(NULL, "ok"), CIHA_EINVAL);
	CHECK(ciha_snapshot_policy_name(NULL) == NULL);
	ciha_snapshot_policy_free(NULL);
}

static void test_policy__setters(void)
{
	ciha_snapshot_policy *p = policy_named("daily");
	CHECK_INT(ciha_snapshot_policy_set_keep_last(p, 7), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_keep_days(p, 14), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_keep_gfs(p, 7, 4, 12), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_min(p, 3), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_interval(p, 3600), CIHA_OK);
	CHECK_INT(p->keep_last, 7);
	CHECK_INT(p->keep_days, 14);
	CHECK_INT(p->keep_daily, 7);
	CHECK_INT(p->keep_weekly, 4);
	CHECK_INT(p->keep_monthly, 12);
	CHECK_INT(p->min, 3);
	CHECK_INT(p->interval_s, 3600);

	CHECK_INT(ciha_snapshot_policy_set_keep_last(p, -1), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'daily': keep must be 0 or more, got -1");
	CHECK_INT(ciha_snapshot_policy_set_keep_days(p, -2), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'daily': keep_days must be 0 or more, got -2");
	CHECK_INT(ciha_snapshot_policy_set_keep_gfs(p, 1, -4, 2), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'daily': keep_weekly must be 0 or more, got -4");
	CHECK_INT(ciha_snapshot_policy_set_min(p, -3), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_set_interval(p, -60), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'daily': interval must be 0 or more, got -60");
	/* a refused setter changes nothing */
	CHECK_INT(p->keep_last, 7);
	CHECK_INT(p->keep_daily, 7);
	CHECK_INT(p->keep_monthly, 12);
	CHECK_INT(p->interval_s, 3600);
	CHECK_INT(ciha_snapshot_policy_set_keep_last(NULL, 1), CIHA_EINVAL);
	ciha_snapshot_policy_free(p);
}

static void test_policy__tags_and_copy(void)
{
	ciha_snapshot_policy *p = policy_named("t");
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "Team", "ci"), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "Env", "prod"), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "Team", "infra"), CIHA_OK);
	CHECK_INT(p->ntags, 2);
	CHECK_STR(p->tags[0].value, "infra");
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "ciha:policy", "x"), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 't': tag key 'ciha:policy' uses a reserved prefix (aws: or ciha:)");
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "aws:cloudformation", "x"), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "", "x"), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_add_tag(p, "K", NULL), CIHA_EINVAL);
	CHECK_INT(p->ntags, 2);

	CHECK_INT(ciha_snapshot_policy_set_copy(p, NULL, 3, NULL), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 't': copy_to needs a region");
	CHECK_INT(ciha_snapshot_policy_set_copy(p, "eu-west-1", -1, NULL), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_set_copy(p, "eu-west-1", 3, "alias/backup"), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_copy(p, "us-west-2", 5, NULL), CIHA_OK);
	CHECK_STR(p->copy_region, "us-west-2");
	CHECK_INT(p->copy_keep, 5);
	CHECK(p->copy_kms_key_id == NULL);
	ciha_snapshot_policy_free(p);
}

static void test_policy__options_init(void)
{
	ciha_snapshot_options opts;
	memset(&opts, 0x5a, sizeof(opts));
	CHECK_INT(ciha_snapshot_options_init(&opts, CIHA_SNAPSHOT_OPTIONS_VERSION), CIHA_OK);
	CHECK_INT(opts.version, CIHA_SNAPSHOT_OPTIONS_VERSION);
	CHECK_INT(opts.dry_run, 0);
	CHECK(opts.progress == NULL && opts.pre_hook == NULL && opts.post_hook == NULL);
	CHECK_INT(opts.now, 0);
	CHECK_INT(opts.concurrency, 0);
	CHECK_INT(ciha_snapshot_options_init(&opts, 0), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_snapshot_options_init(&opts, CIHA_SNAPSHOT_OPTIONS_VERSION + 1), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_snapshot_options_init(NULL, CIHA_SNAPSHOT_OPTIONS_VERSION), CIHA_EINVAL);
}

static void test_policy__from_json(void)
{
	ciha_snapshot_policy *p = NULL;
	const char *json = "{\"name\": \"ci\", \"keep\": 7, \"keep_days\": 14, \"keep_daily\": 7, \"keep_weekly\": 4,"
	                   " \"keep_monthly\": 12, \"min\": 3, \"interval_hours\": 1.5,"
	                   " \"tags\": {\"Team\": \"ci\", \"Cost\": \"backup\"},"
	                   " \"copy_to\": {\"region\": \"eu-west-1\", \"keep\": 2, \"kms_key_id\": \"alias/dr\"}}";
	CHECK_INT(ciha_snapshot_policy_from_json(&p, json, "policy.json"), CIHA_OK);
	if (!p)
		return;
	CHECK_STR(p->name, "ci");
	CHECK_INT(p->keep_last, 7);
	CHECK_INT(p->keep_days, 14);
	CHECK_INT(p->keep_daily, 7);
	CHECK_INT(p->keep_weekly, 4);
	CHECK_INT(p->keep_monthly, 12);
	CHECK_INT(p->min, 3);
	CHECK_INT(p->interval_s, 5400);
	CHECK_INT(p->ntags, 2);
	CHECK_STR(p->copy_region, "eu-west-1");
	CHECK_INT(p->copy_keep, 2);
	CHECK_STR(p->copy_kms_key_id, "alias/dr");
	ciha_snapshot_policy_free(p);

	CHECK_INT(ciha_snapshot_policy_from_json(&p, "{\"name\":\"n\",\"keep\":1}", NULL), CIHA_OK);
	CHECK_INT(p->interval_s, 86400);
	CHECK(p->copy_region == NULL && p->ntags == 0);
	ciha_snapshot_policy_free(p);
}

static void test_policy__json_errors(void)
{
	ciha_snapshot_policy *p = NULL;
	check_parse_error("{\"name\": \"ci\", \"keep_daily\": \"x\"}",
	                  "policy.json: $.keep_daily: expected a non-negative integer, got \"x\"");
	check_parse_error("{\"name\": \"ci\", \"keep\": -1}", "policy.json: $.keep: expected a non-negative integer, got -1");
	check_parse_error("{\"name\": \"ci\", \"min\": 2.5}", "policy.json: $.min: expected a non-negative integer, got 2.5");
	check_parse_error("{\"name\": \"ci\", \"keep\": 99999999999}",
	                  "policy.json: $.keep: expected a non-negative integer, got 99999999999");
	check_parse_error("{\"name\": \"ci\", \"keep_hourly\": 24}",
	                  "policy.json: $.keep_hourly: unknown key (known: name, keep, keep_days, keep_daily, "
	                  "keep_weekly, keep_monthly, min, interval_hours, tags, copy_to)");
	check_parse_error("{\"keep\": 1}", "policy.json: $.name: missing (every policy needs a name)");
	check_parse_error("{\"name\": 7}", "policy.json: $.name: expected a string, got 7");
	check_parse_error("{\"name\": \"a b\"}",
	                  "policy.json: $.name: policy name 'a b' may only hold letters, digits, '-', '_' and '.'");
	check_parse_error("[1, 2]", "policy.json: $: expected an object, got [1,2]");
	check_parse_error("{\"name\": \"ci\", \"interval_hours\": \"daily\"}",
	                  "policy.json: $.interval_hours: expected a non-negative number of hours, got \"daily\"");
	check_parse_error("{\"name\": \"ci\", \"tags\": {\"Team\": 5}}",
	                  "policy.json: $.tags.Team: expected a string, got 5");
	check_parse_error("{\"name\": \"ci\", \"tags\": {\"ciha:x\": \"5\"}}",
	                  "policy.json: $.tags.ciha:x: policy 'ci': tag key 'ciha:x' uses a reserved prefix "
	                  "(aws: or ciha:)");
	check_parse_error("{\"name\": \"ci\", \"tags\": [\"Team\"]}",
	                  "policy.json: $.tags: expected an object of strings, got [\"Team\"]");
	check_parse_error("{\"name\": \"ci\", \"copy_to\": \"eu-west-1\"}",
	                  "policy.json: $.copy_to: expected an object, got \"eu-west-1\"");
	check_parse_error("{\"name\": \"ci\", \"copy_to\": {\"keep\": 2}}", "policy.json: $.copy_to.region: missing");
	check_parse_error("{\"name\": \"ci\", \"copy_to\": {\"region\": \"eu-west-1\", \"kms\": \"k\"}}",
	                  "policy.json: $.copy_to.kms: unknown key (known: region, keep, kms_key_id)");
	check_parse_error("{\"name\": \"ci\", \"copy_to\": {\"region\": \"\"}}",
	                  "policy.json: $.copy_to.region: expected a non-empty string, got \"\"");
	check_parse_error("{\"name\": \"ci\", \"keep\": \"a very long string that goes on and on and on\"}",
	                  "policy.json: $.keep: expected a non-negative integer, got \"a very long string that goes "
	                  "on and ...");

	CHECK_INT(ciha_snapshot_policy_from_json(&p, "{\"name\": \"ci\",\n \"keep\": }", "policy.json"), CIHA_EINVAL);
	CHECK(strncmp(last_message(), "policy.json:2:", 14) == 0);
	CHECK(strstr(last_message(), "invalid JSON") != NULL);
	CHECK_INT(ciha_snapshot_policy_from_json(&p, "{\"name\": \"a\", \"name\": \"b\"}", "p.json"), CIHA_EINVAL);
	CHECK(strstr(last_message(), "duplicate") != NULL);
	CHECK_INT(ciha_snapshot_policy_from_json(&p, "{\"keep\": 1}", NULL), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy: $.name: missing (every policy needs a name)");
	CHECK_INT(ciha_snapshot_policy_from_json(&p, NULL, "x.json"), CIHA_EINVAL);
	CHECK_INT(ciha_snapshot_policy_from_json(NULL, "{}", "x.json"), CIHA_EINVAL);
}

static char *policy_text(const ciha_snapshot_policy *p)
{
	char *text = NULL;
	CHECK_INT(ciha_snapshot_policy_to_json(&text, p), CIHA_OK);
	return text;
}

static void check_round_trip(const ciha_snapshot_policy *p)
{
	ciha_snapshot_policy *again = NULL;
	char *text = policy_text(p), *text2;
	CHECK_INT(ciha_snapshot_policy_from_json(&again, text, "round trip"), CIHA_OK);
	if (!again) {
		ciha_free(text);
		return;
	}
	text2 = policy_text(again);
	CHECK_STR(text2, text);
	CHECK_STR(again->name, p->name);
	CHECK_INT(again->keep_last, p->keep_last);
	CHECK_INT(again->keep_days, p->keep_days);
	CHECK_INT(again->keep_daily, p->keep_daily);
	CHECK_INT(again->keep_weekly, p->keep_weekly);
	CHECK_INT(again->keep_monthly, p->keep_monthly);
	CHECK_INT(again->min, p->min);
	CHECK_INT(again->interval_s, p->interval_s);
	CHECK_INT(again->ntags, p->ntags);
	CHECK_INT(again->copy_keep, p->copy_keep);
	ciha_free(text);
	ciha_free(text2);
	ciha_snapshot_policy_free(again);
}

static void test_policy__round_trip(void)
{
	ciha_snapshot_policy *p = policy_named("ci.nexus");
	char *text;
	check_round_trip(p);
	ciha_snapshot_policy_set_keep_last(p, 7);
	ciha_snapshot_policy_set_keep_days(p, 30);
	ciha_snapshot_policy_set_keep_gfs(p, 7, 4, 12);
	ciha_snapshot_policy_set_min(p, 2);
	ciha_snapshot_policy_set_interval(p, 12 * 3600);
	ciha_snapshot_policy_add_tag(p, "Team", "ci \"quoted\"");
	ciha_snapshot_policy_set_copy(p, "eu-central-1", 3, "arn:aws:kms:eu-central-1:123456789012:key/abc");
	check_round_trip(p);
	text = policy_text(p);
	CHECK(text && strstr(text, "\"interval_hours\": 12,") != NULL);
	CHECK(text && strstr(text, "\"kms_key_id\": \"arn:aws:kms:eu-central-1:123456789012:key/abc\"") != NULL);
	ciha_free(text);
	ciha_snapshot_policy_set_interval(p, 5401);  /* not a whole number of hours */
	check_round_trip(p);
	ciha_snapshot_policy_free(p);

	CHECK_INT(ciha_snapshot_policy_to_json(&text, NULL), CIHA_EINVAL);
	CHECK(text == NULL);
}

static void test_policy__check(void)
{
	ciha_snapshot_policy *p = policy_named("x");
	CHECK_INT(ciha__policy_check(p), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'x' keeps nothing: set keep, keep_days or keep_daily/weekly/monthly");
	ciha_snapshot_policy_set_min(p, 5);
	CHECK_INT(ciha__policy_check(p), CIHA_EINVAL);  /* a floor alone is not a rule */
	ciha_snapshot_policy_set_keep_gfs(p, 0, 0, 1);
	CHECK_INT(ciha__policy_check(p), CIHA_OK);      /* min above what the rules keep is fine */
	ciha_snapshot_policy_set_keep_gfs(p, 0, 0, 0);
	ciha_snapshot_policy_set_keep_days(p, 1);
	CHECK_INT(ciha__policy_check(p), CIHA_OK);
	ciha_snapshot_policy_set_copy(p, "eu-west-1", 0, NULL);
	CHECK_INT(ciha__policy_check(p), CIHA_EINVAL);
	CHECK_STR(last_message(), "policy 'x' copies to eu-west-1 but keeps no copies there: set copy_to.keep");
	ciha_snapshot_policy_set_copy(p, "eu-west-1", 1, NULL);
	CHECK_INT(ciha__policy_check(p), CIHA_OK);
	CHECK_INT(ciha__policy_check(NULL), CIHA_EINVAL);
	ciha_snapshot_policy_free(p);
}

static void test_policy__effective_interval(void)
{
	ciha_snapshot_policy *p = policy_named("i");
	CHECK_INT(ciha__policy_effective_interval(p), 86400 - 3600);  /* slack capped at one hour */
	ciha_snapshot_policy_set_interval(p, 3600);
	CHECK_INT(ciha__policy_effective_interval(p), 3240);          /* a tenth */
	ciha_snapshot_policy_set_interval(p, 36000);
	CHECK_INT(ciha__policy_effective_interval(p), 32400);         /* a tenth is exactly one hour */
	ciha_snapshot_policy_set_interval(p, 7 * 86400);
	CHECK_INT(ciha__policy_effective_interval(p), 7 * 86400 - 3600);
	ciha_snapshot_policy_set_interval(p, 0);
	CHECK_INT(ciha__policy_effective_interval(p), 0);
	CHECK_INT(ciha__policy_effective_interval(NULL), 0);
	ciha_snapshot_policy_free(p);
}

static void test_policy__no_leaks(void)
{
	ciha__error_thread_cleanup();
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

int main(void)
{
	RUN(test_policy__names);
	RUN(test_policy__setters);
	RUN(test_policy__tags_and_copy);
	RUN(test_policy__options_init);
	RUN(test_policy__from_json);
	RUN(test_policy__json_errors);
	RUN(test_policy__round_trip);
	RUN(test_policy__check);
	RUN(test_policy__effective_interval);
	RUN(test_policy__no_leaks);
	return CHECK_DONE("test_snapshot_policy");
}
