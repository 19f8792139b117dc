/* sigv4.h: AWS Signature Version 4, usable on requests of your own. */
#ifndef CIHA_SIGV4_H
#define CIHA_SIGV4_H

#include <time.h>
#include "ciha/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A request to sign: method, path with optional query, headers, body. Opaque. */
typedef struct ciha_sigv4_request ciha_sigv4_request;

/**
 * Signing inputs. Initialise with CIHA_SIGV4_OPTIONS_INIT, then set fields.
 * Fields are only ever appended.
 */
typedef struct {
	unsigned int version;
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;   /**< NULL for long-term keys */
	const char *region;          /**< signing region, "us-east-1" */
	const char *service;         /**< signing name, "ec2", "monitoring" */
	time_t when;                 /**< signing time; 0 means now */
	int normalize_path;          /**< remove . and .. segments, collapse // (1 for all but S3) */
	int sign_body;               /**< add and sign x-amz-content-sha256 */
	int omit_session_token;      /**< add X-Amz-Security-Token after signing, unsigned */
} ciha_sigv4_options;

#define CIHA_SIGV4_OPTIONS_VERSION 1
#define CIHA_SIGV4_OPTIONS_INIT { CIHA_SIGV4_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 1, 0, 0 }

/** Fill `opts` with defaults for `version`. @return CIHA_EUNSUPPORTED for an unknown version. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_sigv4_options_init(ciha_sigv4_options *opts, unsigned int version);

/**
 * Start a request. `target` is the request-target as sent on the request line,
 * e.g. "/path/?a=b"; it may contain raw spaces or UTF-8.
 * @param out receives a new request; free with ciha_sigv4_request_free().
 * @return CIHA_OK, CIHA_EINVAL (empty method or target), CIHA_ENOMEM. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_sigv4_request_new(ciha_sigv4_request **out, const char *method, const char *target);
/** Free a request. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_sigv4_request_free(ciha_sigv4_request *req);
/** Append a header (repeats allowed; order kept). Values are copied. Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_sigv4_request_add_header(ciha_sigv4_request *req, const char *name, const char *value);
/** Set the body (copied). Since 0.1. */
CIHA_EXTERN(ciha_result) ciha_sigv4_request_set_body(ciha_sigv4_request *req, const void *body, size_t len);

/**
 * Sign the request: adds X-Amz-Date (unless present), X-Amz-Security-Token
 * (with a token), x-amz-content-sha256 (with sign_body) and Authorization.
 * @return CIHA_OK, CIHA_EINVAL (missing key, region or service). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_sigv4_sign(ciha_sigv4_request *req, const ciha_sigv4_options *opts);

/**
 * Presign the request for the query string (X-Amz-Algorithm ... X-Amz-Signature),
 * valid for `expires_s` seconds.
 * @param out_target receives the new signed request-target; free with ciha_free().
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_sigv4_presign(char **out_target, ciha_sigv4_request *req,
                                            const ciha_sigv4_options *opts, long expires_s);

/** @return borrowed canonical request of the last sign/presign, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_canonical(const ciha_sigv4_request *req);
/** @return borrowed string-to-sign of the last sign/presign, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_string_to_sign(const ciha_sigv4_request *req);
/** @return borrowed hex signature of the last sign/presign, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_signature(const ciha_sigv4_request *req);
/** @return number of headers (including those added by signing). Since 0.1. */
CIHA_EXTERN(size_t) ciha_sigv4_request_header_count(const ciha_sigv4_request *req);
/** @return borrowed name of header i, or NULL when out of range. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_header_name(const ciha_sigv4_request *req, size_t i);
/** @return borrowed value of header i, or NULL when out of range. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_header_value(const ciha_sigv4_request *req, size_t i);
/** @return borrowed value of the first header called `name` (any case), or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_sigv4_request_header(const ciha_sigv4_request *req, const char *name);

#ifdef __cplusplus
}
#endif
#endif
