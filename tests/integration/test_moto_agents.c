/* test_moto_agents.c: agent schedules and scaling on an Auto Scaling group
 * against moto server (CIHA_TEST_ENDPOINT, started by tests/run). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ciha.h>
#include "check.h"

static ciha_client *client;
static char group[64];

static ciha_client *new_client(const char *endpoint)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, "AKIDAGENTS", "agents-secret", NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = endpoint;
	o.credentials = p;
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

static int call(json_t **out, const char *action, json_t *params)
{
	json_t *r = NULL;
	int rc = ciha_call(&r, client, "autoscaling", action, params);
	if (rc != CIHA_OK)
		fprintf(stderr, "  autoscaling %s: %s\n", action, ciha_error_message(ciha_client_error(client)));
	json_decref(params);
	if (out)
		*out = r;
	else
		json_decref(r);
	return rc;
}

static int create_group(const char *name, int min, int max, int desired)
{
	char lc[80];
	snprintf(lc, sizeof(lc), "%s-lc", name);
	if (call(NULL, "CreateLaunchConfiguration", json_pack("{s:s, s:s, s:s}", "LaunchConfigurationName", lc,
	                                                       "ImageId", "ami-12345678", "InstanceType", "t3.micro")) != CIHA_OK)
		return -1;
	return call(NULL, "CreateAutoScalingGroup",
	            json_pack("{s:s, s:s, s:i, s:i, s:i, s:[s]}", "AutoScalingGroupName", name, "LaunchConfigurationName", lc,
	                      "MinSize", min, "MaxSize", max, "DesiredCapacity", desired, "AvailabilityZones", "us-east-1a"));
}

/* The group's "MinSize MaxSize DesiredCapacity instances" now, e.g. "1 4 3 3". */
static void group_sizes(char *buf, size_t size, const char *name)
{
	json_t *r = NULL, *g;
	snprintf(buf, size, "(no group)");
	if (call(&r, "DescribeAutoScalingGroups", json_pack("{s:[s]}", "AutoScalingGroupNames", name)) != CIHA_OK)
		return;
	g = json_array_get(json_object_get(r, "AutoScalingGroups"), 0);
	if (g)
		snprintf(buf, size, "%s %s %s %zu", json_string_value(json_object_get(g, "MinSize")),
		         json_string_value(json_object_get(g, "MaxSize")), json_string_value(json_object_get(g, "DesiredCapacity")),
		         json_array_size(json_object_get(g, "Instances")));
	json_decref(r);
}

static json_t *list_schedules(const char *name)
{
	char *text = NULL;
	json_t *list;
	if (ciha_agents_schedule_list(&text, client, name) != CIHA_OK) {
		fprintf(stderr, "  list: %s\n", ciha_error_message(ciha_client_error(client)));
		return NULL;
	}
	list = json_loads(text, 0, NULL);
	ciha_free(text);
	return list;
}

static const json_t *find_action(const json_t *list, const char *name)
{
	size_t i;
	for (i = 0; i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "name")), name) == 0)
			return json_array_get(list, i);
	return NULL;
}

static long member_int(const json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

static ciha_agent_schedule office_hours(void)
{
	ciha_agent_schedule s = CIHA_AGENT_SCHEDULE_INIT;
	s.group = group;
	s.stop_recurrence = "0 20 * * 1-5";
	s.start_recurrence = "30 6 * * MON-FRI";
	s.time_zone = "Europe/Berlin";
	s.day_min = 2;
	s.day_desired = 3;
	s.day_max = 6;
	return s;
}

static void test_schedule__set_list_and_remove(void)
{
	ciha_agent_schedule s = office_hours();
	const json_t *stop, *start;
	json_t *list;
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_OK);
	list = list_schedules(group);
	CHECK_INT(json_array_size(list), 2);
	stop = find_action(list, "ciha-stop");
	start = find_action(list, "ciha-start");
	CHECK(stop && start);
	if (stop && start) {
		CHECK_STR(json_string_value(json_object_get(stop, "recurrence")), "0 20 * * 1-5");
		CHECK_STR(json_string_value(json_object_get(stop, "time_zone")), "Europe/Berlin");
		CHECK(json_is_true(json_object_get(stop, "managed")));
		CHECK_INT(member_int(stop, "min_size"), 0);
		CHECK_INT(member_int(stop, "max_size"), 0);
		CHECK_INT(member_int(stop, "desired_capacity"), 0);
		CHECK_STR(json_string_value(json_object_get(start, "recurrence")), "30 6 * * MON-FRI");
		CHECK_INT(member_int(start, "min_size"), 2);
		CHECK_INT(member_int(start, "max_size"), 6);
		CHECK_INT(member_int(start, "desired_capacity"), 3);
	}
	json_decref(list);

	/* setting again replaces (same names), it does not add */
	s.day_desired = 4;
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_OK);
	list = list_schedules(group);
	CHECK_INT(json_array_size(list), 2);
	CHECK_INT(member_int(find_action(list, "ciha-start"), "desired_capacity"), 4);
	json_decref(list);

	CHECK_INT(ciha_agents_schedule_remove(client, group), CIHA_OK);
	list = list_schedules(group);
	CHECK(list && json_array_size(list) == 0);
	json_decref(list);
	/* removing again is fine */
	CHECK_INT(ciha_agents_schedule_remove(client, group), CIHA_OK);
}

static void test_schedule__remove_leaves_foreign_actions(void)
{
	ciha_agent_schedule s = office_hours();
	json_t *list;
	CHECK_INT(call(NULL, "PutScheduledUpdateGroupAction",
	               json_pack("{s:s, s:s, s:s, s:i}", "AutoScalingGroupName", group, "ScheduledActionName",
	                         "team-weekend", "Recurrence", "0 0 * * 6", "DesiredCapacity", 1)), CIHA_OK);
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_OK);
	list = list_schedules(group);
	CHECK_INT(json_array_size(list), 3);
	CHECK(json_is_false(json_object_get(find_action(list, "team-weekend"), "managed")));
	json_decref(list);
	CHECK_INT(ciha_agents_schedule_remove(client, group), CIHA_OK);
	list = list_schedules(group);
	CHECK_INT(json_array_size(list), 1);
	CHECK(find_action(list, "team-weekend") != NULL);
	json_decref(list);
	call(NULL, "DeleteScheduledAction",
	     json_pack("{s:s, s:s}", "AutoScalingGroupName", group, "ScheduledActionName", "team-weekend"));
}

static void test_schedule__default_time_zone_is_utc(void)
{
	ciha_agent_schedule s = office_hours();
	json_t *list;
	s.time_zone = NULL;
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_OK);
	list = list_schedules(group);
	CHECK_STR(json_string_value(json_object_get(find_action(list, "ciha-stop"), "time_zone")), "UTC");
	json_decref(list);
	ciha_agents_schedule_remove(client, group);
}

static void expect_invalid(const ciha_agent_schedule *s, const char *needle)
{
	const char *msg;
	CHECK_INT(ciha_agents_schedule_set(client, s), CIHA_EINVAL);
	msg = ciha_error_message(ciha_client_error(client));
	CHECK_MSG(strstr(msg, needle) != NULL, "message [%s] lacks [%s]", msg, needle);
}

static void test_schedule__bad_cron_is_refused(void)
{
	ciha_agent_schedule s = office_hours();
	json_t *list;
	s.stop_recurrence = "0 20 * *";
	expect_invalid(&s, "has 4 fields; cron needs 5");
	s.stop_recurrence = "0 25 * * 1-5";
	expect_invalid(&s, "bad hour field '25'");
	s.stop_recurrence = "0 20 * * 5-1";
	expect_invalid(&s, "bad day-of-week field");
	s.stop_recurrence = "0 20 * FOO *";
	expect_invalid(&s, "bad month field 'FOO'");
	s.stop_recurrence = "*/0 20 * * *";
	expect_invalid(&s, "bad minute field");
	s.stop_recurrence = "0 20 * * 1,,5";
	expect_invalid(&s, "bad day-of-week field");
	s.stop_recurrence = "0 20 * * 1-5";
	s.start_recurrence = "";
	expect_invalid(&s, "needs a start recurrence");
	s.start_recurrence = "*/15 6-8,12 1 JAN-mar sun";
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_OK);
	/* nothing was put by the refused attempts */
	list = list_schedules(group);
	CHECK_INT(json_array_size(list), 2);
	json_decref(list);
	ciha_agents_schedule_remove(client, group);
}

static void test_schedule__bad_sizes_are_refused(void)
{
	ciha_agent_schedule s = office_hours();
	s.day_desired = 7;
	expect_invalid(&s, "day sizes must satisfy 0 <= min (2) <= desired (7) <= max (6)");
	s = office_hours();
	s.day_min = 4;
	expect_invalid(&s, "day sizes");
	s = office_hours();
	s.night_min = -1;
	expect_invalid(&s, "night sizes");
	s = office_hours();
	s.night_desired = 1;
	expect_invalid(&s, "night sizes must satisfy 0 <= min (0) <= desired (1) <= max (0)");
}

static void test_schedule__missing_group(void)
{
	ciha_agent_schedule s = office_hours();
	char *text = NULL;
	s.group = "agents-that-never-were";
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_ENOTFOUND);
	CHECK_STR(ciha_error_message(ciha_client_error(client)),
	          "Auto Scaling group 'agents-that-never-were' does not exist");
	CHECK_INT(ciha_agents_schedule_list(&text, client, "agents-that-never-were"), CIHA_ENOTFOUND);
	CHECK(text == NULL);
	CHECK_INT(ciha_agents_schedule_remove(client, "agents-that-never-were"), CIHA_ENOTFOUND);
	CHECK_INT(ciha_agents_scale(client, "agents-that-never-were", 1), CIHA_ENOTFOUND);
	s.group = NULL;
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_EINVAL);
}

static void test_schedule__unknown_version(void)
{
	ciha_agent_schedule s = office_hours();
	s.version = 99;
	CHECK_INT(ciha_agents_schedule_set(client, &s), CIHA_EUNSUPPORTED);
}

static void test_scale__within_bounds(void)
{
	char sizes[64];
	CHECK_INT(ciha_agents_scale(client, group, 3), CIHA_OK);
	group_sizes(sizes, sizeof(sizes), group);
	CHECK_STR(sizes, "1 4 3 3");
}

static void test_scale__widens_max_and_min(void)
{
	char sizes[64];
	CHECK_INT(ciha_agents_scale(client, group, 6), CIHA_OK);
	group_sizes(sizes, sizeof(sizes), group);
	CHECK_STR(sizes, "1 6 6 6");
	CHECK_INT(ciha_agents_scale(client, group, 0), CIHA_OK);
	group_sizes(sizes, sizeof(sizes), group);
	CHECK_STR(sizes, "0 6 0 0");
}

static void test_scale__negative_is_refused(void)
{
	CHECK_INT(ciha_agents_scale(client, group, -2), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_client_error(client)), "-2") != NULL);
	CHECK_INT(ciha_agents_scale(client, NULL, 1), CIHA_EINVAL);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	if (!endpoint || !*endpoint)
		CHECK_SKIP("CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server");
	if (ciha_global_init(CIHA_GLOBAL_DEFAULT) != CIHA_OK || !(client = new_client(endpoint)))
		return 1;
	snprintf(group, sizeof(group), "agents-%ld", (long)getpid());
	if (create_group(group, 1, 4, 1) != CIHA_OK) {
		fprintf(stderr, "cannot create the Auto Scaling group %s\n", group);
		return 1;
	}
	RUN(test_schedule__set_list_and_remove);
	RUN(test_schedule__remove_leaves_foreign_actions);
	RUN(test_schedule__default_time_zone_is_utc);
	RUN(test_schedule__bad_cron_is_refused);
	RUN(test_schedule__bad_sizes_are_refused);
	RUN(test_schedule__missing_group);
	RUN(test_schedule__unknown_version);
	RUN(test_scale__within_bounds);
	RUN(test_scale__widens_max_and_min);
	RUN(test_scale__negative_is_refused);
	call(NULL, "DeleteAutoScalingGroup", json_pack("{s:s, s:b}", "AutoScalingGroupName", group, "ForceDelete", 1));
	ciha_client_free(client);
	ciha_global_cleanup();
	return CHECK_DONE("test_moto_agents");
}
