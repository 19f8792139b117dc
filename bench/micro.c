/* micro.c: the raw per-request cost of libciha's signing, encoding and decoding,
 * for counting instructions with callgrind (bench/run runs it twice with
 * different N and divides the difference, so start-up cost drops out).
 *
 *   micro sign N          sign N DeleteSnapshot requests as request.c does
 *                         (a fresh ciha_sigv4_request each, same credentials)
 *   micro sign-public N   the same through the public ciha_sigv4_sign() only
 *   micro encode N        encode N DeleteSnapshot bodies and N DescribeSnapshots
 *                         bodies with a volume-id and two tag filters (2N bodies)
 *   micro decode FILE N   parse and decode the EC2 response in FILE N times
 *                         (XML tree, result node, schemaless JSON, freed)
 *
 * Prints the operations done and this process's CPU time. Built against
 * libciha_test.la (the internals); not part of the library. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "ciha/sigv4.h"
#include "buf_int.h"
#include "crypto_int.h"
#include "decode_int.h"
#include "query_int.h"
#include "xml_int.h"

#define BODY "Action=DeleteSnapshot&SnapshotId=snap-01a2b3c0000000123&Version=2016-11-15"

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sign_one(ciha__sigv4_key_cache *cache, long i)
{
	ciha_sigv4_options o = CIHA_SIGV4_OPTIONS_INIT;
	ciha_sigv4_request *req = NULL;
	int rc;
	o.access_key_id = "AKIDEXAMPLEBENCH0000";
	o.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.region = "us-east-1";
	o.service = "ec2";
	o.when = 1764839000 + (time_t)(i % 60);   /* same day, changing seconds */
	if ((rc = ciha_sigv4_request_new(&req, "POST", "/")) == 0 &&
	    (rc = ciha_sigv4_request_add_header(req, "Host", "127.0.0.1:8080")) == 0 &&
	    (rc = ciha_sigv4_request_add_header(req, "Content-Type",
	                                        "application/x-www-form-urlencoded; charset=utf-8")) == 0 &&
	    (rc = ciha_sigv4_request_set_body(req, BODY, strlen(BODY))) == 0)
		rc = cache ? ciha__sigv4_sign_cached(req, &o, cache) : ciha_sigv4_sign(req, &o);
	ciha_sigv4_request_free(req);
	return rc;
}

static int run_sign(long n, int cached)
{
	ciha__sigv4_key_cache cache;
	long i;
	int rc = 0;
	ciha__sigv4_key_cache_init(&cache);
	for (i = 0; i < n && rc == 0; i++)
		rc = sign_one(cached ? &cache : NULL, i);
	ciha__sigv4_key_cache_wipe(&cache);
	return rc;
}

static int encode_one(const json_t *params, const char *action)
{
	ciha__buf body = CIHA__BUF_INIT;
	int rc = ciha__query_encode(&body, CIHA__PROTO_EC2, "ec2", action, "2016-11-15", NULL, NULL, params);
	if (rc == 0 && body.failed)
		rc = 1;
	ciha__buf_dispose(&body);
	return rc;
}

static int run_encode(long n)
{
	json_t *del = json_pack("{s:s}", "SnapshotId", "snap-01a2b3c0000000123");
	json_t *list = json_pack("{s:[s], s:[{s:s, s:[s]}, {s:s, s:[s]}, {s:s, s:[s]}], s:i}", "OwnerIds", "self",
	                         "Filters", "Name", "volume-id", "Values", "vol-00f1e2d0000000007", "Name",
	                         "tag:ciha:managed-by", "Values", "libciha", "Name", "tag:ciha:policy", "Values",
	                         "bench", "MaxResults", 1000);
	long i;
	int rc = del && list ? 0 : 1;
	for (i = 0; i < n && rc == 0; i++)
		rc = encode_one(del, "DeleteSnapshot") || encode_one(list, "DescribeSnapshots");
	json_decref(del);
	json_decref(list);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long size;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)size + 1)) != NULL && fread(data, 1, (size_t)size, f) == (size_t)size) {
		data[size] = '\0';
		*len = (size_t)size;
	} else {
		free(data);
		data = NULL;
	}
	fclose(f);
	return data;
}

static int decode_one(const char *data, size_t len)
{
	ciha__xml_node *root = NULL;
	const char *request_id = NULL;
	json_t *out = NULL;
	int rc = ciha__xml_parse(&root, data, len);
	if (rc == 0)
		rc = ciha__decode_schemaless(&out, ciha__decode_result_node(root, CIHA__PROTO_EC2, "DescribeSnapshots",
		                                                            &request_id));
	json_decref(out);
	ciha__xml_free(root);
	return rc;
}

static int run_decode(const char *path, long n)
{
	size_t len = 0;
	char *data = slurp(path, &len);
	long i;
	int rc = data ? 0 : 1;
	for (i = 0; i < n && rc == 0; i++)
		rc = decode_one(data, len);
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	int decode = strcmp(what, "decode") == 0, rc;
	long n = argc > 2 + decode ? atol(argv[2 + decode]) : -1;
	double t0 = cpu_seconds();
	if (n < 0) {
		fprintf(stderr, "usage: micro sign|sign-public|encode N | micro decode FILE N\n");
		return 2;
	}
	if (strcmp(what, "sign") == 0 || strcmp(what, "sign-public") == 0)
		rc = run_sign(n, strcmp(what, "sign") == 0);
	else if (strcmp(what, "encode") == 0)
		rc = run_encode(n);
	else if (decode)
		rc = run_decode(argv[2], n);
	else
		rc = 2;
	if (rc != 0) {
		fprintf(stderr, "micro %s failed (%d)\n", what, rc);
		return 1;
	}
	printf("%s %ld cpu %.6f\n", what, n, cpu_seconds() - t0);
	return 0;
}
