/* stack_protect.c: termination protection and stack policies. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "alloc_int.h"
#include "error_int.h"
#include "stack_int.h"

#define POLICY_MAX_BYTES 16384   /* StackPolicyBody */

static int bad_argument(ciha_client *c, const char *what)
{
	int rc = ciha__error_raise(CIHA_EINVAL, "%s", what);
	return c ? ciha__client_fail(c, rc) : rc;
}

/* A 5xx without an AWS error (an HTML page: the endpoint has no such action, as
 * with moto) gets a message that says so instead of "500: Internal Server Error". */
static int explain_bare_server_error(ciha_client *c, int rc, const char *action, const char *stack)
{
	const struct ciha_error *e = &c->err;
	ciha__error_detail d;
	char status[16];
	snprintf(status, sizeof(status), "%d", e->http_status);
	if (e->http_status < 500 || (e->aws_code && strcmp(e->aws_code, status) != 0))
		return rc;
	d.service = "cloudformation";
	d.http_status = e->http_status;
	d.aws_code = e->aws_code;
	d.request_id = e->request_id;
	d.retryable = e->retryable;
	rc = ciha__error_raise_detail(rc, &d, "cloudformation %s for stack '%s' failed: the endpoint answered HTTP %d "
	                              "without an AWS error; it may not implement %s", action, stack, e->http_status,
	                              action);
	return ciha__client_fail(c, rc);
}

CIHA_EXTERN(ciha_result) ciha_stack_set_termination_protection(ciha_client *client, const char *stack, int on)
{
	int rc;
	if (!client || !stack || !*stack)
		return bad_argument(client, "ciha_stack_set_termination_protection: client and stack are required");
	rc = ciha__stack_call(NULL, client, "UpdateTerminationProtection",
	                      json_pack("{s:b, s:s}", "EnableTerminationProtection", on ? 1 : 0, "StackName", stack), stack);
	return rc == CIHA_OK ? CIHA_OK : explain_bare_server_error(client, rc, "UpdateTerminationProtection", stack);
}

int ciha__stack_policy_check(const char *policy_json, const char *what)
{
	json_error_t err;
	json_t *policy;
	int ok;
	if (!policy_json)
		return ciha__error_raise(CIHA_EINVAL, "%s: no policy", what);
	if (strlen(policy_json) > POLICY_MAX_BYTES)
		return ciha__error_raise(CIHA_EINVAL, "%s: %zu bytes; CloudFormation takes at most %d", what,
		                         strlen(policy_json), POLICY_MAX_BYTES);
	if (!(policy = json_loads(policy_json, JSON_REJECT_DUPLICATES, &err)))
		return ciha__error_raise(CIHA_EINVAL, "%s:%d:%d: %s", what, err.line, err.column, err.text);
	ok = json_is_array(json_object_get(policy, "Statement"));
	json_decref(policy);
	return ok ? CIHA_OK : ciha__error_raise(CIHA_EINVAL, "%s: a policy is an object with a \"Statement\" array", what);
}

CIHA_EXTERN(ciha_result) ciha_stack_policy_set(ciha_client *client, const char *stack, const char *policy_json)
{
	int rc;
	if (!client || !stack || !*stack || !policy_json)
		return bad_argument(client, "ciha_stack_policy_set: client, stack and policy are required");
	if ((rc = ciha__stack_policy_check(policy_json, "stack policy")) != CIHA_OK)
		return ciha__client_fail(client, rc);
	rc = ciha__stack_call(NULL, client, "SetStackPolicy",
	                      json_pack("{s:s, s:s}", "StackName", stack, "StackPolicyBody", policy_json), stack);
	return rc == CIHA_OK ? CIHA_OK : explain_bare_server_error(client, rc, "SetStackPolicy", stack);
}

CIHA_EXTERN(ciha_result) ciha_stack_policy_get(char **out, ciha_client *client, const char *stack)
{
	json_t *result = NULL;
	const char *body;
	int rc;
	if (!out)
		return bad_argument(client, "ciha_stack_policy_get: out is NULL");
	*out = NULL;
	if (!client || !stack || !*stack)
		return bad_argument(client, "ciha_stack_policy_get: client and stack are required");
	rc = ciha__stack_call(&result, client, "GetStackPolicy", json_pack("{s:s}", "StackName", stack), stack);
	if (rc != CIHA_OK)
		return explain_bare_server_error(client, rc, "GetStackPolicy", stack);
	body = json_string_value(json_object_get(result, "StackPolicyBody"));
	if (body && *body && !(*out = ciha__strdup(body)))
		rc = ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	json_decref(result);
	return rc;
}
