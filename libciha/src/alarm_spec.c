/* alarm_spec.c: one alarm's desired state, its validation and the presets. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "error_int.h"

#define MAX_NAME 255
#define MAX_DIMENSIONS 30
#define MAX_DIMENSION_VALUE 1024
#define MAX_DESCRIPTION 1024
#define ONE_DAY_S 86400L
#define SEVEN_DAYS_S (7L * ONE_DAY_S)

static const char *const statistics[] = { "Average", "Sum", "Minimum", "Maximum", "SampleCount", NULL };
static const char *const comparisons[] = { "GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
	"LessThanThreshold", "LessThanOrEqualToThreshold", NULL };
static const char *const treatments[] = { "breaching", "notBreaching", "ignore", "missing", NULL };
static const char *const units[] = { "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
	"Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent",
	"Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second",
	"None", NULL };

static int in_list(const char *const *list, const char *s)
{
	size_t i;
	for (i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static const char *safe_name(const ciha_alarm_spec *spec)
{
	return spec && spec->name ? spec->name : "(unnamed)";
}

static int has_control_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/* A text of 1..max bytes without control characters; CIHA_EINVAL naming the alarm and `what` if not. */
static int check_text(const ciha_alarm_spec *spec, const char *what, const char *s, size_t max)
{
	if (!s || !*s)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %s is empty", safe_name(spec), what);
	if (strlen(s) > max)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %s is longer than %zu characters", safe_name(spec),
		                         what, max);
	if (has_control_char(s))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %s contains a control character", safe_name(spec),
		                         what);
	return CIHA_OK;
}

int ciha__alarm_name_check(const char *name, const char *what)
{
	if (!name || !*name)
		return ciha__error_raise(CIHA_EINVAL, "%s is empty", what);
	if (strlen(name) > MAX_NAME)
		return ciha__error_raise(CIHA_EINVAL, "%s '%.40s...' is longer than %d characters", what, name, MAX_NAME);
	if (has_control_char(name))
		return ciha__error_raise(CIHA_EINVAL, "%s contains a control character", what);
	return CIHA_OK;
}

static int null_spec(const char *fn)
{
	return ciha__error_raise(CIHA_EINVAL, "%s: NULL spec", fn);
}

/* Replace *field with a copy of value (NULL clears). */
static int replace_string(char **field, const char *value)
{
	char *copy = NULL;
	if (value && !(copy = ciha__strdup(value)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__free(*field);
	*field = copy;
	return CIHA_OK;
}

static void dims_free(ciha__alarm_dim *dims, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		ciha__free(dims[i].name);
		ciha__free(dims[i].value);
	}
	ciha__free(dims);
}

void ciha__alarm_spec_clear_dimensions(ciha_alarm_spec *spec)
{
	dims_free(spec->dims, spec->ndims);
	spec->dims = NULL;
	spec->ndims = 0;
}

CIHA_EXTERN(void) ciha_alarm_spec_free(ciha_alarm_spec *spec)
{
	if (!spec)
		return;
	ciha__free(spec->name);
	ciha__free(spec->namespace_);
	ciha__free(spec->metric);
	dims_free(spec->dims, spec->ndims);
	ciha__free(spec->statistic);
	ciha__free(spec->comparison);
	ciha__free(spec->missing_data);
	ciha__free(spec->description);
	ciha__free(spec->unit);
	ciha__free(spec);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_new(ciha_alarm_spec **out, const char *name)
{
	ciha_alarm_spec *spec;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_spec_new: NULL out");
	*out = NULL;
	rc = ciha__alarm_name_check(name, "alarm name");
	if (rc != CIHA_OK)
		return rc;
	spec = ciha__calloc(1, sizeof(*spec));
	if (!spec)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	spec->name = ciha__strdup(name);
	spec->statistic = ciha__strdup("Average");
	spec->period_s = 60;
	spec->periods = 1;
	spec->datapoints = 1;
	if (!spec->name || !spec->statistic) {
		ciha_alarm_spec_free(spec);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	*out = spec;
	return CIHA_OK;
}

CIHA_EXTERN(const char *) ciha_alarm_spec_name(const ciha_alarm_spec *spec)
{
	return spec ? spec->name : NULL;
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_metric(ciha_alarm_spec *spec, const char *namespace_, const char *metric)
{
	int rc;
	if (!spec)
		return null_spec("ciha_alarm_spec_set_metric");
	if ((rc = check_text(spec, "the namespace", namespace_, MAX_NAME)) != CIHA_OK ||
	    (rc = check_text(spec, "the metric name", metric, MAX_NAME)) != CIHA_OK)
		return rc;
	if ((rc = replace_string(&spec->namespace_, namespace_)) != CIHA_OK)
		return rc;
	return replace_string(&spec->metric, metric);
}

static const ciha__alarm_dim *dim_find(const ciha_alarm_spec *spec, const char *name)
{
	size_t i;
	for (i = 0; i < spec->ndims; i++)
		if (strcmp(spec->dims[i].name, name) == 0)
			return &spec->dims[i];
	return NULL;
}

static int dim_append(ciha_alarm_spec *spec, const char *name, const char *value)
{
	ciha__alarm_dim *grown = ciha__realloc(spec->dims, (spec->ndims + 1) * sizeof(*grown));
	char *n, *v;
	if (!grown)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	spec->dims = grown;
	n = ciha__strdup(name);
	v = ciha__strdup(value);
	if (!n || !v) {
		ciha__free(n);
		ciha__free(v);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	spec->dims[spec->ndims].name = n;
	spec->dims[spec->ndims].value = v;
	spec->ndims++;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_add_dimension(ciha_alarm_spec *spec, const char *name, const char *value)
{
	int rc;
	if (!spec)
		return null_spec("ciha_alarm_spec_add_dimension");
	if ((rc = check_text(spec, "a dimension name", name, MAX_NAME)) != CIHA_OK ||
	    (rc = check_text(spec, "a dimension value", value, MAX_DIMENSION_VALUE)) != CIHA_OK)
		return rc;
	if (dim_find(spec, name))
		return ciha__error_raise(CIHA_EEXISTS, "alarm '%s': dimension '%s' is given twice", safe_name(spec), name);
	if (spec->ndims >= MAX_DIMENSIONS)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': more than %d dimensions", safe_name(spec),
		                         MAX_DIMENSIONS);
	return dim_append(spec, name, value);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_statistic(ciha_alarm_spec *spec, const char *statistic)
{
	if (!spec)
		return null_spec("ciha_alarm_spec_set_statistic");
	if (!in_list(statistics, statistic))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': unknown statistic '%s' (known: Average, Sum, Minimum, "
		                         "Maximum, SampleCount)", safe_name(spec), statistic ? statistic : "(null)");
	return replace_string(&spec->statistic, statistic);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_threshold(ciha_alarm_spec *spec, const char *comparison, double threshold)
{
	int rc;
	if (!spec)
		return null_spec("ciha_alarm_spec_set_threshold");
	if (!in_list(comparisons, comparison))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': unknown comparison '%s' (known: "
		                         "GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, "
		                         "LessThanOrEqualToThreshold)", safe_name(spec), comparison ? comparison : "(null)");
	if (!isfinite(threshold))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': the threshold is not a finite number", safe_name(spec));
	rc = replace_string(&spec->comparison, comparison);
	if (rc == CIHA_OK)
		spec->threshold = threshold;
	return rc;
}

static int period_problem(const ciha_alarm_spec *spec, int period_s)
{
	if (period_s == 10 || period_s == 30 || (period_s > 0 && period_s % 60 == 0))
		return CIHA_OK;
	return ciha__error_raise(CIHA_EINVAL, "alarm '%s': period %d s is not 10, 30 or a multiple of 60",
	                         safe_name(spec), period_s);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_evaluation(ciha_alarm_spec *spec, int period_s, int periods,
                                                        int datapoints)
{
	long total;
	int rc;
	if (!spec)
		return null_spec("ciha_alarm_spec_set_evaluation");
	if ((rc = period_problem(spec, period_s)) != CIHA_OK)
		return rc;
	if (periods < 1)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %d evaluation periods (at least 1)", safe_name(spec),
		                         periods);
	if (datapoints < 1 || datapoints > periods)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %d datapoints to alarm, but it must be 1 to the %d "
		                         "periods evaluated", safe_name(spec), datapoints, periods);
	total = (long)period_s * (long)periods;
	if (total > SEVEN_DAYS_S || (period_s < 3600 && total > ONE_DAY_S))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': %d periods of %d s evaluate %ld s, more than CloudWatch "
		                         "allows (one day below hourly periods, seven days otherwise)", safe_name(spec),
		                         periods, period_s, total);
	spec->period_s = period_s;
	spec->periods = periods;
	spec->datapoints = datapoints;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_missing_data(ciha_alarm_spec *spec, const char *treatment)
{
	if (!spec)
		return null_spec("ciha_alarm_spec_set_missing_data");
	if (!in_list(treatments, treatment))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': unknown missing-data treatment '%s' (known: breaching, "
		                         "notBreaching, ignore, missing)", safe_name(spec), treatment ? treatment : "(null)");
	return replace_string(&spec->missing_data, treatment);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_description(ciha_alarm_spec *spec, const char *description)
{
	if (!spec)
		return null_spec("ciha_alarm_spec_set_description");
	if (description && strlen(description) > MAX_DESCRIPTION)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': the description is longer than %d characters",
		                         safe_name(spec), MAX_DESCRIPTION);
	return replace_string(&spec->description, description && *description ? description : NULL);
}

CIHA_EXTERN(ciha_result) ciha_alarm_spec_set_unit(ciha_alarm_spec *spec, const char *unit)
{
	if (!spec)
		return null_spec("ciha_alarm_spec_set_unit");
	if (unit && !in_list(units, unit))
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': unknown unit '%s' (CloudWatch standard units such as "
		                         "Count, Bytes, Seconds, Percent)", safe_name(spec), unit);
	return replace_string(&spec->unit, unit);
}

int ciha__alarm_spec_check(const ciha_alarm_spec *spec)
{
	if (!spec)
		return null_spec("alarm check");
	if (!spec->namespace_ || !spec->metric)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': no metric (set its namespace and metric name)",
		                         safe_name(spec));
	if (!spec->comparison)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': no threshold (set a comparison and a threshold)",
		                         safe_name(spec));
	if (!spec->missing_data)
		return ciha__error_raise(CIHA_EINVAL, "alarm '%s': state how missing data is treated", safe_name(spec));
	return CIHA_OK;
}

int ciha__alarm_spec_copy(ciha_alarm_spec **out, const ciha_alarm_spec *src)
{
	ciha_alarm_spec *c;
	size_t i;
	int rc = ciha_alarm_spec_new(&c, src->name);
	if (rc != CIHA_OK)
		return rc;
	c->threshold = src->threshold;
	c->period_s = src->period_s;
	c->periods = src->periods;
	c->datapoints = src->datapoints;
	if ((rc = replace_string(&c->namespace_, src->namespace_)) == CIHA_OK &&
	    (rc = replace_string(&c->metric, src->metric)) == CIHA_OK &&
	    (rc = replace_string(&c->statistic, src->statistic)) == CIHA_OK &&
	    (rc = replace_string(&c->comparison, src->comparison)) == CIHA_OK &&
	    (rc = replace_string(&c->missing_data, src->missing_data)) == CIHA_OK &&
	    (rc = replace_string(&c->description, src->description)) == CIHA_OK)
		rc = replace_string(&c->unit, src->unit);
	for (i = 0; rc == CIHA_OK && i < src->ndims; i++)
		rc = dim_append(c, src->dims[i].name, src->dims[i].value);
	if (rc != CIHA_OK) {
		ciha_alarm_spec_free(c);
		return rc;
	}
	*out = c;
	return CIHA_OK;
}

/* ---- presets ----------------------------------------------------------- */

/* What every preset sets: metric, statistic, threshold, evaluation, missing data, description. */
typedef struct {
	const char *namespace_;
	const char *metric;
	const char *statistic;
	const char *comparison;
	int period_s, periods, datapoints;
	const char *missing_data;
} preset_shape;

static int preset_begin(ciha_alarm_spec **out, const char *name, const preset_shape *shape, double threshold)
{
	ciha_alarm_spec *spec = NULL;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "alarm preset: NULL out");
	*out = NULL;
	if ((rc = ciha_alarm_spec_new(&spec, name)) == CIHA_OK &&
	    (rc = ciha_alarm_spec_set_metric(spec, shape->namespace_, shape->metric)) == CIHA_OK &&
	    (rc = ciha_alarm_spec_set_statistic(spec, shape->statistic)) == CIHA_OK &&
	    (rc = ciha_alarm_spec_set_threshold(spec, shape->comparison, threshold)) == CIHA_OK &&
	    (rc = ciha_alarm_spec_set_evaluation(spec, shape->period_s, shape->periods, shape->datapoints)) == CIHA_OK)
		rc = ciha_alarm_spec_set_missing_data(spec, shape->missing_data);
	if (rc != CIHA_OK) {
		ciha_alarm_spec_free(spec);
		return rc;
	}
	*out = spec;
	return CIHA_OK;
}

/* Add the dimensions (NULL-terminated name/value pairs) and the description; frees *out on failure. */
static int preset_finish(ciha_alarm_spec **out, const char *const *dims, const char *description)
{
	size_t i;
	int rc = CIHA_OK;
	for (i = 0; rc == CIHA_OK && dims[i]; i += 2)
		rc = ciha_alarm_spec_add_dimension(*out, dims[i], dims[i + 1]);
	if (rc == CIHA_OK)
		rc = ciha_alarm_spec_set_description(*out, description);
	if (rc != CIHA_OK) {
		ciha_alarm_spec_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Clears *out first, so a refused preset leaves NULL behind. */
static int preset_argument(ciha_alarm_spec **out, const char *preset, const char *what, const char *value)
{
	if (out)
		*out = NULL;
	if (!value || !*value)
		return ciha__error_raise(CIHA_EINVAL, "preset %s: no %s given", preset, what);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_elb_no_healthy_host(ciha_alarm_spec **out, const char *name,
                                                               const char *load_balancer)
{
	static const preset_shape shape = { "AWS/ELB", "HealthyHostCount", "Minimum", "LessThanThreshold",
		60, 1, 1, "breaching" };
	const char *dims[] = { "LoadBalancerName", load_balancer, NULL };
	char description[400];
	int rc = preset_argument(out, "elb-no-healthy-host", "load balancer name", load_balancer);
	if (rc == CIHA_OK)
		rc = preset_begin(out, name, &shape, 1.0);
	if (rc != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "Classic ELB %.255s has no healthy host", load_balancer);
	return preset_finish(out, dims, description);
}

/* "app/name/id" or "targetgroup/name/id" from itself or an ARN ending in "...:loadbalancer/app/name/id". */
static int alb_dimension(char *out, size_t size, const char *value, const char *kind)
{
	size_t kind_len = strlen(kind);
	const char *p = value;
	if (strncmp(value, "arn:", 4) == 0) {
		const char *colon = strrchr(value, ':');
		p = colon ? colon + 1 : value;
		if (strncmp(p, "loadbalancer/", 13) == 0)
			p += 13;
	}
	if (strncmp(p, kind, kind_len) != 0 || p[kind_len] != '/' || !p[kind_len + 1])
		return ciha__error_raise(CIHA_EINVAL, "preset alb-no-healthy-host: '%.200s' is not a %s/... dimension "
		                         "value or ARN", value, kind);
	if (strlen(p) >= size)
		return ciha__error_raise(CIHA_EINVAL, "preset alb-no-healthy-host: '%.60s...' is too long", value);
	memcpy(out, p, strlen(p) + 1);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_alb_no_healthy_host(ciha_alarm_spec **out, const char *name,
                                                               const char *load_balancer, const char *target_group)
{
	static const preset_shape shape = { "AWS/ApplicationELB", "HealthyHostCount", "Minimum", "LessThanThreshold",
		60, 1, 1, "breaching" };
	char lb[MAX_DIMENSION_VALUE + 1], tg[MAX_DIMENSION_VALUE + 1], description[600];
	const char *dims[] = { "LoadBalancer", lb, "TargetGroup", tg, NULL };
	int rc;
	if ((rc = preset_argument(out, "alb-no-healthy-host", "load balancer", load_balancer)) != CIHA_OK ||
	    (rc = preset_argument(out, "alb-no-healthy-host", "target group", target_group)) != CIHA_OK ||
	    (rc = alb_dimension(lb, sizeof(lb), load_balancer, "app")) != CIHA_OK ||
	    (rc = alb_dimension(tg, sizeof(tg), target_group, "targetgroup")) != CIHA_OK ||
	    (rc = preset_begin(out, name, &shape, 1.0)) != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "Target group %.255s of ALB %.255s has no healthy host", tg, lb);
	return preset_finish(out, dims, description);
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_volume_not_mounted(ciha_alarm_spec **out, const char *name,
                                                              const char *host, const char *mount_point)
{
	static const preset_shape shape = { CIHA_METRIC_NAMESPACE, "VolumeMounted", "Minimum", "LessThanThreshold",
		300, 1, 1, "breaching" };
	const char *dims[] = { "Host", host, "MountPoint", mount_point, NULL };
	char description[700];
	int rc;
	if ((rc = preset_argument(out, "volume-not-mounted", "host", host)) != CIHA_OK ||
	    (rc = preset_argument(out, "volume-not-mounted", "mount point", mount_point)) != CIHA_OK ||
	    (rc = preset_begin(out, name, &shape, 1.0)) != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "%.255s is not mounted on %.255s, or the host stopped reporting "
	         "(run 'ciha probe mounts' from cron at least every 5 minutes)", mount_point, host);
	return preset_finish(out, dims, description);
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_asg_below_min(ciha_alarm_spec **out, const char *name, const char *group,
                                                         int min)
{
	static const preset_shape shape = { "AWS/AutoScaling", "GroupInServiceInstances", "Minimum",
		"LessThanThreshold", 60, 1, 1, "breaching" };
	const char *dims[] = { "AutoScalingGroupName", group, NULL };
	char description[500];
	int rc = preset_argument(out, "asg-below-min", "Auto Scaling group", group);
	if (rc != CIHA_OK)
		return rc;
	if (min < 1)
		return ciha__error_raise(CIHA_EINVAL, "preset asg-below-min: minimum %d in service (at least 1)", min);
	if ((rc = preset_begin(out, name, &shape, (double)min)) != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "Auto Scaling group %.255s has fewer than %d instances in service "
	         "(needs group metrics enabled: EnableMetricsCollection; missing data pages)", group, min);
	return preset_finish(out, dims, description);
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_rds_free_storage_low(ciha_alarm_spec **out, const char *name,
                                                                const char *db_id, double bytes)
{
	static const preset_shape shape = { "AWS/RDS", "FreeStorageSpace", "Minimum", "LessThanThreshold",
		300, 1, 1, "breaching" };
	const char *dims[] = { "DBInstanceIdentifier", db_id, NULL };
	char description[400];
	int rc = preset_argument(out, "rds-free-storage-low", "DB instance identifier", db_id);
	if (rc != CIHA_OK)
		return rc;
	if (!isfinite(bytes) || bytes <= 0)
		return ciha__error_raise(CIHA_EINVAL, "preset rds-free-storage-low: the free storage bound must be a "
		                         "positive number of bytes");
	if ((rc = preset_begin(out, name, &shape, bytes)) != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "RDS instance %.255s has less than %.0f bytes of free storage "
	         "(missing data pages too)", db_id, bytes);
	return preset_finish(out, dims, description);
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_status_check_failed(ciha_alarm_spec **out, const char *name,
                                                               const char *instance_id)
{
	static const preset_shape shape = { "AWS/EC2", "StatusCheckFailed", "Maximum",
		"GreaterThanOrEqualToThreshold", 60, 2, 2, "notBreaching" };
	const char *dims[] = { "InstanceId", instance_id, NULL };
	char description[400];
	int rc = preset_argument(out, "status-check-failed", "instance id", instance_id);
	if (rc == CIHA_OK)
		rc = preset_begin(out, name, &shape, 1.0);
	if (rc != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "EC2 instance %.255s failed a status check (a stopped instance "
	         "does not page)", instance_id);
	return preset_finish(out, dims, description);
}

CIHA_EXTERN(ciha_result) ciha_alarm_preset_snapshot_too_old(ciha_alarm_spec **out, const char *name,
                                                            const char *target, long max_age_s)
{
	static const preset_shape shape = { CIHA_METRIC_NAMESPACE, "SnapshotAgeSeconds", "Maximum",
		"GreaterThanThreshold", 3600, 1, 1, "breaching" };
	const char *dims[] = { "Target", target, NULL };
	char description[500];
	int rc = preset_argument(out, "snapshot-too-old", "target", target);
	if (rc != CIHA_OK)
		return rc;
	if (max_age_s <= 0)
		return ciha__error_raise(CIHA_EINVAL, "preset snapshot-too-old: the maximum age must be positive seconds");
	if ((rc = preset_begin(out, name, &shape, (double)max_age_s)) != CIHA_OK)
		return rc;
	snprintf(description, sizeof(description), "The newest snapshot of %.255s is older than %ld s, or its age "
	         "is no longer published (run 'ciha probe snapshot-age' from cron at least hourly)", target, max_age_s);
	return preset_finish(out, dims, description);
}
