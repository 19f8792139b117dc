/* alloc_int.h: the library's allocation wrappers (counted in test builds). */
#ifndef CIHA_ALLOC_INT_H
#define CIHA_ALLOC_INT_H
#include <stddef.h>

void *ciha__malloc(size_t n);
void *ciha__calloc(size_t n, size_t size);
void *ciha__realloc(void *p, size_t n);
char *ciha__strdup(const char *s);          /* NULL in, NULL out */
char *ciha__strndup(const char *s, size_t n);
void ciha__free(void *p);
/* Overwrite then free a string holding a secret. NULL-safe. */
void ciha__free_secret(char *s);
/* Live allocations made through these wrappers (for leak tests). */
long ciha__alloc_outstanding(void);
#endif
