/* stack_delete.c: delete a stack (refused while termination protection is on),
 * optionally after final snapshots of its volumes and DB instances. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "crypto_int.h"
#include "log_int.h"
#include "stack_int.h"
#include "ciha/snapshot.h"

#define FINAL_POLICY_DEFAULT "final"
#define FINAL_POLICY_KEEP 1000

CIHA_EXTERN(ciha_result) ciha_stack_delete_options_init(ciha_stack_delete_options *opts, unsigned int version)
{
	static const ciha_stack_delete_options defaults = CIHA_STACK_DELETE_OPTIONS_INIT;
	int rc;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_delete_options_init: NULL options");
	if ((rc = ciha__stack_options_check(version, CIHA_STACK_DELETE_OPTIONS_VERSION, "stack delete options")) != CIHA_OK)
		return rc;
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

/* ---- final snapshots ------------------------------------------------------- */

/* Add the stack's volumes and DB instances to `sel`; *count says how many. */
static int select_stateful(ciha_snapshot_selector *sel, size_t *count, ciha_client *c, const char *stack)
{
	json_t *resources = NULL;
	size_t i;
	int rc = ciha__stack_resources(&resources, c, stack);
	*count = 0;
	for (i = 0; rc == CIHA_OK && i < json_array_size(resources); i++) {
		const json_t *r = json_array_get(resources, i);
		const char *type = ciha__stack_str(r, "ResourceType"), *id = ciha__stack_str(r, "PhysicalResourceId");
		const char *status = ciha__stack_str(r, "ResourceStatus");
		if (!type || !id || (status && strcmp(status, "DELETE_COMPLETE") == 0))
			continue;
		if (strcmp(type, "AWS::EC2::Volume") == 0)
			rc = ciha_snapshot_selector_add_volume(sel, id);
		else if (strcmp(type, "AWS::RDS::DBInstance") == 0)
			rc = ciha_snapshot_selector_add_db(sel, id);
		else
			continue;
		++*count;
	}
	json_decref(resources);
	return rc;
}

static int final_policy(ciha_snapshot_policy **out, const ciha_stack_delete_options *opts)
{
	const char *name = opts->snapshot_policy && *opts->snapshot_policy ? opts->snapshot_policy : FINAL_POLICY_DEFAULT;
	int rc = ciha_snapshot_policy_new(out, name);
	if (rc == CIHA_OK)
		rc = ciha_snapshot_policy_set_keep_last(*out, FINAL_POLICY_KEEP);
	if (rc == CIHA_OK)
		rc = ciha_snapshot_policy_set_interval(*out, 0);
	if (rc != CIHA_OK) {
		ciha_snapshot_policy_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Fail naming every target whose snapshot did not complete. */
static int check_report(const ciha_snapshot_report *report, const char *stack, int rc)
{
	ciha__buf text = CIHA__BUF_INIT;
	size_t i, n = 0;
	for (i = 0; report && i < ciha_snapshot_report_count(report); i++) {
		int outcome = ciha_snapshot_report_outcome(report, i);
		if (outcome == CIHA_OK)
			continue;
		ciha__buf_printf(&text, "%s%s: %s", n++ ? "; " : "", ciha_snapshot_report_target(report, i),
		                 ciha_snapshot_report_message(report, i) ? ciha_snapshot_report_message(report, i)
		                                                         : ciha_code_name(outcome));
		if (rc == CIHA_OK)
			rc = outcome;
	}
	if (rc != CIHA_OK)
		rc = ciha__error_raise(rc, "stack '%s' not deleted: final snapshots failed: %s", stack,
		                       n ? ciha__buf_cstr(&text) : "see the snapshot report");
	ciha__buf_dispose(&text);
	return rc;
}

static int take_final_snapshots(ciha_client *c, const char *stack, const ciha_stack_delete_options *opts)
{
	ciha_snapshot_options so = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_selector *sel = NULL;
	ciha_snapshot_policy *policy = NULL;
	ciha_snapshot_report *report = NULL;
	size_t count = 0;
	int rc = ciha_snapshot_selector_new(&sel);
	if (rc == CIHA_OK)
		rc = select_stateful(sel, &count, c, stack);
	if (rc == CIHA_OK && count > 0 && (rc = final_policy(&policy, opts)) == CIHA_OK) {
		so.wait = 1;
		so.wait_timeout_s = opts->timeout_s;
		so.poll_interval_ms = opts->poll_interval_ms;
		ciha__log(&c->logger, CIHA_LOG_INFO, "cfn", "stack %s: final snapshots of %zu resources", stack, count);
		rc = ciha_snapshot_take(&report, c, sel, policy, &so);
		rc = check_report(report, stack, rc);
	}
	ciha_snapshot_report_free(report);
	ciha_snapshot_policy_free(policy);
	ciha_snapshot_selector_free(sel);
	return rc;
}

/* ---- delete ----------------------------------------------------------------- */

static int protected_refusal(const json_t *desc, const char *stack)
{
	const char *flag = ciha__stack_str(desc, "EnableTerminationProtection");
	if (flag && strcmp(flag, "true") == 0)
		return ciha__error_raise(CIHA_ESTATE, "stack '%s' has termination protection on; turn it off first "
		                         "(ciha_stack_set_termination_protection, `ciha stack protect off`)", stack);
	return CIHA_OK;
}

static int delete_and_wait(ciha_client *c, const char *id, const char *stack, const ciha_stack_delete_options *opts)
{
	ciha_stack_wait_options w = CIHA_STACK_WAIT_OPTIONS_INIT;
	char token[37], *mark = NULL;
	int rc = opts->wait ? ciha__stack_last_event(&mark, c, id) : CIHA_OK;
	ciha__uuid4(token);
	if (rc == CIHA_OK)
		rc = ciha__stack_call(NULL, c, "DeleteStack", json_pack("{s:s, s:s}", "StackName", id,
		                      "ClientRequestToken", token), stack);
	if (rc == CIHA_OK && opts->wait) {
		w.timeout_s = opts->timeout_s;
		w.poll_interval_ms = opts->poll_interval_ms;
		w.on_event = opts->on_event;
		w.payload = opts->payload;
		rc = ciha__stack_wait_since(NULL, c, id, CIHA_STACK_WAIT_DELETE, &w, mark);
	}
	ciha__free(mark);
	return rc;
}

static int delete_stack(ciha_client *c, const char *stack, const ciha_stack_delete_options *opts)
{
	json_t *desc = NULL;
	const char *id;
	int rc = ciha__stack_describe_json(&desc, c, stack);
	if (rc == CIHA_ENOTFOUND) {
		/* Already gone: deleting is idempotent, as DeleteStack itself is. */
		ciha__error_reset(&c->err);
		return CIHA_OK;
	}
	if (rc != CIHA_OK)
		return rc;
	id = ciha__stack_str(desc, "StackId") ? ciha__stack_str(desc, "StackId") : stack;
	rc = protected_refusal(desc, stack);
	if (rc == CIHA_OK && opts->final_snapshots)
		rc = take_final_snapshots(c, id, opts);
	if (rc == CIHA_OK)
		rc = delete_and_wait(c, id, stack, opts);
	json_decref(desc);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_stack_delete(ciha_client *client, const char *stack, const ciha_stack_delete_options *opts)
{
	static const ciha_stack_delete_options defaults = CIHA_STACK_DELETE_OPTIONS_INIT;
	int rc;
	if (!client || !stack || !*stack)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_delete: client and stack name are required");
	if (!opts)
		opts = &defaults;
	if ((rc = ciha__stack_options_check(opts->version, CIHA_STACK_DELETE_OPTIONS_VERSION,
	                                    "stack delete options")) != CIHA_OK)
		return ciha__client_fail(client, rc);
	rc = delete_stack(client, stack, opts);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
