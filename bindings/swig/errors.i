/*
 * errors.i: every ciha_result becomes "nothing" on success and an exception
 * on failure. The exception is built by the host language (lang_*.i defines
 * ciha_host_raise) from the thread's last ciha_error. A partial result (a
 * snapshot report, a refused deployment) travels with the exception.
 *
 * Order inside a wrapper: action, out (result kept), argout (objects and
 * strings appended), ret (raise). Raising last means the out objects are
 * already owned by the host and freed by its GC when the error wins.
 */

%{
/* A failure detected by the glue itself (bad JSON from the host layer, ...):
 * it overrides the thread's last ciha_error when the exception is built. */
static __thread int ciha_glue_code;
static __thread char ciha_glue_message[256];

static int ciha_glue_fail(int code, const char *message)
{
	ciha_glue_code = code;
	snprintf(ciha_glue_message, sizeof ciha_glue_message, "%s", message);
	return code;
}

/* The detail the host exception carries, from the glue or the thread's last error. */
typedef struct {
	int code;
	const char *name;
	const char *message;
	const char *aws_code;
	const char *request_id;
	const char *service;
	int http_status;
	int retryable;
} ciha_error_fields;

static void ciha_error_fields_get(ciha_error_fields *f, int code)
{
	const ciha_error *err = ciha_error_last();
	int same = ciha_error_code(err) == code;
	f->code = code;
	f->name = ciha_code_name(code) ? ciha_code_name(code) : "CIHA_ERROR";
	f->message = same ? ciha_error_message(err) : ciha_strerror(code);
	f->aws_code = same ? ciha_error_aws_code(err) : NULL;
	f->request_id = same ? ciha_error_request_id(err) : NULL;
	f->service = same ? ciha_error_service(err) : NULL;
	f->http_status = same ? ciha_error_http_status(err) : 0;
	f->retryable = same ? ciha_error_is_retryable(err) : 0;
	if (ciha_glue_code == code && ciha_glue_message[0]) {
		f->message = ciha_glue_message;
		f->aws_code = f->request_id = f->service = NULL;
		f->http_status = f->retryable = 0;
	}
}

static void ciha_glue_reset(void)
{
	ciha_glue_code = 0;
	ciha_glue_message[0] = '\0';
}

/* CIHA_ITEROVER is the end of a pager, not an error: the out value is None/nil. */
static int ciha_result_is_error(int code)
{
	return code < 0 && code != CIHA_ITEROVER;
}
%}

%typemap(out) ciha_result {
	$result = SWIG_FromCharPtr(NULL); /* None / nil; argouts replace it */
}

#if defined(SWIGPYTHON)
%typemap(ret) ciha_result {
	if (ciha_host_pending() || ciha_result_is_error(result)) {
		ciha_host_raise(result, resultobj);
		Py_XDECREF(resultobj);
		ciha_glue_reset();
		return NULL;
	}
	ciha_glue_reset();
}
#elif defined(SWIGRUBY)
/* lang_ruby.i defines ciha_host_pending() and ciha_host_raise(code, partial),
 * which reads the glue's error, resets it, raises and does not return. */
%typemap(ret) ciha_result {
	if (ciha_host_pending() || ciha_result_is_error(result))
		ciha_host_raise(result, vresult);
	ciha_glue_reset();
}
#endif
