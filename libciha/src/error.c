/* error.c: the thread-local last error, error objects, code names. */
#include <stdarg.h>
#include <string.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "log_int.h"

static __thread struct ciha_error last_error;

static const struct {
	int code;
	const char *name;
	const char *text;
} code_table[] = {
	{ CIHA_OK, "CIHA_OK", "success" },
	{ CIHA_ERROR, "CIHA_ERROR", "error" },
	{ CIHA_ENOMEM, "CIHA_ENOMEM", "out of memory" },
	{ CIHA_EINVAL, "CIHA_EINVAL", "invalid argument" },
	{ CIHA_ENOTFOUND, "CIHA_ENOTFOUND", "not found" },
	{ CIHA_EEXISTS, "CIHA_EEXISTS", "already exists" },
	{ CIHA_EAUTH, "CIHA_EAUTH", "authentication or authorisation failed" },
	{ CIHA_ETHROTTLED, "CIHA_ETHROTTLED", "throttled" },
	{ CIHA_ETIMEOUT, "CIHA_ETIMEOUT", "timed out" },
	{ CIHA_ENETWORK, "CIHA_ENETWORK", "network failure" },
	{ CIHA_ESTATE, "CIHA_ESTATE", "resource in the wrong state" },
	{ CIHA_EAWS, "CIHA_EAWS", "AWS service error" },
	{ CIHA_EUSER, "CIHA_EUSER", "stopped by a callback" },
	{ CIHA_ITEROVER, "CIHA_ITEROVER", "no more items" },
	{ CIHA_EUNSUPPORTED, "CIHA_EUNSUPPORTED", "not supported" },
	{ CIHA_EAGAIN, "CIHA_EAGAIN", "not finished yet" },
};

static void error_set_string(char **slot, const char *value)
{
	ciha__free(*slot);
	*slot = value ? ciha__strdup(value) : NULL;
}

void ciha__error_reset(struct ciha_error *e)
{
	ciha__free(e->message);
	ciha__free(e->aws_code);
	ciha__free(e->request_id);
	ciha__free(e->service);
	memset(e, 0, sizeof(*e));
}

void ciha__error_copy(struct ciha_error *dst, const struct ciha_error *src)
{
	if (dst == src)
		return;
	dst->code = src->code;
	dst->http_status = src->http_status;
	dst->retryable = src->retryable;
	error_set_string(&dst->message, src->message);
	error_set_string(&dst->aws_code, src->aws_code);
	error_set_string(&dst->request_id, src->request_id);
	error_set_string(&dst->service, src->service);
}

static int error_vraise(int code, const ciha__error_detail *d, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int error_vraise(int code, const ciha__error_detail *d, const char *fmt, va_list ap)
{
	ciha__buf msg = CIHA__BUF_INIT;
	struct ciha_error *e = &last_error;
	static const ciha__error_detail none = { NULL, 0, NULL, NULL, 0 };

	if (!d)
		d = &none;
	ciha__buf_vprintf(&msg, fmt, ap);
	ciha__error_reset(e);
	e->code = code;
	e->message = ciha__buf_detach(&msg);
	if (e->message)
		ciha__redact(e->message);
	e->http_status = d->http_status;
	e->retryable = d->retryable;
	error_set_string(&e->aws_code, d->aws_code);
	error_set_string(&e->request_id, d->request_id);
	error_set_string(&e->service, d->service);
	return code;
}

int ciha__error_raise(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vraise(code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int ciha__error_raise_detail(int code, const ciha__error_detail *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vraise(code, d, fmt, ap);
	va_end(ap);
	return code;
}

static int code_in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int ciha__error_code_for_aws(const char *aws_code, int http_status)
{
	static const char *const auth[] = { "AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId",
		"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "ExpiredToken",
		"ExpiredTokenException", "InvalidAccessKeyId", "IncompleteSignature", "MissingAuthenticationToken",
		"OptInRequired", "UnrecognizedClientException", NULL };
	static const char *const throttle[] = { "Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
		"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException", "Throttled", NULL };
	static const char *const exists[] = { "AlreadyExistsException", "AlreadyExists",
		"InvalidGroup.Duplicate", "InvalidPermission.Duplicate", NULL };
	static const char *const timeout[] = { "RequestTimeout", "RequestTimeoutException", NULL };
	static const char *const state[] = { "IncorrectState", "InvalidDBInstanceState", "InvalidDBSnapshotState",
		"InvalidDBClusterStateFault", "InvalidSnapshot.InUse", "VolumeInUse", "IncorrectInstanceState",
		"ResourceInUse", "InvalidVolume.ZoneMismatch", NULL };

	if (!aws_code || !*aws_code)
		return http_status == 404 ? CIHA_ENOTFOUND : (http_status == 401 || http_status == 403) ? CIHA_EAUTH : CIHA_EAWS;
	if (code_in(aws_code, auth))
		return CIHA_EAUTH;
	if (code_in(aws_code, throttle))
		return CIHA_ETHROTTLED;
	if (code_in(aws_code, exists) || ends_with(aws_code, "AlreadyExists") || ends_with(aws_code, "AlreadyExistsFault")
	    || ends_with(aws_code, ".Duplicate"))
		return CIHA_EEXISTS;
	if (code_in(aws_code, timeout))
		return CIHA_ETIMEOUT;
	if (code_in(aws_code, state) || strncmp(aws_code, "InvalidState", 12) == 0)
		return CIHA_ESTATE;
	if (ends_with(aws_code, ".NotFound") || ends_with(aws_code, "NotFound") || ends_with(aws_code, "NotFoundFault")
	    || ends_with(aws_code, "NotFoundException") || strcmp(aws_code, "NotFound") == 0)
		return CIHA_ENOTFOUND;
	if (http_status == 401 || http_status == 403)
		return CIHA_EAUTH;
	if (http_status == 404)
		return CIHA_ENOTFOUND;
	return CIHA_EAWS;
}

CIHA_EXTERN(const ciha_error *) ciha_error_last(void)
{
	return &last_error;
}

CIHA_EXTERN(void) ciha_error_clear(void)
{
	ciha__error_reset(&last_error);
}

CIHA_EXTERN(int) ciha_error_code(const ciha_error *err) { return err ? err->code : CIHA_EINVAL; }
CIHA_EXTERN(const char *) ciha_error_message(const ciha_error *err) { return err && err->message ? err->message : ""; }
CIHA_EXTERN(const char *) ciha_error_aws_code(const ciha_error *err) { return err ? err->aws_code : NULL; }
CIHA_EXTERN(const char *) ciha_error_request_id(const ciha_error *err) { return err ? err->request_id : NULL; }
CIHA_EXTERN(const char *) ciha_error_service(const ciha_error *err) { return err ? err->service : NULL; }
CIHA_EXTERN(int) ciha_error_http_status(const ciha_error *err) { return err ? err->http_status : 0; }
CIHA_EXTERN(int) ciha_error_is_retryable(const ciha_error *err) { return err ? err->retryable : 0; }

CIHA_EXTERN(ciha_result) ciha_error_dup(ciha_error **out, const ciha_error *err)
{
	struct ciha_error *e;
	if (!out || !err)
		return ciha__error_raise(CIHA_EINVAL, "ciha_error_dup: NULL argument");
	e = ciha__calloc(1, sizeof(*e));
	if (!e)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	ciha__error_copy(e, err);
	*out = e;
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_error_free(ciha_error *err)
{
	if (!err || err == &last_error)
		return;
	ciha__error_reset(err);
	ciha__free(err);
}

CIHA_EXTERN(const char *) ciha_strerror(int code)
{
	size_t i;
	for (i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (code_table[i].code == code)
			return code_table[i].text;
	return "unknown error code";
}

CIHA_EXTERN(const char *) ciha_code_name(int code)
{
	size_t i;
	for (i = 0; i < sizeof(code_table) / sizeof(code_table[0]); i++)
		if (code_table[i].code == code)
			return code_table[i].name;
	return NULL;
}

void ciha__error_thread_cleanup(void)
{
	ciha__error_reset(&last_error);
}
