/* ciha_rotate.c: the benchmark's libciha contender through the public API:
 * rotate the EBS snapshots of every volume tagged KEY=VALUE under a policy
 * keeping the newest N, with deletes in flight up to a concurrency limit.
 *
 *   ciha_rotate ENDPOINT_URL [CONCURRENCY=16] [KEEP=7] [TAG=Backup=daily] [POLICY=bench]
 *
 * Prints the report's counts and this process's CPU time and peak RSS. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "ciha/client.h"
#include "ciha/errors.h"
#include "ciha/snapshot.h"

typedef struct {
	const char *endpoint, *tag, *policy;
	int concurrency, keep;
} bench_args;

static int parse_args(bench_args *a, int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ENDPOINT_URL [CONCURRENCY] [KEEP] [TAG=VALUE] [POLICY]\n", argv[0]);
		return -1;
	}
	a->endpoint = argv[1];
	a->concurrency = argc > 2 ? atoi(argv[2]) : 16;
	a->keep = argc > 3 ? atoi(argv[3]) : 7;
	a->tag = argc > 4 ? argv[4] : "Backup=daily";
	a->policy = argc > 5 ? argv[5] : "bench";
	return strchr(a->tag, '=') ? 0 : -1;
}

static int build(ciha_client **client, ciha_snapshot_selector **sel, ciha_snapshot_policy **policy,
                 const bench_args *a)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	char key[256];
	size_t klen = (size_t)(strchr(a->tag, '=') - a->tag);
	if (klen >= sizeof(key))
		return CIHA_EINVAL;
	memcpy(key, a->tag, klen);
	key[klen] = '\0';
	o.endpoint_url = a->endpoint;
	o.region = "us-east-1";
	if (ciha_client_new(client, &o) != CIHA_OK || ciha_snapshot_selector_new(sel) != CIHA_OK ||
	    ciha_snapshot_selector_add_tag(*sel, key, a->tag + klen + 1, 1u << CIHA_SNAPSHOT_EBS) != CIHA_OK ||
	    ciha_snapshot_policy_new(policy, a->policy) != CIHA_OK ||
	    ciha_snapshot_policy_set_keep_last(*policy, a->keep) != CIHA_OK)
		return CIHA_ERROR;
	return CIHA_OK;
}

static void print_summary(const ciha_snapshot_report *report)
{
	size_t i, deleted = 0, kept = 0;
	struct rusage ru;
	for (i = 0; i < ciha_snapshot_report_count(report); i++) {
		const char *action = ciha_snapshot_report_action(report, i);
		int ok = ciha_snapshot_report_outcome(report, i) == CIHA_OK;
		deleted += ok && strcmp(action, "delete") == 0;
		kept += strcmp(action, "keep") == 0;
	}
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "%zu deleted, %zu kept, %zu failed; cpu %.3f s user %.3f s sys, max rss %ld KiB\n", deleted, kept,
	        ciha_snapshot_report_failures(report), (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	        (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
}

int main(int argc, char **argv)
{
	bench_args a;
	ciha_client *client = NULL;
	ciha_snapshot_selector *sel = NULL;
	ciha_snapshot_policy *policy = NULL;
	ciha_snapshot_report *report = NULL;
	ciha_snapshot_options opts = CIHA_SNAPSHOT_OPTIONS_INIT;
	int rc;
	if (parse_args(&a, argc, argv) != 0)
		return 2;
	rc = build(&client, &sel, &policy, &a);
	if (rc == CIHA_OK) {
		opts.concurrency = a.concurrency;
		rc = ciha_snapshot_rotate(&report, client, sel, policy, &opts);
	}
	if (rc != CIHA_OK)
		fprintf(stderr, "ciha_rotate: %s\n", ciha_error_message(client ? ciha_client_error(client) : ciha_error_last()));
	if (report)
		print_summary(report);
	ciha_snapshot_report_free(report);
	ciha_snapshot_policy_free(policy);
	ciha_snapshot_selector_free(sel);
	ciha_client_free(client);
	return rc == CIHA_OK ? 0 : 1;
}
