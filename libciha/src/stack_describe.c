/* stack_describe.c: a stack's description (status, outputs, parameters, tags,
 * resources), the list of stacks and a stack's events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "alloc_int.h"
#include "call_int.h"
#include "error_int.h"
#include "stack_int.h"
#include "time_int.h"

struct ciha_stack {
	json_t *desc;        /* the DescribeStacks member */
	json_t *resources;   /* ListStackResources summaries */
};

static int out_of_memory(ciha_client *c)
{
	int rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return c ? ciha__client_fail(c, rc) : rc;
}

static int bad_argument(ciha_client *c, const char *what)
{
	int rc = ciha__error_raise(CIHA_EINVAL, "%s", what);
	return c ? ciha__client_fail(c, rc) : rc;
}

static int is_missing(const ciha_client *c)
{
	const char *code = c->err.aws_code, *msg = c->err.message;
	return code && strcmp(code, "ValidationError") == 0 && msg && strstr(msg, "does not exist");
}

/* CloudFormation says "Stack with id x does not exist" as a ValidationError: CIHA_ENOTFOUND. */
static int stack_missing(ciha_client *c, int rc, const char *action, const char *stack)
{
	const struct ciha_error *e = &c->err;
	ciha__error_detail d;
	if (!is_missing(c))
		return rc;
	d.service = "cloudformation";
	d.http_status = e->http_status;
	d.aws_code = e->aws_code;
	d.request_id = e->request_id;
	d.retryable = 0;
	rc = ciha__error_raise_detail(CIHA_ENOTFOUND, &d, "cloudformation %s: stack '%s' does not exist", action,
	                              stack ? stack : "");
	return ciha__client_fail(c, rc);
}

int ciha__stack_call(json_t **out, ciha_client *c, const char *action, json_t *params, const char *stack)
{
	json_t *result = NULL;
	int rc;
	if (out)
		*out = NULL;
	if (!params)
		return out_of_memory(c);
	rc = ciha__call_service(&result, c, ciha__service_find("cloudformation"), action, params);
	json_decref(params);
	if (rc != CIHA_OK)
		return stack_missing(c, rc, action, stack);
	if (out)
		*out = result;
	else
		json_decref(result);
	return CIHA_OK;
}

int ciha__stack_json_text(char **out, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	*out = text ? ciha__strdup(text) : NULL;
	free(text);
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

int ciha__stack_describe_json(json_t **out, ciha_client *c, const char *stack)
{
	json_t *result = NULL, *first;
	int rc;
	*out = NULL;
	if (!stack || !*stack)
		return bad_argument(c, "no stack name");
	rc = ciha__stack_call(&result, c, "DescribeStacks", json_pack("{s:s}", "StackName", stack), stack);
	if (rc != CIHA_OK)
		return rc;
	first = json_array_get(json_object_get(result, "Stacks"), 0);
	if (!json_is_object(first)) {
		json_decref(result);
		rc = ciha__error_raise(CIHA_ENOTFOUND, "cloudformation DescribeStacks: stack '%s' does not exist", stack);
		return ciha__client_fail(c, rc);
	}
	*out = json_incref(first);
	json_decref(result);
	return CIHA_OK;
}

/* ---- ciha_stack ----------------------------------------------------------- */

/* Every page of ListStackResources: the resource summaries as a new array. */
static int list_resources(json_t **out, ciha_client *c, const char *stack)
{
	json_t *params = json_pack("{s:s}", "StackName", stack), *all = NULL, *list;
	int rc = params ? ciha_call_all(&all, c, "cloudformation", "ListStackResources", params) : out_of_memory(c);
	json_decref(params);
	*out = NULL;
	if (rc != CIHA_OK)
		return stack_missing(c, rc, "ListStackResources", stack);
	list = json_object_get(all, "StackResourceSummaries");
	*out = json_is_array(list) ? json_incref(list) : json_array();
	json_decref(all);
	return *out ? CIHA_OK : out_of_memory(c);
}

CIHA_EXTERN(ciha_result) ciha_stack_describe(ciha_stack **out, ciha_client *client, const char *stack)
{
	ciha_stack *s;
	int rc;
	if (!out || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_describe: out and client are required");
	*out = NULL;
	s = ciha__calloc(1, sizeof(*s));
	if (!s)
		return out_of_memory(client);
	rc = ciha__stack_describe_json(&s->desc, client, stack);
	if (rc == CIHA_OK)
		rc = list_resources(&s->resources, client, stack);
	if (rc != CIHA_OK) {
		ciha_stack_free(s);
		return rc;
	}
	*out = s;
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_stack_free(ciha_stack *s)
{
	if (!s)
		return;
	json_decref(s->desc);
	json_decref(s->resources);
	ciha__free(s);
}

CIHA_EXTERN(const char *) ciha_stack_name(const ciha_stack *s)
{
	return s ? ciha__stack_str(s->desc, "StackName") : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_id(const ciha_stack *s)
{
	return s ? ciha__stack_str(s->desc, "StackId") : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_status(const ciha_stack *s)
{
	return s ? ciha__stack_str(s->desc, "StackStatus") : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_status_reason(const ciha_stack *s)
{
	const char *reason = s ? ciha__stack_str(s->desc, "StackStatusReason") : NULL;
	return reason && *reason ? reason : NULL;
}

CIHA_EXTERN(int) ciha_stack_termination_protection(const ciha_stack *s)
{
	const char *on = s ? ciha__stack_str(s->desc, "EnableTerminationProtection") : NULL;
	return on && strcmp(on, "true") == 0;
}

static const json_t *outputs(const ciha_stack *s)
{
	return s ? json_object_get(s->desc, "Outputs") : NULL;
}

/* The value of the member of `list` whose `key_name` is `key`. */
static const char *lookup(const json_t *list, const char *key_name, const char *key, const char *value_name)
{
	size_t i;
	for (i = 0; key && i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		if (ciha__stack_str(item, key_name) && strcmp(ciha__stack_str(item, key_name), key) == 0)
			return ciha__stack_str(item, value_name) ? ciha__stack_str(item, value_name) : "";
	}
	return NULL;
}

CIHA_EXTERN(const char *) ciha_stack_output(const ciha_stack *s, const char *key)
{
	return lookup(outputs(s), "OutputKey", key, "OutputValue");
}

CIHA_EXTERN(size_t) ciha_stack_outputs_count(const ciha_stack *s)
{
	return json_array_size(outputs(s));
}

CIHA_EXTERN(const char *) ciha_stack_output_key_at(const ciha_stack *s, size_t i)
{
	return ciha__stack_str(json_array_get(outputs(s), i), "OutputKey");
}

CIHA_EXTERN(const char *) ciha_stack_output_value_at(const ciha_stack *s, size_t i)
{
	const json_t *o = json_array_get(outputs(s), i);
	return o ? (ciha__stack_str(o, "OutputValue") ? ciha__stack_str(o, "OutputValue") : "") : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_parameter(const ciha_stack *s, const char *key)
{
	return s ? lookup(json_object_get(s->desc, "Parameters"), "ParameterKey", key, "ParameterValue") : NULL;
}

/* [{key_name: k, value_name: v}, ...] as {k: v, ...}. */
static json_t *as_map(const json_t *list, const char *key_name, const char *value_name)
{
	json_t *map = json_object();
	size_t i;
	for (i = 0; map && i < json_array_size(list); i++) {
		const json_t *item = json_array_get(list, i);
		const char *k = ciha__stack_str(item, key_name), *v = ciha__stack_str(item, value_name);
		if (k && json_object_set_new(map, k, json_string(v ? v : "")) != 0) {
			json_decref(map);
			return NULL;
		}
	}
	return map;
}

static json_t *string_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* Member `key` as a JSON string, or null when absent or empty. */
static json_t *field(const json_t *o, const char *key)
{
	return string_or_null(ciha__stack_str(o, key));
}

static json_t *resource_json(const json_t *r)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "logical_id", field(r, "LogicalResourceId"),
	                 "physical_id", field(r, "PhysicalResourceId"),
	                 "type", field(r, "ResourceType"),
	                 "status", field(r, "ResourceStatus"),
	                 "reason", field(r, "ResourceStatusReason"),
	                 "updated", field(r, "LastUpdatedTimestamp"));
}

static json_t *resources_json(const ciha_stack *s)
{
	json_t *list = json_array();
	size_t i;
	for (i = 0; list && i < json_array_size(s->resources); i++)
		if (json_array_append_new(list, resource_json(json_array_get(s->resources, i))) != 0) {
			json_decref(list);
			return NULL;
		}
	return list;
}

CIHA_EXTERN(ciha_result) ciha_stack_json(char **out, const ciha_stack *s)
{
	const json_t *d;
	if (!out || !s)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_json: out and stack are required");
	d = s->desc;
	return ciha__stack_json_text(out, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o}",
		"name", field(d, "StackName"), "id", field(d, "StackId"),
		"status", field(d, "StackStatus"), "reason", field(d, "StackStatusReason"),
		"description", field(d, "Description"), "created", field(d, "CreationTime"),
		"updated", field(d, "LastUpdatedTime"), "protection", ciha_stack_termination_protection(s),
		"outputs", as_map(outputs(s), "OutputKey", "OutputValue"),
		"parameters", as_map(json_object_get(d, "Parameters"), "ParameterKey", "ParameterValue"),
		"tags", as_map(json_object_get(d, "Tags"), "Key", "Value"), "resources", resources_json(s)));
}

/* ---- the list of stacks --------------------------------------------------- */

/* Every StackStatus but DELETE_COMPLETE. */
static const char *const live_statuses[] = { "CREATE_IN_PROGRESS", "CREATE_FAILED", "CREATE_COMPLETE",
	"ROLLBACK_IN_PROGRESS", "ROLLBACK_FAILED", "ROLLBACK_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_FAILED",
	"UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "UPDATE_FAILED",
	"UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
	"UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS", "IMPORT_IN_PROGRESS", "IMPORT_COMPLETE",
	"IMPORT_ROLLBACK_IN_PROGRESS", "IMPORT_ROLLBACK_FAILED", "IMPORT_ROLLBACK_COMPLETE", NULL };

static json_t *list_params(int include_deleted)
{
	json_t *params = json_object(), *filter = json_array();
	size_t i;
	for (i = 0; !include_deleted && filter && live_statuses[i]; i++)
		json_array_append_new(filter, json_string(live_statuses[i]));
	if (!params || !filter || (!include_deleted && json_array_size(filter) != i) ||
	    (!include_deleted && json_object_set(params, "StackStatusFilter", filter) != 0)) {
		json_decref(params);
		params = NULL;
	}
	json_decref(filter);
	return params;
}

/* The newest of the summary's times. */
static const char *summary_updated(const json_t *summary)
{
	if (ciha__stack_str(summary, "DeletionTime"))
		return ciha__stack_str(summary, "DeletionTime");
	if (ciha__stack_str(summary, "LastUpdatedTime"))
		return ciha__stack_str(summary, "LastUpdatedTime");
	return ciha__stack_str(summary, "CreationTime");
}

CIHA_EXTERN(ciha_result) ciha_stack_list(char **out_json, ciha_client *client, int include_deleted)
{
	json_t *params, *result = NULL, *list;
	const json_t *summaries;
	size_t i;
	int rc;
	if (!out_json || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_list: out_json and client are required");
	*out_json = NULL;
	params = list_params(include_deleted);
	rc = params ? ciha_call_all(&result, client, "cloudformation", "ListStacks", params) : out_of_memory(client);
	json_decref(params);
	if (rc != CIHA_OK)
		return rc;
	summaries = json_object_get(result, "StackSummaries");
	list = json_array();
	for (i = 0; list && i < json_array_size(summaries); i++) {
		const json_t *sum = json_array_get(summaries, i);
		const char *status = ciha__stack_str(sum, "StackStatus");
		if (!include_deleted && status && strcmp(status, "DELETE_COMPLETE") == 0)
			continue;   /* in case the endpoint ignores StackStatusFilter */
		json_t *item = json_pack("{s:o, s:o, s:o, s:o}", "name", field(sum, "StackName"), "id", field(sum, "StackId"),
		                         "status", string_or_null(status), "updated", string_or_null(summary_updated(sum)));
		if (json_array_append_new(list, item) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	json_decref(result);
	rc = ciha__stack_json_text(out_json, list);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}

/* ---- events --------------------------------------------------------------- */

static json_t *event_json(const json_t *e)
{
	double t = 0;
	const char *when = ciha__stack_str(e, "Timestamp");
	if (!when || ciha__time_parse(when, &t) != 0)
		t = 0;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
	                 "event_id", field(e, "EventId"),
	                 "stack_name", field(e, "StackName"),
	                 "logical_id", field(e, "LogicalResourceId"),
	                 "physical_id", field(e, "PhysicalResourceId"),
	                 "type", field(e, "ResourceType"),
	                 "status", field(e, "ResourceStatus"),
	                 "reason", field(e, "ResourceStatusReason"),
	                 "time", string_or_null(when),
	                 "timestamp", (json_int_t)t);
}

/* Append the page's events (newest first, as CloudFormation sends them) up to max. */
static int append_events(json_t *list, const json_t *page, size_t max)
{
	const json_t *events = json_object_get(page, "StackEvents");
	size_t i;
	for (i = 0; i < json_array_size(events) && (max == 0 || json_array_size(list) < max); i++)
		if (json_array_append_new(list, event_json(json_array_get(events, i))) != 0)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_events(char **out_json, ciha_client *client, const char *stack, size_t max)
{
	ciha_pager *pager = NULL;
	json_t *params, *page = NULL, *list;
	int rc;
	if (!out_json || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_events: out_json and client are required");
	*out_json = NULL;
	if (!stack || !*stack)
		return bad_argument(client, "no stack name");
	params = json_pack("{s:s}", "StackName", stack);
	list = json_array();
	rc = params && list ? ciha_pager_new(&pager, client, "cloudformation", "DescribeStackEvents", params)
	                    : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(params);
	while (rc == CIHA_OK && (max == 0 || json_array_size(list) < max) && (rc = ciha_pager_next(&page, pager)) == CIHA_OK) {
		rc = append_events(list, page, max);
		json_decref(page);
	}
	ciha_pager_free(pager);
	if (rc == CIHA_ITEROVER)
		rc = CIHA_OK;
	if (rc == CIHA_OK)
		rc = ciha__stack_json_text(out_json, json_incref(list));
	json_decref(list);
	if (rc == CIHA_OK)
		return CIHA_OK;
	rc = ciha__client_fail(client, rc);
	return stack_missing(client, rc, "DescribeStackEvents", stack);
}
