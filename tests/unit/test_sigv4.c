/* test_sigv4.c: the SigV4 signer against the botocore and aws-c-auth suites
 * (../shared/testdata/sigv4), our own vectors (tests/vectors/sigv4) and the
 * public API's edge cases. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <jansson.h>
#include "ciha/errors.h"
#include "ciha/sigv4.h"
#include "alloc_int.h"
#include "crypto_int.h"
#include "time_int.h"
#include "../check.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME 1440938160 /* 2015-08-30T12:36:00Z */
#define BOTOCORE_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

static int suite_cases_passed;

/* ---- files ----------------------------------------------------------------- */

static char *path_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whole file with every '\r' removed; NULL when unreadable. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int c;
	if (!f)
		return NULL;
	while ((c = fgetc(f)) != EOF) {
		if (c == '\r')
			continue;
		if (len + 2 > cap) {
			cap = cap ? cap * 2 : 1024;
			text = realloc(text, cap);
			if (!text)
				abort();
		}
		text[len++] = (char)c;
	}
	fclose(f);
	if (!text)
		text = calloc(1, 1);
	text[len] = '\0';
	return text;
}

static char *read_in(const char *dir, const char *file)
{
	char *path = path_join(dir, file);
	char *text = read_text(path);
	free(path);
	return text;
}

static void strip_trailing_newlines(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
}

/* Compare `got` with the expected file (trailing newlines ignored). */
static int matches_file(const char *label, const char *what, const char *got, const char *dir, const char *file)
{
	char *expected = read_in(dir, file);
	int ok;
	if (!expected) {
		fprintf(stderr, "  %s: cannot read %s/%s\n", label, dir, file);
		return 0;
	}
	strip_trailing_newlines(expected);
	ok = got && strcmp(got, expected) == 0;
	if (!ok)
		fprintf(stderr, "  %s: %s differs\n    got:\n%s\n    expected:\n%s\n", label, what,
		        got ? got : "(null)", expected);
	free(expected);
	return ok;
}

/* Names in `dir` (no dot files), sorted; free with free_names. */
static int list_dir(const char *dir, struct dirent ***names)
{
	return scandir(dir, names, NULL, alphasort);
}

static void free_names(struct dirent **names, int n)
{
	int i;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- raw HTTP requests ----------------------------------------------------- */

struct raw_header {
	char name[128];
	char value[2048];
};

/* Read the header block; continuation lines (obsolete folding) are joined to
 * the previous value with one space. Returns where the body starts. */
static const char *parse_headers(const char *p, struct raw_header *hs, size_t *n, size_t max)
{
	*n = 0;
	while (*p && *p != '\n') {
		size_t len = strcspn(p, "\n");
		if ((*p == ' ' || *p == '\t') && *n > 0) {
			struct raw_header *prev = &hs[*n - 1];
			size_t skip = strspn(p, " \t");
			size_t used = strlen(prev->value);
			snprintf(prev->value + used, sizeof prev->value - used, " %.*s", (int)(len - skip), p + skip);
		} else if (*n < max) {
			const char *colon = memchr(p, ':', len);
			size_t name_len = colon ? (size_t)(colon - p) : len;
			snprintf(hs[*n].name, sizeof hs[*n].name, "%.*s", (int)name_len, p);
			snprintf(hs[*n].value, sizeof hs[*n].value, "%.*s", colon ? (int)(len - name_len - 1) : 0,
			         colon ? colon + 1 : "");
			(*n)++;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	return *p == '\n' ? p + 1 : p;
}

/* "METHOD target HTTP/1.1": the target runs to the LAST space (it may hold spaces). */
static int split_request_line(const char *line, size_t len, char *method, size_t mcap, char *target, size_t tcap)
{
	const char *first = memchr(line, ' ', len);
	const char *last = line + len;
	while (last > line && last[-1] != ' ')
		last--;
	if (!first || last <= first + 1)
		return 0;
	snprintf(method, mcap, "%.*s", (int)(first - line), line);
	snprintf(target, tcap, "%.*s", (int)(last - 1 - (first + 1)), first + 1);
	return 1;
}

static ciha_sigv4_request *parse_request(const char *text)
{
	struct raw_header hs[32];
	char method[32], target[1024];
	size_t line_len = strcspn(text, "\n"), n, i;
	const char *body;
	ciha_sigv4_request *req = NULL;
	if (!split_request_line(text, line_len, method, sizeof method, target, sizeof target))
		return NULL;
	body = parse_headers(text + line_len + (text[line_len] == '\n'), hs, &n, 32);
	if (ciha_sigv4_request_new(&req, method, target) != CIHA_OK)
		return NULL;
	for (i = 0; i < n; i++)
		if (ciha_sigv4_request_add_header(req, hs[i].name, hs[i].value) != CIHA_OK) {
			ciha_sigv4_request_free(req);
			return NULL;
		}
	if (ciha_sigv4_request_set_body(req, body, strlen(body)) != CIHA_OK) {
		ciha_sigv4_request_free(req);
		return NULL;
	}
	return req;
}

static ciha_sigv4_request *parse_request_file(const char *dir, const char *file)
{
	char *text = read_in(dir, file);
	ciha_sigv4_request *req = text ? parse_request(text) : NULL;
	free(text);
	return req;
}

/* ---- botocore-aws4 ----------------------------------------------------------- */

static void suite_options(ciha_sigv4_options *o)
{
	ciha_sigv4_options_init(o, CIHA_SIGV4_OPTIONS_VERSION);
	o->access_key_id = AKID;
	o->secret_access_key = SECRET;
	o->region = "us-east-1";
	o->service = "service";
	o->when = SUITE_TIME;
}

static char *read_case_file(const char *dir, const char *name, const char *ext)
{
	char file[512];
	snprintf(file, sizeof file, "%s%s", name, ext);
	return read_in(dir, file);
}

static int botocore_case_ok(const char *dir, const char *name, const char *label, const char *token)
{
	char file[512], *creq = read_case_file(dir, name, ".creq");
	ciha_sigv4_options o;
	ciha_sigv4_request *req;
	int ok = 0;
	snprintf(file, sizeof file, "%s.req", name);
	req = parse_request_file(dir, file);
	suite_options(&o);
	if (creq && strstr(creq, "x-amz-security-token:"))
		o.session_token = token;
	if (req && creq && ciha_sigv4_sign(req, &o) == CIHA_OK) {
		char ext_sts[512], ext_authz[512];
		snprintf(file, sizeof file, "%s.creq", name);
		snprintf(ext_sts, sizeof ext_sts, "%s.sts", name);
		snprintf(ext_authz, sizeof ext_authz, "%s.authz", name);
		ok = matches_file(label, "canonical request", ciha_sigv4_request_canonical(req), dir, file);
		ok &= matches_file(label, "string to sign", ciha_sigv4_request_string_to_sign(req), dir, ext_sts);
		ok &= matches_file(label, "authorization", ciha_sigv4_request_header(req, "Authorization"), dir,
		                   ext_authz);
	} else {
		fprintf(stderr, "  %s: could not read or sign: %s\n", label, ciha_error_message(ciha_error_last()));
	}
	ciha_sigv4_request_free(req);
	free(creq);
	return ok;
}

/* The last non-empty line of a group's readme.txt is its session token. */
static char *group_token(const char *group_dir)
{
	char *text = read_in(group_dir, "readme.txt"), *line;
	if (!text)
		return NULL;
	strip_trailing_newlines(text);
	line = strrchr(text, '\n');
	line = strdup(line ? line + 1 : text);
	free(text);
	return line;
}

static int run_botocore_dir(const char *dir, const char *prefix, const char *token, int depth)
{
	struct dirent **names;
	int n = list_dir(dir, &names), i, count = 0;
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *sub = path_join(dir, name), req_file[512], label[512], *req_path;
		snprintf(req_file, sizeof req_file, "%s.req", name);
		req_path = path_join(sub, req_file);
		snprintf(label, sizeof label, "%s/%s", prefix, name);
		if (name[0] != '.' && file_exists(req_path)) {
			int ok = botocore_case_ok(sub, name, label, token);
			CHECK_CASE(label, ok);
			suite_cases_passed += ok;
			count++;
		} else if (name[0] != '.' && is_dir(sub) && depth == 0) {
			char *group = group_token(sub);
			count += run_botocore_dir(sub, label, group ? group : token, 1);
			free(group);
		}
		free(req_path);
		free(sub);
	}
	if (n >= 0)
		free_names(names, n);
	return count;
}

/* ---- aws-c-auth layout (the aws-c-auth-v4 suite and our own vectors) ------- */

struct context {
	json_t *root;
	ciha_sigv4_options opts;
	long expires;
};

static const char *json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int load_context(struct context *c, const char *dir)
{
	char *path = path_join(dir, "context.json");
	json_t *creds;
	double when = 0;
	c->root = json_load_file(path, 0, NULL);
	free(path);
	if (!c->root)
		return 0;
	creds = json_object_get(c->root, "credentials");
	ciha_sigv4_options_init(&c->opts, CIHA_SIGV4_OPTIONS_VERSION);
	c->opts.access_key_id = json_str(creds, "access_key_id");
	c->opts.secret_access_key = json_str(creds, "secret_access_key");
	c->opts.session_token = json_str(creds, "token");
	c->opts.region = json_str(c->root, "region");
	c->opts.service = json_str(c->root, "service");
	c->opts.normalize_path = json_is_true(json_object_get(c->root, "normalize"));
	c->opts.sign_body = json_is_true(json_object_get(c->root, "sign_body"));
	c->opts.omit_session_token = json_is_true(json_object_get(c->root, "omit_session_token"));
	c->expires = (long)json_integer_value(json_object_get(c->root, "expiration_in_seconds"));
	if (!json_str(c->root, "timestamp") || ciha__time_parse(json_str(c->root, "timestamp"), &when) != 0)
		return 0;
	c->opts.when = (time_t)when;
	return 1;
}

/* The "Authorization:" line of a signed-request file, without the name. */
static char *authorization_line(const char *dir, const char *file)
{
	char *text = read_in(dir, file), *line, *result = NULL;
	if (!text)
		return NULL;
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "Authorization:", 14) == 0) {
			result = strdup(line + 14 + strspn(line + 14, " "));
			break;
		}
	free(text);
	return result;
}

static int header_variant_ok(const char *dir, const char *label, const struct context *c)
{
	ciha_sigv4_request *req = parse_request_file(dir, "request.txt");
	int ok = 0;
	if (req && ciha_sigv4_sign(req, &c->opts) == CIHA_OK) {
		ok = matches_file(label, "header canonical request", ciha_sigv4_request_canonical(req), dir,
		                  "header-canonical-request.txt");
		ok &= matches_file(label, "header string to sign", ciha_sigv4_request_string_to_sign(req), dir,
		                   "header-string-to-sign.txt");
		ok &= matches_file(label, "header signature", ciha_sigv4_request_signature(req), dir,
		                   "header-signature.txt");
		if (ok) {
			char *expected = authorization_line(dir, "header-signed-request.txt");
			const char *got = ciha_sigv4_request_header(req, "Authorization");
			if (expected && (!got || strcmp(got, expected) != 0)) {
				fprintf(stderr, "  %s: Authorization got [%s] expected [%s]\n", label, got ? got : "", expected);
				ok = 0;
			}
			free(expected);
		}
	} else {
		fprintf(stderr, "  %s: could not read or sign: %s\n", label, ciha_error_message(ciha_error_last()));
	}
	ciha_sigv4_request_free(req);
	return ok;
}

/* The request-target on the first line of query-signed-request.txt. */
static int presigned_target_ok(const char *dir, const char *label, const char *got)
{
	char *text = read_in(dir, "query-signed-request.txt");
	char method[32], target[4096];
	int ok;
	if (!text)
		return 1;
	ok = split_request_line(text, strcspn(text, "\n"), method, sizeof method, target, sizeof target) &&
	     got && strcmp(got, target) == 0;
	if (!ok)
		fprintf(stderr, "  %s: presigned target\n    got:      %s\n    expected: %s\n", label,
		        got ? got : "(null)", target);
	free(text);
	return ok;
}

static int query_variant_ok(const char *dir, const char *label, const struct context *c)
{
	ciha_sigv4_request *req;
	char *target = NULL;
	int ok = 0;
	req = parse_request_file(dir, "request.txt");
	if (req && ciha_sigv4_presign(&target, req, &c->opts, c->expires) == CIHA_OK) {
		ok = matches_file(label, "query canonical request", ciha_sigv4_request_canonical(req), dir,
		                  "query-canonical-request.txt");
		ok &= matches_file(label, "query string to sign", ciha_sigv4_request_string_to_sign(req), dir,
		                   "query-string-to-sign.txt");
		ok &= matches_file(label, "query signature", ciha_sigv4_request_signature(req), dir,
		                   "query-signature.txt");
		ok &= presigned_target_ok(dir, label, target);
	} else {
		fprintf(stderr, "  %s: could not read or presign: %s\n", label, ciha_error_message(ciha_error_last()));
	}
	ciha_free(target);
	ciha_sigv4_request_free(req);
	return ok;
}

static int aca_case_ok(const char *dir, const char *label)
{
	struct context c;
	char *query_creq = path_join(dir, "query-canonical-request.txt");
	int ok = load_context(&c, dir);
	if (!ok)
		fprintf(stderr, "  %s: bad context.json\n", label);
	if (ok)
		ok = header_variant_ok(dir, label, &c);
	if (ok && file_exists(query_creq))
		ok = query_variant_ok(dir, label, &c);
	json_decref(c.root);
	free(query_creq);
	return ok;
}

static int run_aca_dir(const char *dir, const char *prefix, int *passed)
{
	struct dirent **names;
	int n = list_dir(dir, &names), i, count = 0;
	for (i = 0; i < n; i++) {
		char *sub = path_join(dir, names[i]->d_name);
		char *ctx = path_join(sub, "context.json");
		if (names[i]->d_name[0] != '.' && file_exists(ctx)) {
			char label[512];
			int ok;
			snprintf(label, sizeof label, "%s/%s", prefix, names[i]->d_name);
			ok = aca_case_ok(sub, label);
			CHECK_CASE(label, ok);
			*passed += ok;
			count++;
		}
		free(ctx);
		free(sub);
	}
	if (n >= 0)
		free_names(names, n);
	return count;
}

/* ---- data locations -------------------------------------------------------- */

static char *srcdir_path(const char *rel, const char *fallback)
{
	const char *src = getenv("CIHA_SRCDIR");
	return src && *src ? path_join(src, rel) : strdup(fallback);
}

static void run_official_suites(void)
{
	const char *shared = getenv("CIHA_SHARED_TESTDATA");
	char *base = shared && *shared ? path_join(shared, "sigv4")
	                               : srcdir_path("../shared/testdata/sigv4", "../shared/testdata/sigv4");
	char *boto = path_join(base, "botocore-aws4"), *aca = path_join(base, "aws-c-auth-v4");
	if (!is_dir(boto) || !is_dir(aca)) {
		printf("NOTE: %s not found; official SigV4 suites skipped\n", base);
	} else {
		int boto_n = run_botocore_dir(boto, "botocore-aws4", BOTOCORE_TOKEN, 0);
		int before = suite_cases_passed, aca_passed = 0;
		int aca_n = run_aca_dir(aca, "aws-c-auth-v4", &aca_passed);
		suite_cases_passed = before + aca_passed;
		printf("suite cases passed: %d of %d (botocore-aws4 %d, aws-c-auth-v4 %d)\n", suite_cases_passed,
		       boto_n + aca_n, boto_n, aca_n);
		CHECK_CASE("botocore-aws4 has 34 cases", boto_n == 34);
		CHECK_CASE("aws-c-auth-v4 has 38 cases", aca_n == 38);
	}
	free(boto);
	free(aca);
	free(base);
}

static void run_own_vectors(void)
{
	char *dir = srcdir_path("tests/vectors/sigv4", "tests/vectors/sigv4");
	int passed = 0, n = run_aca_dir(dir, "vectors/sigv4", &passed);
	printf("own vectors passed: %d of %d\n", passed, n);
	CHECK_CASE("tests/vectors/sigv4 has at least 4 cases", n >= 4);
	free(dir);
}

/* ---- API cases --------------------------------------------------------------- */

static ciha_sigv4_request *new_request(const char *method, const char *target)
{
	ciha_sigv4_request *req = NULL;
	CHECK_INT(ciha_sigv4_request_new(&req, method, target), CIHA_OK);
	return req;
}

static ciha_sigv4_request *typical_query_request(void)
{
	static const char body[] = "Action=DescribeStacks&Version=2010-05-15";
	ciha_sigv4_request *req = new_request("POST", "/");
	CHECK_INT(ciha_sigv4_request_add_header(req, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
	          CIHA_OK);
	CHECK_INT(ciha_sigv4_request_add_header(req, "Host", "cloudformation.us-east-1.amazonaws.com"), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_set_body(req, body, strlen(body)), CIHA_OK);
	return req;
}

static size_t count_headers_named(const ciha_sigv4_request *req, const char *name)
{
	size_t i, n = 0;
	for (i = 0; i < ciha_sigv4_request_header_count(req); i++)
		if (strcmp(ciha_sigv4_request_header_name(req, i), name) == 0)
			n++;
	return n;
}

static void test_sigv4__options_init(void)
{
	ciha_sigv4_options o;
	memset(&o, 0xff, sizeof o);
	CHECK_INT(ciha_sigv4_options_init(&o, CIHA_SIGV4_OPTIONS_VERSION), CIHA_OK);
	CHECK_INT(o.version, CIHA_SIGV4_OPTIONS_VERSION);
	CHECK(o.access_key_id == NULL && o.session_token == NULL && o.region == NULL);
	CHECK_INT(o.when, 0);
	CHECK_INT(o.normalize_path, 1);
	CHECK_INT(o.sign_body, 0);
	CHECK_INT(o.omit_session_token, 0);
	CHECK_INT(ciha_sigv4_options_init(&o, CIHA_SIGV4_OPTIONS_VERSION + 1), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_sigv4_options_init(&o, 0), CIHA_EUNSUPPORTED);
	CHECK_INT(ciha_sigv4_options_init(NULL, CIHA_SIGV4_OPTIONS_VERSION), CIHA_EINVAL);
}

static void test_sigv4__request_new_rejects_missing_parts(void)
{
	ciha_sigv4_request *req = (ciha_sigv4_request *)&req;
	CHECK_INT(ciha_sigv4_request_new(&req, "", "/"), CIHA_EINVAL);
	CHECK(req == NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "method") != NULL);
	CHECK_INT(ciha_sigv4_request_new(&req, "GET", NULL), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "target") != NULL);
	CHECK_INT(ciha_sigv4_request_new(&req, "GET", ""), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_request_new(&req, "GET", "example.com/"), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_request_new(NULL, "GET", "/"), CIHA_EINVAL);
}

static void expect_sign_error(const ciha_sigv4_options *o, int code, const char *word)
{
	ciha_sigv4_request *req = typical_query_request();
	CHECK_INT(ciha_sigv4_sign(req, o), code);
	CHECK_MSG(strstr(ciha_error_message(ciha_error_last()), word) != NULL, "message '%s' lacks '%s'",
	          ciha_error_message(ciha_error_last()), word);
	CHECK(ciha_sigv4_request_header(req, "Authorization") == NULL);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__sign_rejects_missing_inputs(void)
{
	ciha_sigv4_options o;
	suite_options(&o);
	o.access_key_id = NULL;
	expect_sign_error(&o, CIHA_EINVAL, "access key");
	suite_options(&o);
	o.secret_access_key = "";
	expect_sign_error(&o, CIHA_EINVAL, "secret");
	suite_options(&o);
	o.region = NULL;
	expect_sign_error(&o, CIHA_EINVAL, "region");
	suite_options(&o);
	o.service = "";
	expect_sign_error(&o, CIHA_EINVAL, "service");
	suite_options(&o);
	o.version = 99;
	expect_sign_error(&o, CIHA_EUNSUPPORTED, "version");
	CHECK_INT(ciha_sigv4_sign(NULL, &o), CIHA_EINVAL);
}

static void test_sigv4__errors_never_show_the_secret(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	suite_options(&o);
	o.session_token = "TOKENVALUE";
	CHECK_INT(ciha_sigv4_request_add_header(req, "X-Amz-Date", "not-a-date"), CIHA_OK);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "X-Amz-Date") != NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), SECRET) == NULL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "TOKENVALUE") == NULL);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__header_accessors(void)
{
	ciha_sigv4_request *req = new_request("GET", "/");
	CHECK_INT(ciha_sigv4_request_header_count(req), 0);
	CHECK_INT(ciha_sigv4_request_add_header(req, "Host", "example.amazonaws.com"), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_add_header(req, "My-Header", "one"), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_add_header(req, "my-header", "two"), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_header_count(req), 3);
	CHECK_STR(ciha_sigv4_request_header_name(req, 1), "My-Header");
	CHECK_STR(ciha_sigv4_request_header_value(req, 2), "two");
	CHECK_STR(ciha_sigv4_request_header(req, "MY-HEADER"), "one");
	CHECK_STR(ciha_sigv4_request_header(req, "host"), "example.amazonaws.com");
	CHECK(ciha_sigv4_request_header(req, "Missing") == NULL);
	CHECK(ciha_sigv4_request_header_name(req, 3) == NULL);
	CHECK(ciha_sigv4_request_header_value(req, 3) == NULL);
	CHECK(ciha_sigv4_request_canonical(req) == NULL);
	CHECK(ciha_sigv4_request_string_to_sign(req) == NULL);
	CHECK(ciha_sigv4_request_signature(req) == NULL);
	CHECK_INT(ciha_sigv4_request_add_header(req, "Bad:Name", "x"), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_request_add_header(req, "", "x"), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_request_add_header(req, "X-Injected", "a\r\nEvil: 1"), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_request_header_count(req), 3);
	CHECK_INT(ciha_sigv4_request_header_count(NULL), 0);
	CHECK(ciha_sigv4_request_header(NULL, "Host") == NULL);
	ciha_sigv4_request_free(req);
	ciha_sigv4_request_free(NULL);
}

static void test_sigv4__typical_request_signs_four_headers(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	char date[17];
	const char *authz;
	suite_options(&o);
	o.service = "cloudformation";
	o.when = 1735689600; /* 2025-01-01T00:00:00Z */
	o.session_token = "FQoGZXIvYXdzEXAMPLE";
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	ciha__time_amz(o.when, date);
	CHECK_STR(ciha_sigv4_request_header(req, "X-Amz-Date"), date);
	CHECK_STR(ciha_sigv4_request_header(req, "X-Amz-Security-Token"), "FQoGZXIvYXdzEXAMPLE");
	CHECK(ciha_sigv4_request_header(req, "x-amz-content-sha256") == NULL);
	authz = ciha_sigv4_request_header(req, "Authorization");
	CHECK(authz && strncmp(authz, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/cloudformation/"
	                              "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
	                              "Signature=", 137) == 0);
	CHECK(authz && strstr(authz, ciha_sigv4_request_signature(req)) != NULL);
	CHECK_INT(strlen(ciha_sigv4_request_signature(req)), 64);
	CHECK_INT(ciha_sigv4_request_header_count(req), 5);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__signing_time_defaults_to_now(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	char before[17], after[17];
	const char *date;
	suite_options(&o);
	o.when = 0;
	ciha__time_amz(time(NULL), before);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	ciha__time_amz(time(NULL), after);
	date = ciha_sigv4_request_header(req, "X-Amz-Date");
	CHECK(date && strcmp(date, before) >= 0 && strcmp(date, after) <= 0);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__unrepresentable_time_is_rejected(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	suite_options(&o);
	o.when = (time_t)((~(unsigned long long)0) >> 1);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "time") != NULL);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__existing_date_is_kept_and_resigning_replaces_authorization(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	char *first_signature;
	suite_options(&o);
	o.when = 1735689600;
	CHECK_INT(ciha_sigv4_request_add_header(req, "X-Amz-Date", "20150830T123600Z"), CIHA_OK);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	CHECK_INT(count_headers_named(req, "X-Amz-Date"), 1);
	CHECK(strstr(ciha_sigv4_request_header(req, "Authorization"), "/20150830/us-east-1/") != NULL);
	first_signature = strdup(ciha_sigv4_request_signature(req));
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	CHECK_INT(count_headers_named(req, "X-Amz-Date"), 1);
	CHECK_INT(count_headers_named(req, "Authorization"), 1);
	CHECK_STR(ciha_sigv4_request_signature(req), first_signature);
	free(first_signature);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__omitted_token_is_added_unsigned(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	suite_options(&o);
	o.session_token = "SESSION";
	o.omit_session_token = 1;
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	CHECK_STR(ciha_sigv4_request_header(req, "X-Amz-Security-Token"), "SESSION");
	CHECK(strstr(ciha_sigv4_request_canonical(req), "x-amz-security-token") == NULL);
	CHECK(strstr(ciha_sigv4_request_header(req, "Authorization"), "SignedHeaders=content-type;host;x-amz-date,") !=
	      NULL);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__sign_body_adds_content_hash(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = typical_query_request();
	char hash[65];
	static const char body[] = "Action=DescribeStacks&Version=2010-05-15";
	suite_options(&o);
	o.sign_body = 1;
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	ciha__sha256_hex(body, strlen(body), hash);
	CHECK_STR(ciha_sigv4_request_header(req, "x-amz-content-sha256"), hash);
	CHECK(strstr(ciha_sigv4_request_header(req, "Authorization"), "host;x-amz-content-sha256;x-amz-date,") != NULL);
	ciha_sigv4_request_free(req);
}

/* The second line of the canonical request: the canonical URI. */
static void check_canonical_uri(const char *target, int normalize, const char *expected)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = new_request("GET", target);
	const char *creq, *nl;
	suite_options(&o);
	o.normalize_path = normalize;
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	creq = ciha_sigv4_request_canonical(req);
	nl = creq ? strchr(creq, '\n') : NULL;
	CHECK_MSG(nl && strncmp(nl + 1, expected, strlen(expected)) == 0 && nl[1 + strlen(expected)] == '\n',
	          "target %s gave %s", target, creq ? creq : "(null)");
	ciha_sigv4_request_free(req);
}

static void test_sigv4__path_canonicalisation(void)
{
	check_canonical_uri("/a/b/../c/./d//", 1, "/a/c/d/");
	check_canonical_uri("/a/b/..", 1, "/a/");
	check_canonical_uri("/../..", 1, "/");
	check_canonical_uri("/a/./", 0, "/a/./");
	check_canonical_uri("/caf\xc3\xa9 x", 1, "/caf%C3%A9%20x");
	check_canonical_uri("/already%20encoded", 1, "/already%2520encoded");
	check_canonical_uri("/?x=1", 1, "/");
}

/* The third line of the canonical request: the canonical query. */
static void check_canonical_query(const char *target, const char *expected)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = new_request("GET", target);
	const char *creq, *line;
	suite_options(&o);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	creq = ciha_sigv4_request_canonical(req);
	line = creq ? strchr(strchr(creq, '\n') + 1, '\n') + 1 : NULL;
	CHECK_MSG(line && strncmp(line, expected, strlen(expected)) == 0 && line[strlen(expected)] == '\n',
	          "target %s gave %s", target, creq ? creq : "(null)");
	ciha_sigv4_request_free(req);
}

static void test_sigv4__query_canonicalisation(void)
{
	check_canonical_query("/?b=%7e&a=x y&c", "a=x%20y&b=~&c=");
	check_canonical_query("/?k=a+b&k=%2Fx&&k=%zz", "k=%25zz&k=%2Fx&k=a%2Bb");
	check_canonical_query("/?Z=1&a=1&A=2", "A=2&Z=1&a=1");
	check_canonical_query("/?", "");
}

static void test_sigv4__presign_appends_parameters(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = new_request("GET", "/?Action=ListUsers");
	char *target = NULL;
	suite_options(&o);
	o.session_token = "a/b+c=";
	CHECK_INT(ciha_sigv4_request_add_header(req, "Host", "iam.amazonaws.com"), CIHA_OK);
	CHECK_INT(ciha_sigv4_presign(&target, req, &o, 0), CIHA_EINVAL);
	CHECK(target == NULL);
	CHECK_INT(ciha_sigv4_presign(&target, req, &o, 604801), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_presign(&target, req, &o, 900), CIHA_OK);
	CHECK(target && strncmp(target, "/?Action=ListUsers&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE"
	                                "%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z"
	                                "&X-Amz-SignedHeaders=host&X-Amz-Expires=900&X-Amz-Security-Token=a%2Fb%2Bc%3D"
	                                "&X-Amz-Signature=", 228) == 0);
	CHECK(target && strstr(target, ciha_sigv4_request_signature(req)) != NULL);
	CHECK(strstr(ciha_sigv4_request_canonical(req), "&X-Amz-Security-Token=a%2Fb%2Bc%3D&") != NULL);
	CHECK_INT(ciha_sigv4_request_header_count(req), 1);
	ciha_free(target);
	ciha_sigv4_request_free(req);
}

static void test_sigv4__body_can_be_replaced_and_cleared(void)
{
	ciha_sigv4_options o;
	ciha_sigv4_request *req = new_request("POST", "/");
	const char *creq;
	suite_options(&o);
	CHECK_INT(ciha_sigv4_request_set_body(req, "abc", 3), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_set_body(req, NULL, 0), CIHA_OK);
	CHECK_INT(ciha_sigv4_request_set_body(req, NULL, 5), CIHA_EINVAL);
	CHECK_INT(ciha_sigv4_sign(req, &o), CIHA_OK);
	creq = ciha_sigv4_request_canonical(req);
	CHECK(creq && strstr(creq, "\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") != NULL);
	ciha_sigv4_request_free(req);
}

static int holds_bytes(const void *hay, size_t n, const void *needle, size_t m)
{
	size_t i;
	for (i = 0; i + m <= n; i++)
		if (memcmp((const char *)hay + i, needle, m) == 0)
			return 1;
	return 0;
}

/* One signature through the cache and one without, on identical requests. */
static void check_cached_signature(ciha__sigv4_key_cache *cache, const ciha_sigv4_options *o, const char *what)
{
	ciha_sigv4_request *plain = typical_query_request(), *cached = typical_query_request();
	CHECK_INT(ciha_sigv4_sign(plain, o), CIHA_OK);
	CHECK_INT(ciha__sigv4_sign_cached(cached, o, cache), CIHA_OK);
	CHECK_MSG(ciha_sigv4_request_signature(plain) && ciha_sigv4_request_signature(cached) &&
	          strcmp(ciha_sigv4_request_signature(plain), ciha_sigv4_request_signature(cached)) == 0,
	          "cached signature differs: %s", what);
	ciha_sigv4_request_free(plain);
	ciha_sigv4_request_free(cached);
}

static void test_sigv4__key_cache_signs_like_the_uncached_signer(void)
{
	static const unsigned char zero[32];
	ciha__sigv4_key_cache cache;
	ciha_sigv4_options o;
	ciha__sigv4_key_cache_init(&cache);
	suite_options(&o);
	o.when = 1735689600;                       /* 2025-01-01 */
	check_cached_signature(&cache, &o, "first use");
	CHECK(cache.valid);
	CHECK(!holds_bytes(&cache, sizeof cache, o.secret_access_key, strlen(o.secret_access_key)));
	o.when += 3600;
	check_cached_signature(&cache, &o, "same day, later");
	o.when += 86400;
	check_cached_signature(&cache, &o, "next day");
	o.region = "eu-west-1";
	check_cached_signature(&cache, &o, "other region");
	o.service = "monitoring";
	check_cached_signature(&cache, &o, "other service");
	o.secret_access_key = "a/rotated/secret/key/EXAMPLEKEY000000000";
	check_cached_signature(&cache, &o, "rotated secret");
	suite_options(&o);
	o.when = 1735689600;
	check_cached_signature(&cache, &o, "back to the first secret");
	ciha__sigv4_key_cache_wipe(&cache);
	CHECK(!cache.valid);
	CHECK(memcmp(cache.key, zero, sizeof zero) == 0);
}

int main(void)
{
	run_official_suites();
	run_own_vectors();
	RUN(test_sigv4__options_init);
	RUN(test_sigv4__request_new_rejects_missing_parts);
	RUN(test_sigv4__sign_rejects_missing_inputs);
	RUN(test_sigv4__errors_never_show_the_secret);
	RUN(test_sigv4__header_accessors);
	RUN(test_sigv4__typical_request_signs_four_headers);
	RUN(test_sigv4__signing_time_defaults_to_now);
	RUN(test_sigv4__unrepresentable_time_is_rejected);
	RUN(test_sigv4__existing_date_is_kept_and_resigning_replaces_authorization);
	RUN(test_sigv4__omitted_token_is_added_unsigned);
	RUN(test_sigv4__sign_body_adds_content_hash);
	RUN(test_sigv4__path_canonicalisation);
	RUN(test_sigv4__query_canonicalisation);
	RUN(test_sigv4__presign_appends_parameters);
	RUN(test_sigv4__body_can_be_replaced_and_cleared);
	RUN(test_sigv4__key_cache_signs_like_the_uncached_signer);
	ciha_error_clear();
	CHECK_CASE("no library allocations left", ciha__alloc_outstanding() == 0);
	return CHECK_DONE("test_sigv4");
}
