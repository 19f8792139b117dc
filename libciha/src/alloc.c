/* alloc.c: allocation wrappers; test builds count live blocks. */
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "ciha/common.h"
#include "alloc_int.h"

static long outstanding;

#ifdef CIHA_TESTING
#define COUNT(delta) __atomic_add_fetch(&outstanding, (delta), __ATOMIC_RELAXED)
#else
#define COUNT(delta) ((void)0)
#endif

void *ciha__malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p)
		COUNT(1);
	return p;
}

void *ciha__calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p)
		COUNT(1);
	return p;
}

void *ciha__realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q && !p)
		COUNT(1);
	return q;
}

char *ciha__strndup(const char *s, size_t n)
{
	char *d;
	if (!s)
		return NULL;
	d = ciha__malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *ciha__strdup(const char *s)
{
	return s ? ciha__strndup(s, strlen(s)) : NULL;
}

void ciha__free(void *p)
{
	if (!p)
		return;
	COUNT(-1);
	free(p);
}

void ciha__free_secret(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	ciha__free(s);
}

long ciha__alloc_outstanding(void)
{
	return __atomic_load_n(&outstanding, __ATOMIC_RELAXED);
}

CIHA_EXTERN(void) ciha_free(void *ptr)
{
	ciha__free(ptr);
}
