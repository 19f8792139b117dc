/* crypto_int.h: hashing and encoding helpers over OpenSSL libcrypto. */
#ifndef CIHA_CRYPTO_INT_H
#define CIHA_CRYPTO_INT_H
#include <stddef.h>
#include "ciha/sigv4.h"

void ciha__sha256(const void *data, size_t len, unsigned char out[32]);
void ciha__sha256_hex(const void *data, size_t len, char out[65]);
void ciha__hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32]);
void ciha__hex(const unsigned char *in, size_t len, char *out); /* out: 2*len+1 */
/* base64; the result is caller-owned (ciha__free); NULL on ENOMEM or bad input */
char *ciha__base64_encode(const void *data, size_t len);
unsigned char *ciha__base64_decode(const char *s, size_t *out_len);
/* A random version-4 UUID string (37 bytes with NUL). */
void ciha__uuid4(char out[37]);

/* SigV4 signing key derived for one (secret, date, region, service): a client
 * (one per thread) keeps one so that its requests of the same day skip the
 * four HMACs of the derivation. The secret is not kept, only its SHA-256 to
 * notice new credentials. The key is wiped (OPENSSL_cleanse) when it is
 * replaced and by ciha__sigv4_key_cache_wipe, which the owner calls when it is
 * freed. Not thread-safe: one cache per client. Implemented in sigv4.c. */
typedef struct {
	int valid;
	unsigned char secret_hash[32];
	char date[9];              /* YYYYMMDD */
	char region[64];
	char service[64];
	unsigned char key[32];
} ciha__sigv4_key_cache;
void ciha__sigv4_key_cache_init(ciha__sigv4_key_cache *cache);
void ciha__sigv4_key_cache_wipe(ciha__sigv4_key_cache *cache);
/* ciha_sigv4_sign with the signing key taken from (or stored into) `cache`. */
ciha_result ciha__sigv4_sign_cached(ciha_sigv4_request *req, const ciha_sigv4_options *opts,
                                    ciha__sigv4_key_cache *cache);
#endif
