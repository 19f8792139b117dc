/* test_probe.c: the mount probe over mountinfo fixtures written here (mounted,
 * not mounted, nested paths, escaped spaces, overmounts, expected sources), the
 * snapshot-age probe's choice of the newest completed snapshot and both
 * PutMetricData requests through canned answers, then publishing against moto
 * (CIHA_TEST_ENDPOINT, set by the test command) checked with GetMetricStatistics. */
#define _DEFAULT_SOURCE
#define CIHA_TESTING /* the canned-answer transport seam */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <ciha.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "http_int.h"
#include "check.h"

static char dir[64];            /* fixtures live here */
static char fixture[128];       /* the scenario's mountinfo */

static const char *const scenario_lines =
	"22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw,discard\n"
	"30 22 259:2 / /data rw,noatime shared:5 - xfs /dev/nvme1n1 rw,attr2,inode64\n"
	"31 30 259:3 / /data/cache rw shared:6 master:2 - ext4 /dev/nvme2n1 rw\n"
	"32 22 0:40 / /mnt/ci\\040artifacts rw,relatime - nfs4 fs-1.efs.eu-west-1.amazonaws.com:/ rw,vers=4.1\n"
	"33 22 0:41 / /tmp rw,nosuid - tmpfs tmpfs rw\n"
	"34 22 259:4 / /srv rw - ext4 /dev/old rw\n"
	"35 22 259:5 / /srv rw - ext4 /dev/new rw\n"
	"36 22 0:42 /sub /opt/back\\134slash rw - ext4 /dev/odd\\040name rw\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Probe without publishing; the parsed report (new reference, {} when none). */
static json_t *probe(int *rc, const char *const *points, const char *const *expected, size_t n, const char *path)
{
	char *text = NULL;
	json_t *report;
	*rc = ciha_probe_mounts(&text, NULL, "ci-host", points, expected, n, path, 0);
	report = text ? json_loads(text, 0, NULL) : NULL;
	ciha_free(text);
	return report ? report : json_object();
}

static const json_t *item(const json_t *report, size_t i)
{
	return json_array_get(json_object_get(report, "mounts"), i);
}

static const char *field(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "(none)";
}

static int flag(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/* ---- mounts, no publishing ---------------------------------------------------------------- */

static void test_mounts__mounted_point_is_ok(void)
{
	const char *points[] = { "/data" };
	int rc;
	json_t *r = probe(&rc, points, NULL, 1, fixture);
	CHECK_INT(rc, CIHA_OK);
	CHECK_STR(field(r, "host"), "ci-host");
	CHECK(json_is_false(json_object_get(r, "published")));
	CHECK_STR(field(item(r, 0), "mount_point"), "/data");
	CHECK(flag(item(r, 0), "mounted"));
	CHECK(flag(item(r, 0), "ok"));
	CHECK_INT(json_integer_value(json_object_get(item(r, 0), "value")), 1);
	CHECK_STR(field(item(r, 0), "source"), "/dev/nvme1n1");
	CHECK_STR(field(item(r, 0), "fstype"), "xfs");
	CHECK(json_is_null(json_object_get(item(r, 0), "expected")));
	CHECK_STR(field(item(r, 0), "detail"), "mounted from /dev/nvme1n1 (xfs)");
	json_decref(r);
}

static void test_mounts__missing_point_is_estate_naming_where_it_lies(void)
{
	const char *points[] = { "/var/lib/jenkins" };
	int rc;
	json_t *r = probe(&rc, points, NULL, 1, fixture);
	CHECK_INT(rc, CIHA_ESTATE);
	CHECK_STR(ciha_error_message(ciha_error_last()), "1 of 1 mount point not as expected: /var/lib/jenkins: not a "
	          "mount point: it lies on / (ext4 from /dev/nvme0n1p1)");
	CHECK(!flag(item(r, 0), "mounted"));
	CHECK(!flag(item(r, 0), "ok"));
	CHECK_INT(json_integer_value(json_object_get(item(r, 0), "value")), 0);
	CHECK_STR(field(item(r, 0), "lies_on"), "/");
	CHECK(json_is_null(json_object_get(item(r, 0), "source")));
	json_decref(r);
}

static void test_mounts__nested_paths_match_exactly(void)
{
	const char *points[] = { "/data/cache", "/data/cache/x", "/dat", "/data/", "/database" };
	int rc;
	json_t *r = probe(&rc, points, NULL, 5, fixture);
	CHECK_INT(rc, CIHA_ESTATE);
	CHECK(flag(item(r, 0), "ok"));
	CHECK_STR(field(item(r, 0), "source"), "/dev/nvme2n1");
	CHECK(!flag(item(r, 1), "mounted"));
	CHECK_STR(field(item(r, 1), "lies_on"), "/data/cache");
	CHECK(!flag(item(r, 2), "mounted"));
	CHECK_STR(field(item(r, 2), "lies_on"), "/");
	CHECK_STR(field(item(r, 3), "mount_point"), "/data");   /* trailing slash dropped */
	CHECK(flag(item(r, 3), "ok"));
	CHECK_STR(field(item(r, 4), "lies_on"), "/");           /* not on /data */
	CHECK(strstr(ciha_error_message(ciha_error_last()), "3 of 5 mount points not as expected: /data/cache/x: ") ==
	      ciha_error_message(ciha_error_last()));
	json_decref(r);
}

static void test_mounts__escaped_characters_are_decoded(void)
{
	const char *points[] = { "/mnt/ci artifacts", "/opt/back\\slash", "/mnt/ci\\040artifacts" };
	int rc;
	json_t *r = probe(&rc, points, NULL, 3, fixture);
	CHECK_INT(rc, CIHA_ESTATE);
	CHECK(flag(item(r, 0), "ok"));
	CHECK_STR(field(item(r, 0), "fstype"), "nfs4");
	CHECK_STR(field(item(r, 0), "source"), "fs-1.efs.eu-west-1.amazonaws.com:/");
	CHECK(flag(item(r, 1), "ok"));
	CHECK_STR(field(item(r, 1), "source"), "/dev/odd name");
	CHECK(!flag(item(r, 2), "mounted"));   /* the escaped spelling is not a path */
	json_decref(r);
}

static void test_mounts__expected_source_device_type_or_symlink(void)
{
	char link[160], target[160], resolved[PATH_MAX], mountinfo[PATH_MAX + 200], path[128];
	const char *points[] = { "/data", "/data", "/tmp", "/srv", "/srv" };
	const char *expected[] = { "/dev/nvme9n1", "xfs", "tmpfs", "/dev/new", "/dev/old" };
	const char *one[] = { "/ci" };
	const char *by_label[1];
	int rc;
	json_t *r = probe(&rc, points, expected, 5, fixture);
	CHECK_INT(rc, CIHA_ESTATE);
	CHECK(flag(item(r, 0), "mounted"));
	CHECK(!flag(item(r, 0), "ok"));
	CHECK_INT(json_integer_value(json_object_get(item(r, 0), "value")), 0);
	CHECK_STR(field(item(r, 0), "expected"), "/dev/nvme9n1");
	CHECK_STR(field(item(r, 0), "detail"), "mounted from /dev/nvme1n1 (xfs), expected /dev/nvme9n1");
	CHECK(flag(item(r, 1), "ok"));
	CHECK(flag(item(r, 2), "ok"));
	CHECK(flag(item(r, 3), "ok"));    /* the later mount on /srv hides the earlier one */
	CHECK(!flag(item(r, 4), "ok"));
	CHECK(strstr(ciha_error_message(ciha_error_last()), "2 of 5 mount points") != NULL);
	json_decref(r);

	/* a /dev/disk/by-label style symlink to the device mounted */
	snprintf(target, sizeof target, "%s/nvme3n1", dir);
	snprintf(link, sizeof link, "%s/by-label-ci", dir);
	write_file(target, "");
	CHECK(symlink(target, link) == 0);
	CHECK(realpath(target, resolved) != NULL);
	snprintf(mountinfo, sizeof mountinfo, "40 1 259:7 / /ci rw - ext4 %s rw\n", resolved);
	snprintf(path, sizeof path, "%s/symlink.mountinfo", dir);
	write_file(path, mountinfo);
	by_label[0] = link;
	r = probe(&rc, one, by_label, 1, path);
	CHECK_INT(rc, CIHA_OK);
	CHECK(flag(item(r, 0), "ok"));
	json_decref(r);
}

static void test_mounts__bad_input_is_einval(void)
{
	const char *points[] = { "/data" }, *relative[] = { "data" }, *nulls[] = { NULL };
	char path[128], *text = (char *)"untouched";
	int rc;
	json_t *r;
	CHECK_INT(ciha_probe_mounts(&text, NULL, "h", points, NULL, 1, "/nonexistent/mountinfo", 0), CIHA_EINVAL);
	CHECK(text == NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "cannot read mount table /nonexistent/mountinfo") != NULL);
	snprintf(path, sizeof path, "%s/garbage", dir);
	write_file(path, "this is not\na mount table\n");
	r = probe(&rc, points, NULL, 1, path);
	CHECK_INT(rc, CIHA_EINVAL);
	json_decref(r);
	r = probe(&rc, relative, NULL, 1, fixture);
	CHECK_INT(rc, CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "'data' is not an absolute path") != NULL);
	json_decref(r);
	r = probe(&rc, nulls, NULL, 1, fixture);
	CHECK_INT(rc, CIHA_EINVAL);
	json_decref(r);
	r = probe(&rc, points, NULL, 0, fixture);
	CHECK_INT(rc, CIHA_EINVAL);
	json_decref(r);
	CHECK_INT(ciha_probe_mounts(&text, NULL, "h", points, NULL, 1, fixture, 1), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "publishing needs a client") != NULL);
	CHECK_INT(ciha_probe_mounts(&text, NULL, "", points, NULL, 1, fixture, 0), CIHA_EINVAL);
	CHECK_INT(ciha_probe_mounts(NULL, NULL, "h", points, NULL, 1, fixture, 0), CIHA_EINVAL);
}

static void test_mounts__this_machine_root_and_hostname(void)
{
	const char *points[] = { "/" };
	char *text = NULL, host[256];
	json_t *r;
	CHECK_INT(ciha_probe_mounts(&text, NULL, NULL, points, NULL, 1, NULL, 0), CIHA_OK);
	r = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(gethostname(host, sizeof host) == 0);
	host[sizeof host - 1] = '\0';
	CHECK_STR(field(r, "host"), host);
	CHECK(flag(item(r, 0), "ok"));
	json_decref(r);
	ciha_free(text);
}

/* ---- canned AWS answers: the newest completed snapshot, the PutMetricData requests ---- */

typedef struct {
	ciha__buf bodies;       /* every request body, one per line */
	const char *describe;   /* the answer to Describe* */
	int puts;
} canned;

static int canned_transport(const ciha__http_request *req, ciha__http_response *resp, void *payload)
{
	canned *c = payload;
	const char *body = req->body ? req->body : "";
	ciha__buf_printf(&c->bodies, "%s\n", body);
	resp->outcome = CIHA__HTTP_OK;
	resp->status = 200;
	if (strstr(body, "Action=PutMetricData")) {
		c->puts++;
		ciha__buf_puts(&resp->body, "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
		               "<ResponseMetadata><RequestId>r-put</RequestId></ResponseMetadata></PutMetricDataResponse>");
	} else {
		ciha__buf_puts(&resp->body, c->describe);
	}
	return CIHA_OK;
}

/* A client with static keys for `endpoint` (the canned transport answers before anything is sent to 127.0.0.1:9). */
static ciha_client *new_client(const char *endpoint, int max_attempts)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	CHECK_INT(ciha_credentials_provider_new_static(&p, "AKIDPROBE", "probe-secret", NULL), CIHA_OK);
	o.region = "us-east-1";
	o.endpoint_url = endpoint;
	o.credentials = p;
	o.max_attempts = max_attempts;
	CHECK_INT(ciha_client_new(&c, &o), CIHA_OK);
	ciha_credentials_provider_release(p);
	return c;
}

static ciha_client *canned_client(void)
{
	return new_client("http://127.0.0.1:9", 1);
}

#define EC2_SNAP(id, status, start) \
	"<item><snapshotId>" id "</snapshotId><volumeId>vol-1</volumeId><status>" status "</status><startTime>" start \
	"</startTime><progress>100%</progress><ownerId>123456789012</ownerId><volumeSize>8</volumeSize></item>"

static const char ec2_snapshots[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeSnapshotsResponse "
	"xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-1</requestId><snapshotSet>"
	EC2_SNAP("snap-old", "completed", "2020-01-01T00:00:00.000Z")
	EC2_SNAP("snap-pending", "pending", "2020-01-03T00:00:00.000Z")
	EC2_SNAP("snap-newest", "completed", "2020-01-02T00:00:00.000Z")
	EC2_SNAP("snap-error", "error", "2020-01-04T00:00:00.000Z")
	"</snapshotSet></DescribeSnapshotsResponse>";

#define RDS_SNAP(id, status, type, when) \
	"<DBSnapshot><DBSnapshotIdentifier>" id "</DBSnapshotIdentifier><DBInstanceIdentifier>db1" \
	"</DBInstanceIdentifier><Status>" status "</Status><SnapshotType>" type "</SnapshotType><SnapshotCreateTime>" \
	when "</SnapshotCreateTime><PercentProgress>100</PercentProgress></DBSnapshot>"

static const char rds_snapshots[] =
	"<DescribeDBSnapshotsResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><DescribeDBSnapshotsResult>"
	"<DBSnapshots>"
	RDS_SNAP("manual-1", "available", "manual", "2021-06-01T10:00:00Z")
	RDS_SNAP("rds:db1-2021-06-02-03-00", "available", "automated", "2021-06-02T03:00:00Z")
	RDS_SNAP("manual-2", "creating", "manual", "2021-06-03T10:00:00Z")
	"</DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata>"
	"</DescribeDBSnapshotsResponse>";

static const char ec2_none[] =
	"<DescribeSnapshotsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r-3</requestId>"
	"<snapshotSet>" EC2_SNAP("snap-p", "pending", "2020-01-03T00:00:00.000Z") "</snapshotSet>"
	"</DescribeSnapshotsResponse>";

static int near(int64_t got, int64_t want)
{
	return got >= want - 5 && got <= want + 5;
}

static void test_snapshot_age__newest_completed_ebs_snapshot(void)
{
	canned c = { CIHA__BUF_INIT, ec2_snapshots, 0 };
	ciha_client *client = canned_client();
	int64_t age = -1;
	const char *sent;
	ciha__http_set_test_transport(canned_transport, &c);
	CHECK_INT(ciha_probe_snapshot_age(&age, client, "vol-1", 1), CIHA_OK);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_MSG(near(age, (int64_t)time(NULL) - 1577923200), "age %lld", (long long)age);   /* 2020-01-02 */
	sent = ciha__buf_cstr(&c.bodies);
	CHECK(strstr(sent, "Action=DescribeSnapshots") != NULL);
	CHECK(strstr(sent, "Owner.1=self") != NULL);
	CHECK(strstr(sent, "Filter.1.Name=volume-id&Filter.1.Value.1=vol-1") != NULL);
	CHECK_INT(c.puts, 1);
	CHECK(strstr(sent, "Action=PutMetricData") != NULL);
	CHECK(strstr(sent, "Namespace=CIHA") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.MetricName=SnapshotAgeSeconds") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.Dimensions.member.1.Name=Target&"
	                   "MetricData.member.1.Dimensions.member.1.Value=vol-1") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.Unit=Seconds") != NULL);
	CHECK(strstr(sent, "MetricData.member.2.") == NULL);
	ciha__buf_dispose(&c.bodies);
	ciha_client_free(client);
}

static void test_snapshot_age__newest_available_db_snapshot_manual_or_automated(void)
{
	canned c = { CIHA__BUF_INIT, rds_snapshots, 0 };
	ciha_client *client = canned_client();
	int64_t age = -1;
	ciha__http_set_test_transport(canned_transport, &c);
	CHECK_INT(ciha_probe_snapshot_age(&age, client, "db1", 0), CIHA_OK);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_MSG(near(age, (int64_t)time(NULL) - 1622602800), "age %lld", (long long)age);   /* 2021-06-02T03:00Z */
	CHECK(strstr(ciha__buf_cstr(&c.bodies), "Action=DescribeDBSnapshots") != NULL);
	CHECK(strstr(ciha__buf_cstr(&c.bodies), "DBInstanceIdentifier=db1") != NULL);
	CHECK_INT(c.puts, 0);   /* not published */
	ciha__buf_dispose(&c.bodies);
	ciha_client_free(client);
}

static void test_snapshot_age__none_completed_is_enotfound_and_publishes_nothing(void)
{
	canned c = { CIHA__BUF_INIT, ec2_none, 0 };
	ciha_client *client = canned_client();
	int64_t age = -1;
	ciha__http_set_test_transport(canned_transport, &c);
	CHECK_INT(ciha_probe_snapshot_age(&age, client, "vol-1", 1), CIHA_ENOTFOUND);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_STR(ciha_error_message(ciha_client_error(client)), "vol-1 has no completed snapshot");
	CHECK_INT(c.puts, 0);
	CHECK_INT(age, -1);
	CHECK_INT(ciha_probe_snapshot_age(&age, client, "", 1), CIHA_EINVAL);
	CHECK_INT(ciha_probe_snapshot_age(&age, NULL, "vol-1", 1), CIHA_EINVAL);
	ciha__buf_dispose(&c.bodies);
	ciha_client_free(client);
}

static void test_mounts__one_put_metric_data_for_every_point(void)
{
	canned c = { CIHA__BUF_INIT, "", 0 };
	ciha_client *client = canned_client();
	const char *points[] = { "/data", "/mnt/ci artifacts", "/missing" };
	char *text = NULL;
	const char *sent;
	ciha__http_set_test_transport(canned_transport, &c);
	CHECK_INT(ciha_probe_mounts(&text, client, "agent-1", points, NULL, 3, fixture, 1), CIHA_ESTATE);
	ciha__http_set_test_transport(NULL, NULL);
	CHECK_INT(ciha_error_code(ciha_client_error(client)), CIHA_ESTATE);
	CHECK(text != NULL && strstr(text, "\"published\": true") != NULL);
	CHECK_INT(c.puts, 1);
	sent = ciha__buf_cstr(&c.bodies);
	CHECK(strstr(sent, "Namespace=CIHA") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.MetricName=VolumeMounted") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1."
	                   "Value=agent-1&MetricData.member.1.Dimensions.member.2.Name=MountPoint&MetricData.member.1."
	                   "Dimensions.member.2.Value=%2Fdata") != NULL);
	CHECK(strstr(sent, "MetricData.member.2.Dimensions.member.2.Value=%2Fmnt%2Fci+artifacts") != NULL);
	CHECK(strstr(sent, "MetricData.member.1.Value=1") != NULL);
	CHECK(strstr(sent, "MetricData.member.3.Value=0") != NULL);
	CHECK(strstr(sent, "MetricData.member.3.Unit=Count") != NULL);
	CHECK(strstr(sent, "MetricData.member.4.") == NULL);
	ciha_free(text);
	ciha__buf_dispose(&c.bodies);
	ciha_client_free(client);
}

/* ---- publishing against moto -------------------------------------------------------------- */

static ciha_client *moto_client(void)
{
	return new_client(getenv("CIHA_TEST_ENDPOINT"), 0);
}

static void iso(char out[32], time_t t)
{
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

/* The datapoints CloudWatch holds for metric/dims over the last hour (new reference, [] when none). */
static json_t *datapoints(ciha_client *c, const char *metric, const char *const *dims)
{
	char start[32], end[32];
	json_t *params, *result = NULL, *points, *dimensions = json_array();
	size_t i;
	iso(start, time(NULL) - 3600);
	iso(end, time(NULL) + 600);
	for (i = 0; dims[i]; i += 2)
		json_array_append_new(dimensions, json_pack("{s:s, s:s}", "Name", dims[i], "Value", dims[i + 1]));
	params = json_pack("{s:s, s:s, s:o, s:s, s:s, s:i, s:[s]}", "Namespace", CIHA_METRIC_NAMESPACE, "MetricName",
	                   metric, "Dimensions", dimensions, "StartTime", start, "EndTime", end, "Period", 60,
	                   "Statistics", "Maximum");
	CHECK_INT(ciha_call(&result, c, "cloudwatch", "GetMetricStatistics", params), CIHA_OK);
	json_decref(params);
	points = json_object_get(result, "Datapoints");
	points = json_is_array(points) ? json_incref(points) : json_array();
	json_decref(result);
	return points;
}

static double maximum(const json_t *points, size_t i)
{
	const char *s = json_string_value(json_object_get(json_array_get(points, i), "Maximum"));
	return s ? atof(s) : -1;
}

static void test_publish__mount_metrics_arrive_in_cloudwatch(void)
{
	ciha_client *c = moto_client();
	char host[64], *text = NULL;
	const char *points[] = { "/data", "/var/lib/jenkins" };
	const char *mounted[] = { "Host", host, "MountPoint", "/data", NULL };
	const char *missing[] = { "Host", host, "MountPoint", "/var/lib/jenkins", NULL };
	json_t *got, *listed = NULL, *params;
	snprintf(host, sizeof host, "probe-%ld-%ld", (long)getpid(), (long)time(NULL));
	CHECK_INT(ciha_probe_mounts(&text, c, host, points, NULL, 2, fixture, 1), CIHA_ESTATE);
	CHECK(text != NULL && strstr(text, "\"published\": true") != NULL);
	got = datapoints(c, "VolumeMounted", mounted);
	CHECK_INT(json_array_size(got), 1);
	CHECK(maximum(got, 0) == 1.0);
	json_decref(got);
	got = datapoints(c, "VolumeMounted", missing);
	CHECK_INT(json_array_size(got), 1);
	CHECK(maximum(got, 0) == 0.0);
	json_decref(got);
	params = json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "Namespace", CIHA_METRIC_NAMESPACE, "MetricName",
	                   "VolumeMounted", "Dimensions", "Name", "Host", "Value", host);
	CHECK_INT(ciha_call(&listed, c, "cloudwatch", "ListMetrics", params), CIHA_OK);
	CHECK_INT(json_array_size(json_object_get(listed, "Metrics")), 2);
	json_decref(listed);
	json_decref(params);
	ciha_free(text);
	ciha_client_free(c);
}

static char *created_id(ciha_client *c, const char *service, const char *action, json_t *params, const char *key)
{
	json_t *result = NULL;
	char *id = NULL;
	CHECK_INT(ciha_call(&result, c, service, action, params), CIHA_OK);
	if (json_string_value(json_object_get(result, key)))
		id = strdup(json_string_value(json_object_get(result, key)));
	json_decref(result);
	json_decref(params);
	return id;
}

static void test_publish__snapshot_age_of_a_volume_and_a_db(void)
{
	ciha_client *c = moto_client();
	char db[64];
	char *vol = created_id(c, "ec2", "CreateVolume", json_pack("{s:s, s:i}", "AvailabilityZone", "us-east-1a",
	                                                           "Size", 1), "volumeId");
	char *bare = created_id(c, "ec2", "CreateVolume", json_pack("{s:s, s:i}", "AvailabilityZone", "us-east-1a",
	                                                            "Size", 1), "volumeId");
	char *snap = vol ? created_id(c, "ec2", "CreateSnapshot", json_pack("{s:s}", "VolumeId", vol), "snapshotId")
	                 : NULL;
	const char *dims[] = { "Target", vol ? vol : "", NULL };
	int64_t age = -1;
	json_t *got;
	CHECK(snap != NULL);
	CHECK_INT(ciha_probe_snapshot_age(&age, c, vol ? vol : "vol-none", 1), CIHA_OK);
	CHECK_MSG(age >= 0 && age < 300, "age %lld", (long long)age);
	got = datapoints(c, "SnapshotAgeSeconds", dims);
	CHECK_INT(json_array_size(got), 1);
	CHECK(maximum(got, 0) == (double)age);
	json_decref(got);
	/* a volume without snapshots: not found, nothing published */
	age = -1;
	CHECK_INT(ciha_probe_snapshot_age(&age, c, bare ? bare : "vol-none", 1), CIHA_ENOTFOUND);
	dims[1] = bare ? bare : "";
	got = datapoints(c, "SnapshotAgeSeconds", dims);
	CHECK_INT(json_array_size(got), 0);
	json_decref(got);
	/* a DB: moto makes its automated snapshot at once */
	snprintf(db, sizeof db, "probe-db-%ld", (long)getpid());
	free(created_id(c, "rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i}", "DBInstanceIdentifier", db,
	                                                      "Engine", "postgres", "DBInstanceClass", "db.t3.micro",
	                                                      "AllocatedStorage", 5), "DBInstance"));
	CHECK_INT(ciha_probe_snapshot_age(&age, c, db, 1), CIHA_OK);
	CHECK_MSG(age >= 0 && age < 300, "age %lld", (long long)age);
	dims[1] = db;
	got = datapoints(c, "SnapshotAgeSeconds", dims);
	CHECK_INT(json_array_size(got), 1);
	json_decref(got);
	free(vol);
	free(bare);
	free(snap);
	ciha_client_free(c);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	char cmd[128];
	int rc;
	ciha_global_init(CIHA_GLOBAL_DEFAULT);
	snprintf(dir, sizeof dir, "/tmp/ciha-probe-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(fixture, sizeof fixture, "%s/mountinfo", dir);
	write_file(fixture, scenario_lines);
	RUN(test_mounts__mounted_point_is_ok);
	RUN(test_mounts__missing_point_is_estate_naming_where_it_lies);
	RUN(test_mounts__nested_paths_match_exactly);
	RUN(test_mounts__escaped_characters_are_decoded);
	RUN(test_mounts__expected_source_device_type_or_symlink);
	RUN(test_mounts__bad_input_is_einval);
	RUN(test_mounts__this_machine_root_and_hostname);
	RUN(test_snapshot_age__newest_completed_ebs_snapshot);
	RUN(test_snapshot_age__newest_available_db_snapshot_manual_or_automated);
	RUN(test_snapshot_age__none_completed_is_enotfound_and_publishes_nothing);
	RUN(test_mounts__one_put_metric_data_for_every_point);
	if (endpoint && *endpoint) {
		RUN(test_publish__mount_metrics_arrive_in_cloudwatch);
		RUN(test_publish__snapshot_age_of_a_volume_and_a_db);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	ciha_global_cleanup();
	rc = CHECK_DONE("test_probe");
	if (rc == 0 && !(endpoint && *endpoint))
		CHECK_SKIP("test_probe: the publishing cases need CIHA_TEST_ENDPOINT (a moto server; tests/run starts "
		           "one): they did NOT run");
	return rc;
}
