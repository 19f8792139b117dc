/* credentials.h: AWS credentials and the providers that find them. */
#ifndef CIHA_CREDENTIALS_H
#define CIHA_CREDENTIALS_H

#include "ciha/common.h"
#include "ciha/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An immutable, reference-counted set of keys. Thread-safe. */
typedef struct ciha_credentials ciha_credentials;

/**
 * Make credentials from keys (copied).
 * @param expiration Unix time the keys stop working, or 0 for never.
 * @param out new reference; release with ciha_credentials_release().
 * @return CIHA_OK, CIHA_EINVAL (empty key id or secret), CIHA_ENOMEM. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_credentials_new(ciha_credentials **out, const char *access_key_id,
                                              const char *secret_access_key, const char *session_token,
                                              int64_t expiration);
/** Take a reference. @return `creds`. Since 0.1. */
CIHA_EXTERN(ciha_credentials *) ciha_credentials_acquire(ciha_credentials *creds);
/** Drop a reference; the last one wipes the secret from memory. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_credentials_release(ciha_credentials *creds);
/** @return borrowed access key id. Since 0.1. */
CIHA_EXTERN(const char *) ciha_credentials_access_key_id(const ciha_credentials *creds);
/** @return borrowed secret key. Never log it. Since 0.1. */
CIHA_EXTERN(const char *) ciha_credentials_secret_access_key(const ciha_credentials *creds);
/** @return borrowed session token, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_credentials_session_token(const ciha_credentials *creds);
/** @return expiry as Unix time, or 0 for never. Since 0.1. */
CIHA_EXTERN(int64_t) ciha_credentials_expiration(const ciha_credentials *creds);
/** @return borrowed name of the provider that produced them ("env", "profile", "assume-role", "web-identity", "container", "imds", "static", "delegate"). Since 0.1. */
CIHA_EXTERN(const char *) ciha_credentials_provider_name(const ciha_credentials *creds);

/** A source of credentials. Reference-counted and thread-safe. */
typedef struct ciha_credentials_provider ciha_credentials_provider;

/** Settings for the providers. Initialise with CIHA_CREDENTIALS_OPTIONS_INIT. */
typedef struct {
	unsigned int version;
	const char *profile;           /**< NULL: AWS_PROFILE, then "default" */
	const char *config_file;       /**< NULL: AWS_CONFIG_FILE, then ~/.aws/config */
	const char *credentials_file;  /**< NULL: AWS_SHARED_CREDENTIALS_FILE, then ~/.aws/credentials */
	const char *region;            /**< region for STS calls; NULL: resolved as the client does */
	const char *imds_endpoint;     /**< NULL: AWS_EC2_METADATA_SERVICE_ENDPOINT, then http://169.254.169.254 */
	int imds_allow_v1;             /**< fall back to IMDSv1 when no token can be had (default 0) */
	long timeout_ms;               /**< per request to IMDS/container/STS; 0: 1000 for IMDS, 2000 for container, 10000 for STS */
	ciha_log_cb log_cb;            /**< NULL: the default sink */
	void *log_payload;
	ciha_log_level log_level;
	const char *ca_bundle;         /**< CA file for HTTPS (STS); NULL: system store */
} ciha_credentials_options;

#define CIHA_CREDENTIALS_OPTIONS_VERSION 1
#define CIHA_CREDENTIALS_OPTIONS_INIT { CIHA_CREDENTIALS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, CIHA_LOG_NONE, NULL }

/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_options_init(ciha_credentials_options *opts, unsigned int version);

/** Fixed keys. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_static(ciha_credentials_provider **out,
	const char *access_key_id, const char *secret_access_key, const char *session_token);
/** AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_env(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);
/** A profile of the shared files: static keys, role_arn with source_profile or credential_source, web identity. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_profile(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);
/** AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (STS AssumeRoleWithWebIdentity). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_web_identity(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);
/** ECS/EKS container credentials (AWS_CONTAINER_CREDENTIALS_*). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_container(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);
/** EC2 instance role through IMDSv2. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_imds(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);
/**
 * The standard chain: env, profile (static, assume role, web identity), web
 * identity from env, container, IMDS; the first that yields keys wins and is
 * remembered. Temporary keys are cached and refreshed before they expire.
 * When nothing yields keys, ciha_credentials_provider_get() fails with
 * CIHA_EAUTH and a message naming every source tried. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_default(ciha_credentials_provider **out,
	const ciha_credentials_options *opts);

/**
 * A callback that supplies credentials (for bindings and vaults).
 * It returns CIHA_OK with *out set to a new reference, or an error code.
 */
typedef ciha_result (*ciha_credentials_cb)(ciha_credentials **out, void *payload);
/**
 * A provider that asks `cb` (with `payload`) for credentials each time they
 * are needed; CIHA_ENOTFOUND from the callback means "none here". Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_delegate(ciha_credentials_provider **out,
	ciha_credentials_cb cb, void *payload);

/**
 * Get current credentials, fetching or refreshing them if needed.
 * @param out new reference.
 * @return CIHA_OK, CIHA_EAUTH (none found; the message lists what was tried),
 *         CIHA_ENETWORK, CIHA_ETIMEOUT. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_credentials_provider_get(ciha_credentials **out, ciha_credentials_provider *provider);
/** @return borrowed name of the provider kind ("chain", "env", ...). Since 0.1. */
CIHA_EXTERN(const char *) ciha_credentials_provider_kind(const ciha_credentials_provider *provider);
/** Take a reference. Since 0.1. */
CIHA_EXTERN(ciha_credentials_provider *) ciha_credentials_provider_acquire(ciha_credentials_provider *provider);
/** Drop a reference. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_credentials_provider_release(ciha_credentials_provider *provider);

#ifdef __cplusplus
}
#endif
#endif
