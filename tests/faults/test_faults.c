/* test_faults.c: the fault-injection suite. The snapshot take+rotate flow, stack
 * deploy and alarm reconcile run again and again through tests/tools/faultproxy.py
 * in front of moto (CIHA_TEST_ENDPOINT) at a 20% fault rate of mixed kinds,
 * seeded (CIHA_FAULT_SEED), including answers lost after moto acted on the
 * request. The same sequence runs fault-free in another region as the
 * reference. After every run the invariants are checked: nothing the policy
 * keeps deleted, nothing foreign touched, no duplicate snapshot, stack or
 * execution; a failed run converges on a fault-free re-run to exactly the
 * reference state. The figures are printed at the end. */
#define _POSIX_C_SOURCE 200809L
#define CIHA_TESTING 1   /* linked against libciha_test.la: the test seams exist */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/types.h>
#include <jansson.h>
#include "../check.h"
#include "ciha/alarm.h"
#include "ciha/call.h"
#include "ciha/client.h"
#include "ciha/snapshot.h"
#include "ciha/stack.h"
#include "http_int.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define DAY 86400
#define FAULTED_REGION "eu-west-1"
#define REFERENCE_REGION "eu-central-1"
#define POLICY "faults"
#define KEEP 3
#define SNAPSHOT_RUNS 10
#define STACK_RUNS 6
#define ALARM_RUNS 6
#define VOLUMES 3

/* ---- figures ------------------------------------------------------------------------- */

typedef struct {
	const char *flow;
	int runs, failed, converged;
	long requests;
} flow_figures;

static flow_figures snapshot_figures = { "snapshot take+rotate", 0, 0, 0, 0 };
static flow_figures stack_figures = { "stack deploy", 0, 0, 0, 0 };
static flow_figures alarm_figures = { "alarm reconcile", 0, 0, 0, 0 };
static json_t *faults_by_kind;     /* kind -> count, over every faulted run */
static long lost_answers, token_replays, violations;
static unsigned long seed;

/* An invariant broken: counted and reported as a failed check. */
static void violation(const char *fmt, ...)
{
	va_list ap;
	violations++;
	check__failed_in_case++;
	fprintf(stderr, "  INVARIANT VIOLATED: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the proxy ----------------------------------------------------------------------- */

static FILE *proxy_pipe;
static long proxy_pid;
static char proxy_url[64];
static ciha__http *control;

static void proxy_start(const char *upstream)
{
	const char *srcdir = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	char cmd[1024], line[128];
	long port = 0;
	snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tools/faultproxy.py' --upstream %s --honour-tokens "
	         "--max-seconds 300", srcdir, upstream);
	proxy_pipe = popen(cmd, "r");
	if (!proxy_pipe)
		CHECK_SKIP("cannot run python3 for tests/tools/faultproxy.py");
	while (fgets(line, sizeof line, proxy_pipe)) {
		sscanf(line, "PORT %ld", &port);
		if (sscanf(line, "PID %ld", &proxy_pid) == 1)
			break;
	}
	if (!port || !proxy_pid) {
		fprintf(stderr, "tests/tools/faultproxy.py did not start\n");
		exit(1);
	}
	snprintf(proxy_url, sizeof proxy_url, "http://127.0.0.1:%ld", port);
	fprintf(stderr, "# faultproxy at %s -> moto at %s\n", proxy_url, upstream);
}

static void proxy_stop(void)
{
	kill((pid_t)proxy_pid, SIGTERM);
	pclose(proxy_pipe);
}

static json_t *proxy_control(const char *path, const char *post_body)
{
	ciha__http_request req;
	ciha__http_response resp;
	char url[128];
	json_t *answer = NULL;
	memset(&req, 0, sizeof req);
	snprintf(url, sizeof url, "%s%s", proxy_url, path);
	req.method = post_body ? "POST" : "GET";
	req.url = url;
	req.body = post_body;
	req.body_len = post_body ? strlen(post_body) : 0;
	req.timeout_ms = 10000;
	ciha__http_response_init(&resp);
	if (ciha__http_perform(control, &req, &resp) == CIHA_OK && resp.outcome == CIHA__HTTP_OK && resp.status == 200)
		answer = json_loadb(resp.body.ptr, resp.body.len, 0, NULL);
	ciha__http_response_dispose(&resp);
	if (!answer) {
		fprintf(stderr, "faultproxy %s failed\n", path);
		exit(1);
	}
	return answer;
}

/* Forget the log and apply `script` (a list, or a rate object). */
static void proxy_faults(const char *script)
{
	json_decref(proxy_control("/__proxy/reset", ""));
	json_decref(proxy_control("/__proxy/script", script));
}

/* 20% faults of every kind, seeded per run. */
static void proxy_random_faults(int run, int flow)
{
	char script[1024];
	snprintf(script, sizeof script,
	         "{\"rate\": 0.2, \"seed\": %lu, \"kinds\": [\"throttling\", \"ec2_throttle\", \"http500\", \"http503\","
	         " \"reset\", {\"kind\": \"timeout\", \"seconds\": %.1f}, \"truncated\", \"malformed\","
	         " {\"kind\": \"slow\", \"seconds\": 0.2}, \"reset_after_forward\","
	         " {\"kind\": \"timeout_after_forward\", \"seconds\": %.1f}]}",
	         seed * 1000 + (unsigned long)flow * 100 + (unsigned long)run, getenv("CIHA_UNDER_VALGRIND") ? 3.5 : 1.5,
	         getenv("CIHA_UNDER_VALGRIND") ? 3.5 : 1.5);
	proxy_faults(script);
}

static int is_forwarding(const char *fault)
{
	return strcmp(fault, "pass") == 0 || strcmp(fault, "slow") == 0 || strcmp(fault, "reset_after_forward") == 0 ||
	       strcmp(fault, "timeout_after_forward") == 0;
}

static const char *entry_str(const json_t *entry, const char *key)
{
	const char *s = json_string_value(json_object_get(entry, key));
	return s ? s : "";
}

/* Requests of `action` moto acted on (not answered by the proxy itself or replayed) with a 2xx. */
static int upstream_successes(const json_t *log, const char *action)
{
	size_t i;
	int n = 0;
	for (i = 0; i < json_array_size(log); i++) {
		const json_t *e = json_array_get(log, i);
		json_int_t status = json_integer_value(json_object_get(e, "status"));
		if (strcmp(entry_str(e, "action"), action) == 0 && is_forwarding(entry_str(e, "fault")) &&
		    !json_is_true(json_object_get(e, "replayed")) && status >= 200 && status < 300)
			n++;
	}
	return n;
}

/* Add one faulted run's log to the figures; returns the log (caller decrefs). */
static json_t *account_run(flow_figures *f)
{
	json_t *log = proxy_control("/__proxy/log", NULL);
	size_t i;
	f->requests += (long)json_array_size(log);
	for (i = 0; i < json_array_size(log); i++) {
		const json_t *e = json_array_get(log, i);
		const char *fault = entry_str(e, "fault");
		if (json_is_true(json_object_get(e, "replayed")))
			token_replays++;
		if (strcmp(fault, "pass") == 0)
			continue;
		json_object_set_new(faults_by_kind, fault,
		                    json_integer(json_integer_value(json_object_get(faults_by_kind, fault)) + 1));
		if (strstr(fault, "_after_forward"))
			lost_answers++;
	}
	return log;
}

/* ---- clients and calls ----------------------------------------------------------------- */

static ciha_credentials_provider *creds;
static ciha_client *faulted_direct, *reference;   /* straight to moto: setup and inspection */
static char run_id[32];

/* A client; through the proxy with max_attempts from AWS_MAX_ATTEMPTS (unset: 3). */
static ciha_client *client_for(const char *endpoint, const char *region, const char *max_attempts_env)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c = NULL;
	o.region = region;
	o.endpoint_url = endpoint;
	o.credentials = creds;
	o.timeout_ms = getenv("CIHA_UNDER_VALGRIND") ? 2500 : 1000;   /* 'timeout' faults hold longer */
	o.connect_timeout_ms = 2000;
	o.config_file = "/nonexistent/ciha-config";
	o.credentials_file = "/nonexistent/ciha-credentials";
	if (max_attempts_env)
		setenv("AWS_MAX_ATTEMPTS", max_attempts_env, 1);
	if (ciha_client_new(&c, &o) != CIHA_OK) {
		fprintf(stderr, "ciha_client_new: %s\n", ciha_error_message(ciha_error_last()));
		exit(1);
	}
	unsetenv("AWS_MAX_ATTEMPTS");
	return c;
}

/* A faulted run's client: max attempts 2 every third run, so that some runs fail. */
static ciha_client *faulted_client(int run)
{
	return client_for(proxy_url, FAULTED_REGION, run % 3 == 2 ? "2" : NULL);
}

/* Call straight to moto and check success; steals params; never returns NULL. */
static json_t *call_ok(ciha_client *c, const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	int rc = ciha_call(&out, c, service, action, params);
	if (rc != CIHA_OK) {
		fprintf(stderr, "setup call %s %s failed: %s\n", service, action, ciha_error_message(ciha_client_error(c)));
		exit(1);
	}
	json_decref(params);
	return out;
}

static const char *region_of(ciha_client *c)
{
	return c == reference ? REFERENCE_REGION : FAULTED_REGION;
}

static void say_outcome(const char *flow, int run, int rc, ciha_client *c)
{
	if (rc == CIHA_OK)
		fprintf(stderr, "# %s run %d: ok (%d attempts on the last call)\n", flow, run, ciha_client_last_attempts(c));
	else
		fprintf(stderr, "# %s run %d: FAILED (%s): %s\n", flow, run, ciha_strerror(rc),
		        ciha_error_message(ciha_client_error(c)));
}

/* ---- the runs ----------------------------------------------------------------------------- */

/* One flow: a step run at `run` on a client (the reference's or a faulted one), the state it leaves
 * in the client's region (comparable between the regions), and the invariants after a faulted run. */
typedef struct {
	flow_figures *figures;
	int (*step)(ciha_client *c, int run);
	char *(*state)(ciha_client *c);
	void (*check)(int run, int rc, const json_t *log, const char *reference_state);
	const char *run0_script;   /* run 0's faults (lost answers), NULL: random like the others */
} flow;

static void fault_free_rerun(const flow *f, ciha_client *c, int run, const char *reference_state)
{
	char *state;
	int rc;
	proxy_faults("[]");
	rc = f->step(c, run);
	CHECK_MSG(rc == CIHA_OK, "%s: fault-free re-run %d: %s", f->figures->flow, run,
	          ciha_error_message(ciha_client_error(c)));
	state = f->state(faulted_direct);
	if (strcmp(state, reference_state) != 0)
		violation("%s run %d did not converge:\n%s\n--- reference:\n%s", f->figures->flow, run, state, reference_state);
	else
		f->figures->converged++;
	free(state);
}

static void run_flow(const flow *f, int runs, int flow_id)
{
	int run;
	for (run = 0; run < runs; run++) {
		ciha_client *c = faulted_client(run);
		char *reference_state;
		json_t *log;
		int rc = f->step(reference, run);
		CHECK_MSG(rc == CIHA_OK, "%s: reference run %d: %s", f->figures->flow, run,
		          ciha_error_message(ciha_client_error(reference)));
		reference_state = f->state(reference);
		if (run == 0 && f->run0_script)
			proxy_faults(f->run0_script);
		else
			proxy_random_faults(run, flow_id);
		rc = f->step(c, run);
		say_outcome(f->figures->flow, run, rc, c);
		log = account_run(f->figures);
		f->figures->runs++;
		f->check(run, rc, log, reference_state);
		json_decref(log);
		if (rc != CIHA_OK) {
			f->figures->failed++;
			fault_free_rerun(f, c, run, reference_state);
		}
		free(reference_state);
		ciha_client_free(c);
	}
}

/* ---- (a) snapshots ---------------------------------------------------------------------- */

typedef struct {
	char volumes[VOLUMES][32];
	char db[64];
} targets;

static targets faulted_targets, reference_targets;
static char *foreign_fingerprint;
static int64_t t0;

static void create_targets(ciha_client *c, targets *t)
{
	char az[32];
	int i;
	snprintf(az, sizeof az, "%sa", region_of(c));
	for (i = 0; i < VOLUMES; i++) {
		json_t *r = call_ok(c, "ec2", "CreateVolume", json_pack("{s:s, s:i}", "AvailabilityZone", az, "Size", 1));
		snprintf(t->volumes[i], sizeof t->volumes[i], "%s", json_string_value(json_object_get(r, "volumeId")));
		json_decref(r);
	}
	snprintf(t->db, sizeof t->db, "faults-db-%s", run_id);
	json_decref(call_ok(c, "rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}",
	           "DBInstanceIdentifier", t->db, "Engine", "postgres", "DBInstanceClass", "db.t3.micro",
	           "AllocatedStorage", 5, "MasterUsername", "ciha", "MasterUserPassword", "ciha-password-1")));
}

static json_t *ciha_tags(const char *policy, const char *source, int64_t created, const char *key, const char *value)
{
	char when[32];
	time_t tt = (time_t)created;
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
	return json_pack("[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", key, "ciha:managed-by", value, "libciha",
	                 key, "ciha:policy", value, policy, key, "ciha:source", value, source, key, "ciha:created", value,
	                 when);
}

/* Someone else's snapshots next to ours: untagged, and libciha's under another policy (old enough that
 * our policy would delete it, were it ours). */
static void create_foreign_snapshots(void)
{
	const char *vol = faulted_targets.volumes[0];
	char id[96];
	json_decref(call_ok(faulted_direct, "ec2", "CreateSnapshot", json_pack("{s:s, s:s}", "VolumeId", vol,
	                    "Description", "someone else's")));
	json_decref(call_ok(faulted_direct, "ec2", "CreateSnapshot", json_pack("{s:s, s:[{s:s, s:o}]}", "VolumeId", vol,
	                    "TagSpecification", "ResourceType", "snapshot", "Tag",
	                    ciha_tags("other", vol, t0 - 30 * DAY, "Key", "Value"))));
	snprintf(id, sizeof id, "foreign-manual-%s", run_id);
	json_decref(call_ok(faulted_direct, "rds", "CreateDBSnapshot", json_pack("{s:s, s:s}", "DBInstanceIdentifier",
	                    faulted_targets.db, "DBSnapshotIdentifier", id)));
	snprintf(id, sizeof id, "foreign-other-policy-%s", run_id);
	json_decref(call_ok(faulted_direct, "rds", "CreateDBSnapshot", json_pack("{s:s, s:s, s:o}",
	                    "DBInstanceIdentifier", faulted_targets.db, "DBSnapshotIdentifier", id, "Tags",
	                    ciha_tags("other", faulted_targets.db, t0 - 30 * DAY, "Key", "Value"))));
}

static const char *tag_of(const json_t *tags, const char *key_name, const char *value_name, const char *key)
{
	size_t i;
	for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
		const json_t *t = json_array_get(tags, i);
		if (strcmp(entry_str(t, key_name), key) == 0)
			return entry_str(t, value_name);
	}
	return NULL;
}

static json_t *list_member(json_t *result, const char *member)
{
	json_t *list = json_incref(json_object_get(result, member));
	json_decref(result);
	return json_is_array(list) ? list : (json_decref(list), json_array());
}

static json_t *ebs_snapshots(ciha_client *c, const char *volume)
{
	return list_member(call_ok(c, "ec2", "DescribeSnapshots", json_pack("{s:[{s:s, s:[s]}]}", "Filter", "Name",
	                   "volume-id", "Value", volume)), "snapshotSet");
}

static json_t *rds_snapshots(ciha_client *c, const char *db)
{
	return list_member(call_ok(c, "rds", "DescribeDBSnapshots", json_pack("{s:s, s:s}", "DBInstanceIdentifier", db,
	                   "SnapshotType", "manual")), "DBSnapshots");
}

/* What does the account hold: per snapshot "target-index id-or-- policy created", one line each, sorted.
 * With `ours_only` only our policy's snapshots and no ids (comparable across regions). */
static int compare_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void append_line(json_t *lines, int target, const char *id, const char *policy, const char *created)
{
	char line[256];
	snprintf(line, sizeof line, "%d %s %s %s", target, id ? id : "-", policy ? policy : "(none)",
	         created ? created : "-");
	json_array_append_new(lines, json_string(line));
}

static void collect_snapshot_lines(json_t *lines, ciha_client *c, const targets *t, int ours_only)
{
	json_t *list;
	size_t i;
	int v;
	for (v = 0; v <= VOLUMES; v++) {
		int is_db = v == VOLUMES;
		const char *key = is_db ? "Key" : "key", *value = is_db ? "Value" : "value";
		list = is_db ? rds_snapshots(c, t->db) : ebs_snapshots(c, t->volumes[v]);
		for (i = 0; i < json_array_size(list); i++) {
			const json_t *s = json_array_get(list, i);
			const json_t *tags = json_object_get(s, is_db ? "TagList" : "tagSet");
			const char *policy = tag_of(tags, key, value, "ciha:policy");
			int ours = policy && strcmp(policy, POLICY) == 0;
			if (ours_only && !ours)
				continue;
			append_line(lines, v, ours_only ? NULL : entry_str(s, is_db ? "DBSnapshotIdentifier" : "snapshotId"),
			            policy, tag_of(tags, key, value, "ciha:created"));
		}
		json_decref(list);
	}
}

static char *lines_text(json_t *lines)
{
	size_t i, n = json_array_size(lines), len = 1;
	const char **sorted = calloc(n ? n : 1, sizeof *sorted);
	char *text;
	for (i = 0; i < n; i++) {
		sorted[i] = json_string_value(json_array_get(lines, i));
		len += strlen(sorted[i]) + 1;
	}
	qsort(sorted, n, sizeof *sorted, compare_lines);
	text = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(text, sorted[i]);
		strcat(text, "\n");
	}
	free(sorted);
	json_decref(lines);
	return text;
}

/* Our policy's snapshots: "target policy created" lines, comparable between the regions. */
static char *our_snapshots(ciha_client *c, const targets *t)
{
	json_t *lines = json_array();
	collect_snapshot_lines(lines, c, t, 1);
	return lines_text(lines);
}

/* Every snapshot that is not our policy's, with its id and tags. */
static char *foreign_snapshots(void)
{
	json_t *all = json_array(), *foreign = json_array();
	size_t i;
	collect_snapshot_lines(all, faulted_direct, &faulted_targets, 0);
	for (i = 0; i < json_array_size(all); i++) {
		const char *line = json_string_value(json_array_get(all, i));
		if (!strstr(line, " " POLICY " "))
			json_array_append(foreign, json_array_get(all, i));
	}
	json_decref(all);
	return lines_text(foreign);
}

/* What the planner promises after the runs up to `run`: the newest KEEP days per target. */
static char *expected_snapshots(int run)
{
	json_t *lines = json_array();
	int v, day;
	for (v = 0; v <= VOLUMES; v++)
		for (day = run - KEEP + 1 > 0 ? run - KEEP + 1 : 0; day <= run; day++) {
			char when[32];
			time_t tt = (time_t)(t0 + (int64_t)day * DAY);
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
			append_line(lines, v, NULL, POLICY, when);
		}
	return lines_text(lines);
}

static ciha_snapshot_selector *selector_of(const targets *t)
{
	ciha_snapshot_selector *sel = NULL;
	int i;
	ciha_snapshot_selector_new(&sel);
	for (i = 0; i < VOLUMES; i++)
		ciha_snapshot_selector_add_volume(sel, t->volumes[i]);
	ciha_snapshot_selector_add_db(sel, t->db);
	return sel;
}

static int snapshot_run(ciha_client *c, const targets *t, const ciha_snapshot_policy *p, int run)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_selector *sel = selector_of(t);
	ciha_snapshot_report *report = NULL;
	int rc;
	o.now = t0 + (int64_t)run * DAY;
	o.concurrency = 1;   /* one request at a time: the seeded faults hit the same requests every time */
	rc = ciha_snapshot_run(&report, c, sel, p, &o);
	ciha_snapshot_report_free(report);
	ciha_snapshot_selector_free(sel);
	return rc;
}

/* A line count per "target created" key above one means two snapshots for one run. */
static void check_no_duplicates(const char *state, int run)
{
	const char *line = state, *next;
	for (; *line; line = next + 1) {
		next = strchr(line, '\n');
		if (next[1] && strncmp(line, next + 1, (size_t)(next - line) + 1) == 0)
			violation("snapshot run %d: duplicate snapshot %.*s", run, (int)(next - line), line);
	}
}

/* Every line of `kept` is in `state`. */
static void check_kept(const char *state, const char *kept, int run)
{
	const char *line = kept, *next;
	for (; *line; line = next + 1) {
		char one[256];
		next = strchr(line, '\n');
		snprintf(one, sizeof one, "%.*s", (int)(next - line + 1), line);
		if (!strstr(state, one))
			violation("snapshot run %d: %.*s is gone though the policy keeps it", run, (int)(next - line), line);
	}
}

/* The reference's state less today's new snapshots: what a failed run must still hold. */
static char *kept_before(const char *reference_state, int run)
{
	char when[32], *kept = calloc(1, strlen(reference_state) + 1);
	const char *line = reference_state, *next;
	time_t tt = (time_t)(t0 + (int64_t)run * DAY);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
	for (; *line; line = next + 1) {
		char one[256];
		next = strchr(line, '\n');
		snprintf(one, sizeof one, "%.*s", (int)(next - line + 1), line);
		if (!strstr(one, when))
			strcat(kept, one);
	}
	return kept;
}

static void check_snapshot_invariants(int run, int rc, const char *reference_state)
{
	char *state = our_snapshots(faulted_direct, &faulted_targets), *foreign = foreign_snapshots();
	char *kept = kept_before(reference_state, run);
	check_no_duplicates(state, run);
	check_kept(state, rc == CIHA_OK ? reference_state : kept, run);
	if (rc == CIHA_OK && strcmp(state, reference_state) != 0)
		violation("snapshot run %d succeeded but differs from the fault-free run:\n%s--- reference:\n%s", run, state,
		          reference_state);
	if (strcmp(foreign, foreign_fingerprint) != 0)
		violation("snapshot run %d touched a foreign snapshot:\n%s--- before:\n%s", run, foreign,
		          foreign_fingerprint);
	free(kept);
	free(foreign);
	free(state);
}

/* Run 0 loses the answers of both creates after moto made the snapshots: EC2 CreateSnapshot has no
 * idempotency token, and RDS answers the retry with DBSnapshotAlreadyExists. */
static const char lost_create_answers[] =
	"[{\"kind\": \"timeout_after_forward\", \"seconds\": 1.5, \"action\": \"CreateSnapshot\"},"
	" {\"kind\": \"reset_after_forward\", \"action\": \"CreateSnapshot\"},"
	" {\"kind\": \"reset_after_forward\", \"action\": \"CreateDBSnapshot\"}]";

static ciha_snapshot_policy *policy;

static const targets *targets_of(ciha_client *c)
{
	return c == reference ? &reference_targets : &faulted_targets;
}

static int snapshot_step(ciha_client *c, int run)
{
	return snapshot_run(c, targets_of(c), policy, run);
}

static char *snapshot_state(ciha_client *c)
{
	return our_snapshots(c, targets_of(c));
}

static void check_snapshot_run(int run, int rc, const json_t *log, const char *reference_state)
{
	char *expected = expected_snapshots(run);
	CHECK_STR(reference_state, expected);   /* the fault-free run does what the planner promises */
	free(expected);
	if (run == 0 && getenv("CIHA_FAULT_DEBUG")) {
		char *dump = json_dumps(log, JSON_INDENT(1));
		fprintf(stderr, "%s\n", dump);
		free(dump);
	}
	if (run == 0) {
		CHECK_INT(upstream_successes(log, "CreateSnapshot"), VOLUMES);   /* once per volume */
		CHECK_INT(upstream_successes(log, "CreateDBSnapshot"), 1);
	}
	check_snapshot_invariants(run, rc, reference_state);
}

static void test_faults__snapshot_take_and_rotate(void)
{
	static const flow snapshots = { &snapshot_figures, snapshot_step, snapshot_state, check_snapshot_run,
	                                lost_create_answers };
	CHECK_INT(ciha_snapshot_policy_new(&policy, POLICY), CIHA_OK);
	CHECK_INT(ciha_snapshot_policy_set_keep_last(policy, KEEP), CIHA_OK);
	run_flow(&snapshots, SNAPSHOT_RUNS, 1);
	ciha_snapshot_policy_free(policy);
}

/* ---- (b) stacks --------------------------------------------------------------------------- */

static const char stack_template[] =
	"{\"Parameters\": {\"Label\": {\"Type\": \"String\"}},"
	" \"Resources\": {\"Topic\": {\"Type\": \"AWS::SNS::Topic\", \"Properties\": {\"DisplayName\": {\"Ref\": \"Label\"}}}},"
	" \"Outputs\": {\"TopicArn\": {\"Value\": {\"Ref\": \"Topic\"}}}}";
static char stack_name[64], foreign_stack[64];
static char *foreign_stack_before;

static int deploy(ciha_client *c, int run)
{
	ciha_stack_deploy_options o = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	ciha_stack_spec *spec = NULL;
	ciha_stack_deployment *d = NULL;
	char label[32];
	int rc;
	snprintf(label, sizeof label, "label-%d", run);
	o.poll_interval_ms = 50;
	o.timeout_s = 60;
	ciha_stack_spec_new(&spec, stack_name);
	ciha_stack_spec_set_template_body(spec, stack_template);
	ciha_stack_spec_add_parameter(spec, "Label", label);
	ciha_stack_spec_add_tag(spec, "owner", "faults");
	rc = ciha_stack_deploy(&d, c, spec, &o);
	ciha_stack_deployment_free(d);
	ciha_stack_spec_free(spec);
	return rc;
}

/* "status Label=value" of a stack, or "absent". */
static char *stack_state(ciha_client *c, const char *name)
{
	ciha_stack *s = NULL;
	char *text = calloc(1, 256);
	if (ciha_stack_describe(&s, c, name) != CIHA_OK) {
		snprintf(text, 256, "absent: %s", ciha_error_message(ciha_client_error(c)));
		return text;
	}
	snprintf(text, 256, "%s Label=%s", ciha_stack_status(s), ciha_stack_parameter(s, "Label") ?
	         ciha_stack_parameter(s, "Label") : "(none)");
	ciha_stack_free(s);
	return text;
}

/* The whole description of the foreign stack. */
static char *stack_fingerprint(const char *name)
{
	ciha_stack *s = NULL;
	char *text = NULL, *copy;
	if (ciha_stack_describe(&s, faulted_direct, name) != CIHA_OK || ciha_stack_json(&text, s) != CIHA_OK) {
		ciha_stack_free(s);
		return strcpy(malloc(8), "absent");
	}
	copy = strcpy(malloc(strlen(text) + 1), text);
	ciha_free(text);
	ciha_stack_free(s);
	return copy;
}

/* Live stacks named `name` in the faulted region. */
static int live_stacks_named(const char *name)
{
	char *text = NULL;
	json_t *list;
	size_t i;
	int n = 0;
	if (ciha_stack_list(&text, faulted_direct, 0) != CIHA_OK)
		return -1;
	list = json_loads(text, 0, NULL);
	for (i = 0; i < json_array_size(list); i++)
		n += strcmp(entry_str(json_array_get(list, i), "name"), name) == 0;
	json_decref(list);
	ciha_free(text);
	return n;
}

/* Run 0 loses the answers of CreateChangeSet and ExecuteChangeSet after moto acted on them: the retries
 * must repeat the idempotency token (the proxy then answers like AWS, moto itself ignores tokens). */
static const char lost_change_set_answers[] =
	"[{\"kind\": \"reset_after_forward\", \"action\": \"CreateChangeSet\"},"
	" {\"kind\": \"timeout_after_forward\", \"seconds\": 1.5, \"action\": \"ExecuteChangeSet\"}]";

static int replayed(const json_t *log, const char *action)
{
	size_t i;
	int n = 0;
	for (i = 0; i < json_array_size(log); i++)
		n += strcmp(entry_str(json_array_get(log, i), "action"), action) == 0 &&
		     json_is_true(json_object_get(json_array_get(log, i), "replayed"));
	return n;
}

static void check_stack_invariants(int run, int rc, const json_t *log, const char *reference_state)
{
	char *state = stack_state(faulted_direct, stack_name), *foreign = stack_fingerprint(foreign_stack);
	int executions = upstream_successes(log, "ExecuteChangeSet");
	int change_sets = upstream_successes(log, "CreateChangeSet");
	if (executions > 1)
		violation("stack run %d: the change set was executed %d times", run, executions);
	if (change_sets > 1)
		violation("stack run %d: %d change sets were created", run, change_sets);
	CHECK_MSG(strstr(reference_state, "_COMPLETE Label=label-") != NULL, "%s", reference_state);
	if (run == 0) {
		CHECK_INT(rc, CIHA_OK);
		CHECK_INT(replayed(log, "CreateChangeSet"), 1);
		CHECK_INT(replayed(log, "ExecuteChangeSet"), 1);
	}
	if (live_stacks_named(stack_name) > 1)
		violation("stack run %d: %d stacks named %s", run, live_stacks_named(stack_name), stack_name);
	if (rc == CIHA_OK && strcmp(state, reference_state) != 0)
		violation("stack run %d succeeded as [%s], the fault-free run gives [%s]", run, state, reference_state);
	if (strcmp(foreign, foreign_stack_before) != 0)
		violation("stack run %d changed the foreign stack:\n%s\n--- before:\n%s", run, foreign, foreign_stack_before);
	free(foreign);
	free(state);
}

static char *stack_state_of(ciha_client *c)
{
	return stack_state(c, stack_name);
}

static void test_faults__stack_deploy(void)
{
	static const flow stacks = { &stack_figures, deploy, stack_state_of, check_stack_invariants,
	                             lost_change_set_answers };
	run_flow(&stacks, STACK_RUNS, 2);
}

/* ---- (c) alarms ------------------------------------------------------------------------------ */

static char alarm_prefix[64], faulted_topic[256], reference_topic[256];
static char *foreign_alarm_before;

static ciha_alarm_spec *alarm_spec(const char *name, const char *metric, double threshold)
{
	ciha_alarm_spec *s = NULL;
	ciha_alarm_spec_new(&s, name);
	ciha_alarm_spec_set_metric(s, "CIHA", metric);
	ciha_alarm_spec_add_dimension(s, "Target", name);
	ciha_alarm_spec_set_threshold(s, "GreaterThanThreshold", threshold);
	ciha_alarm_spec_set_evaluation(s, 60, 2, 2);
	ciha_alarm_spec_set_missing_data(s, "breaching");
	return s;
}

/* Set A (even runs): five alarms. Set B (odd runs): one removed, one added, one threshold changed. */
static ciha_alarm_set *desired_alarms(const char *topic_arn, int run)
{
	static const char *const names[] = { "disk", "cpu", "queue", "errors", "latency", "backlog" };
	ciha_alarm_set *set = NULL;
	int i, odd = run % 2;
	ciha_alarm_set_new(&set, alarm_prefix, topic_arn);
	for (i = 0; i < 6; i++) {
		ciha_alarm_spec *s;
		if ((odd && i == 3) || (!odd && i == 5))
			continue;
		s = alarm_spec(names[i], names[i], i == 0 && odd ? 90.0 : 10.0 * (i + 1));
		CHECK_INT(ciha_alarm_set_add(set, s), CIHA_OK);
		ciha_alarm_spec_free(s);
	}
	return set;
}

static int reconcile(ciha_client *c, const char *topic_arn, int run)
{
	ciha_alarm_set *set = desired_alarms(topic_arn, run);
	ciha_alarm_plan *plan = NULL;
	int rc = ciha_alarm_apply(&plan, c, set, 0);
	ciha_alarm_plan_free(plan);
	ciha_alarm_set_free(set);
	return rc;
}

/* The managed alarms under the prefix, without the region-specific topic: one line each, sorted. */
static char *alarm_state(ciha_client *c, const char *topic_arn)
{
	char *text = NULL;
	json_t *list, *lines = json_array();
	size_t i;
	if (ciha_alarm_list(&text, c, alarm_prefix) != CIHA_OK) {
		json_decref(lines);
		return strcpy(malloc(16), "unreadable");
	}
	list = json_loads(text, 0, NULL);
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *a = json_array_get(list, i);
		const json_t *actions = json_object_get(a, "alarm_actions"), *ok = json_object_get(a, "ok_actions");
		char line[512];
		if (!json_is_true(json_object_get(a, "managed")))
			continue;
		snprintf(line, sizeof line, "%s %s/%s %s %s %g missing=%s actions=%s", entry_str(a, "name"),
		         entry_str(a, "namespace"), entry_str(a, "metric"), entry_str(a, "statistic"),
		         entry_str(a, "comparison"), json_number_value(json_object_get(a, "threshold")),
		         entry_str(a, "missing_data"),
		         json_array_size(actions) == 1 && json_array_size(ok) == 1 &&
		         strcmp(json_string_value(json_array_get(actions, 0)), topic_arn) == 0 &&
		         strcmp(json_string_value(json_array_get(ok, 0)), topic_arn) == 0 ? "topic" : "WRONG");
		json_array_append_new(lines, json_string(line));
	}
	json_decref(list);
	ciha_free(text);
	return lines_text(lines);
}

static char *foreign_alarm(void)
{
	char name[96];
	json_t *list;
	char *text;
	snprintf(name, sizeof name, "%ssomeone-elses", alarm_prefix);
	list = list_member(call_ok(faulted_direct, "cloudwatch", "DescribeAlarms", json_pack("{s:[s]}", "AlarmNames",
	                   name)), "MetricAlarms");
	text = json_dumps(list, JSON_SORT_KEYS);
	json_decref(list);
	return text;
}

static void put_foreign_alarm(void)
{
	char name[96];
	snprintf(name, sizeof name, "%ssomeone-elses", alarm_prefix);
	json_decref(call_ok(faulted_direct, "cloudwatch", "PutMetricAlarm", json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, "
	            "s:f, s:s, s:[s], s:s}", "AlarmName", name, "Namespace", "Other", "MetricName", "Thing", "Statistic",
	            "Average", "Period", 60, "EvaluationPeriods", 1, "Threshold", 5.0, "ComparisonOperator",
	            "GreaterThanThreshold", "AlarmActions", faulted_topic, "TreatMissingData", "ignore")));
}

static void check_alarm_invariants(int run, int rc, const json_t *log, const char *reference_state)
{
	char *state = alarm_state(faulted_direct, faulted_topic), *foreign = foreign_alarm();
	(void)log;
	CHECK_MSG(strstr(reference_state, run % 2 ? "latency" : "errors") != NULL, "%s", reference_state);
	if (rc == CIHA_OK && strcmp(state, reference_state) != 0)
		violation("alarm run %d succeeded but differs from the fault-free run:\n%s--- reference:\n%s", run, state,
		          reference_state);
	if (strcmp(foreign, foreign_alarm_before) != 0)
		violation("alarm run %d changed the foreign alarm:\n%s\n--- before:\n%s", run, foreign, foreign_alarm_before);
	free(foreign);
	free(state);
}

static int alarm_step(ciha_client *c, int run)
{
	return reconcile(c, c == reference ? reference_topic : faulted_topic, run);
}

static char *alarm_state_of(ciha_client *c)
{
	return alarm_state(c, c == reference ? reference_topic : faulted_topic);
}

static void test_faults__alarm_reconcile(void)
{
	static const flow alarms = { &alarm_figures, alarm_step, alarm_state_of, check_alarm_invariants, NULL };
	run_flow(&alarms, ALARM_RUNS, 3);
}

/* ---- setup and figures ---------------------------------------------------------------------------- */

static void create_foreign_stack(void)
{
	json_decref(call_ok(faulted_direct, "cloudformation", "CreateStack", json_pack("{s:s, s:s, s:[{s:s, s:s}]}",
	            "StackName", foreign_stack, "TemplateBody", stack_template, "Parameters", "ParameterKey", "Label",
	            "ParameterValue", "not-ours")));
}

static void ensure_topic(char *out, size_t size, ciha_client *c)
{
	char *arn = NULL, name[64];
	snprintf(name, sizeof name, "faults-%s", run_id);
	if (ciha_alarm_topic_ensure(&arn, c, name) != CIHA_OK) {
		fprintf(stderr, "topic: %s\n", ciha_error_message(ciha_client_error(c)));
		exit(1);
	}
	snprintf(out, size, "%s", arn);
	ciha_free(arn);
}

static void set_up(void)
{
	snprintf(run_id, sizeof run_id, "%ld-%ld", (long)time(NULL) % 100000, (long)getpid());
	t0 = ((int64_t)time(NULL) / DAY) * DAY - 40 * DAY;
	snprintf(stack_name, sizeof stack_name, "faults-%s", run_id);
	snprintf(foreign_stack, sizeof foreign_stack, "someone-elses-%s", run_id);
	snprintf(alarm_prefix, sizeof alarm_prefix, "faults-%s-", run_id);
	create_targets(faulted_direct, &faulted_targets);
	create_targets(reference, &reference_targets);
	create_foreign_snapshots();
	foreign_fingerprint = foreign_snapshots();
	create_foreign_stack();
	foreign_stack_before = stack_fingerprint(foreign_stack);
	ensure_topic(faulted_topic, sizeof faulted_topic, faulted_direct);
	ensure_topic(reference_topic, sizeof reference_topic, reference);
	put_foreign_alarm();
	foreign_alarm_before = foreign_alarm();
}

static void print_flow(const flow_figures *f)
{
	printf("  %-22s %d runs, %ld requests, %d failed runs, %d converged on the fault-free re-run\n", f->flow, f->runs,
	       f->requests, f->failed, f->converged);
}

static void print_figures(double seconds)
{
	const char *kind;
	json_t *count;
	long total = 0;
	printf("fault-injection figures (seed %lu, 20%% fault rate, %.1f s):\n", seed, seconds);
	print_flow(&snapshot_figures);
	print_flow(&stack_figures);
	print_flow(&alarm_figures);
	json_object_foreach(faults_by_kind, kind, count)
		total += (long)json_integer_value(count);
	printf("  faults injected: %ld (", total);
	json_object_foreach(faults_by_kind, kind, count)
		printf("%s%s %lld", kind == json_object_iter_key(json_object_iter(faults_by_kind)) ? "" : ", ", kind,
		       (long long)json_integer_value(count));
	printf(")\n  answers lost after moto acted: %ld; repeated tokens answered like AWS: %ld\n", lost_answers,
	       token_replays);
	printf("  invariant violations: %ld\n", violations);
}

int main(void)
{
	const char *endpoint = getenv("CIHA_TEST_ENDPOINT");
	struct timespec start, end;
	if (!endpoint || !*endpoint)
		CHECK_SKIP("CIHA_TEST_ENDPOINT is not set: the fault-injection suite needs a moto server (tests/tools/moto.sh)");
	if (ciha_global_init(0) != CIHA_OK)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	seed = getenv("CIHA_FAULT_SEED") ? strtoul(getenv("CIHA_FAULT_SEED"), NULL, 10) : 2026;
	setenv("CIHA_TEST_BACKOFF_SCALE", "0.01", 1);
	unsetenv("AWS_MAX_ATTEMPTS");
	unsetenv("AWS_RETRY_MODE");
	faults_by_kind = json_object();
	if (ciha__http_new(&control, NULL) != CIHA_OK ||
	    ciha_credentials_provider_new_static(&creds, "AKIDEXAMPLE", SECRET, NULL) != CIHA_OK)
		return 1;
	proxy_start(endpoint);
	faulted_direct = client_for(endpoint, FAULTED_REGION, NULL);
	reference = client_for(endpoint, REFERENCE_REGION, NULL);
	set_up();
	RUN(test_faults__snapshot_take_and_rotate);
	RUN(test_faults__stack_deploy);
	RUN(test_faults__alarm_reconcile);
	clock_gettime(CLOCK_MONOTONIC, &end);
	print_figures((double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9);
	free(foreign_fingerprint);
	free(foreign_stack_before);
	free(foreign_alarm_before);
	json_decref(faults_by_kind);
	ciha_client_free(faulted_direct);
	ciha_client_free(reference);
	ciha_credentials_provider_release(creds);
	ciha__http_free(control);
	proxy_stop();
	ciha_global_cleanup();
	return CHECK_DONE("test_faults");
}
