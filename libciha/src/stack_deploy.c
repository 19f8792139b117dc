/* stack_deploy.c: create or update a stack through a change set, with a guard
 * against replacing or removing stateful resources. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "call_int.h"
#include "crypto_int.h"
#include "log_int.h"
#include "stack_int.h"
#include "time_int.h"

#define DEPLOY_DEFAULT_POLL_MS 5000
#define DEPLOY_DEFAULT_TIMEOUT_S 3600
#define CHANGE_SET_FIRST_POLL_MS 250

struct ciha_stack_deployment {
	char *stack_name;
	char *stack_id;
	char *action;        /* "create", "update", "none" */
	char *status;
	char *change_set;
	int executed;
	json_t *changes;     /* [{"action","logical_id","physical_id","type","replacement","dangerous"}] */
};

typedef struct {
	ciha_client *c;
	const ciha_stack_spec *spec;
	const ciha_stack_deploy_options *opts;
	ciha_stack_deployment *d;
	json_t *current;     /* the stack's description before deploying; NULL when it is new */
	int create;          /* ChangeSetType CREATE */
	long long deadline;  /* monotonic ms */
} deploy_ctx;

static int nomem(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

static int replace_string(char **dst, const char *value)
{
	char *copy = value ? ciha__strdup(value) : NULL;
	if (value && !copy)
		return nomem();
	ciha__free(*dst);
	*dst = copy;
	return CIHA_OK;
}

/* ---- options ------------------------------------------------------------- */

CIHA_EXTERN(ciha_result) ciha_stack_deploy_options_init(ciha_stack_deploy_options *opts, unsigned int version)
{
	static const ciha_stack_deploy_options defaults = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	int rc;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_deploy_options_init: NULL options");
	if ((rc = ciha__stack_options_check(version, CIHA_STACK_DEPLOY_OPTIONS_VERSION, "stack deploy options")) != CIHA_OK)
		return rc;
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

static long poll_ms(const deploy_ctx *x)
{
	return x->opts->poll_interval_ms > 0 ? x->opts->poll_interval_ms : DEPLOY_DEFAULT_POLL_MS;
}

static long timeout_s(const deploy_ctx *x)
{
	return x->opts->timeout_s > 0 ? x->opts->timeout_s : DEPLOY_DEFAULT_TIMEOUT_S;
}

/* ---- deciding between create and update ------------------------------------ */

static const char *current_status(const deploy_ctx *x)
{
	return ciha__stack_str(x->current, "StackStatus");
}

static int refuse(deploy_ctx *x, const char *status, const char *advice)
{
	return ciha__error_raise(CIHA_ESTATE, "stack '%s' is in %s: %s", x->spec->name, status, advice);
}

/* A stack an earlier deploy left in REVIEW_IN_PROGRESS was never created: delete
 * it (with its change sets) and create it again. Reusing the name for another
 * CREATE change set would work on AWS, but deleting works everywhere. */
static int recover_review(deploy_ctx *x)
{
	ciha_stack_delete_options del = CIHA_STACK_DELETE_OPTIONS_INIT;
	const char *id = ciha__stack_str(x->current, "StackId");
	json_t *resources = NULL;
	int rc = id ? ciha__stack_resources(&resources, x->c, id)
	            : ciha__error_raise(CIHA_EAWS, "DescribeStacks gave no id for stack '%s'", x->spec->name);
	if (rc == CIHA_OK && json_array_size(resources) > 0)
		rc = refuse(x, "REVIEW_IN_PROGRESS", "it has resources already; review or execute its change set, "
		            "or delete it (ciha_stack_fix)");
	json_decref(resources);
	if (rc != CIHA_OK)
		return rc;
	ciha__log(&x->c->logger, CIHA_LOG_INFO, "cfn", "stack %s was left in REVIEW_IN_PROGRESS by an earlier deploy; "
	          "deleting it to create it again", x->spec->name);
	del.timeout_s = timeout_s(x);
	del.poll_interval_ms = poll_ms(x);
	rc = ciha_stack_delete(x->c, id, &del);
	json_decref(x->current);
	x->current = NULL;
	x->create = 1;
	return rc;
}

static int choose_type(deploy_ctx *x)
{
	const char *status;
	int rc = ciha__stack_describe_json(&x->current, x->c, x->spec->name);
	if (rc == CIHA_ENOTFOUND) {
		ciha__error_reset(&x->c->err);
		x->create = 1;
		return CIHA_OK;
	}
	if (rc != CIHA_OK)
		return rc;
	status = current_status(x);
	if (!status)
		return ciha__error_raise(CIHA_EAWS, "DescribeStacks gave no status for stack '%s'", x->spec->name);
	if (strcmp(status, "REVIEW_IN_PROGRESS") == 0)
		return recover_review(x);
	if (strcmp(status, "ROLLBACK_COMPLETE") == 0)
		return refuse(x, status, "its creation failed and was rolled back, so it cannot be updated; delete it "
		              "(ciha_stack_delete) or run ciha_stack_fix, then deploy again");
	if (strcmp(status, "UPDATE_ROLLBACK_FAILED") == 0 || strcmp(status, "ROLLBACK_FAILED") == 0 ||
	    strcmp(status, "DELETE_FAILED") == 0)
		return refuse(x, status, "see ciha_stack_diagnose and ciha_stack_fix before deploying");
	if (strstr(status, "_IN_PROGRESS"))
		return refuse(x, status, "another operation is running; wait for it (ciha_stack_wait) first");
	x->create = 0;
	return CIHA_OK;
}

/* ---- the change set ---------------------------------------------------------- */

static int set_new(json_t *o, const char *key, json_t *value)
{
	return value && json_object_set_new(o, key, value) == 0 ? CIHA_OK : nomem();
}

static json_t *string_array(char *const *items, size_t n)
{
	json_t *arr = json_array();
	size_t i;
	for (i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, json_string(items[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static json_t *tags_array(const ciha_stack_spec *s)
{
	json_t *arr = json_array();
	size_t i;
	for (i = 0; arr && i < s->ntags; i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:s}", "Key", s->tag_keys[i], "Value",
		                                         s->tag_values[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}

static int add_lists(json_t *p, const ciha_stack_spec *s)
{
	int rc = CIHA_OK;
	if (s->ntags)
		rc = set_new(p, "Tags", tags_array(s));
	if (rc == CIHA_OK && s->ncapabilities)
		rc = set_new(p, "Capabilities", string_array(s->capabilities, s->ncapabilities));
	if (rc == CIHA_OK && s->nnotification_arns)
		rc = set_new(p, "NotificationARNs", string_array(s->notification_arns, s->nnotification_arns));
	return rc;
}

static int change_set_params(json_t **out, deploy_ctx *x, const char *name, const char *token)
{
	const ciha_stack_spec *s = x->spec;
	json_t *params = NULL, *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "StackName", s->name, "ChangeSetName", name,
	                                      "ClientToken", token, "TemplateBody", s->template_body,
	                                      "ChangeSetType", x->create ? "CREATE" : "UPDATE");
	int rc = p ? ciha__stack_spec_parameters(&params, x->c, s) : nomem();
	*out = NULL;
	if (rc == CIHA_OK && json_array_size(params) > 0)
		rc = set_new(p, "Parameters", json_incref(params));
	json_decref(params);
	if (rc == CIHA_OK)
		rc = add_lists(p, s);
	if (rc == CIHA_OK && s->role_arn)
		rc = set_new(p, "RoleARN", json_string(s->role_arn));
	/* OnStackFailure is CreateChangeSet's OnFailure; DELETE is only valid for a new stack. */
	if (rc == CIHA_OK && s->on_failure && x->create)
		rc = set_new(p, "OnStackFailure", json_string(s->on_failure));
	if (rc != CIHA_OK) {
		json_decref(p);
		return rc;
	}
	*out = p;
	return CIHA_OK;
}

static void change_set_name(char *out, size_t size)
{
	char uuid[37];
	ciha__uuid4(uuid);
	snprintf(out, size, "ciha-%lld-%.8s", (long long)time(NULL), uuid);
}

static int is_no_change(const char *reason)
{
	return ciha__stack_contains_ci(reason, "didn't contain changes") ||
	       ciha__stack_contains_ci(reason, "No updates are to be performed");
}

static int dangerous_change(const char *action, const char *type, const char *replacement)
{
	if (!action || !ciha__resource_type_is_stateful(type))
		return 0;
	if (strcmp(action, "Remove") == 0)
		return 1;
	return strcmp(action, "Modify") == 0 && replacement &&
	       (strcmp(replacement, "True") == 0 || strcmp(replacement, "Conditional") == 0);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int collect_changes(deploy_ctx *x, const json_t *described)
{
	const json_t *list = json_object_get(described, "Changes");
	size_t i;
	for (i = 0; json_is_array(list) && i < json_array_size(list); i++) {
		const json_t *rcj = json_object_get(json_array_get(list, i), "ResourceChange");
		const char *action = ciha__stack_str(rcj, "Action"), *type = ciha__stack_str(rcj, "ResourceType");
		const char *replacement = ciha__stack_str(rcj, "Replacement");
		json_t *item;
		if (!rcj)
			continue;
		item = json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "action", string_or_null(action),
		                 "logical_id", string_or_null(ciha__stack_str(rcj, "LogicalResourceId")),
		                 "physical_id", string_or_null(ciha__stack_str(rcj, "PhysicalResourceId")),
		                 "type", string_or_null(type), "replacement", string_or_null(replacement),
		                 "dangerous", dangerous_change(action, type, replacement));
		if (!item || json_array_append_new(x->d->changes, item) != 0)
			return nomem();
	}
	return CIHA_OK;
}

static int describe_change_set(json_t **out, deploy_ctx *x, int all_pages)
{
	json_t *params = json_pack("{s:s}", "ChangeSetName", x->d->change_set);
	int rc;
	if (!all_pages)
		return ciha__stack_call(out, x->c, "DescribeChangeSet", params, x->spec->name);
	if (!params)
		return nomem();
	rc = ciha_call_all(out, x->c, "cloudformation", "DescribeChangeSet", params);
	json_decref(params);
	return rc;
}

static int no_changes(deploy_ctx *x)
{
	ciha__log(&x->c->logger, CIHA_LOG_INFO, "cfn", "stack %s: no changes", x->spec->name);
	return replace_string(&x->d->action, "none");
}

static int drop_empty_change_set(deploy_ctx *x)
{
	int rc = ciha__stack_call(NULL, x->c, "DeleteChangeSet", json_pack("{s:s}", "ChangeSetName", x->d->change_set),
	                          x->spec->name);
	if (rc != CIHA_OK) {
		ciha__log(&x->c->logger, CIHA_LOG_WARN, "cfn", "stack %s: could not delete the empty change set: %s",
		          x->spec->name, x->c->err.message ? x->c->err.message : "");
		ciha__error_reset(&x->c->err);
	}
	return no_changes(x);
}

static int create_change_set(deploy_ctx *x)
{
	char name[64], token[37];
	json_t *params = NULL, *r = NULL;
	int rc;
	change_set_name(name, sizeof(name));
	ciha__uuid4(token);
	if (x->spec->timeout_minutes > 0 && x->create)
		ciha__log(&x->c->logger, CIHA_LOG_WARN, "cfn", "stack %s: CreateChangeSet has no TimeoutInMinutes; the "
		          "deploy waits at most %ld s instead", x->spec->name, timeout_s(x));
	if ((rc = change_set_params(&params, x, name, token)) != CIHA_OK)
		return rc;
	rc = ciha__stack_call(&r, x->c, "CreateChangeSet", params, x->spec->name);
	if (rc != CIHA_OK && !x->create && is_no_change(x->c->err.message)) {
		/* moto refuses the change set itself where AWS would create a FAILED one. */
		ciha__error_reset(&x->c->err);
		return no_changes(x);
	}
	if (rc == CIHA_OK)
		rc = replace_string(&x->d->change_set, ciha__stack_str(r, "Id") ? ciha__stack_str(r, "Id") : name);
	if (rc == CIHA_OK && ciha__stack_str(r, "StackId"))
		rc = replace_string(&x->d->stack_id, ciha__stack_str(r, "StackId"));
	json_decref(r);
	if (rc == CIHA_OK)
		ciha__log(&x->c->logger, CIHA_LOG_INFO, "cfn", "stack %s: change set %s (%s)", x->spec->name, name,
		          x->create ? "CREATE" : "UPDATE");
	return rc;
}

/* Poll until the change set is ready (then read every page of its changes) or failed. */
static int wait_change_set(deploy_ctx *x)
{
	long delay = poll_ms(x) < CHANGE_SET_FIRST_POLL_MS ? poll_ms(x) : CHANGE_SET_FIRST_POLL_MS;
	for (;;) {
		json_t *r = NULL;
		const char *status;
		int rc = describe_change_set(&r, x, 0);
		if (rc != CIHA_OK)
			return rc;
		status = ciha__stack_str(r, "Status");
		if (status && strcmp(status, "CREATE_COMPLETE") == 0) {
			json_decref(r);
			if ((rc = describe_change_set(&r, x, 1)) == CIHA_OK)
				rc = collect_changes(x, r);
			json_decref(r);
			return rc;
		}
		if (status && strcmp(status, "FAILED") == 0) {
			const char *reason = ciha__stack_str(r, "StatusReason");
			rc = is_no_change(reason) ? drop_empty_change_set(x)
			     : ciha__error_raise(CIHA_ESTATE, "change set for stack '%s' failed: %s", x->spec->name,
			                         reason ? reason : "no reason given");
			json_decref(r);
			return rc;
		}
		json_decref(r);
		if (ciha__mono_ms() >= x->deadline)
			return ciha__error_raise(CIHA_ETIMEOUT, "timed out after %ld s waiting for the change set of stack "
			                         "'%s'; last status %s", timeout_s(x), x->spec->name, status ? status : "?");
		ciha__sleep_ms(delay);
		delay = delay * 2 > poll_ms(x) ? poll_ms(x) : delay * 2;
	}
}

/* ---- the stateful guard ------------------------------------------------------ */

static int guard(deploy_ctx *x)
{
	ciha__buf list = CIHA__BUF_INIT;
	size_t i, n = 0;
	int rc;
	for (i = 0; i < json_array_size(x->d->changes); i++) {
		const json_t *ch = json_array_get(x->d->changes, i);
		if (!json_is_true(json_object_get(ch, "dangerous")))
			continue;
		ciha__buf_printf(&list, "%s%s (%s): %s%s%s", n++ ? "; " : "",
		                 ciha__stack_str(ch, "logical_id") ? ciha__stack_str(ch, "logical_id") : "?",
		                 ciha__stack_str(ch, "type"), ciha__stack_str(ch, "action"),
		                 ciha__stack_str(ch, "replacement") ? " with Replacement " : "",
		                 ciha__stack_str(ch, "replacement") ? ciha__stack_str(ch, "replacement") : "");
	}
	if (!n || x->opts->allow_replace)
		rc = CIHA_OK;
	else if (list.failed)
		rc = nomem();
	else
		rc = ciha__error_raise(CIHA_ESTATE, "change set for stack '%s' would replace or remove stateful resources: "
		                       "%s; not executed (allow_replace / --allow-replace to go ahead)", x->spec->name,
		                       ciha__buf_cstr(&list));
	ciha__buf_dispose(&list);
	return rc;
}

/* ---- executing and settling ------------------------------------------------------ */

static int execute(deploy_ctx *x)
{
	ciha_stack_wait_options w = CIHA_STACK_WAIT_OPTIONS_INIT;
	char token[37], *mark = NULL, *status = NULL;
	long left_s;
	int rc = ciha__stack_last_event(&mark, x->c, x->d->stack_id);
	ciha__uuid4(token);
	if (rc == CIHA_OK)
		rc = ciha__stack_call(NULL, x->c, "ExecuteChangeSet", json_pack("{s:s, s:s}", "ChangeSetName",
		                      x->d->change_set, "ClientRequestToken", token), x->spec->name);
	if (rc == CIHA_OK)
		x->d->executed = 1;
	if (rc == CIHA_OK && x->opts->wait) {
		left_s = (long)((x->deadline - ciha__mono_ms()) / 1000);
		w.timeout_s = left_s > 0 ? left_s : 1;
		w.poll_interval_ms = poll_ms(x);
		w.on_event = x->opts->on_event;
		w.payload = x->opts->payload;
		rc = ciha__stack_wait_since(&status, x->c, x->d->stack_id,
		                            x->create ? CIHA_STACK_WAIT_CREATE : CIHA_STACK_WAIT_UPDATE, &w, mark);
		if (status) {
			ciha__free(x->d->status);
			x->d->status = status;
		}
	}
	ciha__free(mark);
	return rc;
}

static int apply_protection(deploy_ctx *x, const json_t *now)
{
	const char *flag = ciha__stack_str(now, "EnableTerminationProtection");
	int on = flag && strcmp(flag, "true") == 0;
	int rc = CIHA_OK;
	if (x->spec->termination_protection >= 0 && x->spec->termination_protection != on)
		rc = ciha_stack_set_termination_protection(x->c, x->d->stack_id, x->spec->termination_protection);
	if (rc == CIHA_OK && x->spec->policy_body)
		rc = ciha_stack_policy_set(x->c, x->d->stack_id, x->spec->policy_body);
	return rc;
}

/* Read the stack once more: final status, id, and protection settings applied. */
static int settle(deploy_ctx *x)
{
	json_t *now = NULL;
	int rc = ciha__stack_describe_json(&now, x->c, x->d->stack_id ? x->d->stack_id : x->spec->name);
	if (rc == CIHA_OK && !x->d->executed && x->d->status == NULL)
		rc = replace_string(&x->d->status, ciha__stack_str(now, "StackStatus"));
	if (rc == CIHA_OK && x->d->executed && (!x->opts->wait || !x->d->status))
		rc = replace_string(&x->d->status, ciha__stack_str(now, "StackStatus"));
	if (rc == CIHA_OK && !x->d->stack_id)
		rc = replace_string(&x->d->stack_id, ciha__stack_str(now, "StackId"));
	if (rc == CIHA_OK)
		rc = apply_protection(x, now);
	json_decref(now);
	return rc;
}

/* ---- the deployment object -------------------------------------------------------- */

static ciha_stack_deployment *deployment_new(const char *name)
{
	ciha_stack_deployment *d = ciha__calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->stack_name = ciha__strdup(name);
	d->changes = json_array();
	if (!d->stack_name || !d->changes) {
		ciha_stack_deployment_free(d);
		return NULL;
	}
	return d;
}

CIHA_EXTERN(void) ciha_stack_deployment_free(ciha_stack_deployment *d)
{
	if (!d)
		return;
	ciha__free(d->stack_name);
	ciha__free(d->stack_id);
	ciha__free(d->action);
	ciha__free(d->status);
	ciha__free(d->change_set);
	json_decref(d->changes);
	ciha__free(d);
}

static int check_spec(const ciha_stack_spec *spec)
{
	if (!spec->name || !*spec->name)
		return ciha__error_raise(CIHA_EINVAL, "stack spec has no name");
	if (!spec->template_body || !*spec->template_body)
		return ciha__error_raise(CIHA_EINVAL, "stack spec '%s' has no template", spec->name);
	return CIHA_OK;
}

static int run_deploy(deploy_ctx *x)
{
	int rc = choose_type(x);
	if (rc == CIHA_OK)
		rc = replace_string(&x->d->action, x->create ? "create" : "update");
	if (rc == CIHA_OK && x->current && !x->create)
		rc = replace_string(&x->d->stack_id, ciha__stack_str(x->current, "StackId"));
	if (rc == CIHA_OK)
		rc = create_change_set(x);
	if (rc == CIHA_OK && x->d->change_set)
		rc = wait_change_set(x);
	if (rc != CIHA_OK)
		return rc;
	if (strcmp(x->d->action, "none") != 0) {
		if ((rc = guard(x)) != CIHA_OK || x->opts->no_execute) {
			int settled = replace_string(&x->d->status, x->create ? "REVIEW_IN_PROGRESS" : current_status(x));
			return rc != CIHA_OK ? rc : settled;
		}
		if ((rc = execute(x)) != CIHA_OK)
			return rc;
	}
	return settle(x);
}

CIHA_EXTERN(ciha_result) ciha_stack_deploy(ciha_stack_deployment **out, ciha_client *client,
                                           const ciha_stack_spec *spec, const ciha_stack_deploy_options *opts)
{
	static const ciha_stack_deploy_options defaults = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	deploy_ctx x;
	int rc;
	if (out)
		*out = NULL;
	if (!client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_deploy: no client");
	if (!out || !spec)
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "ciha_stack_deploy: out and spec are required"));
	if (!opts)
		opts = &defaults;
	if ((rc = ciha__stack_options_check(opts->version, CIHA_STACK_DEPLOY_OPTIONS_VERSION,
	                                    "stack deploy options")) != CIHA_OK || (rc = check_spec(spec)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	memset(&x, 0, sizeof(x));
	x.c = client;
	x.spec = spec;
	x.opts = opts;
	x.deadline = ciha__mono_ms() + (long long)timeout_s(&x) * 1000;
	if (!(x.d = deployment_new(spec->name)))
		return ciha__client_fail(client, nomem());
	rc = run_deploy(&x);
	json_decref(x.current);
	if (x.d->change_set || (x.d->action && strcmp(x.d->action, "none") == 0))
		*out = x.d;
	else
		ciha_stack_deployment_free(x.d);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}

/* ---- accessors ------------------------------------------------------------------ */

CIHA_EXTERN(const char *) ciha_stack_deployment_action(const ciha_stack_deployment *d)
{
	return d ? d->action : NULL;
}

CIHA_EXTERN(int) ciha_stack_deployment_executed(const ciha_stack_deployment *d)
{
	return d ? d->executed : 0;
}

CIHA_EXTERN(const char *) ciha_stack_deployment_status(const ciha_stack_deployment *d)
{
	return d ? d->status : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_deployment_change_set(const ciha_stack_deployment *d)
{
	return d ? d->change_set : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_deployment_stack_id(const ciha_stack_deployment *d)
{
	return d ? d->stack_id : NULL;
}

CIHA_EXTERN(size_t) ciha_stack_deployment_change_count(const ciha_stack_deployment *d)
{
	return d ? json_array_size(d->changes) : 0;
}

static const char *change_field(const ciha_stack_deployment *d, size_t i, const char *key)
{
	return d ? ciha__stack_str(json_array_get(d->changes, i), key) : NULL;
}

CIHA_EXTERN(const char *) ciha_stack_deployment_change_action(const ciha_stack_deployment *d, size_t i)
{
	return change_field(d, i, "action");
}

CIHA_EXTERN(const char *) ciha_stack_deployment_change_logical_id(const ciha_stack_deployment *d, size_t i)
{
	return change_field(d, i, "logical_id");
}

CIHA_EXTERN(const char *) ciha_stack_deployment_change_type(const ciha_stack_deployment *d, size_t i)
{
	return change_field(d, i, "type");
}

CIHA_EXTERN(const char *) ciha_stack_deployment_change_replacement(const ciha_stack_deployment *d, size_t i)
{
	return change_field(d, i, "replacement");
}

CIHA_EXTERN(int) ciha_stack_deployment_change_dangerous(const ciha_stack_deployment *d, size_t i)
{
	return d ? json_is_true(json_object_get(json_array_get(d->changes, i), "dangerous")) : 0;
}

CIHA_EXTERN(ciha_result) ciha_stack_deployment_json(char **out, const ciha_stack_deployment *d)
{
	if (!out || !d)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_deployment_json: NULL argument");
	return ciha__stack_json_text(out, json_pack("{s:s, s:o, s:o, s:b, s:o, s:o, s:O}", "stack", d->stack_name,
		"stack_id", string_or_null(d->stack_id), "action", string_or_null(d->action), "executed", d->executed,
		"status", string_or_null(d->status), "change_set", string_or_null(d->change_set), "changes", d->changes));
}
