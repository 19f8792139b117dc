/* stack_stuck.c: classify a stuck or broken stack and apply the safe way out. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "alloc_int.h"
#include "crypto_int.h"
#include "log_int.h"
#include "stack_int.h"
#include "time_int.h"

#define STALE_DEFAULT_S 3600

typedef struct {
	json_t *desc;
	json_t *resources;
	const char *status;
	const char *problem;
	const char *action;
	json_t *data;            /* stateful resources with live physical ids: ["Db (AWS::RDS::DBInstance) db-1"] */
	json_t *skip;            /* logical ids in UPDATE_FAILED */
	long long age_s;         /* since the last update or the creation */
} diagnosis;

static void diagnosis_dispose(diagnosis *g)
{
	json_decref(g->desc);
	json_decref(g->resources);
	json_decref(g->data);
	json_decref(g->skip);
}

static int is_live(const char *status)
{
	return !status || (strcmp(status, "DELETE_COMPLETE") != 0 && strcmp(status, "DELETE_SKIPPED") != 0);
}

static int classify_resources(diagnosis *g)
{
	size_t i;
	for (i = 0; i < json_array_size(g->resources); i++) {
		const json_t *r = json_array_get(g->resources, i);
		const char *type = ciha__stack_str(r, "ResourceType"), *phys = ciha__stack_str(r, "PhysicalResourceId");
		const char *logical = ciha__stack_str(r, "LogicalResourceId"), *status = ciha__stack_str(r, "ResourceStatus");
		if (type && phys && ciha__resource_type_is_stateful(type) && is_live(status) &&
		    json_array_append_new(g->data, json_pack("{s:s?, s:s, s:s}", "logical_id", logical, "type", type,
		                                             "physical_id", phys)) != 0)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
		if (logical && status && strcmp(status, "UPDATE_FAILED") == 0 &&
		    json_array_append_new(g->skip, json_string(logical)) != 0)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

static long long stack_age(const json_t *desc)
{
	const char *when = ciha__stack_str(desc, "LastUpdatedTime");
	double t = 0;
	if (!when)
		when = ciha__stack_str(desc, "CreationTime");
	if (!when || ciha__time_parse(when, &t) != 0)
		return 0;
	return ciha__now_ms() / 1000 - (long long)t;
}

static void classify(diagnosis *g, long stale_after_s)
{
	const char *s = g->status;
	g->problem = "none";
	g->action = "none";
	if (strcmp(s, "ROLLBACK_COMPLETE") == 0) {
		g->problem = "rollback-complete";
		g->action = "delete";
	} else if (strcmp(s, "UPDATE_ROLLBACK_FAILED") == 0) {
		g->problem = "update-rollback-failed";
		g->action = "continue-update-rollback";
	} else if (strcmp(s, "REVIEW_IN_PROGRESS") == 0) {
		g->problem = "review-in-progress";
		g->action = "delete";
	} else if (strstr(s, "_IN_PROGRESS") && g->age_s > stale_after_s) {
		g->problem = "stale-in-progress";
		g->action = strcmp(s, "UPDATE_IN_PROGRESS") == 0 ? "cancel-update" : "wait";
	}
}

static int diagnose(diagnosis *g, ciha_client *c, const char *stack, long stale_after_s)
{
	int rc;
	memset(g, 0, sizeof(*g));
	g->data = json_array();
	g->skip = json_array();
	if (!g->data || !g->skip)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = ciha__stack_describe_json(&g->desc, c, stack)) != CIHA_OK)
		return rc;
	g->status = ciha__stack_str(g->desc, "StackStatus");
	if (!g->status)
		return ciha__error_raise(CIHA_EAWS, "DescribeStacks gave no status for stack '%s'", stack);
	rc = ciha__stack_resources(&g->resources, c, ciha__stack_str(g->desc, "StackId") ? ciha__stack_str(g->desc,
	                           "StackId") : stack);
	if (rc == CIHA_OK)
		rc = classify_resources(g);
	g->age_s = stack_age(g->desc);
	classify(g, stale_after_s > 0 ? stale_after_s : STALE_DEFAULT_S);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_diagnose(char **out_json, ciha_client *client, const char *stack,
                                             long stale_after_s)
{
	diagnosis g;
	int rc;
	if (out_json)
		*out_json = NULL;
	if (!out_json || !client || !stack || !*stack)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_diagnose: out, client and stack name are required");
	rc = diagnose(&g, client, stack, stale_after_s);
	if (rc == CIHA_OK) {
		/* Only a failed update rollback has resources to skip. */
		int rollback = strcmp(g.problem, "update-rollback-failed") == 0;
		rc = ciha__stack_json_text(out_json, json_pack("{s:s, s:s, s:s?, s:s, s:s, s:b, s:O, s:o, s:I}",
			"stack", stack, "status", g.status, "reason", ciha__stack_str(g.desc, "StackStatusReason"),
			"problem", g.problem, "action", g.action, "holds_data", json_array_size(g.data) > 0,
			"data_resources", g.data, "resources_to_skip", rollback ? json_incref(g.skip) : json_array(),
			"age_s", (json_int_t)g.age_s));
	}
	diagnosis_dispose(&g);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}

/* ---- fix ------------------------------------------------------------------- */

static int fix_delete(ciha_client *c, const char *stack, const diagnosis *g, int force)
{
	ciha_stack_delete_options o = CIHA_STACK_DELETE_OPTIONS_INIT;
	const json_t *first = json_array_get(g->data, 0);
	if (first && !force)
		return ciha__error_raise(CIHA_ESTATE, "stack '%s' (%s) holds data (%s %s %s and %zu more); not deleted "
		                         "without force", stack, g->status, ciha__stack_str(first, "logical_id"),
		                         ciha__stack_str(first, "type"), ciha__stack_str(first, "physical_id"),
		                         json_array_size(g->data) - 1);
	o.wait = 0;
	ciha__log(&c->logger, CIHA_LOG_INFO, "cfn", "stack %s (%s): deleting", stack, g->status);
	return ciha_stack_delete(c, stack, &o);
}

static int fix_rollback(ciha_client *c, const char *stack, const diagnosis *g)
{
	char token[37];
	json_t *params;
	ciha__uuid4(token);
	params = json_pack("{s:s, s:s}", "StackName", stack, "ClientRequestToken", token);
	if (params && json_array_size(g->skip) > 0 && json_object_set(params, "ResourcesToSkip", g->skip) != 0) {
		json_decref(params);
		params = NULL;
	}
	ciha__log(&c->logger, CIHA_LOG_INFO, "cfn", "stack %s: continuing the update rollback, skipping %zu resources",
	          stack, json_array_size(g->skip));
	return ciha__stack_call(NULL, c, "ContinueUpdateRollback", params, stack);
}

static int fix_stale(ciha_client *c, const char *stack, const diagnosis *g)
{
	char token[37];
	if (strcmp(g->action, "cancel-update") != 0)
		return ciha__error_raise(CIHA_ESTATE, "stack '%s' has been in %s for %lld s; it cannot be cancelled, "
		                         "only waited for", stack, g->status, g->age_s);
	ciha__uuid4(token);
	ciha__log(&c->logger, CIHA_LOG_INFO, "cfn", "stack %s: cancelling the update running for %lld s", stack,
	          g->age_s);
	return ciha__stack_call(NULL, c, "CancelUpdateStack", json_pack("{s:s, s:s}", "StackName", stack,
	                        "ClientRequestToken", token), stack);
}

CIHA_EXTERN(ciha_result) ciha_stack_fix(ciha_client *client, const char *stack, int force)
{
	diagnosis g;
	int rc;
	if (!client || !stack || !*stack)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_fix: client and stack name are required");
	rc = diagnose(&g, client, stack, STALE_DEFAULT_S);
	if (rc == CIHA_OK && strcmp(g.action, "delete") == 0)
		rc = fix_delete(client, stack, &g, force);
	else if (rc == CIHA_OK && strcmp(g.action, "continue-update-rollback") == 0)
		rc = fix_rollback(client, stack, &g);
	else if (rc == CIHA_OK && strcmp(g.problem, "stale-in-progress") == 0)
		rc = fix_stale(client, stack, &g);
	diagnosis_dispose(&g);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
