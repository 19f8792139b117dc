/* test_alarm_spec.c: alarm spec setters and validation, the presets' exact
 * fields, sets and their JSON form (errors naming source and path), the diff
 * against decoded DescribeAlarms members, PutMetricAlarm parameters, plans. */
#ifndef CIHA_TESTING
#define CIHA_TESTING 1 /* the HTTP transport seam of http_int.h */
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ciha.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "http_int.h"
#include "check.h"

#define TOPIC "arn:aws:sns:us-east-1:123456789012:ci-pages"

static const char *last_message(void)
{
	return ciha_error_message(ciha_error_last());
}

#define CHECK_FAILS(expr, code, fragment) do { int check__rc = (expr); CHECK_INT(check__rc, code); \
	CHECK_MSG(strstr(last_message(), (fragment)) != NULL, "message [%s] lacks [%s]", last_message(), (fragment)); \
	} while (0)

static ciha_alarm_spec *complete_spec(const char *name)
{
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_spec_new(&s, name), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_metric(s, "CIHA", "QueueDepth"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_threshold(s, "GreaterThanThreshold", 10), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "notBreaching"), CIHA_OK);
	return s;
}

static const char *dim_value(const ciha_alarm_spec *s, const char *name)
{
	size_t i;
	for (i = 0; i < s->ndims; i++)
		if (strcmp(s->dims[i].name, name) == 0)
			return s->dims[i].value;
	return NULL;
}

/* ---- setters and validation ---- */

static void test_spec__defaults(void)
{
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_spec_new(&s, "queue-deep"), CIHA_OK);
	CHECK_STR(ciha_alarm_spec_name(s), "queue-deep");
	CHECK_STR(s->statistic, "Average");
	CHECK_INT(s->period_s, 60);
	CHECK_INT(s->periods, 1);
	CHECK_INT(s->datapoints, 1);
	CHECK(s->missing_data == NULL && s->comparison == NULL && s->unit == NULL && s->description == NULL);
	ciha_alarm_spec_free(s);
	ciha_alarm_spec_free(NULL);
}

static void test_spec__setters_store_values(void)
{
	ciha_alarm_spec *s = complete_spec("q");
	CHECK_INT(ciha_alarm_spec_add_dimension(s, "Queue", "builds"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_statistic(s, "SampleCount"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 300, 3, 2), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_unit(s, "Count"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_description(s, "builds queue up"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "missing"), CIHA_OK);
	CHECK_STR(s->namespace_, "CIHA");
	CHECK_STR(s->metric, "QueueDepth");
	CHECK_STR(dim_value(s, "Queue"), "builds");
	CHECK_STR(s->statistic, "SampleCount");
	CHECK_STR(s->comparison, "GreaterThanThreshold");
	CHECK(s->threshold == 10.0);
	CHECK_INT(s->period_s, 300);
	CHECK_INT(s->periods, 3);
	CHECK_INT(s->datapoints, 2);
	CHECK_STR(s->unit, "Count");
	CHECK_STR(s->description, "builds queue up");
	CHECK_STR(s->missing_data, "missing");
	CHECK_INT(ciha_alarm_spec_set_unit(s, NULL), CIHA_OK);
	CHECK(s->unit == NULL);
	CHECK_INT(ciha__alarm_spec_check(s), CIHA_OK);
	ciha_alarm_spec_free(s);
}

static void test_spec__names(void)
{
	ciha_alarm_spec *s = NULL;
	char name[300];
	memset(name, 'a', 255);
	name[255] = '\0';
	CHECK_INT(ciha_alarm_spec_new(&s, name), CIHA_OK);
	ciha_alarm_spec_free(s);
	s = NULL;
	name[255] = 'a';
	name[256] = '\0';
	CHECK_FAILS(ciha_alarm_spec_new(&s, name), CIHA_EINVAL, "longer than 255 characters");
	CHECK(s == NULL);
	CHECK_FAILS(ciha_alarm_spec_new(&s, ""), CIHA_EINVAL, "alarm name is empty");
	CHECK_FAILS(ciha_alarm_spec_new(&s, NULL), CIHA_EINVAL, "alarm name is empty");
	CHECK_FAILS(ciha_alarm_spec_new(&s, "bad\nname"), CIHA_EINVAL, "control character");
	CHECK_FAILS(ciha_alarm_spec_new(&s, "tab\tname"), CIHA_EINVAL, "control character");
	CHECK_INT(ciha_alarm_spec_new(&s, "Ünïcode name ok"), CIHA_OK);
	ciha_alarm_spec_free(s);
}

static void test_spec__comparisons_and_statistics(void)
{
	ciha_alarm_spec *s = complete_spec("c");
	const char *good_cmp[] = { "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
		"LessThanOrEqualToThreshold" };
	const char *good_stat[] = { "Average", "Sum", "Minimum", "Maximum", "SampleCount" };
	size_t i;
	for (i = 0; i < 4; i++)
		CHECK_INT(ciha_alarm_spec_set_threshold(s, good_cmp[i], 1), CIHA_OK);
	for (i = 0; i < 5; i++)
		CHECK_INT(ciha_alarm_spec_set_statistic(s, good_stat[i]), CIHA_OK);
	CHECK_FAILS(ciha_alarm_spec_set_threshold(s, "Bogus", 1), CIHA_EINVAL, "alarm 'c': unknown comparison 'Bogus'");
	CHECK_FAILS(ciha_alarm_spec_set_threshold(s, "LessThanLowerThreshold", 1), CIHA_EINVAL, "unknown comparison");
	CHECK_FAILS(ciha_alarm_spec_set_threshold(s, "lessthanthreshold", 1), CIHA_EINVAL, "unknown comparison");
	CHECK_FAILS(ciha_alarm_spec_set_threshold(s, "LessThanThreshold", NAN), CIHA_EINVAL, "not a finite number");
	CHECK_FAILS(ciha_alarm_spec_set_threshold(s, "LessThanThreshold", INFINITY), CIHA_EINVAL, "not a finite");
	CHECK_FAILS(ciha_alarm_spec_set_statistic(s, "p99"), CIHA_EINVAL, "alarm 'c': unknown statistic 'p99'");
	CHECK_FAILS(ciha_alarm_spec_set_statistic(s, NULL), CIHA_EINVAL, "unknown statistic");
	CHECK_STR(s->statistic, "SampleCount");   /* unchanged by the refusals */
	CHECK_STR(s->comparison, "LessThanOrEqualToThreshold");
	ciha_alarm_spec_free(s);
}

static void test_spec__evaluation(void)
{
	ciha_alarm_spec *s = complete_spec("e");
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 10, 6, 6), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 30, 2, 1), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 120, 5, 5), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 3600, 24, 3), CIHA_OK);
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 45, 1, 1), CIHA_EINVAL, "period 45 s is not 10, 30 or a multiple of 60");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 0, 1, 1), CIHA_EINVAL, "period 0 s");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, -60, 1, 1), CIHA_EINVAL, "period -60 s");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 90, 1, 1), CIHA_EINVAL, "period 90 s");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 60, 2, 3), CIHA_EINVAL, "3 datapoints to alarm, but it must be 1 to the 2");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 60, 2, 0), CIHA_EINVAL, "0 datapoints");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 60, 0, 0), CIHA_EINVAL, "0 evaluation periods");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 60, 1441, 1), CIHA_EINVAL, "more than CloudWatch allows");
	CHECK_FAILS(ciha_alarm_spec_set_evaluation(s, 3600, 169, 1), CIHA_EINVAL, "more than CloudWatch allows");
	CHECK_INT(s->period_s, 3600);
	CHECK_INT(s->periods, 24);
	CHECK_INT(s->datapoints, 3);
	ciha_alarm_spec_free(s);
}

static void test_spec__missing_data_unit_description_dimensions(void)
{
	ciha_alarm_spec *s = complete_spec("m");
	char big[1100];
	int i;
	CHECK_FAILS(ciha_alarm_spec_set_missing_data(s, "zero"), CIHA_EINVAL, "alarm 'm': unknown missing-data treatment 'zero'");
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "ignore"), CIHA_OK);
	CHECK_FAILS(ciha_alarm_spec_set_unit(s, "Furlongs"), CIHA_EINVAL, "unknown unit 'Furlongs'");
	CHECK_INT(ciha_alarm_spec_set_unit(s, "Bytes/Second"), CIHA_OK);
	memset(big, 'd', 1025);
	big[1025] = '\0';
	CHECK_FAILS(ciha_alarm_spec_set_description(s, big), CIHA_EINVAL, "longer than 1024");
	CHECK_FAILS(ciha_alarm_spec_add_dimension(s, "", "x"), CIHA_EINVAL, "a dimension name is empty");
	CHECK_FAILS(ciha_alarm_spec_add_dimension(s, "Host", ""), CIHA_EINVAL, "a dimension value is empty");
	CHECK_INT(ciha_alarm_spec_add_dimension(s, "Host", "bamboo-1"), CIHA_OK);
	CHECK_FAILS(ciha_alarm_spec_add_dimension(s, "Host", "bamboo-2"), CIHA_EEXISTS, "dimension 'Host' is given twice");
	for (i = 1; i < 30; i++) {
		char n[16];
		snprintf(n, sizeof(n), "D%d", i);
		CHECK_INT(ciha_alarm_spec_add_dimension(s, n, "v"), CIHA_OK);
	}
	CHECK_FAILS(ciha_alarm_spec_add_dimension(s, "D31", "v"), CIHA_EINVAL, "more than 30 dimensions");
	CHECK_FAILS(ciha_alarm_spec_set_metric(s, "", "M"), CIHA_EINVAL, "the namespace is empty");
	CHECK_FAILS(ciha_alarm_spec_set_metric(s, "NS", NULL), CIHA_EINVAL, "the metric name is empty");
	CHECK_FAILS(ciha_alarm_spec_set_metric(NULL, "NS", "M"), CIHA_EINVAL, "NULL spec");
	ciha_alarm_spec_free(s);
}

static void test_spec__check_refuses_incomplete(void)
{
	ciha_alarm_spec *s = NULL;
	ciha_alarm_set *set = NULL;
	CHECK_INT(ciha_alarm_spec_new(&s, "x"), CIHA_OK);
	CHECK_INT(ciha_alarm_set_new(&set, "ci-", TOPIC), CIHA_OK);
	CHECK_FAILS(ciha_alarm_set_add(set, s), CIHA_EINVAL, "alarm 'x': no metric");
	CHECK_INT(ciha_alarm_spec_set_metric(s, "CIHA", "M"), CIHA_OK);
	CHECK_FAILS(ciha_alarm_set_add(set, s), CIHA_EINVAL, "alarm 'x': no threshold");
	CHECK_INT(ciha_alarm_spec_set_threshold(s, "LessThanThreshold", 1), CIHA_OK);
	CHECK_FAILS(ciha_alarm_set_add(set, s), CIHA_EINVAL, "alarm 'x': state how missing data is treated");
	CHECK_FAILS(ciha__alarm_spec_check(s), CIHA_EINVAL, "alarm 'x': state how missing data is treated");
	CHECK_INT(set->n, 0);
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "breaching"), CIHA_OK);
	CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
	CHECK_INT(set->n, 1);
	ciha_alarm_spec_free(s);
	ciha_alarm_set_free(set);
}

/* ---- presets ---- */

typedef struct {
	const char *namespace_, *metric, *statistic, *comparison;
	double threshold;
	int period_s, periods, datapoints;
	const char *missing_data;
} expected_shape;

static void check_shape(const ciha_alarm_spec *s, const expected_shape *e)
{
	if (!s) {
		CHECK(s != NULL);
		return;
	}
	CHECK_STR(s->namespace_, e->namespace_);
	CHECK_STR(s->metric, e->metric);
	CHECK_STR(s->statistic, e->statistic);
	CHECK_STR(s->comparison, e->comparison);
	CHECK_MSG(s->threshold == e->threshold, "threshold %g, expected %g", s->threshold, e->threshold);
	CHECK_INT(s->period_s, e->period_s);
	CHECK_INT(s->periods, e->periods);
	CHECK_INT(s->datapoints, e->datapoints);
	CHECK_STR(s->missing_data, e->missing_data);
	CHECK(s->unit == NULL);
	CHECK(s->description && *s->description);
	CHECK_INT(ciha__alarm_spec_check(s), CIHA_OK);
}

static void test_preset__elb_no_healthy_host(void)
{
	static const expected_shape e = { "AWS/ELB", "HealthyHostCount", "Minimum", "LessThanThreshold", 1, 60, 1, 1,
		"breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_elb_no_healthy_host(&s, "nexus-elb", "nexus-lb"), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(ciha_alarm_spec_name(s), "nexus-elb");
	CHECK_INT(s->ndims, 1);
	CHECK_STR(dim_value(s, "LoadBalancerName"), "nexus-lb");
	CHECK(strstr(s->description, "nexus-lb") != NULL);
	ciha_alarm_spec_free(s);
	CHECK_FAILS(ciha_alarm_preset_elb_no_healthy_host(&s, "x", ""), CIHA_EINVAL, "no load balancer name");
	CHECK(s == NULL);
}

static void test_preset__alb_no_healthy_host(void)
{
	static const expected_shape e = { "AWS/ApplicationELB", "HealthyHostCount", "Minimum", "LessThanThreshold", 1,
		60, 1, 1, "breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_alb_no_healthy_host(&s, "bamboo-alb", "app/bamboo/50dc6c495c0c9188",
	                                                "targetgroup/agents/6d0ecf831eec9f09"), CIHA_OK);
	check_shape(s, &e);
	CHECK_INT(s ? s->ndims : 0, 2);
	CHECK_STR(dim_value(s, "LoadBalancer"), "app/bamboo/50dc6c495c0c9188");
	CHECK_STR(dim_value(s, "TargetGroup"), "targetgroup/agents/6d0ecf831eec9f09");
	ciha_alarm_spec_free(s);
	s = NULL;
	/* ARNs become the dimension values CloudWatch uses */
	CHECK_INT(ciha_alarm_preset_alb_no_healthy_host(&s, "bamboo-alb",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/bamboo/50dc6c495c0c9188",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/agents/6d0ecf831eec9f09"), CIHA_OK);
	CHECK_STR(dim_value(s, "LoadBalancer"), "app/bamboo/50dc6c495c0c9188");
	CHECK_STR(dim_value(s, "TargetGroup"), "targetgroup/agents/6d0ecf831eec9f09");
	ciha_alarm_spec_free(s);
	s = NULL;
	CHECK_FAILS(ciha_alarm_preset_alb_no_healthy_host(&s, "x", "bamboo", "targetgroup/a/1"), CIHA_EINVAL,
	            "'bamboo' is not a app/... dimension value or ARN");
	CHECK_FAILS(ciha_alarm_preset_alb_no_healthy_host(&s, "x", "app/b/1", "agents"), CIHA_EINVAL,
	            "not a targetgroup/...");
	CHECK_FAILS(ciha_alarm_preset_alb_no_healthy_host(&s, "x", "app/b/1", NULL), CIHA_EINVAL, "no target group");
	CHECK(s == NULL);
}

static void test_preset__volume_not_mounted(void)
{
	static const expected_shape e = { "CIHA", "VolumeMounted", "Minimum", "LessThanThreshold", 1, 300, 1, 1,
		"breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_volume_not_mounted(&s, "artifacts", "bamboo-1", "/var/atlassian/artifacts"), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(CIHA_METRIC_NAMESPACE, "CIHA");
	CHECK_INT(s ? s->ndims : 0, 2);
	CHECK_STR(dim_value(s, "Host"), "bamboo-1");
	CHECK_STR(dim_value(s, "MountPoint"), "/var/atlassian/artifacts");
	ciha_alarm_spec_free(s);
	s = NULL;
	CHECK_FAILS(ciha_alarm_preset_volume_not_mounted(&s, "x", "h", ""), CIHA_EINVAL, "no mount point");
}

static void test_preset__asg_below_min(void)
{
	static const expected_shape e = { "AWS/AutoScaling", "GroupInServiceInstances", "Minimum", "LessThanThreshold",
		3, 60, 1, 1, "breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_asg_below_min(&s, "agents", "bamboo-agents", 3), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(dim_value(s, "AutoScalingGroupName"), "bamboo-agents");
	CHECK(s && strstr(s->description, "group metrics enabled") != NULL);
	ciha_alarm_spec_free(s);
	s = NULL;
	CHECK_FAILS(ciha_alarm_preset_asg_below_min(&s, "x", "g", 0), CIHA_EINVAL, "minimum 0 in service");
	CHECK(s == NULL);
}

static void test_preset__rds_free_storage_low(void)
{
	static const expected_shape e = { "AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold", 2e9, 300, 1, 1,
		"breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_rds_free_storage_low(&s, "db", "bamboo-db", 2e9), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(dim_value(s, "DBInstanceIdentifier"), "bamboo-db");
	ciha_alarm_spec_free(s);
	s = NULL;
	CHECK_FAILS(ciha_alarm_preset_rds_free_storage_low(&s, "x", "db", 0), CIHA_EINVAL, "positive number of bytes");
	CHECK_FAILS(ciha_alarm_preset_rds_free_storage_low(&s, "x", "db", NAN), CIHA_EINVAL, "positive number of bytes");
}

static void test_preset__status_check_failed(void)
{
	static const expected_shape e = { "AWS/EC2", "StatusCheckFailed", "Maximum", "GreaterThanOrEqualToThreshold", 1,
		60, 2, 2, "notBreaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_status_check_failed(&s, "nexus-host", "i-0123456789abcdef0"), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(dim_value(s, "InstanceId"), "i-0123456789abcdef0");
	ciha_alarm_spec_free(s);
}

static void test_preset__snapshot_too_old(void)
{
	static const expected_shape e = { "CIHA", "SnapshotAgeSeconds", "Maximum", "GreaterThanThreshold", 93600, 3600,
		1, 1, "breaching" };
	ciha_alarm_spec *s = NULL;
	CHECK_INT(ciha_alarm_preset_snapshot_too_old(&s, "backup", "vol-0abc", 93600), CIHA_OK);
	check_shape(s, &e);
	CHECK_STR(dim_value(s, "Target"), "vol-0abc");
	ciha_alarm_spec_free(s);
	s = NULL;
	CHECK_FAILS(ciha_alarm_preset_snapshot_too_old(&s, "x", "vol-1", 0), CIHA_EINVAL, "maximum age must be positive");
	CHECK_FAILS(ciha_alarm_preset_snapshot_too_old(&s, "bad\x01", "vol-1", 60), CIHA_EINVAL, "control character");
}

/* ---- sets ---- */

static void test_set__add_copies_and_refuses_duplicates(void)
{
	ciha_alarm_set *set = NULL;
	ciha_alarm_spec *s = complete_spec("q"), *t = NULL;
	char *full;
	char longname[260];
	CHECK_INT(ciha_alarm_set_new(&set, "ci-", NULL), CIHA_OK);
	CHECK(set->topic_arn == NULL);
	CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_threshold(s, "GreaterThanThreshold", 99), CIHA_OK);
	CHECK(set->specs[0]->threshold == 10.0);       /* copied */
	CHECK(set->specs[0] != s);
	CHECK_FAILS(ciha_alarm_set_add(set, s), CIHA_EEXISTS, "alarm 'q' is already in the set");
	full = ciha__alarm_full_name(set, set->specs[0]);
	CHECK_STR(full, "ci-q");
	CHECK(ciha__alarm_set_find(set, "ci-q") == set->specs[0]);
	CHECK(ciha__alarm_set_find(set, "q") == NULL);
	CHECK(ciha__alarm_set_find(set, "ci-r") == NULL);
	ciha__free(full);
	memset(longname, 'n', 254);
	longname[254] = '\0';
	t = complete_spec(longname);
	CHECK_FAILS(ciha_alarm_set_add(set, t), CIHA_EINVAL, "prefix and name together are longer than 255");
	CHECK_FAILS(ciha_alarm_set_set_topic(set, "arn:aws:sqs:us-east-1:1:q"), CIHA_EINVAL, "not an SNS topic ARN");
	CHECK_INT(ciha_alarm_set_set_topic(set, TOPIC), CIHA_OK);
	CHECK_STR(set->topic_arn, TOPIC);
	{
		ciha_alarm_set *other = NULL;
		CHECK_FAILS(ciha_alarm_set_new(&other, "", TOPIC), CIHA_EINVAL, "prefix is empty");
		CHECK(other == NULL);
	}
	ciha_alarm_spec_free(s);
	ciha_alarm_spec_free(t);
	ciha_alarm_set_free(set);
	ciha_alarm_set_free(NULL);
}

static const char *full_json =
	"{\"prefix\": \"ci-\", \"topic_arn\": \"" TOPIC "\", \"alarms\": ["
	"{\"name\": \"nexus-elb\", \"preset\": \"elb-no-healthy-host\", \"load_balancer\": \"nexus-lb\"},"
	"{\"name\": \"bamboo-alb\", \"preset\": \"alb-no-healthy-host\", \"load_balancer\": \"app/b/1\","
	" \"target_group\": \"targetgroup/t/2\"},"
	"{\"name\": \"artifacts\", \"preset\": \"volume-not-mounted\", \"host\": \"bamboo-1\","
	" \"mount_point\": \"/srv/artifacts\", \"period\": 60},"
	"{\"name\": \"agents\", \"preset\": \"asg-below-min\", \"group\": \"agents-asg\", \"min\": 2},"
	"{\"name\": \"db\", \"preset\": \"rds-free-storage-low\", \"db_id\": \"bamboo-db\", \"bytes\": 5e9,"
	" \"threshold\": 6e9},"
	"{\"name\": \"host\", \"preset\": \"status-check-failed\", \"instance_id\": \"i-1\"},"
	"{\"name\": \"backup\", \"preset\": \"snapshot-too-old\", \"target\": \"vol-1\", \"max_age_s\": 90000},"
	"{\"name\": \"queue\", \"namespace\": \"CIHA\", \"metric\": \"QueueDepth\", \"dimensions\": {\"Plan\": \"CI\","
	" \"Agent\": \"any\"}, \"statistic\": \"Maximum\", \"comparison\": \"GreaterThanThreshold\", \"threshold\": 50,"
	" \"period\": 300, \"periods\": 3, \"missing_data\": \"notBreaching\", \"description\": \"queue too deep\","
	" \"unit\": \"Count\"}]}";

static void test_set_json__presets_custom_and_overrides(void)
{
	ciha_alarm_set *set = NULL;
	const ciha_alarm_spec *s;
	CHECK_INT(ciha_alarm_set_from_json(&set, full_json, "alarms.json"), CIHA_OK);
	if (!set)
		return;
	CHECK_STR(set->prefix, "ci-");
	CHECK_STR(set->topic_arn, TOPIC);
	CHECK_INT(set->n, 8);
	s = ciha__alarm_set_find(set, "ci-nexus-elb");
	CHECK(s && strcmp(s->metric, "HealthyHostCount") == 0 && strcmp(dim_value(s, "LoadBalancerName"), "nexus-lb") == 0);
	s = ciha__alarm_set_find(set, "ci-artifacts");
	CHECK(s && s->period_s == 60 && strcmp(s->missing_data, "breaching") == 0);
	s = ciha__alarm_set_find(set, "ci-agents");
	CHECK(s && s->threshold == 2.0);
	s = ciha__alarm_set_find(set, "ci-db");
	CHECK(s && s->threshold == 6e9 && strcmp(s->comparison, "LessThanThreshold") == 0);
	s = ciha__alarm_set_find(set, "ci-backup");
	CHECK(s && s->threshold == 90000.0 && strcmp(dim_value(s, "Target"), "vol-1") == 0);
	s = ciha__alarm_set_find(set, "ci-queue");
	if (s) {
		CHECK_STR(s->statistic, "Maximum");
		CHECK_INT(s->periods, 3);
		CHECK_INT(s->datapoints, 3);   /* all periods unless stated */
		CHECK_STR(dim_value(s, "Plan"), "CI");
		CHECK_STR(dim_value(s, "Agent"), "any");
		CHECK_STR(s->unit, "Count");
		CHECK_STR(s->description, "queue too deep");
	}
	CHECK(s != NULL);
	ciha_alarm_set_free(set);
}

typedef struct {
	const char *json;
	int code;
	const char *message;
} json_case;

static void test_set_json__errors_name_source_and_path(void)
{
	static const json_case cases[] = {
		{ "{\"prefix\": \"ci-\",", CIHA_EINVAL, "alarms.json:1:" },
		{ "[]", CIHA_EINVAL, "alarms.json: $: expected an object, got []" },
		{ "{\"alarms\": []}", CIHA_EINVAL, "alarms.json: $.prefix: missing" },
		{ "{\"prefix\": 7, \"alarms\": []}", CIHA_EINVAL, "alarms.json: $.prefix: expected a non-empty string, got 7" },
		{ "{\"prefix\": \"ci-\", \"alarm\": []}", CIHA_EINVAL, "alarms.json: $.alarm: unknown key (known: prefix, topic_arn, alarms)" },
		{ "{\"prefix\": \"ci-\"}", CIHA_EINVAL, "alarms.json: $.alarms: missing" },
		{ "{\"prefix\": \"ci-\", \"alarms\": {}}", CIHA_EINVAL, "alarms.json: $.alarms: expected an array of alarms" },
		{ "{\"prefix\": \"ci-\", \"topic_arn\": \"topic\", \"alarms\": []}", CIHA_EINVAL,
		  "alarms.json: $.topic_arn: 'topic' is not an SNS topic ARN" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [7]}", CIHA_EINVAL, "alarms.json: $.alarms[0]: expected an object, got 7" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"preset\": \"status-check-failed\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].name: missing" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"a\", \"preset\": \"status-check-failed\", \"instance_id\": "
		  "\"i-1\"}, {\"name\": \"b\", \"preset\": \"elb-down\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[1].preset: unknown preset (known: elb-no-healthy-host" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"b\", \"preset\": \"elb-no-healthy-host\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].load_balancer: missing" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"b\", \"preset\": \"asg-below-min\", \"group\": \"g\", "
		  "\"min\": \"two\"}]}", CIHA_EINVAL, "alarms.json: $.alarms[0].min: expected a number, got \"two\"" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"b\", \"preset\": \"asg-below-min\", \"group\": \"g\", "
		  "\"min\": 0}]}", CIHA_EINVAL, "alarms.json: $.alarms[0]: preset asg-below-min: minimum 0 in service" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"b\", \"preset\": \"elb-no-healthy-host\", "
		  "\"load_balancer\": \"lb\", \"host\": \"h\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].host: unknown key for preset elb-no-healthy-host" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": \"low\", \"missing_data\": \"ignore\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].threshold: expected a number, got \"low\"" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1, \"statistic\": \"p50\", \"missing_data\": "
		  "\"ignore\"}]}", CIHA_EINVAL, "alarms.json: $.alarms[0].statistic: alarm 'q': unknown statistic 'p50'" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0]: alarm 'q': state how missing data is treated" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1, \"missing_data\": \"ignore\", "
		  "\"dimensions\": {\"Host\": 3}}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].dimensions.Host: expected a string, got 3" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"metric\": \"M\", \"comparison\": "
		  "\"LessThanThreshold\", \"threshold\": 1, \"missing_data\": \"ignore\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].namespace: missing (a metric needs its namespace)" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"threshold\": 1, \"missing_data\": \"ignore\"}]}", CIHA_EINVAL,
		  "alarms.json: $.alarms[0].comparison: missing (a threshold needs its comparison)" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1, \"missing_data\": \"ignore\", \"period\": 45}]}",
		  CIHA_EINVAL, "alarms.json: $.alarms[0].period: alarm 'q': period 45 s is not 10, 30 or a multiple of 60" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1, \"missing_data\": \"ignore\", \"periods\": 2, "
		  "\"datapoints\": 3}]}", CIHA_EINVAL, "alarms.json: $.alarms[0].datapoints: alarm 'q': 3 datapoints to alarm" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"q\", \"namespace\": \"N\", \"metric\": \"M\", "
		  "\"comparison\": \"LessThanThreshold\", \"threshold\": 1, \"missing_data\": \"ignore\", \"colour\": 1}]}",
		  CIHA_EINVAL, "alarms.json: $.alarms[0].colour: unknown key (known: name, preset" },
		{ "{\"prefix\": \"ci-\", \"alarms\": [{\"name\": \"a\", \"preset\": \"status-check-failed\", \"instance_id\": "
		  "\"i-1\"}, {\"name\": \"a\", \"preset\": \"status-check-failed\", \"instance_id\": \"i-2\"}]}", CIHA_EEXISTS,
		  "alarms.json: $.alarms[1]: alarm 'a' is already in the set" },
		{ "{\"prefix\": \"ci-\", \"prefix\": \"x\", \"alarms\": []}", CIHA_EINVAL, "alarms.json:1:" },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ciha_alarm_set *set = NULL;
		int rc = ciha_alarm_set_from_json(&set, cases[i].json, "alarms.json");
		const char *msg = last_message();
		CHECK_MSG(rc == cases[i].code, "case %zu: rc %d, expected %d (%s)", i, rc, cases[i].code, msg);
		CHECK_MSG(strstr(msg, cases[i].message) != NULL, "case %zu: message [%s] lacks [%s]", i, msg,
		          cases[i].message);
		CHECK(set == NULL);
		ciha_alarm_set_free(set);
	}
}

static void test_set_json__defaults_and_empty(void)
{
	ciha_alarm_set *set = NULL;
	CHECK_INT(ciha_alarm_set_from_json(&set, "{\"prefix\": \"ci-\", \"alarms\": []}", NULL), CIHA_OK);
	CHECK(set && set->n == 0 && set->topic_arn == NULL);
	ciha_alarm_set_free(set);
	set = NULL;
	CHECK_FAILS(ciha_alarm_set_from_json(&set, "nope", NULL), CIHA_EINVAL, "alarms:1:4: invalid JSON");
	CHECK_FAILS(ciha_alarm_set_from_json(&set, NULL, "f.json"), CIHA_EINVAL, "f.json: no JSON text");
}

/* ---- the diff ---- */

/* A DescribeAlarms member as ciha_call decodes it: every leaf a string. */
static json_t *described_like(const ciha_alarm_spec *s, const char *name)
{
	json_t *dims = json_array();
	char threshold[40], period[16], periods[16], datapoints[16];
	size_t i;
	for (i = s->ndims; i-- > 0;)   /* reversed: order must not matter */
		json_array_append_new(dims, json_pack("{s:s, s:s}", "Name", s->dims[i].name, "Value", s->dims[i].value));
	snprintf(threshold, sizeof(threshold), "%.1f", s->threshold);
	snprintf(period, sizeof(period), "%d", s->period_s);
	snprintf(periods, sizeof(periods), "%d", s->periods);
	snprintf(datapoints, sizeof(datapoints), "%d", s->datapoints);
	return json_pack("{s:s, s:s, s:s, s:[s], s:[s], s:[], s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, "
	                 "s:s?, s:s}",
	                 "AlarmName", name, "AlarmArn", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x",
	                 "ActionsEnabled", "true", "OKActions", TOPIC, "AlarmActions", TOPIC, "InsufficientDataActions",
	                 "StateValue", "OK", "MetricName", s->metric, "Namespace", s->namespace_, "Dimensions", dims,
	                 "Statistic", s->statistic, "Period", period, "EvaluationPeriods", periods,
	                 "DatapointsToAlarm", datapoints, "Threshold", threshold, "ComparisonOperator", s->comparison,
	                 "AlarmDescription", s->description, "Unit", s->unit, "TreatMissingData", s->missing_data);
}

static char *diff_of(const ciha_alarm_spec *s, const json_t *described)
{
	char *d = NULL;
	CHECK_INT(ciha__alarm_diff(&d, s, TOPIC, described), CIHA_OK);
	return d;
}

#define CHECK_DIFF(spec, described, expected) do { char *check__d = diff_of((spec), (described)); \
	CHECK_STR(check__d, (expected)); ciha__free(check__d); } while (0)

static void test_diff__unchanged(void)
{
	ciha_alarm_spec *s = NULL;
	json_t *d;
	CHECK_INT(ciha_alarm_preset_alb_no_healthy_host(&s, "alb", "app/b/1", "targetgroup/t/2"), CIHA_OK);
	d = described_like(s, "ci-alb");
	CHECK_DIFF(s, d, "");
	json_decref(d);
	/* absent DatapointsToAlarm means all periods; absent TreatMissingData means "missing" */
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "missing"), CIHA_OK);
	d = described_like(s, "ci-alb");
	json_object_del(d, "DatapointsToAlarm");
	json_object_del(d, "TreatMissingData");
	CHECK_DIFF(s, d, "");
	json_decref(d);
	ciha_alarm_spec_free(s);
}

static void test_diff__threshold_and_scalars(void)
{
	ciha_alarm_spec *s = NULL;
	json_t *d;
	CHECK_INT(ciha_alarm_preset_asg_below_min(&s, "agents", "asg", 1), CIHA_OK);
	d = described_like(s, "ci-agents");
	CHECK_INT(ciha_alarm_spec_set_threshold(s, "LessThanThreshold", 2), CIHA_OK);
	CHECK_DIFF(s, d, "Threshold: 1 -> 2");
	CHECK_INT(ciha_alarm_spec_set_evaluation(s, 300, 3, 2), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_statistic(s, "Average"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_missing_data(s, "ignore"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_unit(s, "Count"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_description(s, "new words"), CIHA_OK);
	CHECK_INT(ciha_alarm_spec_set_metric(s, "CIHA", "InService"), CIHA_OK);
	{
		char *text = diff_of(s, d);
		const char *expect[] = { "Namespace: AWS/AutoScaling -> CIHA", "MetricName: GroupInServiceInstances -> InService",
			"Statistic: Minimum -> Average", "Threshold: 1 -> 2", "Period: 60 -> 300", "EvaluationPeriods: 1 -> 3",
			"DatapointsToAlarm: 1 -> 2", "Unit: (none) -> Count", "TreatMissingData: breaching -> ignore",
			"AlarmDescription: Auto Scaling group asg has fewer" };
		size_t i;
		for (i = 0; text && i < sizeof(expect) / sizeof(expect[0]); i++)
			CHECK_MSG(strstr(text, expect[i]) != NULL, "[%s] lacks [%s]", text, expect[i]);
		CHECK(text && strstr(text, "; ") != NULL);
		ciha__free(text);
	}
	json_decref(d);
	/* the same threshold written differently is no change */
	d = described_like(s, "ci-agents");
	json_object_set_new(d, "Threshold", json_string("2.000000000"));
	CHECK_DIFF(s, d, "");
	json_object_set_new(d, "Threshold", json_real(2.0));
	CHECK_DIFF(s, d, "");
	json_object_set_new(d, "ComparisonOperator", json_string("LessThanOrEqualToThreshold"));
	CHECK_DIFF(s, d, "ComparisonOperator: LessThanOrEqualToThreshold -> LessThanThreshold");
	json_decref(d);
	ciha_alarm_spec_free(s);
}

static void test_diff__dimensions_order_insensitive(void)
{
	ciha_alarm_spec *s = NULL;
	json_t *d;
	CHECK_INT(ciha_alarm_preset_volume_not_mounted(&s, "v", "bamboo-1", "/srv"), CIHA_OK);
	d = described_like(s, "ci-v");   /* dimensions listed in reverse */
	CHECK_DIFF(s, d, "");
	json_object_set_new(d, "Dimensions", json_pack("[{s:s, s:s}]", "Name", "Host", "Value", "bamboo-1"));
	CHECK_DIFF(s, d, "Dimensions: [Host=bamboo-1] -> [Host=bamboo-1, MountPoint=/srv]");
	json_object_set_new(d, "Dimensions", json_array());
	CHECK_DIFF(s, d, "Dimensions: [] -> [Host=bamboo-1, MountPoint=/srv]");
	json_decref(d);
	ciha_alarm_spec_free(s);
}

static void test_diff__actions(void)
{
	ciha_alarm_spec *s = NULL;
	json_t *d;
	CHECK_INT(ciha_alarm_preset_status_check_failed(&s, "h", "i-1"), CIHA_OK);
	d = described_like(s, "ci-h");
	json_object_set_new(d, "OKActions", json_array());
	CHECK_DIFF(s, d, "OKActions: added");
	json_object_del(d, "OKActions");
	CHECK_DIFF(s, d, "OKActions: added");
	json_object_set_new(d, "OKActions", json_string(""));   /* an empty element decoded as a leaf */
	CHECK_DIFF(s, d, "OKActions: added");
	json_object_set_new(d, "OKActions", json_pack("[s]", TOPIC));
	json_object_set_new(d, "AlarmActions", json_pack("[s, s]", TOPIC, "arn:aws:sns:us-east-1:123456789012:other"));
	CHECK_DIFF(s, d, "AlarmActions: [" TOPIC ", arn:aws:sns:us-east-1:123456789012:other] -> [" TOPIC "]");
	json_object_set_new(d, "AlarmActions", json_pack("[s]", "arn:aws:sns:us-east-1:123456789012:other"));
	CHECK_DIFF(s, d, "AlarmActions: [arn:aws:sns:us-east-1:123456789012:other] -> [" TOPIC "]");
	json_object_set_new(d, "AlarmActions", json_pack("[s]", TOPIC));
	json_object_set_new(d, "ActionsEnabled", json_string("false"));
	CHECK_DIFF(s, d, "ActionsEnabled: false -> true");
	json_decref(d);
	ciha_alarm_spec_free(s);
}

/* ---- PutMetricAlarm parameters ---- */

static void test_put_params__actions_tags_and_fields(void)
{
	ciha_alarm_spec *s = NULL;
	json_t *p = NULL, *tags;
	CHECK_INT(ciha_alarm_preset_snapshot_too_old(&s, "backup", "vol-1", 90000), CIHA_OK);
	CHECK_INT(ciha__alarm_put_params(&p, s, "ci-backup", TOPIC), CIHA_OK);
	if (!p) {
		ciha_alarm_spec_free(s);
		return;
	}
	CHECK_STR(json_string_value(json_object_get(p, "AlarmName")), "ci-backup");
	CHECK(json_is_true(json_object_get(p, "ActionsEnabled")));
	CHECK_STR(json_string_value(json_array_get(json_object_get(p, "AlarmActions"), 0)), TOPIC);
	CHECK_STR(json_string_value(json_array_get(json_object_get(p, "OKActions"), 0)), TOPIC);
	CHECK_INT(json_array_size(json_object_get(p, "OKActions")), 1);
	CHECK_STR(json_string_value(json_object_get(p, "TreatMissingData")), "breaching");
	CHECK_STR(json_string_value(json_object_get(p, "Namespace")), "CIHA");
	CHECK_STR(json_string_value(json_object_get(p, "MetricName")), "SnapshotAgeSeconds");
	CHECK_STR(json_string_value(json_object_get(p, "Statistic")), "Maximum");
	CHECK_STR(json_string_value(json_object_get(p, "ComparisonOperator")), "GreaterThanThreshold");
	CHECK(json_real_value(json_object_get(p, "Threshold")) == 90000.0);
	CHECK_INT(json_integer_value(json_object_get(p, "Period")), 3600);
	CHECK_INT(json_integer_value(json_object_get(p, "EvaluationPeriods")), 1);
	CHECK_INT(json_integer_value(json_object_get(p, "DatapointsToAlarm")), 1);
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(p, "Dimensions"), 0), "Name")), "Target");
	CHECK(json_object_get(p, "Unit") == NULL);
	CHECK(json_string_value(json_object_get(p, "AlarmDescription")) != NULL);
	tags = json_object_get(p, "Tags");
	CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 0), "Key")), "ciha:managed-by");
	CHECK_STR(json_string_value(json_object_get(json_array_get(tags, 0), "Value")), "libciha");
	json_decref(p);
	ciha_alarm_spec_free(s);
}

/* ---- plans and URL redaction ---- */

static void test_plan__accessors_and_json(void)
{
	ciha_alarm_plan *plan = ciha__calloc(1, sizeof(*plan));
	char *json = NULL;
	json_t *doc;
	plan->items = ciha__calloc(2, sizeof(*plan->items));
	plan->n = plan->cap = 2;
	plan->dry_run = 1;
	plan->items[0].action = "update";
	plan->items[0].name = ciha__strdup("ci-db");
	plan->items[0].diff = ciha__strdup("Threshold: 1 -> 2");
	plan->items[0].outcome = CIHA_EAGAIN;
	plan->items[1].action = "delete";
	plan->items[1].name = ciha__strdup("ci-old");
	plan->items[1].diff = ciha__strdup("");
	plan->items[1].outcome = CIHA_EAWS;
	plan->items[1].error = ciha__strdup("boom");
	CHECK_INT(ciha_alarm_plan_count(plan), 2);
	CHECK_STR(ciha_alarm_plan_action(plan, 0), "update");
	CHECK_STR(ciha_alarm_plan_name(plan, 0), "ci-db");
	CHECK_STR(ciha_alarm_plan_diff(plan, 0), "Threshold: 1 -> 2");
	CHECK_INT(ciha_alarm_plan_outcome(plan, 0), CIHA_EAGAIN);
	CHECK(ciha_alarm_plan_action(plan, 2) == NULL);
	CHECK_INT(ciha_alarm_plan_count(NULL), 0);
	CHECK_INT(ciha_alarm_plan_json(&json, plan), CIHA_OK);
	doc = json ? json_loads(json, 0, NULL) : NULL;
	CHECK(json_is_true(json_object_get(doc, "dry_run")));
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(doc, "items"), 0), "outcome")),
	          "CIHA_EAGAIN");
	CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(doc, "items"), 1), "error")), "boom");
	json_decref(doc);
	ciha_free(json);
	ciha_alarm_plan_free(plan);
}

static void test_sns__redacted_urls(void)
{
	char out[300];
	ciha__sns_redact_url(out, sizeof(out), "https://events.pagerduty.com/integration/0123456789abcdef/enqueue");
	CHECK_STR(out, "https://events.pagerduty.com/\xe2\x80\xa6[redacted]");
	ciha__sns_redact_url(out, sizeof(out), "http://user:pw@127.0.0.1:8080?key=abc");
	CHECK_STR(out, "http://127.0.0.1:8080/\xe2\x80\xa6[redacted]");
	ciha__sns_redact_url(out, sizeof(out), "not a url with key 0123");
	CHECK_STR(out, "\xe2\x80\xa6[redacted]");
}

/* ---- SNS against canned answers (what moto cannot show: pending confirmation, AWS echoing the URL) ---- */

#define PD_KEY "0123456789abcdefKEY"
#define SNS_NS "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\""

typedef struct {
	int list_pages;      /* ListSubscriptionsByTopic requests */
	int subscribes;
	int attribute_reads;
} sns_calls;

static void sns_answer(ciha__http_response *resp, long status, const char *xml)
{
	resp->outcome = CIHA__HTTP_OK;
	resp->status = status;
	ciha__buf_puts(&resp->body, xml);
}

static void subscriptions_page(ciha__http_response *resp, const char *arn, const char *endpoint, const char *token)
{
	ciha__buf xml = CIHA__BUF_INIT;
	ciha__buf_printf(&xml, "<ListSubscriptionsByTopicResponse " SNS_NS "><ListSubscriptionsByTopicResult><Subscriptions>"
	                 "<member><TopicArn>" TOPIC "</TopicArn><Protocol>https</Protocol><SubscriptionArn>%s"
	                 "</SubscriptionArn><Owner>123456789012</Owner><Endpoint>%s</Endpoint></member></Subscriptions>"
	                 "%s%s%s</ListSubscriptionsByTopicResult><ResponseMetadata><RequestId>r1</RequestId>"
	                 "</ResponseMetadata></ListSubscriptionsByTopicResponse>", arn, endpoint,
	                 token ? "<NextToken>" : "", token ? token : "", token ? "</NextToken>" : "");
	sns_answer(resp, 200, ciha__buf_cstr(&xml));
	ciha__buf_dispose(&xml);
}

/* Page 1 lists someone else; page 2 a pending and a confirmed-but-pending-attribute subscription. */
static int sns_transport(const ciha__http_request *req, ciha__http_response *resp, void *payload)
{
	sns_calls *calls = payload;
	const char *body = req->body ? req->body : "";
	if (strstr(body, "Action=ListSubscriptionsByTopic")) {
		calls->list_pages++;
		if (!strstr(body, "NextToken=page2"))
			subscriptions_page(resp, TOPIC ":11111111", "https://other.example.com/x", "page2");
		else
			subscriptions_page(resp, calls->list_pages <= 2 ? "PendingConfirmation" : TOPIC ":22222222",
			                   "https://events.pagerduty.com/integration/" PD_KEY "/enqueue", NULL);
	} else if (strstr(body, "Action=GetSubscriptionAttributes")) {
		calls->attribute_reads++;
		sns_answer(resp, 200, "<GetSubscriptionAttributesResponse " SNS_NS "><GetSubscriptionAttributesResult>"
		           "<Attributes><entry><key>PendingConfirmation</key><value>true</value></entry></Attributes>"
		           "</GetSubscriptionAttributesResult></GetSubscriptionAttributesResponse>");
	} else if (strstr(body, "Action=Subscribe") && strstr(body, "bad-endpoint")) {
		calls->subscribes++;
		sns_answer(resp, 400, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>"
		           "Invalid parameter: Endpoint https://bad-endpoint.example.com/integration/" PD_KEY "/enqueue "
		           "(key " PD_KEY ") is unreachable</Message></Error><RequestId>req-bad</RequestId></ErrorResponse>");
	} else if (strstr(body, "Action=Subscribe")) {
		calls->subscribes++;
		sns_answer(resp, 200, "<SubscribeResponse " SNS_NS "><SubscribeResult><SubscriptionArn>pending confirmation"
		           "</SubscriptionArn></SubscribeResult></SubscribeResponse>");
	} else {
		sns_answer(resp, 400, "<ErrorResponse><Error><Code>InvalidAction</Code><Message>no</Message></Error>"
		           "</ErrorResponse>");
	}
	return CIHA_OK;
}

static ciha_client *canned_client(void)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	CHECK_INT(ciha_credentials_provider_new_static(&p, "AKIDCANNED", "canned-secret", NULL), CIHA_OK);
	o.region = "us-east-1";
	o.endpoint_url = "http://127.0.0.1:9";
	o.credentials = p;
	o.max_attempts = 1;
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	ciha_credentials_provider_release(p);
	return c;
}

static void test_sns__pending_confirmation_found_on_a_later_page(void)
{
	sns_calls calls = { 0, 0, 0 };
	ciha_client *c = canned_client();
	int confirmed = 42;
	char *arn = NULL;
	const char *url = "https://events.pagerduty.com/integration/" PD_KEY "/enqueue";
	ciha__http_set_test_transport(sns_transport, &calls);
	/* pages 1+2: the second page lists it as "PendingConfirmation" */
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, c, TOPIC, url), CIHA_OK);
	CHECK_INT(confirmed, 0);
	CHECK_INT(calls.list_pages, 2);
	/* pages 3+4: listed with an ARN, but its attributes say pending */
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, c, TOPIC, url), CIHA_OK);
	CHECK_INT(confirmed, 0);
	CHECK_INT(calls.attribute_reads, 1);
	/* subscribing an endpoint already listed does not subscribe again */
	CHECK_INT(ciha_alarm_subscribe(&arn, c, TOPIC, url, 0), CIHA_OK);
	CHECK_STR(arn, TOPIC ":22222222");
	CHECK_INT(calls.subscribes, 0);
	ciha_free(arn);
	arn = NULL;
	/* a new one: SNS answers "pending confirmation" until PagerDuty confirms */
	CHECK_INT(ciha_alarm_subscribe(&arn, c, TOPIC, "https://new.example.com/integration/" PD_KEY "/enqueue", 0),
	          CIHA_OK);
	CHECK_STR(arn, "pending confirmation");
	CHECK_INT(calls.subscribes, 1);
	CHECK_INT(ciha_alarm_subscription_status(&confirmed, c, TOPIC, "https://nowhere.example.com/x"), CIHA_OK);
	CHECK_INT(confirmed, -1);
	ciha__http_set_test_transport(NULL, NULL);
	ciha_free(arn);
	ciha_client_free(c);
}

static void test_sns__aws_error_echoing_the_url_is_scrubbed(void)
{
	sns_calls calls = { 0, 0, 0 };
	ciha_client *c = canned_client();
	char *arn = NULL;
	const ciha_error *e;
	ciha__http_set_test_transport(sns_transport, &calls);
	CHECK_INT(ciha_alarm_subscribe(&arn, c, TOPIC, "https://bad-endpoint.example.com/integration/" PD_KEY "/enqueue", 0),
	          CIHA_EAWS);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK(arn == NULL);
	CHECK_INT(calls.subscribes, 1);
	e = ciha_client_error(c);
	CHECK_MSG(strstr(ciha_error_message(e), PD_KEY) == NULL, "key in [%s]", ciha_error_message(e));
	CHECK_MSG(strstr(ciha_error_message(e), "https://bad-endpoint.example.com/\xe2\x80\xa6[redacted]") != NULL, "[%s]",
	          ciha_error_message(e));
	CHECK_STR(ciha_error_aws_code(e), "InvalidParameter");
	CHECK_STR(ciha_error_request_id(e), "req-bad");
	CHECK_INT(ciha_error_http_status(e), 400);
	CHECK(strstr(ciha_error_message(ciha_error_last()), PD_KEY) == NULL);
	ciha_client_free(c);
}

static void test_apply_and_drill__refuse_bad_arguments_before_any_call(void)
{
	ciha_client *c = canned_client();
	ciha_alarm_set *set = NULL;
	ciha_alarm_plan *plan = (ciha_alarm_plan *)&plan;   /* not NULL: the call must clear it */
	char *out = (char *)&out;
	CHECK_INT(ciha_alarm_set_new(&set, "ci-", NULL), CIHA_OK);
	CHECK_FAILS(ciha_alarm_apply(&plan, c, set, 1), CIHA_EINVAL, "alarm set 'ci-': no topic");
	CHECK(plan == NULL);
	CHECK(strstr(ciha_error_message(ciha_client_error(c)), "no topic") != NULL);
	CHECK_FAILS(ciha_alarm_drill(&out, c, set, "https://example.com/x", 0), CIHA_EINVAL, "the set has no topic");
	CHECK(out == NULL);
	CHECK_INT(ciha_alarm_set_set_topic(set, TOPIC), CIHA_OK);
	CHECK_FAILS(ciha_alarm_drill(&out, c, set, "https://example.com/x", 0), CIHA_EINVAL, "the set has no alarms");
	CHECK_FAILS(ciha_alarm_drill(&out, c, set, NULL, 0), CIHA_EINVAL, "NULL endpoint_url");
	CHECK_FAILS(ciha_alarm_apply(NULL, c, set, 0), CIHA_EINVAL, "NULL out");
	CHECK_FAILS(ciha_alarm_list(&out, NULL, "ci-"), CIHA_EINVAL, "NULL client");
	CHECK_FAILS(ciha_alarm_topic_ensure(&out, c, "has space"), CIHA_EINVAL, "only letters, digits");
	CHECK(out == NULL);
	ciha_alarm_set_free(set);
	ciha_client_free(c);
}

int main(void)
{
	RUN(test_spec__defaults);
	RUN(test_spec__setters_store_values);
	RUN(test_spec__names);
	RUN(test_spec__comparisons_and_statistics);
	RUN(test_spec__evaluation);
	RUN(test_spec__missing_data_unit_description_dimensions);
	RUN(test_spec__check_refuses_incomplete);
	RUN(test_preset__elb_no_healthy_host);
	RUN(test_preset__alb_no_healthy_host);
	RUN(test_preset__volume_not_mounted);
	RUN(test_preset__asg_below_min);
	RUN(test_preset__rds_free_storage_low);
	RUN(test_preset__status_check_failed);
	RUN(test_preset__snapshot_too_old);
	RUN(test_set__add_copies_and_refuses_duplicates);
	RUN(test_set_json__presets_custom_and_overrides);
	RUN(test_set_json__errors_name_source_and_path);
	RUN(test_set_json__defaults_and_empty);
	RUN(test_diff__unchanged);
	RUN(test_diff__threshold_and_scalars);
	RUN(test_diff__dimensions_order_insensitive);
	RUN(test_diff__actions);
	RUN(test_put_params__actions_tags_and_fields);
	RUN(test_plan__accessors_and_json);
	RUN(test_sns__redacted_urls);
	RUN(test_sns__pending_confirmation_found_on_a_later_page);
	RUN(test_sns__aws_error_echoing_the_url_is_scrubbed);
	RUN(test_apply_and_drill__refuse_bad_arguments_before_any_call);
	ciha_error_clear();
	CHECK_CASE("no library allocations outstanding", ciha__alloc_outstanding() == 0);
	return CHECK_DONE("test_alarm_spec");
}
