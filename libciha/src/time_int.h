/* time_int.h: AWS timestamps. */
#ifndef CIHA_TIME_INT_H
#define CIHA_TIME_INT_H
#include <time.h>

/* Parse ISO 8601 (Z, +hh:mm offsets, fractions), RFC 822 ("Tue, 29 Apr 2014
 * 18:30:38 GMT") or epoch seconds. Returns 0 and sets *out, or -1. */
int ciha__time_parse(const char *s, double *out);
/* "2015-01-25T08:00:00Z" (out: 21 bytes) */
void ciha__time_iso8601(time_t t, char out[21]);
/* "20150830T123600Z" (out: 17 bytes) */
void ciha__time_amz(time_t t, char out[17]);
/* Wall clock in milliseconds, and a monotonic clock in milliseconds. */
long long ciha__now_ms(void);
long long ciha__mono_ms(void);
void ciha__sleep_ms(long ms);
#endif
