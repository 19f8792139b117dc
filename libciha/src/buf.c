/* buf.c: growable byte buffer. */
#include <stdio.h>
#include <string.h>
#include "alloc_int.h"
#include "buf_int.h"

static int buf_reserve(ciha__buf *b, size_t extra)
{
	size_t need, cap;
	char *p;
	if (b->failed)
		return 0;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = ciha__realloc(b->ptr, cap);
	if (!p) {
		b->failed = 1;
		return 0;
	}
	b->ptr = p;
	b->cap = cap;
	return 1;
}

void ciha__buf_put(ciha__buf *b, const void *data, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

void ciha__buf_puts(ciha__buf *b, const char *s)
{
	ciha__buf_put(b, s, strlen(s));
}

void ciha__buf_putc(ciha__buf *b, char c)
{
	ciha__buf_put(b, &c, 1);
}

void ciha__buf_vprintf(ciha__buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void ciha__buf_printf(ciha__buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ciha__buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void ciha__buf_clear(ciha__buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

void ciha__buf_dispose(ciha__buf *b)
{
	ciha__free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

char *ciha__buf_detach(ciha__buf *b)
{
	char *p;
	if (b->failed) {
		ciha__buf_dispose(b);
		return NULL;
	}
	p = b->ptr ? b->ptr : ciha__strdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *ciha__buf_cstr(const ciha__buf *b)
{
	return b->ptr ? b->ptr : "";
}
