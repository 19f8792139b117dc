/* log.c: delivering log lines to the caller's sink, redacted. */
#include <stdarg.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "log_int.h"

static ciha__logger default_logger = { NULL, NULL, CIHA_LOG_NONE };

CIHA_EXTERN(void) ciha_log_set_default(ciha_log_cb cb, void *payload, ciha_log_level level)
{
	default_logger.cb = cb;
	default_logger.payload = payload;
	default_logger.level = cb ? level : CIHA_LOG_NONE;
}

CIHA_EXTERN(const char *) ciha_log_level_name(ciha_log_level level)
{
	static const char *const names[] = { "NONE", "ERROR", "WARN", "INFO", "DEBUG", "TRACE" };
	if ((int)level < 0 || (size_t)level >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[level];
}

void ciha__logger_init(ciha__logger *lg, ciha_log_cb cb, void *payload, ciha_log_level level)
{
	if (cb) {
		lg->cb = cb;
		lg->payload = payload;
		lg->level = level;
	} else {
		*lg = default_logger;
	}
}

void ciha__log_emit(const ciha__logger *lg, ciha_log_level level, const char *subsystem, const char *fmt, ...)
{
	ciha__buf msg = CIHA__BUF_INIT;
	va_list ap;
	if (!ciha__log_enabled(lg, level))
		return;
	va_start(ap, fmt);
	ciha__buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (!msg.failed && msg.ptr) {
		ciha__redact(msg.ptr);
		lg->cb(level, subsystem, msg.ptr, lg->payload);
	}
	ciha__buf_dispose(&msg);
}
