/* client.h: a client for AWS calls (region, endpoints, credentials, retries, log). */
#ifndef CIHA_CLIENT_H
#define CIHA_CLIENT_H

#include "ciha/common.h"
#include "ciha/errors.h"
#include "ciha/log.h"
#include "ciha/credentials.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A client. Not thread-safe: use one per thread. Keeps HTTP connections alive across calls. */
typedef struct ciha_client ciha_client;

/** Client settings. Initialise with CIHA_CLIENT_OPTIONS_INIT; fields are only appended. */
typedef struct {
	unsigned int version;
	const char *region;              /**< NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile's region */
	const char *profile;             /**< NULL: AWS_PROFILE, then "default" */
	const char *endpoint_url;        /**< override for every service (e.g. http://127.0.0.1:5000) */
	ciha_credentials_provider *credentials; /**< borrowed (a reference is taken); NULL: the default chain */
	long connect_timeout_ms;         /**< 0: 10000 */
	long timeout_ms;                 /**< total per attempt; 0: 60000 */
	int max_attempts;                /**< 0: AWS_MAX_ATTEMPTS, the profile's max_attempts, then 3 */
	const char *retry_mode;          /**< NULL: AWS_RETRY_MODE, the profile, then "standard" */
	const char *user_agent_suffix;
	ciha_log_cb log_cb;              /**< NULL: the default sink */
	void *log_payload;
	ciha_log_level log_level;
	const char *ca_bundle;           /**< CA file for TLS; NULL: system store */
	const char *config_file;         /**< NULL: AWS_CONFIG_FILE, then ~/.aws/config */
	const char *credentials_file;    /**< NULL: AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials */
} ciha_client_options;

#define CIHA_CLIENT_OPTIONS_VERSION 1
#define CIHA_CLIENT_OPTIONS_INIT { CIHA_CLIENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, CIHA_LOG_NONE, NULL, NULL, NULL }

/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_client_options_init(ciha_client_options *opts, unsigned int version);

/**
 * Create a client. Resolves region and configuration now; credentials are
 * fetched on the first call.
 * @param out new client; free with ciha_client_free().
 * @return CIHA_OK, CIHA_EINVAL (bad option, no region), CIHA_EUNSUPPORTED
 *         (options version too new), CIHA_ENOMEM. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_client_new(ciha_client **out, const ciha_client_options *opts);
/** Free a client. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_client_free(ciha_client *client);
/** @return the last error raised on this client (borrowed, never NULL). Since 0.1. */
CIHA_EXTERN(const ciha_error *) ciha_client_error(const ciha_client *client);
/** @return borrowed region. Since 0.1. */
CIHA_EXTERN(const char *) ciha_client_region(const ciha_client *client);
/**
 * The endpoint URL the client uses for `service`.
 * @param out new string; free with ciha_free().
 * @return CIHA_OK, CIHA_EINVAL (unknown service). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_client_endpoint(char **out, const ciha_client *client, const char *service);
/** @return borrowed request id of the last response, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_client_last_request_id(const ciha_client *client);
/** @return the attempts made by the last call (1 when it was not retried). Since 0.1. */
CIHA_EXTERN(int) ciha_client_last_attempts(const ciha_client *client);

/** Who the client's credentials are: STS GetCallerIdentity plus where they came from. */
typedef struct ciha_identity ciha_identity;
/**
 * @param out new identity; free with ciha_identity_free().
 * @return CIHA_OK, CIHA_EAUTH, or a transport/service error. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_client_whoami(ciha_identity **out, ciha_client *client);
/** Free an identity. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_identity_free(ciha_identity *id);
/** @return borrowed account id. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_account(const ciha_identity *id);
/** @return borrowed ARN. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_arn(const ciha_identity *id);
/** @return borrowed user id. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_user_id(const ciha_identity *id);
/** @return borrowed name of the credential provider that supplied the keys. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_provider(const ciha_identity *id);
/** @return borrowed region. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_region(const ciha_identity *id);
/** @return borrowed STS endpoint used. Since 0.1. */
CIHA_EXTERN(const char *) ciha_identity_endpoint(const ciha_identity *id);

#ifdef __cplusplus
}
#endif
#endif
