/* test_retry.c: standard retry mode: classification, quota, backoff, policy. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include "../check.h"
#include "ciha/errors.h"
#include "retry_int.h"

static void test_retry__classify_every_throttling_code(void)
{
	/* aws-wire.md 5, rule 2 (botocore standard.py) */
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
		"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	size_t i;
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		CHECK_MSG(ciha__retry_is_throttle_code(codes[i]), "%s", codes[i]);
		CHECK_MSG(ciha__retry_classify(0, 400, codes[i], "ec2") == CIHA__RETRY_THROTTLE, "%s", codes[i]);
	}
	/* EC2 sends RequestLimitExceeded with 503: still a throttle. */
	CHECK_INT(ciha__retry_classify(0, 503, "RequestLimitExceeded", "ec2"), CIHA__RETRY_THROTTLE);
}

static void test_retry__classify_transient(void)
{
	CHECK_INT(ciha__retry_classify(0, 500, "InternalFailure", "cloudformation"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 502, NULL, "rds"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 503, "503", "rds"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 504, "", "sns"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 400, "RequestTimeout", "ec2"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 400, "RequestTimeoutException", "ec2"), CIHA__RETRY_TRANSIENT);
	/* ASG ResourceContention is modelled as 500, so the status rule retries it. */
	CHECK_INT(ciha__retry_classify(0, 500, "ResourceContention", "autoscaling"), CIHA__RETRY_TRANSIENT);
	/* Special case: STS could not reach the identity provider. */
	CHECK_INT(ciha__retry_classify(0, 400, "IDPCommunicationError", "sts"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(0, 400, "IDPCommunicationError", "ec2"), CIHA__RETRY_NO);
}

static void test_retry__classify_transport_failures(void)
{
	CHECK_INT(ciha__retry_classify(1, 0, NULL, "ec2"), CIHA__RETRY_TRANSIENT);
	CHECK_INT(ciha__retry_classify(2, 0, NULL, "ec2"), CIHA__RETRY_TIMEOUT);
}

static void test_retry__classify_not_retried(void)
{
	CHECK_INT(ciha__retry_classify(0, 400, "ValidationError", "cloudformation"), CIHA__RETRY_NO);
	CHECK_INT(ciha__retry_classify(0, 403, "AccessDenied", "sns"), CIHA__RETRY_NO);
	CHECK_INT(ciha__retry_classify(0, 404, "DBSnapshotNotFound", "rds"), CIHA__RETRY_NO);
	CHECK_INT(ciha__retry_classify(0, 401, "AuthFailure", "ec2"), CIHA__RETRY_NO);
	CHECK_INT(ciha__retry_classify(0, 412, "DryRunOperation", "ec2"), CIHA__RETRY_NO);
	/* Deliberately as the SDKs: plain 429 and SNS "Throttled" are not retried. */
	CHECK_INT(ciha__retry_classify(0, 429, NULL, "sns"), CIHA__RETRY_NO);
	CHECK_INT(ciha__retry_classify(0, 429, "Throttled", "sns"), CIHA__RETRY_NO);
	CHECK(!ciha__retry_is_throttle_code("Throttled"));
	CHECK(!ciha__retry_is_throttle_code(NULL));
	CHECK(!ciha__retry_is_throttle_code(""));
	CHECK(!ciha__retry_is_throttle_code("throttling"));
	CHECK_INT(ciha__retry_classify(0, 200, NULL, "ec2"), CIHA__RETRY_NO);
}

static void test_retry__quota_drains_after_100_retries(void)
{
	ciha__retry_quota q;
	int i;
	ciha__retry_quota_init(&q);
	CHECK_INT(q.capacity, 500);
	for (i = 0; i < 100; i++)
		CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_TRANSIENT), 5);
	CHECK_INT(q.capacity, 0);
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_THROTTLE), 0);
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_TRANSIENT), 0);
	CHECK_INT(q.capacity, 0);
}

static void test_retry__quota_timeout_costs_ten(void)
{
	ciha__retry_quota q;
	ciha__retry_quota_init(&q);
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_TIMEOUT), 10);
	CHECK_INT(q.capacity, 490);
	q.capacity = 9;
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_TIMEOUT), 0);
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_TRANSIENT), 5);
	CHECK_INT(q.capacity, 4);
	CHECK_INT(ciha__retry_quota_acquire(&q, CIHA__RETRY_NO), 0);
	CHECK_INT(q.capacity, 4);
}

static void test_retry__quota_success_refunds(void)
{
	ciha__retry_quota q;
	ciha__retry_quota_init(&q);
	/* first-time success: +1, capped at 500 */
	ciha__retry_quota_release(&q, 0);
	CHECK_INT(q.capacity, 500);
	q.capacity = 100;
	ciha__retry_quota_release(&q, 0);
	CHECK_INT(q.capacity, 101);
	/* a retried call gives back what its last retry cost */
	ciha__retry_quota_release(&q, 10);
	CHECK_INT(q.capacity, 111);
	ciha__retry_quota_release(&q, 5);
	CHECK_INT(q.capacity, 116);
	q.capacity = 498;
	ciha__retry_quota_release(&q, 10);
	CHECK_INT(q.capacity, 500);
}

static void test_retry__backoff_bounds(void)
{
	/* rand 0.999: just under min(2^(i-1), 20) seconds */
	static const long ceiling_ms[] = { 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000, 20000, 20000 };
	int attempt;
	for (attempt = 1; attempt <= 10; attempt++) {
		long high = ciha__retry_backoff_ms(attempt, 0.999);
		CHECK_MSG(high <= ceiling_ms[attempt - 1] && high >= ceiling_ms[attempt - 1] * 999 / 1000 - 1,
		          "attempt %d: %ld ms", attempt, high);
		CHECK_INT(ciha__retry_backoff_ms(attempt, 0.0), 0);
		CHECK_INT(ciha__retry_backoff_ms(attempt, 0.5), ceiling_ms[attempt - 1] / 2);
	}
	CHECK_INT(ciha__retry_backoff_ms(1000, 0.5), 10000);
	CHECK(ciha__retry_backoff_ms(40, 0.999) <= 20000);
}

static void test_retry__rand01_in_range(void)
{
	int i, distinct = 0;
	double prev = -1;
	for (i = 0; i < 1000; i++) {
		double r = ciha__retry_rand01();
		CHECK(r >= 0.0 && r < 1.0);
		if (r != prev)
			distinct++;
		prev = r;
	}
	CHECK(distinct > 900);
}

static void clear_env(void)
{
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
}

static void test_retry__policy_defaults(void)
{
	ciha__retry_policy p;
	clear_env();
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 3);
	CHECK_INT(p.mode_standard, 1);
	CHECK_INT(p.adaptive, 0);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, "legacy", NULL, NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 5);
	CHECK_INT(p.mode_standard, 0);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, "adaptive", NULL, NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 3);
	CHECK_INT(p.mode_standard, 1);
	CHECK_INT(p.adaptive, 1);
}

static void test_retry__policy_precedence(void)
{
	ciha__retry_policy p;
	clear_env();
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, "7", "legacy"), CIHA_OK);
	CHECK_INT(p.max_attempts, 7);
	CHECK_INT(p.mode_standard, 0);
	setenv("AWS_MAX_ATTEMPTS", "4", 1);
	setenv("AWS_RETRY_MODE", "standard", 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, "7", "legacy"), CIHA_OK);
	CHECK_INT(p.max_attempts, 4);
	CHECK_INT(p.mode_standard, 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 2, "legacy", "7", NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 2);
	CHECK_INT(p.mode_standard, 0);
	/* AWS_MAX_ATTEMPTS=1 disables retries */
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 1);
	/* empty values count as unset */
	setenv("AWS_MAX_ATTEMPTS", "", 1);
	setenv("AWS_RETRY_MODE", "", 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, NULL), CIHA_OK);
	CHECK_INT(p.max_attempts, 3);
	clear_env();
}

static void check_bad_attempts(const char *value)
{
	ciha__retry_policy p;
	char expected[128];
	setenv("AWS_MAX_ATTEMPTS", value, 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, NULL), CIHA_EINVAL);
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_EINVAL);
	snprintf(expected, sizeof expected, "AWS_MAX_ATTEMPTS must be a positive integer, got '%s'", value);
	CHECK_STR(ciha_error_message(ciha_error_last()), expected);
}

static void test_retry__policy_bad_values(void)
{
	ciha__retry_policy p;
	clear_env();
	check_bad_attempts("x");
	check_bad_attempts("0");
	check_bad_attempts("-2");
	check_bad_attempts("3x");
	check_bad_attempts("99999999999999999999");
	clear_env();
	setenv("AWS_RETRY_MODE", "fast", 1);
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, NULL), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(ciha_error_last()),
	          "AWS_RETRY_MODE must be one of standard, adaptive, legacy, got 'fast'");
	clear_env();
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, "lots", NULL), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(ciha_error_last()),
	          "max_attempts in the config profile must be a positive integer, got 'lots'");
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, NULL, NULL, "Standard"), CIHA_EINVAL);
	CHECK_INT(ciha__retry_policy_resolve(&p, -1, NULL, NULL, NULL), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(ciha_error_last()), "max_attempts must be a positive integer, got -1");
	CHECK_INT(ciha__retry_policy_resolve(&p, 0, "sometimes", NULL, NULL), CIHA_EINVAL);
}

int main(void)
{
	RUN(test_retry__classify_every_throttling_code);
	RUN(test_retry__classify_transient);
	RUN(test_retry__classify_transport_failures);
	RUN(test_retry__classify_not_retried);
	RUN(test_retry__quota_drains_after_100_retries);
	RUN(test_retry__quota_timeout_costs_ten);
	RUN(test_retry__quota_success_refunds);
	RUN(test_retry__backoff_bounds);
	RUN(test_retry__rand01_in_range);
	RUN(test_retry__policy_defaults);
	RUN(test_retry__policy_precedence);
	RUN(test_retry__policy_bad_values);
	return CHECK_DONE("test_retry");
}
