/* log.h: the logging callback. Nothing is logged unless a callback is set. */
#ifndef CIHA_LOG_H
#define CIHA_LOG_H

#include "ciha/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	CIHA_LOG_NONE = 0,
	CIHA_LOG_ERROR = 1,
	CIHA_LOG_WARN = 2,
	CIHA_LOG_INFO = 3,
	CIHA_LOG_DEBUG = 4,
	CIHA_LOG_TRACE = 5
} ciha_log_level;

/**
 * A log sink. `subsystem` is "http", "sigv4", "creds", "config", "retry",
 * "call", ... Messages are already redacted: no secret key, session token,
 * Authorization signature or PagerDuty key ever reaches a callback.
 */
typedef void (*ciha_log_cb)(ciha_log_level level, const char *subsystem,
                            const char *message, void *payload);

/**
 * Set the process-wide default sink, used by clients and providers created
 * without one of their own. Pass NULL to log nothing. Not thread-safe: call it
 * at start-up. Since 0.1.
 */
CIHA_EXTERN(void) ciha_log_set_default(ciha_log_cb cb, void *payload, ciha_log_level level);

/** @return borrowed static name of a level ("DEBUG"). Since 0.1. */
CIHA_EXTERN(const char *) ciha_log_level_name(ciha_log_level level);

#ifdef __cplusplus
}
#endif
#endif
