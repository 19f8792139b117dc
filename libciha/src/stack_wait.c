/* stack_wait.c: wait for a stack to settle with the rules of the AWS waiters,
 * streaming new stack events oldest first, and name the root cause of a failure. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <string.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "call_int.h"
#include "log_int.h"
#include "stack_int.h"
#include "time_int.h"

#define WAIT_DEFAULT_TIMEOUT_S 3600
#define WAIT_DEFAULT_POLL_MS 5000
#define SUMMARY_MAX_RESOURCES 5

/* ---- helpers shared by the lifecycle modules ---------------------------- */

const char *ciha__stack_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

/* A pager's "Stack with id X does not exist" (ciha__stack_call turns it into CIHA_ENOTFOUND). */
static int pager_stack_missing(const ciha_client *c)
{
	const char *code = c->err.aws_code, *msg = c->err.message;
	return code && strcmp(code, "ValidationError") == 0 && msg && strstr(msg, "does not exist");
}

int ciha__stack_resources(json_t **out, ciha_client *c, const char *stack)
{
	json_t *all = NULL, *list, *params = json_pack("{s:s}", "StackName", stack);
	int rc = params ? ciha_call_all(&all, c, "cloudformation", "ListStackResources", params)
	                : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(params);
	*out = NULL;
	if (rc != CIHA_OK)
		return rc;
	list = json_object_get(all, "StackResourceSummaries");
	*out = json_is_array(list) ? json_incref(list) : json_array();
	json_decref(all);
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

int ciha__stack_options_check(unsigned int version, unsigned int known, const char *what)
{
	if (version == 0 || version > known)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "%s version %u is not supported by libciha %s (it knows up to %u)",
		                         what, version, CIHA_VERSION_STRING, known);
	return CIHA_OK;
}

int ciha__stack_contains_ci(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);
	for (; haystack && *haystack; haystack++) {
		size_t i = 0;
		while (i < n && haystack[i] && tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/* ---- the acceptors of botocore's CloudFormation waiters ------------------ */

typedef enum { VERDICT_RETRY = 0, VERDICT_SUCCESS, VERDICT_FAILURE } verdict;

static const char *const create_success[] = { "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_IN_PROGRESS",
	"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_FAILED", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED",
	"UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE", NULL };
static const char *const create_failure[] = { "CREATE_FAILED", "DELETE_COMPLETE", "DELETE_FAILED", "ROLLBACK_FAILED",
	"ROLLBACK_COMPLETE", NULL };
static const char *const delete_success[] = { "DELETE_COMPLETE", NULL };
static const char *const delete_failure[] = { "DELETE_FAILED", "CREATE_FAILED", "ROLLBACK_FAILED",
	"UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE", NULL };
static const char *const update_success[] = { "UPDATE_COMPLETE", NULL };
static const char *const update_failure[] = { "UPDATE_FAILED", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE",
	NULL };

static int in_list(const char *const *list, const char *status)
{
	for (; *list; list++)
		if (strcmp(*list, status) == 0)
			return 1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static verdict judge_any(const char *status)
{
	if (ends_with(status, "_IN_PROGRESS") || !(ends_with(status, "_COMPLETE") || ends_with(status, "_FAILED")))
		return VERDICT_RETRY;
	return ends_with(status, "_FAILED") || strstr(status, "ROLLBACK") ? VERDICT_FAILURE : VERDICT_SUCCESS;
}

static verdict judge(ciha_stack_wait_kind kind, const char *status)
{
	const char *const *success = NULL, *const *failure = NULL;
	switch (kind) {
	case CIHA_STACK_WAIT_CREATE: success = create_success; failure = create_failure; break;
	case CIHA_STACK_WAIT_UPDATE: success = update_success; failure = update_failure; break;
	case CIHA_STACK_WAIT_DELETE: success = delete_success; failure = delete_failure; break;
	default: return judge_any(status);
	}
	if (in_list(success, status))
		return VERDICT_SUCCESS;
	return in_list(failure, status) ? VERDICT_FAILURE : VERDICT_RETRY;
}

static const char *kind_name(ciha_stack_wait_kind kind)
{
	switch (kind) {
	case CIHA_STACK_WAIT_CREATE: return "create";
	case CIHA_STACK_WAIT_UPDATE: return "update";
	case CIHA_STACK_WAIT_DELETE: return "delete";
	default: return "any terminal state";
	}
}

/* ---- events -------------------------------------------------------------- */

/* The stack's own events (as opposed to its resources', nested stacks included). */
static int is_stack_event(const json_t *ev)
{
	const char *type = ciha__stack_str(ev, "ResourceType"), *phys = ciha__stack_str(ev, "PhysicalResourceId");
	const char *id = ciha__stack_str(ev, "StackId"), *logical = ciha__stack_str(ev, "LogicalResourceId");
	const char *name = ciha__stack_str(ev, "StackName");
	if (!type || strcmp(type, "AWS::CloudFormation::Stack") != 0)
		return 0;
	if (phys && id)
		return strcmp(phys, id) == 0;
	return logical && name && strcmp(logical, name) == 0;
}

/* The first event of an operation someone started (create, update, delete, continue rollback). */
static int is_operation_start(const json_t *ev)
{
	const char *status = ciha__stack_str(ev, "ResourceStatus");
	if (!is_stack_event(ev) || !status)
		return 0;
	return strcmp(status, "CREATE_IN_PROGRESS") == 0 || strcmp(status, "REVIEW_IN_PROGRESS") == 0 ||
	       strcmp(status, "UPDATE_IN_PROGRESS") == 0 ||
	       ciha__stack_contains_ci(ciha__stack_str(ev, "ResourceStatusReason"), "user initiated");
}

typedef struct {
	const char *mark;        /* stop at this event id (not included) */
	const json_t *seen;      /* skip these ids (object used as a set), may be NULL */
	int stop_at_operation;   /* stop after the start of the newest operation */
} event_scan;

/* Events newer than the scan's limits, newest first, as a new array. */
static int events_newer(json_t **out, ciha_client *c, const char *stack, const event_scan *scan)
{
	ciha_pager *pager = NULL;
	json_t *page = NULL, *fresh = json_array(), *params = json_pack("{s:s}", "StackName", stack);
	int rc, done = 0;
	*out = NULL;
	if (!fresh || !params) {
		json_decref(fresh);
		json_decref(params);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	rc = ciha_pager_new(&pager, c, "cloudformation", "DescribeStackEvents", params);
	json_decref(params);
	while (rc == CIHA_OK && !done && (rc = ciha_pager_next(&page, pager)) == CIHA_OK) {
		const json_t *list = json_object_get(page, "StackEvents");
		size_t i;
		for (i = 0; !done && json_is_array(list) && i < json_array_size(list); i++) {
			json_t *ev = json_array_get(list, i);
			const char *id = ciha__stack_str(ev, "EventId");
			if (!id)
				continue;
			if (scan->mark && strcmp(id, scan->mark) == 0) {
				done = 1;
				break;
			}
			if (scan->seen && json_object_get(scan->seen, id))
				continue;
			if (json_array_append(fresh, ev) != 0)
				rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
			if (scan->stop_at_operation && is_operation_start(ev))
				done = 1;
		}
		json_decref(page);
	}
	ciha_pager_free(pager);
	if (rc == CIHA_ITEROVER)
		rc = CIHA_OK;
	if (rc != CIHA_OK) {
		json_decref(fresh);
		return rc;
	}
	*out = fresh;
	return CIHA_OK;
}

int ciha__stack_last_event(char **out, ciha_client *c, const char *stack)
{
	json_t *page = NULL;
	const char *id;
	int rc = ciha__stack_call(&page, c, "DescribeStackEvents", json_pack("{s:s}", "StackName", stack), stack);
	*out = NULL;
	if (rc != CIHA_OK) {
		if (rc == CIHA_ENOTFOUND) {
			ciha__error_reset(&c->err);
			return CIHA_OK;
		}
		return rc;
	}
	id = ciha__stack_str(json_array_get(json_object_get(page, "StackEvents"), 0), "EventId");
	if (id && !(*out = ciha__strdup(id)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(page);
	return rc;
}

static void event_from_json(ciha_stack_event *ev, const json_t *j)
{
	double ts = 0;
	memset(ev, 0, sizeof(*ev));
	ev->version = CIHA_STACK_EVENT_VERSION;
	ev->event_id = ciha__stack_str(j, "EventId");
	ev->stack_name = ciha__stack_str(j, "StackName");
	ev->logical_id = ciha__stack_str(j, "LogicalResourceId");
	ev->physical_id = ciha__stack_str(j, "PhysicalResourceId");
	ev->resource_type = ciha__stack_str(j, "ResourceType");
	ev->status = ciha__stack_str(j, "ResourceStatus");
	ev->reason = ciha__stack_str(j, "ResourceStatusReason");
	if (ciha__stack_str(j, "Timestamp") && ciha__time_parse(ciha__stack_str(j, "Timestamp"), &ts) == 0)
		ev->timestamp = (int64_t)ts;
}

/* ---- the failure summary ------------------------------------------------- */

static int is_root_cause(const json_t *ev)
{
	const char *status = ciha__stack_str(ev, "ResourceStatus");
	const char *reason = ciha__stack_str(ev, "ResourceStatusReason");
	if (is_stack_event(ev) || !status || !ends_with(status, "_FAILED"))
		return 0;
	return !ciha__stack_contains_ci(reason, "cancelled") && !ciha__stack_contains_ci(reason, "canceled");
}

static int summary_has(const json_t *named, const char *logical)
{
	return logical && json_object_get(named, logical) != NULL;
}

int ciha__stack_failure_summary(char **out, ciha_client *c, const char *stack, const char *after_event_id)
{
	event_scan scan = { after_event_id, NULL, 1 };
	ciha__buf text = CIHA__BUF_INIT;
	json_t *events = NULL, *named = json_object();
	size_t i, count = 0;
	int rc = named ? events_newer(&events, c, stack, &scan) : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	*out = NULL;
	for (i = json_array_size(events); rc == CIHA_OK && i-- > 0 && count < SUMMARY_MAX_RESOURCES;) {
		const json_t *ev = json_array_get(events, i);
		const char *logical = ciha__stack_str(ev, "LogicalResourceId");
		const char *reason = ciha__stack_str(ev, "ResourceStatusReason");
		if (!is_root_cause(ev) || summary_has(named, logical))
			continue;
		if (logical)
			json_object_set_new(named, logical, json_true());
		ciha__buf_printf(&text, "%s%s (%s): %s", count ? "; " : "", logical ? logical : "?",
		                 ciha__stack_str(ev, "ResourceType") ? ciha__stack_str(ev, "ResourceType") : "?",
		                 reason ? reason : ciha__stack_str(ev, "ResourceStatus"));
		count++;
	}
	json_decref(events);
	json_decref(named);
	if (rc == CIHA_OK && !(*out = ciha__buf_detach(&text)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__buf_dispose(&text);
	return rc;
}

/* ---- the wait loop --------------------------------------------------------- */

typedef struct {
	ciha_client *c;
	const char *name;                   /* as the caller gave it */
	char *id;                           /* the StackId once known: a deleted stack stays readable */
	ciha_stack_wait_kind kind;
	const ciha_stack_wait_options *opts;
	const char *summary_mark;           /* the failure summary looks at events after this one */
	char *mark;                         /* newest event delivered */
	json_t *seen;                       /* ids delivered */
	char *status;
	char *reason;
} waiter;

static int set_string(char **dst, const char *value)
{
	char *copy = value ? ciha__strdup(value) : NULL;
	if (value && !copy)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__free(*dst);
	*dst = copy;
	return CIHA_OK;
}

static const char *waiter_stack(const waiter *w)
{
	return w->id ? w->id : w->name;
}

/* DescribeStacks once; "stack does not exist" reads as DELETE_COMPLETE, which
 * only the delete waiter accepts. */
static int read_status(waiter *w, int *missing)
{
	json_t *r = NULL;
	const json_t *stack;
	int rc = ciha__stack_call(&r, w->c, "DescribeStacks", json_pack("{s:s}", "StackName", waiter_stack(w)),
	                          w->name);
	*missing = 0;
	if (rc != CIHA_OK) {
		if (rc != CIHA_ENOTFOUND)
			return rc;
		*missing = 1;
		return set_string(&w->status, "DELETE_COMPLETE");
	}
	stack = json_array_get(json_object_get(r, "Stacks"), 0);
	if (!ciha__stack_str(stack, "StackStatus"))
		rc = ciha__error_raise(CIHA_EAWS, "DescribeStacks for '%s' returned no stack status", waiter_stack(w));
	if (rc == CIHA_OK && !w->id)
		rc = set_string(&w->id, ciha__stack_str(stack, "StackId"));
	if (rc == CIHA_OK)
		rc = set_string(&w->status, ciha__stack_str(stack, "StackStatus"));
	if (rc == CIHA_OK)
		rc = set_string(&w->reason, ciha__stack_str(stack, "StackStatusReason"));
	json_decref(r);
	return rc;
}

static int deliver(waiter *w, const json_t *ev)
{
	ciha_stack_event event;
	const char *id = ciha__stack_str(ev, "EventId");
	if (json_object_set_new(w->seen, id, json_true()) != 0 || set_string(&w->mark, id) != CIHA_OK)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	event_from_json(&event, ev);
	if (w->opts->on_event(&event, w->opts->payload) != 0)
		return ciha__error_raise(CIHA_EUSER, "waiting for stack '%s' stopped by the event callback", w->name);
	return CIHA_OK;
}

static int stream_events(waiter *w)
{
	event_scan scan = { w->mark, w->seen, 0 };
	json_t *fresh = NULL;
	size_t i;
	int rc;
	if (!w->opts->on_event)
		return CIHA_OK;
	rc = events_newer(&fresh, w->c, waiter_stack(w), &scan);
	if (rc != CIHA_OK && pager_stack_missing(w->c)) {
		ciha__error_reset(&w->c->err);
		return CIHA_OK;
	}
	for (i = json_array_size(fresh); rc == CIHA_OK && i-- > 0;)
		rc = deliver(w, json_array_get(fresh, i));
	json_decref(fresh);
	return rc;
}

static int fail_with_summary(waiter *w)
{
	char *summary = NULL;
	int rc = ciha__stack_failure_summary(&summary, w->c, waiter_stack(w), w->summary_mark);
	const char *why = summary && *summary ? summary : w->reason;
	if (rc != CIHA_OK)
		why = w->reason;
	rc = ciha__error_raise(CIHA_ESTATE, "stack '%s' ended in %s while waiting for %s%s%s", w->name, w->status,
	                       kind_name(w->kind), why ? ": " : "", why ? why : "");
	ciha__free(summary);
	return rc;
}

static int poll_once(waiter *w, verdict *v)
{
	int missing = 0, rc = read_status(w, &missing);
	*v = VERDICT_RETRY;
	if (rc != CIHA_OK)
		return rc;
	if (missing) {
		ciha__error_reset(&w->c->err);
		if (w->kind == CIHA_STACK_WAIT_DELETE) {
			*v = VERDICT_SUCCESS;
			return CIHA_OK;
		}
		return ciha__error_raise(CIHA_ENOTFOUND, "stack '%s' does not exist", w->name);
	}
	if ((rc = stream_events(w)) != CIHA_OK)
		return rc;
	*v = judge(w->kind, w->status);
	ciha__log(&w->c->logger, CIHA_LOG_DEBUG, "cfn", "stack %s: %s", w->name, w->status);
	return CIHA_OK;
}

static int wait_loop(waiter *w)
{
	long timeout_s = w->opts->timeout_s > 0 ? w->opts->timeout_s : WAIT_DEFAULT_TIMEOUT_S;
	long poll_ms = w->opts->poll_interval_ms > 0 ? w->opts->poll_interval_ms : WAIT_DEFAULT_POLL_MS;
	long long deadline = ciha__mono_ms() + (long long)timeout_s * 1000;
	for (;;) {
		verdict v;
		long long left;
		int rc = poll_once(w, &v);
		if (rc != CIHA_OK)
			return rc;
		if (v == VERDICT_SUCCESS)
			return CIHA_OK;
		if (v == VERDICT_FAILURE)
			return fail_with_summary(w);
		left = deadline - ciha__mono_ms();
		if (left <= 0)
			return ciha__error_raise(CIHA_ETIMEOUT, "timed out after %ld s waiting for %s of stack '%s'; "
			                         "last status %s", timeout_s, kind_name(w->kind), w->name, w->status);
		ciha__sleep_ms(left < poll_ms ? (long)left : poll_ms);
	}
}

static int wait_run(char **out_status, ciha_client *c, const char *stack, ciha_stack_wait_kind kind,
                    const ciha_stack_wait_options *opts, const char *stream_mark, const char *summary_mark)
{
	waiter w;
	int rc;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.name = stack;
	w.kind = kind;
	w.opts = opts;
	w.summary_mark = summary_mark;
	w.seen = json_object();
	rc = w.seen ? set_string(&w.mark, stream_mark) : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = wait_loop(&w);
	if (out_status) {
		*out_status = w.status;
		w.status = NULL;
	}
	ciha__free(w.status);
	ciha__free(w.reason);
	ciha__free(w.id);
	ciha__free(w.mark);
	json_decref(w.seen);
	return rc;
}

int ciha__stack_wait_since(char **out_status, ciha_client *c, const char *stack, ciha_stack_wait_kind kind,
                           const ciha_stack_wait_options *opts, const char *after_event_id)
{
	return wait_run(out_status, c, stack, kind, opts, after_event_id, after_event_id);
}

CIHA_EXTERN(ciha_result) ciha_stack_wait_options_init(ciha_stack_wait_options *opts, unsigned int version)
{
	static const ciha_stack_wait_options defaults = CIHA_STACK_WAIT_OPTIONS_INIT;
	int rc;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_wait_options_init: NULL options");
	if ((rc = ciha__stack_options_check(version, CIHA_STACK_WAIT_OPTIONS_VERSION, "stack wait options")) != CIHA_OK)
		return rc;
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

static int valid_kind(ciha_stack_wait_kind kind)
{
	return kind == CIHA_STACK_WAIT_CREATE || kind == CIHA_STACK_WAIT_UPDATE || kind == CIHA_STACK_WAIT_DELETE ||
	       kind == CIHA_STACK_WAIT_ANY;
}

CIHA_EXTERN(ciha_result) ciha_stack_wait(char **out_status, ciha_client *client, const char *stack,
                                         ciha_stack_wait_kind kind, const ciha_stack_wait_options *opts)
{
	static const ciha_stack_wait_options defaults = CIHA_STACK_WAIT_OPTIONS_INIT;
	char *mark = NULL;
	int rc;
	if (out_status)
		*out_status = NULL;
	if (!client || !stack || !*stack)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_wait: client and stack name are required");
	if (!opts)
		opts = &defaults;
	if ((rc = ciha__stack_options_check(opts->version, CIHA_STACK_WAIT_OPTIONS_VERSION, "stack wait options")) != CIHA_OK)
		return ciha__client_fail(client, rc);
	if (!valid_kind(kind))
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "unknown stack wait kind %d", (int)kind));
	if (opts->on_event && (rc = ciha__stack_last_event(&mark, client, stack)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	/* Stream what happens from now on; the summary covers the whole current operation. */
	rc = wait_run(out_status, client, stack, kind, opts, mark, NULL);
	ciha__free(mark);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
