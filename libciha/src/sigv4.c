/* sigv4.c: AWS Signature Version 4 (header and query-string signing).
 * Pure computation: no I/O, no globals. Canonicalisation follows the AWS
 * test suites in ../shared/testdata/sigv4 (see its README). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include "ciha/sigv4.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "crypto_int.h"
#include "error_int.h"
#include "time_int.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define AMZ_DATE_LEN 16               /* "20150830T123600Z" */
#define MAX_PRESIGN_EXPIRES 604800L   /* seven days, the AWS limit */

struct header {
	char *name;
	char *value;
};

struct ciha_sigv4_request {
	char *method;
	char *target;
	struct header *headers;
	size_t nheaders;
	size_t cap_headers;
	unsigned char *body;
	size_t body_len;
	char *canonical;
	char *string_to_sign;
	char *signature;
};

/* One query parameter, key and value already in canonical (encoded) form. */
struct param {
	char *key;
	char *value;
};

struct params {
	struct param *items;
	size_t n;
	size_t cap;
	int failed;
};

/* A header as it enters the canonical request. */
struct canon_header {
	char *name;     /* lower-cased */
	char *value;    /* trimmed, inner whitespace squeezed */
	size_t order;   /* position in the request, keeps sorting stable */
};

/* What one signing pass needs besides the request. */
struct signing {
	const ciha_sigv4_options *opts;
	ciha__sigv4_key_cache *cache; /* derived keys kept by the caller, or NULL */
	char amz_date[AMZ_DATE_LEN + 1];
	char scope[256];
	const char *skip_header;      /* lower-case name left out of signing, or NULL */
	const struct params *extra;   /* presign parameters, or NULL */
	ciha__buf signed_headers;     /* "host;x-amz-date" */
	ciha__buf canonical_headers;  /* "host:...\nx-amz-date:...\n" */
};

/* ---- small string helpers ------------------------------------------------ */

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int ascii_casecmp(const char *a, const char *b)
{
	while (*a && ascii_lower(*a) == ascii_lower(*b)) {
		a++;
		b++;
	}
	return (unsigned char)ascii_lower(*a) - (unsigned char)ascii_lower(*b);
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 3986 percent-encoding with upper-case hex; `keep` is one extra byte
 * left as is ('/' for paths, 0 for none). */
static void put_encoded(ciha__buf *b, const char *s, size_t n, char keep)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (is_unreserved(c) || (keep && c == (unsigned char)keep)) {
			ciha__buf_putc(b, (char)c);
		} else {
			char esc[3];
			esc[0] = '%';
			esc[1] = digits[c >> 4];
			esc[2] = digits[c & 15];
			ciha__buf_put(b, esc, 3);
		}
	}
}

/* Decode %XX escapes (a malformed escape stays literal), then encode once:
 * "%E1%88%B4" and the raw bytes of "ሴ" give the same result. */
static char *reencode_component(const char *s, size_t n)
{
	ciha__buf raw = CIHA__BUF_INIT, out = CIHA__BUF_INIT;
	size_t i;
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
			ciha__buf_putc(&raw, (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
			i += 2;
		} else {
			ciha__buf_putc(&raw, s[i]);
		}
	}
	put_encoded(&out, ciha__buf_cstr(&raw), raw.len, 0);
	out.failed |= raw.failed;
	ciha__buf_dispose(&raw);
	return ciha__buf_detach(&out);
}

static ciha_result oom(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "sigv4: out of memory");
}

/* ---- the request builder ------------------------------------------------- */

CIHA_EXTERN(ciha_result) ciha_sigv4_request_new(ciha_sigv4_request **out, const char *method, const char *target)
{
	ciha_sigv4_request *req;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: no place to store the request");
	*out = NULL;
	if (!method || !*method)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the HTTP method is missing");
	if (!target || !*target)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the request target is missing");
	if (target[0] != '/')
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the request target must start with '/'");
	req = ciha__calloc(1, sizeof *req);
	if (!req)
		return oom();
	req->method = ciha__strdup(method);
	req->target = ciha__strdup(target);
	if (!req->method || !req->target) {
		ciha_sigv4_request_free(req);
		return oom();
	}
	*out = req;
	return CIHA_OK;
}

static void clear_results(ciha_sigv4_request *req)
{
	ciha__free(req->canonical);
	ciha__free(req->string_to_sign);
	ciha__free_secret(req->signature);
	req->canonical = req->string_to_sign = req->signature = NULL;
}

static void free_header(struct header *h)
{
	ciha__free(h->name);
	ciha__free_secret(h->value);
}

CIHA_EXTERN(void) ciha_sigv4_request_free(ciha_sigv4_request *req)
{
	size_t i;
	if (!req)
		return;
	for (i = 0; i < req->nheaders; i++)
		free_header(&req->headers[i]);
	ciha__free(req->headers);
	ciha__free(req->method);
	ciha__free(req->target);
	ciha__free(req->body);
	clear_results(req);
	ciha__free(req);
}

static int valid_header_name(const char *name)
{
	const char *p;
	if (!*name)
		return 0;
	for (p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == ':' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

CIHA_EXTERN(ciha_result) ciha_sigv4_request_add_header(ciha_sigv4_request *req, const char *name, const char *value)
{
	struct header h;
	if (!req || !name || !value)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: add_header needs a request, a name and a value");
	if (!valid_header_name(name))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: invalid header name '%s'", name);
	if (strpbrk(value, "\r\n"))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: header '%s' has a line break in its value", name);
	if (req->nheaders == req->cap_headers) {
		size_t cap = req->cap_headers ? req->cap_headers * 2 : 8;
		struct header *grown = ciha__realloc(req->headers, cap * sizeof *grown);
		if (!grown)
			return oom();
		req->headers = grown;
		req->cap_headers = cap;
	}
	h.name = ciha__strdup(name);
	h.value = ciha__strdup(value);
	if (!h.name || !h.value) {
		free_header(&h);
		return oom();
	}
	req->headers[req->nheaders++] = h;
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_sigv4_request_set_body(ciha_sigv4_request *req, const void *body, size_t len)
{
	unsigned char *copy = NULL;
	if (!req || (!body && len))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: set_body needs a request and a body");
	if (len) {
		copy = ciha__malloc(len);
		if (!copy)
			return oom();
		memcpy(copy, body, len);
	}
	ciha__free(req->body);
	req->body = copy;
	req->body_len = len;
	return CIHA_OK;
}

static void remove_headers_named(ciha_sigv4_request *req, const char *name)
{
	size_t i, kept = 0;
	for (i = 0; i < req->nheaders; i++) {
		if (ascii_casecmp(req->headers[i].name, name) == 0)
			free_header(&req->headers[i]);
		else
			req->headers[kept++] = req->headers[i];
	}
	req->nheaders = kept;
}

/* ---- accessors ----------------------------------------------------------- */

CIHA_EXTERN(const char *) ciha_sigv4_request_canonical(const ciha_sigv4_request *req)
{
	return req ? req->canonical : NULL;
}

CIHA_EXTERN(const char *) ciha_sigv4_request_string_to_sign(const ciha_sigv4_request *req)
{
	return req ? req->string_to_sign : NULL;
}

CIHA_EXTERN(const char *) ciha_sigv4_request_signature(const ciha_sigv4_request *req)
{
	return req ? req->signature : NULL;
}

CIHA_EXTERN(size_t) ciha_sigv4_request_header_count(const ciha_sigv4_request *req)
{
	return req ? req->nheaders : 0;
}

CIHA_EXTERN(const char *) ciha_sigv4_request_header_name(const ciha_sigv4_request *req, size_t i)
{
	return (req && i < req->nheaders) ? req->headers[i].name : NULL;
}

CIHA_EXTERN(const char *) ciha_sigv4_request_header_value(const ciha_sigv4_request *req, size_t i)
{
	return (req && i < req->nheaders) ? req->headers[i].value : NULL;
}

CIHA_EXTERN(const char *) ciha_sigv4_request_header(const ciha_sigv4_request *req, const char *name)
{
	size_t i;
	if (!req || !name)
		return NULL;
	for (i = 0; i < req->nheaders; i++)
		if (ascii_casecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* ---- options ------------------------------------------------------------- */

CIHA_EXTERN(ciha_result) ciha_sigv4_options_init(ciha_sigv4_options *opts, unsigned int version)
{
	static const ciha_sigv4_options defaults = CIHA_SIGV4_OPTIONS_INIT;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: options_init needs an options struct");
	if (version == 0 || version > CIHA_SIGV4_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "sigv4: options version %u is not supported", version);
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

static int is_blank(const char *s)
{
	return !s || !*s;
}

static ciha_result check_inputs(const ciha_sigv4_request *req, const ciha_sigv4_options *opts)
{
	if (!req)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: no request to sign");
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: no signing options");
	if (opts->version == 0 || opts->version > CIHA_SIGV4_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "sigv4: options version %u is not supported",
		                         opts->version);
	if (is_blank(opts->access_key_id))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the access key id is missing");
	if (is_blank(opts->secret_access_key))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the secret access key is missing");
	if (is_blank(opts->region))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the signing region is missing");
	if (is_blank(opts->service))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: the signing service name is missing");
	if (strchr(opts->region, '/') || strchr(opts->service, '/'))
		return ciha__error_raise(CIHA_EINVAL, "sigv4: region and service must not contain '/'");
	return CIHA_OK;
}

/* ---- canonical URI ------------------------------------------------------- */

static size_t path_length(const char *target)
{
	return strcspn(target, "?");
}

/* Remove "." and ".." segments and empty segments; keep a trailing slash
 * (RFC 3986 remove_dot_segments, plus collapsing "//"). */
static char *normalize_path(const char *path, size_t n)
{
	ciha__buf out = CIHA__BUF_INIT;
	size_t *starts = ciha__malloc((n + 1) * sizeof *starts);
	size_t depth = 0, i = 0;
	int trailing = 0;
	if (!starts)
		return NULL;
	while (i < n) {
		size_t seg_start, seg_len;
		while (i < n && path[i] == '/')
			i++;
		seg_start = i;
		while (i < n && path[i] != '/')
			i++;
		seg_len = i - seg_start;
		trailing = (i == n && seg_len == 0) || (seg_len == 1 && path[seg_start] == '.') ||
		           (seg_len == 2 && path[seg_start] == '.' && path[seg_start + 1] == '.');
		if (seg_len == 0 || (seg_len == 1 && path[seg_start] == '.'))
			continue;
		if (seg_len == 2 && path[seg_start] == '.' && path[seg_start + 1] == '.') {
			if (depth)
				out.len = starts[--depth];
			continue;
		}
		starts[depth++] = out.len;
		ciha__buf_putc(&out, '/');
		ciha__buf_put(&out, path + seg_start, seg_len);
	}
	if (out.len == 0 || trailing)
		ciha__buf_putc(&out, '/');
	ciha__free(starts);
	return ciha__buf_detach(&out);
}

static void put_canonical_uri(ciha__buf *b, const char *target, int normalize)
{
	size_t n = path_length(target);
	if (normalize) {
		char *norm = normalize_path(target, n);
		if (!norm) {
			b->failed = 1;
			return;
		}
		put_encoded(b, norm, strlen(norm), '/');
		ciha__free(norm);
	} else {
		put_encoded(b, target, n, '/');
	}
}

/* ---- canonical query ----------------------------------------------------- */

static void params_dispose(struct params *ps)
{
	size_t i;
	for (i = 0; i < ps->n; i++) {
		ciha__free(ps->items[i].key);
		ciha__free_secret(ps->items[i].value);
	}
	ciha__free(ps->items);
	ps->items = NULL;
	ps->n = ps->cap = 0;
}

/* Takes ownership of key and value (either may be NULL after an allocation failure). */
static void params_push(struct params *ps, char *key, char *value)
{
	if (!ps->failed && key && value && ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 8;
		struct param *grown = ciha__realloc(ps->items, cap * sizeof *grown);
		if (grown) {
			ps->items = grown;
			ps->cap = cap;
		}
	}
	if (ps->failed || !key || !value || ps->n == ps->cap) {
		ps->failed = 1;
		ciha__free(key);
		ciha__free_secret(value);
		return;
	}
	ps->items[ps->n].key = key;
	ps->items[ps->n].value = value;
	ps->n++;
}

/* A parameter whose value is raw text (not yet encoded). */
static void params_push_raw(struct params *ps, const char *key, const char *value)
{
	ciha__buf k = CIHA__BUF_INIT, v = CIHA__BUF_INIT;
	put_encoded(&k, key, strlen(key), 0);
	put_encoded(&v, value, strlen(value), 0);
	params_push(ps, ciha__buf_detach(&k), ciha__buf_detach(&v));
}

static void parse_query(struct params *ps, const char *query)
{
	const char *p = query;
	while (*p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t key_len = eq ? (size_t)(eq - p) : len;
		if (len > 0) {
			char *key = reencode_component(p, key_len);
			char *value = eq ? reencode_component(eq + 1, len - key_len - 1) : ciha__strdup("");
			params_push(ps, key, value);
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

static int compare_params(const void *a, const void *b)
{
	const struct param *pa = a, *pb = b;
	int c = strcmp(pa->key, pb->key);
	return c ? c : strcmp(pa->value, pb->value);
}

static void put_canonical_query(ciha__buf *b, const char *target, const struct params *extra)
{
	struct params ps = { NULL, 0, 0, 0 };
	const char *query = strchr(target, '?');
	size_t i;
	if (query)
		parse_query(&ps, query + 1);
	for (i = 0; extra && i < extra->n; i++)
		params_push(&ps, ciha__strdup(extra->items[i].key), ciha__strdup(extra->items[i].value));
	if (ps.failed) {
		b->failed = 1;
		params_dispose(&ps);
		return;
	}
	if (ps.n > 1)
		qsort(ps.items, ps.n, sizeof *ps.items, compare_params);
	for (i = 0; i < ps.n; i++) {
		if (i)
			ciha__buf_putc(b, '&');
		ciha__buf_puts(b, ps.items[i].key);
		ciha__buf_putc(b, '=');
		ciha__buf_puts(b, ps.items[i].value);
	}
	params_dispose(&ps);
}

/* ---- canonical headers --------------------------------------------------- */

static char *lowercase_copy(const char *s)
{
	char *copy = ciha__strdup(s);
	char *p;
	for (p = copy; p && *p; p++)
		*p = ascii_lower(*p);
	return copy;
}

static int is_space_or_tab(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim, and squeeze each inner run of spaces/tabs into one space. */
static char *canonical_value(const char *s)
{
	ciha__buf out = CIHA__BUF_INIT;
	int pending_space = 0;
	while (is_space_or_tab(*s))
		s++;
	for (; *s; s++) {
		if (is_space_or_tab(*s)) {
			pending_space = 1;
			continue;
		}
		if (pending_space)
			ciha__buf_putc(&out, ' ');
		pending_space = 0;
		ciha__buf_putc(&out, *s);
	}
	return ciha__buf_detach(&out);
}

static int compare_canon_headers(const void *a, const void *b)
{
	const struct canon_header *ha = a, *hb = b;
	int c = strcmp(ha->name, hb->name);
	if (c)
		return c;
	return ha->order < hb->order ? -1 : ha->order > hb->order;
}

static int is_never_signed(const char *lower_name, const struct signing *s)
{
	return strcmp(lower_name, "authorization") == 0 ||
	       (s->skip_header && strcmp(lower_name, s->skip_header) == 0);
}

static void free_canon_headers(struct canon_header *list, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		ciha__free(list[i].name);
		ciha__free_secret(list[i].value);
	}
	ciha__free(list);
}

/* Collect the headers to sign, lower-cased, sorted (stable). Returns the
 * number collected, or (size_t)-1 on allocation failure. */
static size_t collect_headers(const ciha_sigv4_request *req, const struct signing *s, struct canon_header **out)
{
	struct canon_header *list = ciha__calloc(req->nheaders + 1, sizeof *list);
	size_t i, n = 0;
	if (!list)
		return (size_t)-1;
	for (i = 0; i < req->nheaders; i++) {
		struct canon_header *h = &list[n];
		h->name = lowercase_copy(req->headers[i].name);
		if (h->name && is_never_signed(h->name, s)) {
			ciha__free(h->name);
			h->name = NULL;
			continue;
		}
		h->value = canonical_value(req->headers[i].value);
		h->order = i;
		n++;
		if (!h->name || !h->value) {
			free_canon_headers(list, n);
			return (size_t)-1;
		}
	}
	if (n > 1)
		qsort(list, n, sizeof *list, compare_canon_headers);
	*out = list;
	return n;
}

/* Fill s->signed_headers and s->canonical_headers; repeated names are
 * joined into one line with ',' in request order. */
static int build_header_lists(const ciha_sigv4_request *req, struct signing *s)
{
	struct canon_header *list = NULL;
	size_t n = collect_headers(req, s, &list), i;
	if (n == (size_t)-1)
		return 0;
	for (i = 0; i < n; i++) {
		int repeat = i > 0 && strcmp(list[i].name, list[i - 1].name) == 0;
		if (repeat) {
			ciha__buf_putc(&s->canonical_headers, ',');
		} else {
			if (i > 0) {
				ciha__buf_putc(&s->canonical_headers, '\n');
				ciha__buf_putc(&s->signed_headers, ';');
			}
			ciha__buf_puts(&s->signed_headers, list[i].name);
			ciha__buf_puts(&s->canonical_headers, list[i].name);
			ciha__buf_putc(&s->canonical_headers, ':');
		}
		ciha__buf_puts(&s->canonical_headers, list[i].value);
	}
	if (n > 0)
		ciha__buf_putc(&s->canonical_headers, '\n');
	free_canon_headers(list, n);
	return !s->signed_headers.failed && !s->canonical_headers.failed;
}

/* ---- signing ------------------------------------------------------------- */

static void payload_hash(const ciha_sigv4_request *req, char out[65])
{
	ciha__sha256_hex(req->body ? (const void *)req->body : "", req->body_len, out);
}

static char *canonical_request(const ciha_sigv4_request *req, const struct signing *s)
{
	ciha__buf b = CIHA__BUF_INIT;
	char hash[65];
	payload_hash(req, hash);
	ciha__buf_puts(&b, req->method);
	ciha__buf_putc(&b, '\n');
	put_canonical_uri(&b, req->target, s->opts->normalize_path);
	ciha__buf_putc(&b, '\n');
	put_canonical_query(&b, req->target, s->extra);
	ciha__buf_putc(&b, '\n');
	ciha__buf_puts(&b, ciha__buf_cstr(&s->canonical_headers));
	ciha__buf_putc(&b, '\n');
	ciha__buf_puts(&b, ciha__buf_cstr(&s->signed_headers));
	ciha__buf_putc(&b, '\n');
	ciha__buf_puts(&b, hash);
	return ciha__buf_detach(&b);
}

/* Four lines joined by '\n' (cheaper than a printf on every request). */
static void put_lines(ciha__buf *out, const char *l1, const char *l2, const char *l3, const char *l4)
{
	ciha__buf_puts(out, l1);
	ciha__buf_putc(out, '\n');
	ciha__buf_puts(out, l2);
	ciha__buf_putc(out, '\n');
	ciha__buf_puts(out, l3);
	ciha__buf_putc(out, '\n');
	ciha__buf_puts(out, l4);
}

static char *string_to_sign(const struct signing *s, const char *canonical)
{
	ciha__buf b = CIHA__BUF_INIT;
	char hash[65];
	ciha__sha256_hex(canonical, strlen(canonical), hash);
	put_lines(&b, ALGORITHM, s->amz_date, s->scope, hash);
	return ciha__buf_detach(&b);
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request") */
static int derive_signing_key(const struct signing *s, unsigned char key[32])
{
	size_t secret_len = strlen(s->opts->secret_access_key);
	char *k_secret = ciha__malloc(secret_len + 5);
	unsigned char k_date[32], k_region[32], k_service[32];
	if (!k_secret)
		return 0;
	memcpy(k_secret, "AWS4", 4);
	memcpy(k_secret + 4, s->opts->secret_access_key, secret_len + 1);
	ciha__hmac_sha256(k_secret, secret_len + 4, s->amz_date, 8, k_date);
	ciha__hmac_sha256(k_date, 32, s->opts->region, strlen(s->opts->region), k_region);
	ciha__hmac_sha256(k_region, 32, s->opts->service, strlen(s->opts->service), k_service);
	ciha__hmac_sha256(k_service, 32, "aws4_request", 12, key);
	OPENSSL_cleanse(k_secret, secret_len + 4);
	OPENSSL_cleanse(k_date, sizeof k_date);
	OPENSSL_cleanse(k_region, sizeof k_region);
	OPENSSL_cleanse(k_service, sizeof k_service);
	ciha__free(k_secret);
	return 1;
}

/* ---- the signing key cache ---------------------------------------------------- */

void ciha__sigv4_key_cache_init(ciha__sigv4_key_cache *cache)
{
	memset(cache, 0, sizeof *cache);
}

void ciha__sigv4_key_cache_wipe(ciha__sigv4_key_cache *cache)
{
	OPENSSL_cleanse(cache, sizeof *cache);
	cache->valid = 0;
}

static int cache_fits(const struct signing *s)
{
	const ciha__sigv4_key_cache *c = s->cache;
	return strlen(s->opts->region) < sizeof c->region && strlen(s->opts->service) < sizeof c->service;
}

static int cache_holds(const struct signing *s, const unsigned char secret_hash[32])
{
	const ciha__sigv4_key_cache *c = s->cache;
	return c->valid && memcmp(c->secret_hash, secret_hash, 32) == 0 && strncmp(c->date, s->amz_date, 8) == 0 &&
	       strcmp(c->region, s->opts->region) == 0 && strcmp(c->service, s->opts->service) == 0;
}

static void cache_store(const struct signing *s, const unsigned char secret_hash[32], const unsigned char key[32])
{
	ciha__sigv4_key_cache *c = s->cache;
	ciha__sigv4_key_cache_wipe(c);
	memcpy(c->secret_hash, secret_hash, 32);
	memcpy(c->date, s->amz_date, 8);
	strcpy(c->region, s->opts->region);
	strcpy(c->service, s->opts->service);
	memcpy(c->key, key, 32);
	c->valid = 1;
}

/* The derived key, from the cache when it holds this secret, day and scope. */
static int signing_key(const struct signing *s, unsigned char key[32])
{
	const char *secret = s->opts->secret_access_key;
	unsigned char secret_hash[32];
	int ok = 1;
	if (!s->cache || !cache_fits(s))
		return derive_signing_key(s, key);
	ciha__sha256(secret, strlen(secret), secret_hash);
	if (cache_holds(s, secret_hash))
		memcpy(key, s->cache->key, 32);
	else if ((ok = derive_signing_key(s, key)) != 0)
		cache_store(s, secret_hash, key);
	OPENSSL_cleanse(secret_hash, sizeof secret_hash);
	return ok;
}

static char *hex_signature(const struct signing *s, const char *sts)
{
	unsigned char key[32], mac[32];
	char *hex;
	if (!signing_key(s, key))
		return NULL;
	ciha__hmac_sha256(key, sizeof key, sts, strlen(sts), mac);
	OPENSSL_cleanse(key, sizeof key);
	hex = ciha__malloc(65);
	if (hex)
		ciha__hex(mac, sizeof mac, hex);
	OPENSSL_cleanse(mac, sizeof mac);
	return hex;
}

/* Header lists, canonical request, string-to-sign and signature, stored on
 * the request. */
static ciha_result compute_signature(ciha_sigv4_request *req, struct signing *s)
{
	clear_results(req);
	if (!build_header_lists(req, s))
		return oom();
	req->canonical = canonical_request(req, s);
	if (!req->canonical)
		return oom();
	req->string_to_sign = string_to_sign(s, req->canonical);
	if (!req->string_to_sign)
		return oom();
	req->signature = hex_signature(s, req->string_to_sign);
	if (!req->signature)
		return oom();
	return CIHA_OK;
}

static int valid_amz_date(const char *v)
{
	size_t i;
	if (strlen(v) != AMZ_DATE_LEN || v[8] != 'T' || v[15] != 'Z')
		return 0;
	for (i = 0; i < AMZ_DATE_LEN - 1; i++)
		if (i != 8 && (v[i] < '0' || v[i] > '9'))
			return 0;
	return 1;
}

static void signing_init(struct signing *s, const ciha_sigv4_options *opts)
{
	ciha__buf empty = CIHA__BUF_INIT;
	memset(s, 0, sizeof *s);
	s->opts = opts;
	s->signed_headers = empty;
	s->canonical_headers = empty;
}

static void signing_dispose(struct signing *s)
{
	ciha__buf_dispose(&s->signed_headers);
	ciha__buf_dispose(&s->canonical_headers);
}

/* Date and scope from an X-Amz-Date value, or from opts->when (0: now). */
static ciha_result signing_set_time(struct signing *s, const char *amz_date)
{
	int n;
	if (amz_date) {
		if (!valid_amz_date(amz_date))
			return ciha__error_raise(CIHA_EINVAL, "sigv4: X-Amz-Date '%s' is not YYYYMMDDTHHMMSSZ",
			                         amz_date);
		memcpy(s->amz_date, amz_date, AMZ_DATE_LEN + 1);
	} else {
		ciha__time_amz(s->opts->when ? s->opts->when : time(NULL), s->amz_date);
		if (!valid_amz_date(s->amz_date))
			return ciha__error_raise(CIHA_EINVAL, "sigv4: the signing time cannot be formatted");
	}
	n = snprintf(s->scope, sizeof s->scope, "%.8s/%s/%s/aws4_request", s->amz_date, s->opts->region,
	             s->opts->service);
	if (n < 0 || (size_t)n >= sizeof s->scope)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: region or service name too long");
	return CIHA_OK;
}

static int has_token(const ciha_sigv4_options *opts)
{
	return !is_blank(opts->session_token);
}

/* Headers the signer adds before computing the signature. */
static ciha_result add_signed_headers(ciha_sigv4_request *req, const struct signing *s)
{
	ciha_result rc = CIHA_OK;
	if (!ciha_sigv4_request_header(req, "X-Amz-Date"))
		rc = ciha_sigv4_request_add_header(req, "X-Amz-Date", s->amz_date);
	if (rc == CIHA_OK && s->opts->sign_body && !ciha_sigv4_request_header(req, "x-amz-content-sha256")) {
		char hash[65];
		payload_hash(req, hash);
		rc = ciha_sigv4_request_add_header(req, "x-amz-content-sha256", hash);
	}
	if (rc == CIHA_OK && has_token(s->opts) && !s->opts->omit_session_token &&
	    !ciha_sigv4_request_header(req, "X-Amz-Security-Token"))
		rc = ciha_sigv4_request_add_header(req, "X-Amz-Security-Token", s->opts->session_token);
	return rc;
}

static ciha_result add_authorization(ciha_sigv4_request *req, const struct signing *s)
{
	ciha__buf b = CIHA__BUF_INIT;
	ciha_result rc;
	ciha__buf_puts(&b, ALGORITHM " Credential=");
	ciha__buf_puts(&b, s->opts->access_key_id);
	ciha__buf_putc(&b, '/');
	ciha__buf_puts(&b, s->scope);
	ciha__buf_puts(&b, ", SignedHeaders=");
	ciha__buf_puts(&b, ciha__buf_cstr(&s->signed_headers));
	ciha__buf_puts(&b, ", Signature=");
	ciha__buf_puts(&b, req->signature);
	rc = !b.failed ? ciha_sigv4_request_add_header(req, "Authorization", b.ptr) : oom();
	if (b.ptr)
		OPENSSL_cleanse(b.ptr, b.len);
	ciha__buf_dispose(&b);
	return rc;
}

static ciha_result sign_request(ciha_sigv4_request *req, const ciha_sigv4_options *opts,
                                ciha__sigv4_key_cache *cache)
{
	struct signing s;
	ciha_result rc = check_inputs(req, opts);
	if (rc != CIHA_OK)
		return rc;
	signing_init(&s, opts);
	s.cache = cache;
	remove_headers_named(req, "Authorization");
	rc = signing_set_time(&s, ciha_sigv4_request_header(req, "X-Amz-Date"));
	if (rc == CIHA_OK)
		rc = add_signed_headers(req, &s);
	if (rc == CIHA_OK) {
		s.skip_header = opts->omit_session_token ? "x-amz-security-token" : NULL;
		rc = compute_signature(req, &s);
	}
	if (rc == CIHA_OK && has_token(opts) && opts->omit_session_token &&
	    !ciha_sigv4_request_header(req, "X-Amz-Security-Token"))
		rc = ciha_sigv4_request_add_header(req, "X-Amz-Security-Token", opts->session_token);
	if (rc == CIHA_OK)
		rc = add_authorization(req, &s);
	signing_dispose(&s);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_sigv4_sign(ciha_sigv4_request *req, const ciha_sigv4_options *opts)
{
	return sign_request(req, opts, NULL);
}

ciha_result ciha__sigv4_sign_cached(ciha_sigv4_request *req, const ciha_sigv4_options *opts,
                                    ciha__sigv4_key_cache *cache)
{
	return sign_request(req, opts, cache);
}

/* ---- presigning ---------------------------------------------------------- */

/* X-Amz-* parameters in the order aws-c-auth writes them on the URL. */
static void presign_params(struct params *ps, const struct signing *s, long expires_s, int with_token)
{
	char expires[32], credential[512];
	snprintf(expires, sizeof expires, "%ld", expires_s);
	snprintf(credential, sizeof credential, "%s/%s", s->opts->access_key_id, s->scope);
	params_push_raw(ps, "X-Amz-Algorithm", ALGORITHM);
	params_push_raw(ps, "X-Amz-Credential", credential);
	params_push_raw(ps, "X-Amz-Date", s->amz_date);
	params_push_raw(ps, "X-Amz-SignedHeaders", ciha__buf_cstr(&s->signed_headers));
	params_push_raw(ps, "X-Amz-Expires", expires);
	if (with_token)
		params_push_raw(ps, "X-Amz-Security-Token", s->opts->session_token);
}

/* The original target with the X-Amz-* parameters and the signature appended. */
static char *presigned_target(const ciha_sigv4_request *req, const struct params *ps)
{
	ciha__buf b = CIHA__BUF_INIT;
	const char *query = strchr(req->target, '?');
	char last = req->target[strlen(req->target) - 1];
	size_t i;
	ciha__buf_puts(&b, req->target);
	if (!query)
		ciha__buf_putc(&b, '?');
	else if (last != '?' && last != '&')
		ciha__buf_putc(&b, '&');
	for (i = 0; i < ps->n; i++)
		ciha__buf_printf(&b, "%s=%s&", ps->items[i].key, ps->items[i].value);
	ciha__buf_printf(&b, "X-Amz-Signature=%s", req->signature);
	return ciha__buf_detach(&b);
}

static ciha_result check_presign(char **out_target, long expires_s)
{
	if (!out_target)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: no place to store the presigned target");
	*out_target = NULL;
	if (expires_s < 1 || expires_s > MAX_PRESIGN_EXPIRES)
		return ciha__error_raise(CIHA_EINVAL, "sigv4: presign expiry %ld is outside 1..%ld seconds",
		                         expires_s, MAX_PRESIGN_EXPIRES);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_sigv4_presign(char **out_target, ciha_sigv4_request *req, const ciha_sigv4_options *opts,
                               long expires_s)
{
	struct signing s;
	struct params signed_params = { NULL, 0, 0, 0 }, url_params = { NULL, 0, 0, 0 };
	int token = 0;
	ciha_result rc = check_presign(out_target, expires_s);
	if (rc == CIHA_OK)
		rc = check_inputs(req, opts);
	if (rc != CIHA_OK)
		return rc;
	token = has_token(opts);
	signing_init(&s, opts);
	rc = signing_set_time(&s, NULL);
	if (rc == CIHA_OK && !build_header_lists(req, &s))
		rc = oom();
	if (rc == CIHA_OK) {
		presign_params(&signed_params, &s, expires_s, token && !opts->omit_session_token);
		presign_params(&url_params, &s, expires_s, token);
		if (signed_params.failed || url_params.failed)
			rc = oom();
	}
	if (rc == CIHA_OK) {
		ciha__buf_clear(&s.signed_headers);
		ciha__buf_clear(&s.canonical_headers);
		s.extra = &signed_params;
		rc = compute_signature(req, &s);
	}
	if (rc == CIHA_OK) {
		*out_target = presigned_target(req, &url_params);
		if (!*out_target)
			rc = oom();
	}
	params_dispose(&signed_params);
	params_dispose(&url_params);
	signing_dispose(&s);
	return rc;
}
