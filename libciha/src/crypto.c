/* crypto.c: SHA-256, HMAC, hex, base64, UUIDs over OpenSSL libcrypto. */
#include <pthread.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "alloc_int.h"
#include "crypto_int.h"

#define SHA256_BLOCK 64

/* OpenSSL 3 looks the algorithm up in its provider store on every one-shot
 * EVP_Digest()/HMAC() call; fetching it once saves that on every hash. The
 * fetched object lives as long as the process. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md ? sha256_md : EVP_sha256();
}

/* SHA-256 of the concatenation of two pieces (either may be empty). */
static void sha256_two(const void *a, size_t alen, const void *b, size_t blen, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 32;
	if (!ctx || EVP_DigestInit_ex(ctx, sha256(), NULL) != 1 || EVP_DigestUpdate(ctx, a, alen) != 1 ||
	    EVP_DigestUpdate(ctx, b, blen) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1)
		memset(out, 0, 32);
	EVP_MD_CTX_free(ctx);
}

void ciha__sha256(const void *data, size_t len, unsigned char out[32])
{
	sha256_two(data, len, "", 0, out);
}

void ciha__hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

void ciha__sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	ciha__sha256(data, len, md);
	ciha__hex(md, 32, out);
}

static void xor_pad(unsigned char pad[SHA256_BLOCK], const unsigned char key[SHA256_BLOCK], unsigned char with)
{
	size_t i;
	for (i = 0; i < SHA256_BLOCK; i++)
		pad[i] = (unsigned char)(key[i] ^ with);
}

/* RFC 2104 over the fetched SHA-256: H((K ^ opad) || H((K ^ ipad) || data)). */
void ciha__hmac_sha256(const void *key, size_t keylen, const void *data, size_t len, unsigned char out[32])
{
	unsigned char block[SHA256_BLOCK], pad[SHA256_BLOCK], inner[32];
	memset(block, 0, sizeof block);
	if (keylen > SHA256_BLOCK)
		ciha__sha256(key, keylen, block);
	else
		memcpy(block, key, keylen);
	xor_pad(pad, block, 0x36);
	sha256_two(pad, sizeof pad, data, len, inner);
	xor_pad(pad, block, 0x5c);
	sha256_two(pad, sizeof pad, inner, sizeof inner, out);
	OPENSSL_cleanse(block, sizeof block);
	OPENSSL_cleanse(pad, sizeof pad);
	OPENSSL_cleanse(inner, sizeof inner);
}

char *ciha__base64_encode(const void *data, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = ciha__malloc(cap);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *ciha__base64_decode(const char *s, size_t *out_len)
{
	size_t len = strlen(s), pad = 0;
	unsigned char *out;
	int n;
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len % 4 != 0)
		return NULL;
	out = ciha__malloc(3 * (len / 4) + 1);
	if (!out)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)len);
	if (n < 0) {
		ciha__free(out);
		return NULL;
	}
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	*out_len = (size_t)n - pad;
	out[*out_len] = '\0';
	return out;
}

void ciha__uuid4(char out[37])
{
	unsigned char b[16];
	char hex[33];
	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	ciha__hex(b, 16, hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}
