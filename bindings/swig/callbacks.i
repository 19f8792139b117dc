/*
 * callbacks.i: C callbacks that call host-language callables.
 *
 * A ciha_callback holds a host callable (a strong reference kept by the host
 * hooks) and is passed as the payload of a libciha callback. The trampolines
 * here are language neutral: they turn the C arguments into strings (events
 * as JSON text) and call ciha_host_call(), which lang_python.i / lang_ruby.i
 * implement:
 *
 *   int  ciha_host_call(ciha_callback *cb, const char *a, const char *b,
 *                       const char *c, char **reply);
 *        0: go on; 1: the callable asked to stop (returned a true value);
 *        -1: the callable raised; the host exception is kept and re-raised
 *        unchanged when the C call returns (see errors.i).
 *   void ciha_host_retain(ciha_host_value v); void ciha_host_release(ciha_host_value v);
 *   int  ciha_host_pending(void); void ciha_host_raise(int code, partial);
 */

%{
#include <jansson.h>

typedef struct ciha_callback {
	ciha_host_value callable;
} ciha_callback;

static int ciha_host_call(ciha_callback *cb, const char *a, const char *b, const char *c, char **reply);
static void ciha_host_retain(ciha_host_value v);
static void ciha_host_release(ciha_host_value v);

static void ciha_callback_free(ciha_callback *cb)
{
	if (!cb)
		return;
	ciha_host_release(cb->callable);
	free(cb);
}

/* Calls the host with (kind, json_text); a true return or a raise stops the C side. */
static int ciha_trampoline_json(ciha_callback *cb, const char *kind, json_t *event)
{
	char *text = event ? json_dumps(event, JSON_COMPACT) : NULL;
	int rc;
	json_decref(event);
	if (!text)
		return 1;
	rc = ciha_host_call(cb, kind, text, NULL, NULL);
	free(text);
	return rc != 0;
}

static const char *ciha_snapshot_kind_text(ciha_snapshot_kind kind)
{
	switch (kind) {
	case CIHA_SNAPSHOT_EBS: return "ebs";
	case CIHA_SNAPSHOT_RDS: return "rds";
	case CIHA_SNAPSHOT_RDS_CLUSTER: return "rds-cluster";
	}
	return "unknown";
}

static void ciha_log_trampoline(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	ciha_host_call((ciha_callback *)payload, ciha_log_level_name(level), subsystem, message, NULL);
}

static int ciha_snapshot_trampoline(const ciha_snapshot_event *ev, void *payload)
{
	return ciha_trampoline_json((ciha_callback *)payload, "snapshot",
		json_pack("{s:s, s:s?, s:s?, s:s?, s:i}", "kind", ciha_snapshot_kind_text(ev->kind),
		          "target", ev->target, "snapshot_id", ev->snapshot_id, "state", ev->state,
		          "progress", ev->progress_percent));
}

static int ciha_stack_event_trampoline(const ciha_stack_event *ev, void *payload)
{
	return ciha_trampoline_json((ciha_callback *)payload, "stack",
		json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:I}", "event_id", ev->event_id,
		          "stack_name", ev->stack_name, "logical_id", ev->logical_id, "physical_id", ev->physical_id,
		          "resource_type", ev->resource_type, "status", ev->status, "reason", ev->reason,
		          "timestamp", (json_int_t)ev->timestamp));
}

/* The host returns JSON text {"access_key_id", "secret_access_key", "session_token", "expiration"}. */
static ciha_result ciha_credentials_trampoline(ciha_credentials **out, void *payload)
{
	char *reply = NULL;
	json_t *keys;
	const char *akid = NULL, *secret = NULL, *token = NULL;
	json_int_t expiration = 0;
	ciha_result rc;
	if (ciha_host_call((ciha_callback *)payload, "credentials", NULL, NULL, &reply) != 0)
		return CIHA_EUSER;
	keys = reply ? json_loads(reply, 0, NULL) : NULL;
	free(reply);
	if (!keys || json_unpack(keys, "{s:s, s:s, s?s, s?I}", "access_key_id", &akid, "secret_access_key", &secret,
	                         "session_token", &token, "expiration", &expiration) != 0) {
		json_decref(keys);
		return ciha_glue_fail(CIHA_EAUTH, "the credentials callable returned no usable keys");
	}
	rc = ciha_credentials_new(out, akid, secret, token, (int64_t)expiration);
	json_decref(keys);
	return rc;
}
%}

%typemap(in, numinputs=0) ciha_callback ** (ciha_callback *tmp = NULL) "$1 = &tmp;"
%typemap(argout) ciha_callback ** {
	%append_output(SWIG_NewPointerObj(SWIG_as_voidptr(tmp$argnum), $descriptor(ciha_callback *), SWIG_POINTER_OWN));
}

%nodefaultctor ciha_callback;
typedef struct ciha_callback {} ciha_callback;
%extend ciha_callback {
	~ciha_callback() { ciha_callback_free($self); }
}

%inline %{
/** Wrap a host callable for use as a libciha callback payload. */
ciha_result ciha_callback_new(ciha_callback **out, ciha_host_value callable)
{
	ciha_callback *cb = calloc(1, sizeof *cb);
	if (!cb)
		return ciha_glue_fail(CIHA_ENOMEM, "out of memory");
	ciha_host_retain(callable);
	cb->callable = callable;
	*out = cb;
	return CIHA_OK;
}

/** A credentials provider that asks the host callable for keys each time they are needed. */
ciha_result ciha_callback_credentials_provider(ciha_credentials_provider **out, ciha_callback *cb)
{
	return ciha_credentials_provider_new_delegate(out, ciha_credentials_trampoline, cb);
}
%}
