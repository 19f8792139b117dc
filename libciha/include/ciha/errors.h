/* errors.h: the rich error object behind every ciha_result. */
#ifndef CIHA_ERRORS_H
#define CIHA_ERRORS_H

#include "ciha/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque error detail. Grows without ABI breaks; read it through accessors. */
typedef struct ciha_error ciha_error;

/**
 * The last error raised on this thread. Never NULL: when nothing failed it
 * holds code CIHA_OK and an empty message.
 * @return borrowed; valid until the next libciha call on this thread.
 * Since 0.1.
 */
CIHA_EXTERN(const ciha_error *) ciha_error_last(void);

/** Reset this thread's last error to CIHA_OK. Since 0.1. */
CIHA_EXTERN(void) ciha_error_clear(void);

/** @return the ciha_code of the error. Since 0.1. */
CIHA_EXTERN(int) ciha_error_code(const ciha_error *err);
/** @return borrowed message, never NULL, never holding a secret. Since 0.1. */
CIHA_EXTERN(const char *) ciha_error_message(const ciha_error *err);
/** @return borrowed AWS error code ("ValidationError"), or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_error_aws_code(const ciha_error *err);
/** @return borrowed AWS request id, or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_error_request_id(const ciha_error *err);
/** @return borrowed service name ("ec2", "sts", ...), or NULL. Since 0.1. */
CIHA_EXTERN(const char *) ciha_error_service(const ciha_error *err);
/** @return the HTTP status of the failed response, or 0 when there was none. Since 0.1. */
CIHA_EXTERN(int) ciha_error_http_status(const ciha_error *err);
/** @return 1 if the same call may succeed when retried later, else 0. Since 0.1. */
CIHA_EXTERN(int) ciha_error_is_retryable(const ciha_error *err);

/**
 * Copy an error (e.g. to keep it past the next call).
 * @param out receives a new error; free with ciha_error_free().
 * @return CIHA_OK or CIHA_ENOMEM. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_error_dup(ciha_error **out, const ciha_error *err);
/** Free an error from ciha_error_dup(). NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_error_free(ciha_error *err);

/** @return borrowed static description of a code ("not found"). Since 0.1. */
CIHA_EXTERN(const char *) ciha_strerror(int code);
/** @return borrowed static name of a code ("CIHA_ENOTFOUND"), or NULL if unknown. Since 0.1. */
CIHA_EXTERN(const char *) ciha_code_name(int code);

#ifdef __cplusplus
}
#endif
#endif
