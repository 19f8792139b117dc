/* retry.c: AWS "standard" retry mode (aws-wire.md 5; botocore retries/standard.py,
 * retries/quota.py): which failures are retried, the token bucket that stops
 * retry storms, full-jitter backoff, and the policy from options/env/profile. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>
#include "ciha/common.h"
#include "error_int.h"
#include "retry_int.h"

/*
 * The 2026 retry update (AWS_NEW_RETRIES_2026; aws-wire.md 5) changes these
 * numbers. Kept here so switching is a one-line change; NOT enabled: libciha
 * follows the classic standard mode the SDKs use by default today.
 *   retry cost 14 (non-throttling), 5 (throttling), no timeout special case;
 *   backoff base 1 s for throttling, 50 ms otherwise; x-amz-retry-after honoured
 *   and clamped to [t, t + 5 s].
 */
#define CIHA__RETRY_2026_COST 14
#define CIHA__RETRY_2026_THROTTLE_COST 5
#define CIHA__RETRY_2026_THROTTLE_BASE_MS 1000
#define CIHA__RETRY_2026_BASE_MS 50
#define CIHA__RETRY_2026_RETRY_AFTER_SLACK_MS 5000

#define CIHA__RETRY_STANDARD_ATTEMPTS 3  /* botocore standard.py DEFAULT_MAX_ATTEMPTS */
#define CIHA__RETRY_LEGACY_ATTEMPTS 5    /* botocore legacy mode: 4 retries */
#define CIHA__RETRY_BASE_MS 1000         /* classic: 2^(i-1) seconds */

/* botocore standard.py: ThrottlingErrorDetector's codes. */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
	"TooManyRequestsException", "ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
	"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", NULL
};

/* botocore standard.py: TransientRetryableChecker's codes. */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", NULL
};

static int code_in(const char *code, const char *const *list)
{
	size_t i;
	if (!code || !*code)
		return 0;
	for (i = 0; list[i]; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

int ciha__retry_is_throttle_code(const char *aws_code)
{
	return code_in(aws_code, throttle_codes);
}

static int is_transient_status(int http_status)
{
	return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

/* botocore retries/special.py: STS may fail to reach the identity provider. */
static int is_special_retryable(const char *aws_code, const char *service)
{
	return service && strcmp(service, "sts") == 0 && aws_code && strcmp(aws_code, "IDPCommunicationError") == 0;
}

/*
 * Deliberately NOT retried, as in every AWS SDK's standard mode: HTTP 429 on
 * its own and SNS's throttling code "Throttled" (429). Retrying them would be
 * a deviation from the SDKs (aws-wire.md 5).
 */
ciha__retry_kind ciha__retry_classify(int transport, int http_status, const char *aws_code, const char *service)
{
	if (transport == 2)
		return CIHA__RETRY_TIMEOUT;
	if (transport != 0)
		return CIHA__RETRY_TRANSIENT;
	if (ciha__retry_is_throttle_code(aws_code))
		return CIHA__RETRY_THROTTLE;
	if (is_transient_status(http_status) || code_in(aws_code, transient_codes))
		return CIHA__RETRY_TRANSIENT;
	if (is_special_retryable(aws_code, service))
		return CIHA__RETRY_TRANSIENT;
	return CIHA__RETRY_NO;
}

void ciha__retry_quota_init(ciha__retry_quota *q)
{
	q->capacity = CIHA__RETRY_QUOTA_MAX;
}

int ciha__retry_quota_acquire(ciha__retry_quota *q, ciha__retry_kind kind)
{
	int cost;
	if (kind == CIHA__RETRY_NO)
		return 0;
	cost = kind == CIHA__RETRY_TIMEOUT ? CIHA__RETRY_TIMEOUT_COST : CIHA__RETRY_COST;
	if (q->capacity < cost)
		return 0;
	q->capacity -= cost;
	return cost;
}

void ciha__retry_quota_release(ciha__retry_quota *q, int last_cost)
{
	q->capacity += last_cost > 0 ? last_cost : CIHA__RETRY_NO_RETRY_INCREMENT;
	if (q->capacity > CIHA__RETRY_QUOTA_MAX)
		q->capacity = CIHA__RETRY_QUOTA_MAX;
}

long ciha__retry_backoff_ms(int attempt, double rand01)
{
	long ceiling = CIHA__RETRY_MAX_BACKOFF_MS;
	if (attempt < 1)
		attempt = 1;
	/* 2^(attempt-1) s reaches the 20 s cap at attempt 6; avoid shifting further. */
	if (attempt <= 5)
		ceiling = (long)CIHA__RETRY_BASE_MS << (attempt - 1);
	if (ceiling > CIHA__RETRY_MAX_BACKOFF_MS)
		ceiling = CIHA__RETRY_MAX_BACKOFF_MS;
	if (rand01 < 0)
		rand01 = 0;
	if (rand01 >= 1)
		rand01 = 0.999999;
	return (long)(rand01 * (double)ceiling);
}

/* Thread-safe: OpenSSL's generator; falls back to rand() only if it fails. */
double ciha__retry_rand01(void)
{
	uint32_t r;
	if (RAND_bytes((unsigned char *)&r, (int)sizeof r) != 1)
		r = (uint32_t)rand();
	return (double)r / 4294967296.0;
}

long ciha__retry_delay_ms(int attempt)
{
	long ms = ciha__retry_backoff_ms(attempt, ciha__retry_rand01());
#ifdef CIHA_TESTING
	/* Tests shrink the waits; the full-jitter draw itself is unchanged. */
	const char *scale = getenv("CIHA_TEST_BACKOFF_SCALE");
	if (scale && *scale)
		ms = (long)((double)ms * strtod(scale, NULL));
#endif
	return ms;
}

/* ---- policy -------------------------------------------------------------- */

static int is_set(const char *s)
{
	return s && *s;
}

static int parse_attempts(int *out, const char *value, const char *what)
{
	char *end;
	long v;
	errno = 0;
	v = strtol(value, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno || end == value || *end || v < 1 || v > INT_MAX)
		return ciha__error_raise(CIHA_EINVAL, "%s must be a positive integer, got '%s'", what, value);
	*out = (int)v;
	return CIHA_OK;
}

typedef enum { MODE_STANDARD, MODE_ADAPTIVE, MODE_LEGACY } retry_mode;

static int parse_mode(retry_mode *out, const char *value, const char *what)
{
	if (strcmp(value, "standard") == 0)
		*out = MODE_STANDARD;
	else if (strcmp(value, "adaptive") == 0)
		*out = MODE_ADAPTIVE;
	else if (strcmp(value, "legacy") == 0)
		*out = MODE_LEGACY;
	else
		return ciha__error_raise(CIHA_EINVAL, "%s must be one of standard, adaptive, legacy, got '%s'",
		                         what, value);
	return CIHA_OK;
}

static int resolve_mode(retry_mode *mode, const char *explicit_mode, const char *profile_mode)
{
	const char *env = getenv("AWS_RETRY_MODE");
	*mode = MODE_STANDARD;
	if (explicit_mode)
		return parse_mode(mode, explicit_mode, "retry_mode");
	if (is_set(env))
		return parse_mode(mode, env, "AWS_RETRY_MODE");
	if (is_set(profile_mode))
		return parse_mode(mode, profile_mode, "retry_mode in the config profile");
	return CIHA_OK;
}

/* 0 when nothing set it, so the mode's default applies. */
static int resolve_attempts(int *attempts, int explicit_attempts, const char *profile_attempts)
{
	const char *env = getenv("AWS_MAX_ATTEMPTS");
	*attempts = 0;
	if (explicit_attempts < 0)
		return ciha__error_raise(CIHA_EINVAL, "max_attempts must be a positive integer, got %d",
		                         explicit_attempts);
	if (explicit_attempts > 0) {
		*attempts = explicit_attempts;
		return CIHA_OK;
	}
	if (is_set(env))
		return parse_attempts(attempts, env, "AWS_MAX_ATTEMPTS");
	if (is_set(profile_attempts))
		return parse_attempts(attempts, profile_attempts, "max_attempts in the config profile");
	return CIHA_OK;
}

/*
 * Precedence per setting: explicit option, environment, profile, default.
 * Empty environment values count as unset. "adaptive" is accepted and run
 * as standard (no client-side rate limiter); `adaptive` records the request
 * so the client can say so at DEBUG level. "legacy" keeps botocore's legacy
 * default of 5 attempts but uses standard mode's rules otherwise.
 */
int ciha__retry_policy_resolve(ciha__retry_policy *p, int explicit_attempts, const char *explicit_mode,
                               const char *profile_attempts, const char *profile_mode)
{
	retry_mode mode;
	int attempts, rc;
	if ((rc = resolve_mode(&mode, explicit_mode, profile_mode)) != CIHA_OK)
		return rc;
	if ((rc = resolve_attempts(&attempts, explicit_attempts, profile_attempts)) != CIHA_OK)
		return rc;
	if (attempts == 0)
		attempts = mode == MODE_LEGACY ? CIHA__RETRY_LEGACY_ATTEMPTS : CIHA__RETRY_STANDARD_ATTEMPTS;
	p->max_attempts = attempts;
	p->mode_standard = mode != MODE_LEGACY;
	p->adaptive = mode == MODE_ADAPTIVE;
	return CIHA_OK;
}
