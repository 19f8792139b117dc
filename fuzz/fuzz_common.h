/* fuzz_common.h: helpers shared by the libFuzzer targets. */
#ifndef CIHA_FUZZ_COMMON_H
#define CIHA_FUZZ_COMMON_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (embedded NULs end it early). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Split the input at each '\n' (at most max parts, the last takes the rest),
 * NUL-terminating each part in place in a copy; returns the number of parts. */
static inline size_t fuzz_split_lines(char *s, char **parts, size_t max)
{
	size_t n = 0;
	while (n < max) {
		char *nl = n + 1 < max ? strchr(s, '\n') : NULL;
		parts[n++] = s;
		if (!nl)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}
#endif
