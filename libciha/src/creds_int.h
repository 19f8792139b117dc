/* creds_int.h: the provider base "class" and helpers shared by the kinds. */
#ifndef CIHA_CREDS_INT_H
#define CIHA_CREDS_INT_H
#include <pthread.h>
#include "ciha/credentials.h"
#include "log_int.h"
#include "buf_int.h"
#include "http_int.h"

struct ciha_credentials {
	int refs;                 /* atomic */
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	int64_t expiration;
	char *provider;
	char *account_id;
};

typedef struct {
	const char *kind;
	/* Fetch fresh credentials. Return CIHA_OK with *out, CIHA_ENOTFOUND when
	 * this source has nothing (the chain moves on; append why to `tried`),
	 * or another error (the chain stops; the error is raised). */
	int (*get)(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried);
	void (*destroy)(ciha_credentials_provider *p);
} ciha__provider_vtable;

struct ciha_credentials_provider {
	const ciha__provider_vtable *vt;
	int refs;                 /* atomic */
	pthread_mutex_t lock;     /* guards `cached` */
	ciha_credentials *cached; /* refreshed when within the refresh window of expiry */
	ciha__logger logger;
	void *impl;
};

/* Allocate a provider with vt and impl; logger from opts (may be NULL). */
int ciha__provider_new(ciha_credentials_provider **out, const ciha__provider_vtable *vt, void *impl,
                       const ciha_credentials_options *opts);
/* Copy the string fields of opts (so providers may keep them). */
typedef struct {
	char *profile, *config_file, *credentials_file, *region, *imds_endpoint, *ca_bundle;
	int imds_allow_v1;
	long timeout_ms;
	ciha_log_cb log_cb;
	void *log_payload;
	ciha_log_level log_level;
} ciha__creds_opts;
int ciha__creds_opts_copy(ciha__creds_opts *dst, const ciha_credentials_options *src);
void ciha__creds_opts_dispose(ciha__creds_opts *o);
/* Re-make a public options struct pointing into a ciha__creds_opts. */
void ciha__creds_opts_view(ciha_credentials_options *view, const ciha__creds_opts *o);

/* Make credentials with a provider name and optional account id. */
int ciha__credentials_make(ciha_credentials **out, const char *akid, const char *secret,
                           const char *token, int64_t expiration, const char *provider,
                           const char *account_id);
/* Credentials need refreshing: expire within 15 minutes (advisory) */
int ciha__credentials_stale(const ciha_credentials *c, long long now_ms);

/* Provider kinds used by the chain and the profile provider. */
int ciha__provider_new_assume_role(ciha_credentials_provider **out, ciha_credentials_provider *source,
                                   const char *role_arn, const char *session_name, const char *external_id,
                                   long duration_s, const ciha_credentials_options *opts);
int ciha__provider_new_web_identity_explicit(ciha_credentials_provider **out, const char *role_arn,
                                             const char *token_file, const char *session_name,
                                             const ciha_credentials_options *opts);

/* STS call used by assume-role and web identity: POST the form body to the
 * STS endpoint (resolved from opts->region and config), signed with `creds`
 * (or unsigned when creds is NULL), and parse <Credentials>. */
int ciha__sts_fetch_credentials(ciha_credentials **out, const char *form_body, ciha_credentials *creds,
                                const char *result_name, const char *provider_name,
                                const ciha_credentials_options *opts, const ciha__logger *lg);
/* ---- shared by the provider kinds ---- */

/* Like ciha_credentials_provider_get, but "nothing here" is CIHA_ENOTFOUND
 * with the reason appended to `tried` (the chain collects them). */
int ciha__provider_get_tried(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried);
/* Append "what (why)" to the list of sources tried, '; '-separated. */
void ciha__tried_add(ciha__buf *tried, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A provider handing out fixed keys under `provider_name`. */
int ciha__provider_new_fixed(ciha_credentials_provider **out, const char *akid, const char *secret,
                             const char *token, const char *provider_name,
                             const ciha_credentials_options *opts);
/* getenv() that treats "" as unset; "true"/"1" test. */
const char *ciha__env_nonempty(const char *name);
int ciha__env_true(const char *name);
/* Whole file (up to 1 MiB) with trailing newlines/spaces trimmed; raises
 * CIHA_EINVAL "cannot read <what> <path>" when unreadable. */
int ciha__read_small_file(char **out, const char *path, const char *what);
/* Parse the container/IMDS credentials JSON (AccessKeyId, SecretAccessKey,
 * Token, Expiration, AccountId). CIHA_ENOTFOUND when the keys are missing. */
int ciha__credentials_from_json(ciha_credentials **out, const char *body, size_t len,
                                const char *provider_name);
/* One exchange with a metadata endpoint (IMDS, container): no proxy, the
 * given timeout for connect and transfer. CIHA_OK when `resp` was filled
 * (check resp->outcome), CIHA_ENOMEM otherwise. */
int ciha__creds_http_fetch(ciha__http_response *resp, const char *method, const char *url,
                           const char *const *headers, long timeout_ms, const ciha__logger *lg);
/* Human-readable reason a request got no response ("connection refused ..."). */
const char *ciha__creds_http_failure(const ciha__http_response *resp);
#endif
