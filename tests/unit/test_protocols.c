/* test_protocols.c: botocore's query/EC2 protocol suites (input, output, legacy)
 * and our own vectors in tests/vectors/protocols/, through the codec. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <jansson.h>
#include "check.h"
#include "ciha/common.h"
#include "ciha/errors.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "decode_int.h"
#include "query_int.h"
#include "xml_int.h"

static int skipped_gzip;

static void fixed_token(char out[37])
{
	memcpy(out, "00000000-0000-4000-8000-000000000000", 37);
}

static const char *srcdir(void)
{
	const char *d = getenv("CIHA_SRCDIR");
	return d && *d ? d : ".";
}

static void path_join(char *out, size_t size, const char *a, const char *b)
{
	snprintf(out, size, "%s/%s", a, b);
}

static const char *str_at(const json_t *obj, const char *path)
{
	char key[64];
	while (obj && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		snprintf(key, sizeof(key), "%.*s", (int)len, path);
		obj = json_object_get(obj, key);
		path += len + (slash ? 1 : 0);
	}
	return json_string_value(obj);
}

static void case_name(char *out, size_t size, const json_t *group, const json_t *c, size_t index)
{
	const char *id = str_at(c, "id");
	if (id)
		snprintf(out, size, "%s / %s", str_at(group, "description"), id);
	else
		snprintf(out, size, "%s#%zu", str_at(group, "description"), index);
}

static ciha__protocol group_protocol(const json_t *group)
{
	const char *p = str_at(group, "metadata/protocol");
	return p && strcmp(p, "ec2") == 0 ? CIHA__PROTO_EC2 : CIHA__PROTO_QUERY;
}

/* ---- input (serialisation) cases ---- */

static int run_input_case(const json_t *group, const json_t *c, const char *name)
{
	ciha__buf body = CIHA__BUF_INIT;
	const char *expected = str_at(c, "serialized/body");
	const char *version = str_at(group, "metadata/apiVersion");
	const json_t *shapes = json_object_get(group, "shapes");
	const json_t *params = json_object_get(c, "params");
	int rc, ok;

	rc = ciha__query_encode(&body, group_protocol(group), str_at(group, "metadata/service"),
	                        str_at(c, "given/name"), version ? version : "2014-01-01",
	                        shapes, str_at(c, "given/input/shape"), params);
	if (str_at(c, "expectError")) {
		ok = rc == CIHA_EINVAL && strstr(ciha_error_message(ciha_error_last()), str_at(c, "expectError"));
		if (!ok)
			fprintf(stderr, "  %s: expected error containing [%s], got rc %d [%s]\n", name,
			        str_at(c, "expectError"), rc, ciha_error_message(ciha_error_last()));
	} else {
		ok = rc == CIHA_OK && strcmp(ciha__buf_cstr(&body), expected) == 0;
		if (!ok)
			fprintf(stderr, "  %s (rc %d %s)\n    got:      %s\n    expected: %s\n", name, rc,
			        rc ? ciha_error_message(ciha_error_last()) : "", ciha__buf_cstr(&body), expected);
	}
	ciha__buf_dispose(&body);
	return ok;
}

/* ---- deep comparison ---- */

static int json_equal_loose(const json_t *got, const json_t *want);

static int objects_equal(const json_t *got, const json_t *want)
{
	const char *k;
	const json_t *v;
	if (json_object_size(got) != json_object_size(want))
		return 0;
	json_object_foreach((json_t *)want, k, v)
		if (!json_equal_loose(json_object_get(got, k), v))
			return 0;
	return 1;
}

static int arrays_equal(const json_t *got, const json_t *want)
{
	if (json_array_size(got) != json_array_size(want))
		return 0;
	for (size_t i = 0; i < json_array_size(want); i++)
		if (!json_equal_loose(json_array_get(got, i), json_array_get(want, i)))
			return 0;
	return 1;
}

/* Numbers by value with a small tolerance (timestamps carry fractions). */
static int json_equal_loose(const json_t *got, const json_t *want)
{
	if (!got || !want)
		return 0;
	if (json_is_number(want))
		return json_is_number(got) && fabs(json_number_value(got) - json_number_value(want)) < 1e-3;
	if (json_typeof(got) != json_typeof(want))
		return 0;
	if (json_is_object(want))
		return objects_equal(got, want);
	if (json_is_array(want))
		return arrays_equal(got, want);
	if (json_is_string(want))
		return json_string_length(got) == json_string_length(want) &&
		       memcmp(json_string_value(got), json_string_value(want), json_string_length(want)) == 0;
	return 1;
}

static int report_mismatch(const char *name, const json_t *got, const json_t *want)
{
	char *g = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	char *w = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	fprintf(stderr, "  %s\n    got:      %s\n    expected: %s\n", name, g ? g : "(none)", w ? w : "?");
	free(g);
	free(w);
	return 0;
}

/* ---- output (parsing) cases ---- */

static const char *result_wrapper(const json_t *c, const json_t *shapes, char *buf, size_t size)
{
	const char *w = str_at(c, "given/output/resultWrapper");
	const char *shape = str_at(c, "given/output/shape");
	if (!w && shape)
		w = str_at(json_object_get(shapes, shape), "resultWrapper");
	if (w)
		return w;
	snprintf(buf, size, "%sResult", str_at(c, "given/name"));
	return buf;
}

static json_t *decode_success(const json_t *group, const json_t *c, const ciha__xml_node *root)
{
	const json_t *shapes = json_object_get(group, "shapes");
	const char *shape = str_at(c, "given/output/shape");
	const ciha__xml_node *node = root;
	char wrapper[256];
	json_t *out = NULL;

	if (!shape || !root)
		return json_object();
	if (group_protocol(group) == CIHA__PROTO_QUERY)
		node = ciha__xml_child(root, result_wrapper(c, shapes, wrapper, sizeof(wrapper)));
	if (!node)
		return json_object();
	if (ciha__decode_shape(&out, node, shapes, shape) != CIHA_OK)
		fprintf(stderr, "  decode failed: %s\n", ciha_error_message(ciha_error_last()));
	return out;
}

/* The exception shape whose wire code (error.code, else its name) is `code`. */
static const char *exception_shape(const json_t *shapes, const char *code)
{
	const char *name;
	const json_t *shape;
	json_object_foreach((json_t *)shapes, name, shape) {
		const char *wire = str_at(shape, "error/code");
		if (json_is_true(json_object_get(shape, "exception")) && code &&
		    strcmp(wire ? wire : name, code) == 0)
			return name;
	}
	return NULL;
}

static const ciha__xml_node *error_element(const ciha__xml_node *root)
{
	const ciha__xml_node *e = ciha__xml_child(root, "Error");
	return e ? e : ciha__xml_child(ciha__xml_child(root, "Errors"), "Error");
}

static json_t *decode_error(const json_t *group, const ciha__aws_error *err, const ciha__xml_node *root)
{
	const char *shape = exception_shape(json_object_get(group, "shapes"), err->code);
	const ciha__xml_node *element = root ? error_element(root) : NULL;
	json_t *out = NULL;
	if (shape && element && ciha__decode_shape(&out, element, json_object_get(group, "shapes"), shape) != CIHA_OK)
		fprintf(stderr, "  error decode failed: %s\n", ciha_error_message(ciha_error_last()));
	return out ? out : json_object();
}

static int check_error_case(const json_t *group, const json_t *c, const char *name, const char *body,
                            size_t len, const ciha__xml_node *root)
{
	ciha__aws_error err;
	int status = (int)json_integer_value(json_object_get(json_object_get(c, "response"), "status_code"));
	const char *want_msg = str_at(c, "errorMessage"), *want_id = str_at(c, "errorRequestId");
	json_t *members;
	int ok;

	if (ciha__aws_error_parse(&err, body, len, status) != CIHA_OK)
		return 0;
	members = decode_error(group, &err, root);
	ok = err.code && strcmp(err.code, str_at(c, "errorCode")) == 0 &&
	     (!want_msg || (err.message && strcmp(err.message, want_msg) == 0)) &&
	     (!want_id || (err.request_id && strcmp(err.request_id, want_id) == 0)) &&
	     json_equal_loose(members, json_object_get(c, "error"));
	if (!ok) {
		fprintf(stderr, "  %s: code [%s] message [%s] request id [%s]\n", name, err.code ? err.code : "",
		        err.message ? err.message : "", err.request_id ? err.request_id : "");
		report_mismatch(name, members, json_object_get(c, "error"));
	}
	json_decref(members);
	ciha__aws_error_dispose(&err);
	return ok;
}

static int run_output_case(const json_t *group, const json_t *c, const char *name)
{
	const char *body = str_at(c, "response/body");
	size_t len = body ? strlen(body) : 0;
	ciha__xml_node *root = NULL;
	json_t *got;
	int ok;

	if (len > 0 && ciha__xml_parse(&root, body, len) != CIHA_OK && !json_object_get(c, "errorCode")) {
		fprintf(stderr, "  %s: %s\n", name, ciha_error_message(ciha_error_last()));
		return 0;
	}
	if (json_object_get(c, "errorCode")) {
		ok = check_error_case(group, c, name, body, len, root);
	} else {
		got = decode_success(group, c, root);
		ok = json_equal_loose(got, json_object_get(c, "result"));
		if (!ok)
			report_mismatch(name, got, json_object_get(c, "result"));
		json_decref(got);
	}
	ciha__xml_free(root);
	return ok;
}

/* ---- files ---- */

static void run_case(const json_t *group, const json_t *c, size_t index)
{
	char name[512];
	case_name(name, sizeof(name), group, c, index);
	if (json_object_get(c, "serialized")) {
		if (!str_at(c, "serialized/body") && !str_at(c, "expectError")) {
			skipped_gzip++;
			return;
		}
		CHECK_CASE(name, run_input_case(group, c, name));
	} else {
		CHECK_CASE(name, run_output_case(group, c, name));
	}
}

static int run_file(const char *path)
{
	json_error_t jerr;
	json_t *groups = json_load_file(path, 0, &jerr);
	size_t gi, ci;
	const json_t *group, *c;
	int before = check__passed + check__failed;

	if (!groups) {
		fprintf(stderr, "cannot load %s: %s (line %d)\n", path, jerr.text, jerr.line);
		CHECK_CASE(path, 0);
		return 0;
	}
	json_array_foreach(groups, gi, group)
		json_array_foreach(json_object_get(group, "cases"), ci, c)
			run_case(group, c, ci);
	json_decref(groups);
	return check__passed + check__failed - before;
}

static void run_botocore_suites(void)
{
	static const char *const files[] = {
		"input/query.json", "input/ec2.json", "output/query.json", "output/ec2.json",
		"legacy/input/query.json", "legacy/input/ec2.json", "legacy/output/query.json",
		"legacy/output/ec2.json",
	};
	char base[1024], path[1200];
	if (getenv("CIHA_SHARED_TESTDATA") && *getenv("CIHA_SHARED_TESTDATA"))
		snprintf(base, sizeof(base), "%s/protocols/botocore", getenv("CIHA_SHARED_TESTDATA"));
	else
		snprintf(base, sizeof(base), "%s/../shared/testdata/protocols/botocore", srcdir());
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int failed_before = check__failed, ran;
		path_join(path, sizeof(path), base, files[i]);
		ran = run_file(path);
		printf("  botocore/%s: %d cases, %d failed\n", files[i], ran, check__failed - failed_before);
	}
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_own_vectors(void)
{
	char dir[1024], path[1400];
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/vectors/protocols", srcdir());
	d = opendir(dir);
	if (!d) {
		CHECK_CASE("tests/vectors/protocols is readable", 0);
		return;
	}
	while ((e = readdir(d)) != NULL && n < 64) {
		size_t len = strlen(e->d_name);
		if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), compare_names);
	for (size_t i = 0; i < n; i++) {
		int failed_before = check__failed, ran;
		path_join(path, sizeof(path), dir, names[i]);
		ran = run_file(path);
		printf("  vectors/protocols/%s: %d cases, %d failed\n", names[i], ran, check__failed - failed_before);
		free(names[i]);
	}
	CHECK_CASE("own protocol vectors exist", n > 0);
}

/* Without an injected generator, unset tokens get a fresh random v4 UUID. */
static void test_protocols__random_idempotency_token(void)
{
	ciha__buf a = CIHA__BUF_INIT, b = CIHA__BUF_INIT;
	json_t *shapes = json_loads("{\"In\":{\"type\":\"structure\",\"members\":{\"T\":"
	                            "{\"shape\":\"S\",\"idempotencyToken\":true}}},\"S\":{\"type\":\"string\"}}",
	                            0, NULL);
	CHECK(shapes != NULL);
	CHECK_INT(ciha__query_encode(&a, CIHA__PROTO_QUERY, NULL, "Op", "1", shapes, "In", NULL), CIHA_OK);
	CHECK_INT(ciha__query_encode(&b, CIHA__PROTO_QUERY, NULL, "Op", "1", shapes, "In", NULL), CIHA_OK);
	CHECK_INT(a.len, strlen("Action=Op&Version=1&T=") + 36);
	CHECK(strcmp(ciha__buf_cstr(&a), ciha__buf_cstr(&b)) != 0);
	CHECK(a.len > 36 && ciha__buf_cstr(&a)[a.len - 36 + 14] == '4');
	ciha__buf_dispose(&a);
	ciha__buf_dispose(&b);
	json_decref(shapes);
}

int main(void)
{
	long outstanding;
	ciha__query_set_token_generator(fixed_token);
	run_botocore_suites();
	run_own_vectors();
	ciha__query_set_token_generator(NULL);
	RUN(test_protocols__random_idempotency_token);
	printf("  skipped %d cases without a serialized body (gzip request compression, PutWithContentEncoding)\n",
	       skipped_gzip);
	ciha_error_clear();
	outstanding = ciha__alloc_outstanding();
	CHECK_CASE("no library allocations outstanding", outstanding == 0);
	return CHECK_DONE("test_protocols");
}
