/* test_errors.c: code names, AWS code mapping, error objects, thread-local last error. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "../check.h"
#include "ciha/errors.h"
#include "alloc_int.h"
#include "error_int.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

#define CODE(c) { c, #c }
static const struct {
	int code;
	const char *name;
} every_code[] = {
	CODE(CIHA_OK), CODE(CIHA_ERROR), CODE(CIHA_ENOMEM), CODE(CIHA_EINVAL), CODE(CIHA_ENOTFOUND),
	CODE(CIHA_EEXISTS), CODE(CIHA_EAUTH), CODE(CIHA_ETHROTTLED), CODE(CIHA_ETIMEOUT), CODE(CIHA_ENETWORK),
	CODE(CIHA_ESTATE), CODE(CIHA_EAWS), CODE(CIHA_EUSER), CODE(CIHA_ITEROVER), CODE(CIHA_EUNSUPPORTED),
	CODE(CIHA_EAGAIN),
};
#define N_CODES (sizeof(every_code) / sizeof(every_code[0]))

static void test_errors__every_code_has_its_name(void)
{
	size_t i;
	for (i = 0; i < N_CODES; i++)
		CHECK_STR(ciha_code_name(every_code[i].code), every_code[i].name);
	CHECK_INT(every_code[N_CODES - 1].code, -(int)(N_CODES - 1));
}

static void test_errors__every_code_has_a_distinct_description(void)
{
	const char *unknown = ciha_strerror(12345);
	size_t i, j;
	for (i = 0; i < N_CODES; i++) {
		const char *text = ciha_strerror(every_code[i].code);
		CHECK_MSG(text && *text, "%s has no description", every_code[i].name);
		CHECK_MSG(strcmp(text, unknown) != 0, "%s described as unknown", every_code[i].name);
		for (j = 0; j < i; j++)
			CHECK_MSG(strcmp(text, ciha_strerror(every_code[j].code)) != 0, "%s and %s share \"%s\"",
			          every_code[i].name, every_code[j].name, text);
	}
	CHECK_STR(ciha_strerror(CIHA_ENOTFOUND), "not found");
}

static void test_errors__unknown_codes(void)
{
	static const int unknown[] = { 1, 42, -16, -1000 };
	size_t i;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		CHECK(ciha_code_name(unknown[i]) == NULL);
		CHECK(ciha_strerror(unknown[i]) != NULL && *ciha_strerror(unknown[i]));
	}
}

typedef struct {
	const char *aws_code;
	int http_status;
	int expected;
} aws_mapping;

static void check_mappings(const aws_mapping *m, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		int got = ciha__error_code_for_aws(m[i].aws_code, m[i].http_status);
		CHECK_MSG(got == m[i].expected, "%s/%d -> %s, expected %s", m[i].aws_code ? m[i].aws_code : "(null)",
		          m[i].http_status, ciha_code_name(got), ciha_code_name(m[i].expected));
	}
}

#define CHECK_MAPPINGS(table) check_mappings(table, sizeof(table) / sizeof(table[0]))

static void test_errors__aws_not_found_forms(void)
{
	static const aws_mapping table[] = {
		{ "InvalidVolume.NotFound", 400, CIHA_ENOTFOUND },
		{ "InvalidSnapshot.NotFound", 400, CIHA_ENOTFOUND },
		{ "InvalidInstanceID.NotFound", 400, CIHA_ENOTFOUND },
		{ "DBSnapshotNotFound", 404, CIHA_ENOTFOUND },
		{ "DBInstanceNotFound", 404, CIHA_ENOTFOUND },
		{ "DBSnapshotNotFoundFault", 404, CIHA_ENOTFOUND },
		{ "NotFound", 404, CIHA_ENOTFOUND },
		{ "ResourceNotFound", 404, CIHA_ENOTFOUND },
		{ "LoadBalancerNotFound", 400, CIHA_ENOTFOUND },
		{ "TargetGroupNotFound", 400, CIHA_ENOTFOUND },
		{ "ResourceNotFoundException", 400, CIHA_ENOTFOUND },
		{ "NoSuchEntity", 404, CIHA_ENOTFOUND },
		{ NULL, 404, CIHA_ENOTFOUND },
	};
	CHECK_MAPPINGS(table);
}

static void test_errors__aws_auth(void)
{
	static const aws_mapping table[] = {
		{ "AuthFailure", 401, CIHA_EAUTH },
		{ "SignatureDoesNotMatch", 403, CIHA_EAUTH },
		{ "InvalidClientTokenId", 403, CIHA_EAUTH },
		{ "AccessDenied", 403, CIHA_EAUTH },
		{ "AccessDeniedException", 400, CIHA_EAUTH },
		{ "UnauthorizedOperation", 403, CIHA_EAUTH },
		{ "ExpiredToken", 400, CIHA_EAUTH },
		{ "MissingAuthenticationToken", 403, CIHA_EAUTH },
		{ "SomethingNew", 403, CIHA_EAUTH },
		{ "", 401, CIHA_EAUTH },
	};
	CHECK_MAPPINGS(table);
}

static void test_errors__aws_throttling(void)
{
	static const aws_mapping table[] = {
		{ "Throttling", 400, CIHA_ETHROTTLED },
		{ "ThrottlingException", 400, CIHA_ETHROTTLED },
		{ "RequestLimitExceeded", 503, CIHA_ETHROTTLED },
		{ "TooManyRequestsException", 429, CIHA_ETHROTTLED },
		{ "LimitExceededException", 400, CIHA_ETHROTTLED },
		{ "SlowDown", 503, CIHA_ETHROTTLED },
		{ "Throttled", 429, CIHA_ETHROTTLED },
		{ "EC2ThrottledException", 400, CIHA_ETHROTTLED },
	};
	CHECK_MAPPINGS(table);
}

static void test_errors__aws_exists_state_timeout(void)
{
	static const aws_mapping table[] = {
		{ "AlreadyExistsException", 400, CIHA_EEXISTS },
		{ "DBSnapshotAlreadyExists", 400, CIHA_EEXISTS },
		{ "DBInstanceAlreadyExists", 400, CIHA_EEXISTS },
		{ "DBSnapshotAlreadyExistsFault", 400, CIHA_EEXISTS },
		{ "EntityAlreadyExists", 409, CIHA_EEXISTS },
		{ "InvalidGroup.Duplicate", 400, CIHA_EEXISTS },
		{ "InvalidPermission.Duplicate", 400, CIHA_EEXISTS },
		{ "InvalidKeyPair.Duplicate", 400, CIHA_EEXISTS },
		{ "IncorrectState", 400, CIHA_ESTATE },
		{ "InvalidDBInstanceState", 400, CIHA_ESTATE },
		{ "VolumeInUse", 400, CIHA_ESTATE },
		{ "InvalidSnapshot.InUse", 400, CIHA_ESTATE },
		{ "IncorrectInstanceState", 400, CIHA_ESTATE },
		{ "InvalidStateTransition", 400, CIHA_ESTATE },
		{ "RequestTimeout", 400, CIHA_ETIMEOUT },
	};
	CHECK_MAPPINGS(table);
}

static void test_errors__aws_everything_else(void)
{
	static const aws_mapping table[] = {
		{ "ValidationError", 400, CIHA_EAWS },
		{ "InvalidParameterValue", 400, CIHA_EAWS },
		{ "InternalFailure", 500, CIHA_EAWS },
		{ "ResourceContention", 500, CIHA_EAWS },
		{ NULL, 500, CIHA_EAWS },
		{ "", 400, CIHA_EAWS },
	};
	CHECK_MAPPINGS(table);
}

static void test_errors__last_error_starts_clear(void)
{
	const ciha_error *e;
	ciha_error_clear();
	e = ciha_error_last();
	CHECK(e != NULL);
	CHECK_INT(ciha_error_code(e), CIHA_OK);
	CHECK_STR(ciha_error_message(e), "");
	CHECK(ciha_error_aws_code(e) == NULL);
	CHECK(ciha_error_request_id(e) == NULL);
	CHECK(ciha_error_service(e) == NULL);
	CHECK_INT(ciha_error_http_status(e), 0);
	CHECK_INT(ciha_error_is_retryable(e), 0);
}

static void test_errors__raise_sets_and_returns(void)
{
	const ciha_error *e;
	CHECK_INT(ciha__error_raise(CIHA_EINVAL, "bad %s number %d", "stack", 3), CIHA_EINVAL);
	e = ciha_error_last();
	CHECK_INT(ciha_error_code(e), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(e), "bad stack number 3");
	CHECK(ciha_error_aws_code(e) == NULL);
	CHECK_INT(ciha_error_http_status(e), 0);
	ciha_error_clear();
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_OK);
	CHECK_STR(ciha_error_message(ciha_error_last()), "");
}

static void test_errors__raise_detail(void)
{
	const ciha__error_detail d = { "ec2", 400, "InvalidVolume.NotFound", "req-1", 0 };
	const ciha__error_detail t = { "sts", 400, "Throttling", "req-2", 1 };
	const ciha_error *e;
	CHECK_INT(ciha__error_raise_detail(CIHA_ENOTFOUND, &d, "volume %s", "vol-1"), CIHA_ENOTFOUND);
	e = ciha_error_last();
	CHECK_STR(ciha_error_message(e), "volume vol-1");
	CHECK_STR(ciha_error_aws_code(e), "InvalidVolume.NotFound");
	CHECK_STR(ciha_error_request_id(e), "req-1");
	CHECK_STR(ciha_error_service(e), "ec2");
	CHECK_INT(ciha_error_http_status(e), 400);
	CHECK_INT(ciha_error_is_retryable(e), 0);
	ciha__error_raise_detail(CIHA_ETHROTTLED, &t, "slow down");
	CHECK_STR(ciha_error_aws_code(e), "Throttling");
	CHECK_STR(ciha_error_service(e), "sts");
	CHECK_INT(ciha_error_is_retryable(e), 1);
	ciha__error_raise(CIHA_EINVAL, "plain");
	CHECK(ciha_error_aws_code(e) == NULL);
	CHECK(ciha_error_service(e) == NULL);
	CHECK_INT(ciha_error_is_retryable(e), 0);
}

static void test_errors__dup_outlives_the_next_error(void)
{
	const ciha__error_detail d = { "rds", 404, "DBSnapshotNotFound", "req-9", 0 };
	ciha_error *copy = NULL;
	ciha__error_raise_detail(CIHA_ENOTFOUND, &d, "snapshot %s", "snap-1");
	CHECK_INT(ciha_error_dup(&copy, ciha_error_last()), CIHA_OK);
	ciha__error_raise(CIHA_EINVAL, "something else");
	CHECK_INT(ciha_error_code(copy), CIHA_ENOTFOUND);
	CHECK_STR(ciha_error_message(copy), "snapshot snap-1");
	CHECK_STR(ciha_error_aws_code(copy), "DBSnapshotNotFound");
	CHECK_STR(ciha_error_request_id(copy), "req-9");
	CHECK_STR(ciha_error_service(copy), "rds");
	CHECK_INT(ciha_error_http_status(copy), 404);
	ciha_error_free(copy);
	ciha_error_free(NULL);
	ciha_error_free((ciha_error *)ciha_error_last()); /* not ours to free: ignored */
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_EINVAL);
}

static void test_errors__dup_rejects_null(void)
{
	ciha_error *copy = NULL;
	CHECK_INT(ciha_error_dup(&copy, NULL), CIHA_EINVAL);
	CHECK(copy == NULL);
	CHECK_INT(ciha_error_dup(NULL, ciha_error_last()), CIHA_EINVAL);
	CHECK_INT(ciha_error_code(NULL), CIHA_EINVAL);
	CHECK_STR(ciha_error_message(NULL), "");
	CHECK(ciha_error_aws_code(NULL) == NULL);
}

static void test_errors__copy_and_reset(void)
{
	struct ciha_error a, b;
	const ciha__error_detail d = { "sns", 404, "NotFound", "req-3", 0 };
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	ciha__error_raise_detail(CIHA_ENOTFOUND, &d, "topic");
	ciha__error_copy(&a, ciha_error_last());
	ciha__error_copy(&b, &a);
	ciha__error_copy(&b, &b);
	CHECK_STR(b.message, "topic");
	CHECK_STR(b.aws_code, "NotFound");
	ciha__error_reset(&a);
	CHECK_INT(a.code, CIHA_OK);
	CHECK(a.message == NULL);
	CHECK_STR(b.service, "sns");
	ciha__error_reset(&b);
}

static void test_errors__messages_are_redacted(void)
{
	const ciha_error *e = ciha_error_last();
	ciha__error_raise(CIHA_EAUTH, "profile ci: aws_secret_access_key = %s", SECRET);
	CHECK_STR(ciha_error_message(e), "profile ci: aws_secret_access_key = [redacted]");
	ciha__error_raise(CIHA_EAUTH, "rejected: <SecretAccessKey>%s</SecretAccessKey>", SECRET);
	CHECK_MSG(strstr(ciha_error_message(e), SECRET) == NULL, "%s", ciha_error_message(e));
	ciha__error_raise(CIHA_EAUTH, "request: Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=%s",
	                  "0123456789abcdef0123456789abcdef");
	CHECK_MSG(strstr(ciha_error_message(e), "0123456789abcdef") == NULL, "%s", ciha_error_message(e));
	CHECK(strstr(ciha_error_message(e), "Credential=AKID/x") != NULL);
}

#define THREAD_ROUNDS 2000

typedef struct {
	int code;
	int first_code_seen;
	int mismatches;
} thread_probe;

static void *raise_in_thread(void *arg)
{
	thread_probe *p = arg;
	int i;
	p->first_code_seen = ciha_error_code(ciha_error_last());
	for (i = 0; i < THREAD_ROUNDS; i++) {
		const ciha_error *e;
		char expected[32];
		ciha__error_raise(p->code, "round %d", i);
		e = ciha_error_last();
		snprintf(expected, sizeof(expected), "round %d", i);
		if (ciha_error_code(e) != p->code || strcmp(ciha_error_message(e), expected) != 0)
			p->mismatches++;
	}
	ciha__error_thread_cleanup();
	return NULL;
}

static void test_errors__last_error_is_per_thread(void)
{
	thread_probe probes[2] = { { CIHA_ENOTFOUND, -1, 0 }, { CIHA_ETHROTTLED, -1, 0 } };
	pthread_t threads[2];
	int i;
	ciha__error_raise(CIHA_EAUTH, "main thread");
	for (i = 0; i < 2; i++)
		CHECK_INT(pthread_create(&threads[i], NULL, raise_in_thread, &probes[i]), 0);
	for (i = 0; i < 2; i++)
		CHECK_INT(pthread_join(threads[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		CHECK_INT(probes[i].first_code_seen, CIHA_OK);
		CHECK_INT(probes[i].mismatches, 0);
	}
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_EAUTH);
	CHECK_STR(ciha_error_message(ciha_error_last()), "main thread");
}

static void test_errors__no_library_allocation_left(void)
{
	ciha__error_thread_cleanup();
	CHECK_INT(ciha_error_code(ciha_error_last()), CIHA_OK);
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

int main(void)
{
	RUN(test_errors__every_code_has_its_name);
	RUN(test_errors__every_code_has_a_distinct_description);
	RUN(test_errors__unknown_codes);
	RUN(test_errors__aws_not_found_forms);
	RUN(test_errors__aws_auth);
	RUN(test_errors__aws_throttling);
	RUN(test_errors__aws_exists_state_timeout);
	RUN(test_errors__aws_everything_else);
	RUN(test_errors__last_error_starts_clear);
	RUN(test_errors__raise_sets_and_returns);
	RUN(test_errors__raise_detail);
	RUN(test_errors__dup_outlives_the_next_error);
	RUN(test_errors__dup_rejects_null);
	RUN(test_errors__copy_and_reset);
	RUN(test_errors__messages_are_redacted);
	RUN(test_errors__last_error_is_per_thread);
	RUN(test_errors__no_library_allocation_left);
	return CHECK_DONE("test_errors");
}
