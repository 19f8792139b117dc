/* buf_int.h: a growable NUL-terminated byte buffer. An allocation failure
 * sets `failed` and turns later writes into no-ops; check it once at the end. */
#ifndef CIHA_BUF_INT_H
#define CIHA_BUF_INT_H
#include <stdarg.h>
#include <stddef.h>

typedef struct {
	char *ptr;   /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	int failed;
} ciha__buf;

#define CIHA__BUF_INIT { NULL, 0, 0, 0 }

void ciha__buf_put(ciha__buf *b, const void *data, size_t n);
void ciha__buf_puts(ciha__buf *b, const char *s);
void ciha__buf_putc(ciha__buf *b, char c);
void ciha__buf_printf(ciha__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ciha__buf_vprintf(ciha__buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void ciha__buf_clear(ciha__buf *b);           /* len = 0, keeps memory */
void ciha__buf_dispose(ciha__buf *b);         /* frees */
char *ciha__buf_detach(ciha__buf *b);         /* caller owns (ciha__free); "" if empty; NULL if failed */
const char *ciha__buf_cstr(const ciha__buf *b); /* "" if empty */
#endif
