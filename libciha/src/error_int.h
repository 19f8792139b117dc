/* error_int.h: raising errors. Every raise sets this thread's last error and
 * returns the code, so `return ciha__error_raise(CIHA_EINVAL, "...")` works. */
#ifndef CIHA_ERROR_INT_H
#define CIHA_ERROR_INT_H
#include "ciha/errors.h"

struct ciha_error {
	int code;
	char *message;
	char *aws_code;
	char *request_id;
	char *service;
	int http_status;
	int retryable;
};

int ciha__error_raise(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct {
	const char *service;
	int http_status;
	const char *aws_code;
	const char *request_id;
	int retryable;
} ciha__error_detail;

int ciha__error_raise_detail(int code, const ciha__error_detail *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Deep copy src into dst (dst's old contents freed). */
void ciha__error_copy(struct ciha_error *dst, const struct ciha_error *src);
void ciha__error_reset(struct ciha_error *e);   /* free contents, code = OK */
/* Free this thread's last error (ciha_global_cleanup does it for its thread). */
void ciha__error_thread_cleanup(void);

/* Map an AWS error code + HTTP status to a ciha_code (ENOTFOUND, EAUTH, ETHROTTLED, ...). */
int ciha__error_code_for_aws(const char *aws_code, int http_status);
#endif
