/* retry_int.h: AWS "standard" retry mode: classification, backoff, quota. */
#ifndef CIHA_RETRY_INT_H
#define CIHA_RETRY_INT_H

typedef enum {
	CIHA__RETRY_NO = 0,
	CIHA__RETRY_TRANSIENT,     /* no response, 500/502/503/504, RequestTimeout... */
	CIHA__RETRY_THROTTLE,      /* Throttling, RequestLimitExceeded, ... */
	CIHA__RETRY_TIMEOUT        /* connect/read timeout: costs more quota */
} ciha__retry_kind;

/* transport: 0 = a response arrived, 1 = connection/IO error, 2 = timeout. */
ciha__retry_kind ciha__retry_classify(int transport, int http_status, const char *aws_code, const char *service);
int ciha__retry_is_throttle_code(const char *aws_code);

#define CIHA__RETRY_QUOTA_MAX 500
#define CIHA__RETRY_COST 5
#define CIHA__RETRY_TIMEOUT_COST 10
#define CIHA__RETRY_NO_RETRY_INCREMENT 1
#define CIHA__RETRY_MAX_BACKOFF_MS 20000

typedef struct {
	int capacity;
} ciha__retry_quota;

void ciha__retry_quota_init(ciha__retry_quota *q);
/* Take tokens for a retry of this kind; returns the amount taken, or 0 when
 * the bucket is too low (then do not retry). */
int ciha__retry_quota_acquire(ciha__retry_quota *q, ciha__retry_kind kind);
/* After a 2xx: give back `last_cost` if the call was retried, else 1. */
void ciha__retry_quota_release(ciha__retry_quota *q, int last_cost);

/* Full jitter: rand01 * min(2^(attempt-1), 20) seconds, in ms. attempt is 1-based. */
long ciha__retry_backoff_ms(int attempt, double rand01);
double ciha__retry_rand01(void);
/* The wait before the retry after `attempt`: a full-jitter draw (scaled by
 * CIHA_TEST_BACKOFF_SCALE in the test build). */
long ciha__retry_delay_ms(int attempt);

typedef struct {
	int max_attempts;     /* total attempts including the first */
	int mode_standard;    /* 1 standard, 0 legacy (treated as standard with legacy attempts) */
	int adaptive;         /* "adaptive" was asked for; it runs as standard (logged at DEBUG) */
} ciha__retry_policy;

/* Resolve from explicit value, env AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, the
 * profile's values (may be NULL), defaults. Returns CIHA_EINVAL on bad values. */
int ciha__retry_policy_resolve(ciha__retry_policy *p, int explicit_attempts, const char *explicit_mode,
                               const char *profile_attempts, const char *profile_mode);
#endif
