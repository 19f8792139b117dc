/* log_int.h: the per-object logger; messages are redacted before delivery. */
#ifndef CIHA_LOG_INT_H
#define CIHA_LOG_INT_H
#include "ciha/log.h"

typedef struct {
	ciha_log_cb cb;
	void *payload;
	ciha_log_level level;
} ciha__logger;

/* Use cb/payload/level, or the process default when cb is NULL. */
void ciha__logger_init(ciha__logger *lg, ciha_log_cb cb, void *payload, ciha_log_level level);
void ciha__log_emit(const ciha__logger *lg, ciha_log_level level, const char *subsystem,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static inline int ciha__log_enabled(const ciha__logger *lg, ciha_log_level level)
{
	return lg && lg->cb && lg->level >= level;
}
#define ciha__log(lg, lvl, sub, ...) \
	do { if (ciha__log_enabled(lg, lvl)) ciha__log_emit(lg, lvl, sub, __VA_ARGS__); } while (0)

/* Mask secrets in place in a NUL-terminated string: Signature=..., credential
 * values of X-Amz-Security-Token / Authorization headers, SecretAccessKey,
 * SessionToken / Token values in XML and JSON, aws_secret_access_key=...,
 * routing_key / integration keys. Returns s. */
char *ciha__redact(char *s);
#endif
