/* stack_drift.c: detect drift and report the drifted resources. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "stack_int.h"
#include "time_int.h"

#define DRIFT_DEFAULT_TIMEOUT_S 300
#define DRIFT_FIRST_POLL_MS 200
#define DRIFT_MAX_POLL_MS 5000

static int nomem(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Poll DescribeStackDriftDetectionStatus until the detection is no longer in progress. */
static int wait_detection(json_t **out, ciha_client *c, const char *stack, const char *detection_id, long timeout_s)
{
	long long deadline = ciha__mono_ms() + (long long)timeout_s * 1000;
	long delay = DRIFT_FIRST_POLL_MS;
	*out = NULL;
	for (;;) {
		json_t *r = NULL;
		const char *status;
		int rc = ciha__stack_call(&r, c, "DescribeStackDriftDetectionStatus",
		                          json_pack("{s:s}", "StackDriftDetectionId", detection_id), stack);
		if (rc != CIHA_OK)
			return rc;
		status = ciha__stack_str(r, "DetectionStatus");
		if (status && strcmp(status, "DETECTION_IN_PROGRESS") != 0) {
			*out = r;
			return CIHA_OK;
		}
		json_decref(r);
		if (ciha__mono_ms() >= deadline)
			return ciha__error_raise(CIHA_ETIMEOUT, "timed out after %ld s waiting for drift detection of stack "
			                         "'%s'", timeout_s, stack);
		ciha__sleep_ms(delay);
		delay = delay * 2 > DRIFT_MAX_POLL_MS ? DRIFT_MAX_POLL_MS : delay * 2;
	}
}

static json_t *differences(const json_t *drift)
{
	const json_t *list = json_object_get(drift, "PropertyDifferences");
	json_t *out = json_array();
	size_t i;
	for (i = 0; out && json_is_array(list) && i < json_array_size(list); i++) {
		const json_t *d = json_array_get(list, i);
		if (json_array_append_new(out, json_pack("{s:o, s:o, s:o, s:o}",
		    "path", string_or_null(ciha__stack_str(d, "PropertyPath")),
		    "expected", string_or_null(ciha__stack_str(d, "ExpectedValue")),
		    "actual", string_or_null(ciha__stack_str(d, "ActualValue")),
		    "type", string_or_null(ciha__stack_str(d, "DifferenceType")))) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static int drifted_resources(json_t **out, ciha_client *c, const char *stack)
{
	json_t *all = NULL, *params, *list;
	size_t i;
	int rc;
	*out = json_array();
	params = json_pack("{s:s, s:[s,s]}", "StackName", stack, "StackResourceDriftStatusFilters", "MODIFIED", "DELETED");
	if (!*out || !params) {
		json_decref(params);
		return nomem();
	}
	rc = ciha_call_all(&all, c, "cloudformation", "DescribeStackResourceDrifts", params);
	json_decref(params);
	list = json_object_get(all, "StackResourceDrifts");
	for (i = 0; rc == CIHA_OK && json_is_array(list) && i < json_array_size(list); i++) {
		const json_t *d = json_array_get(list, i);
		json_t *item = json_pack("{s:o, s:o, s:o, s:o, s:o}",
		                         "logical_id", string_or_null(ciha__stack_str(d, "LogicalResourceId")),
		                         "physical_id", string_or_null(ciha__stack_str(d, "PhysicalResourceId")),
		                         "type", string_or_null(ciha__stack_str(d, "ResourceType")),
		                         "status", string_or_null(ciha__stack_str(d, "StackResourceDriftStatus")),
		                         "differences", differences(d));
		if (!item || json_array_append_new(*out, item) != 0)
			rc = nomem();
	}
	json_decref(all);
	return rc;
}

static int detect(char **out_json, ciha_client *c, const char *stack, long timeout_s)
{
	json_t *r = NULL, *status = NULL, *resources = NULL;
	char *detection_id = NULL;
	int rc = ciha__stack_call(&r, c, "DetectStackDrift", json_pack("{s:s}", "StackName", stack), stack);
	if (rc == CIHA_OK && !ciha__stack_str(r, "StackDriftDetectionId"))
		rc = ciha__error_raise(CIHA_EAWS, "DetectStackDrift for stack '%s' returned no detection id", stack);
	if (rc == CIHA_OK && !(detection_id = ciha__strdup(ciha__stack_str(r, "StackDriftDetectionId"))))
		rc = nomem();
	json_decref(r);
	if (rc == CIHA_OK)
		rc = wait_detection(&status, c, stack, detection_id, timeout_s);
	if (rc == CIHA_OK)
		rc = drifted_resources(&resources, c, stack);
	if (rc == CIHA_OK) {
		const char *count = ciha__stack_str(status, "DriftedStackResourceCount");
		rc = ciha__stack_json_text(out_json, json_pack("{s:o, s:o, s:o, s:i, s:o, s:O}",
			"status", string_or_null(ciha__stack_str(status, "StackDriftStatus")),
			"detection", string_or_null(ciha__stack_str(status, "DetectionStatus")),
			"detection_reason", string_or_null(ciha__stack_str(status, "DetectionStatusReason")),
			"drifted_count", count ? atoi(count) : (int)json_array_size(resources),
			"detection_id", string_or_null(detection_id), "resources", resources));
	}
	json_decref(status);
	json_decref(resources);
	ciha__free(detection_id);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_drift(char **out_json, ciha_client *client, const char *stack, long timeout_s)
{
	int rc;
	if (out_json)
		*out_json = NULL;
	if (!out_json || !client || !stack || !*stack)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_drift: out, client and stack name are required");
	rc = detect(out_json, client, stack, timeout_s > 0 ? timeout_s : DRIFT_DEFAULT_TIMEOUT_S);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
