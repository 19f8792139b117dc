/* crypto_int.h: hashing and encoding helpers over OpenSSL libcrypto. */
#ifndef CIHA_CRYPTO_INT_H
#define CIHA_CRYPTO_INT_H
#include <stddef.h>

void ciha__sha256(const void *data, size_t len, unsigned char out[32]);
void ciha__sha256_hex(const void *data, size_t len, char out[65]);
void ciha__hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32]);
void ciha__hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* base64; the result is caller-owned (ciha__free); NULL on ENOMEM or bad input */
char *ciha__base64_encode(const void *data, size_t len);
unsigned char *ciha__base64_decode(const char *s, size_t *out_len);
/* A random version-4 UUID string (37 bytes with NUL). */
void ciha__uuid4(char out[37]);
#endif
