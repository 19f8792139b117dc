/* test_iam_policy.c: the generated least-privilege policy against moto's strict
 * authentication. A private moto server (tests/tools/moto.sh) gets one IAM user
 * with the policy for "whoami" and "snapshot:run" (take and rotate, EBS, RDS
 * instance and Aurora cluster), and one user per action with that action left
 * out. The full policy runs the scenario without a single AccessDenied; each
 * reduced one meets AccessDenied, as an error of an operation, a failed report
 * item, or a refused call in the TRACE log (advisory calls such as the RDS quota
 * check go on without their answer).
 *
 * moto checks the action of each request only (moto.md 3.2): it lets
 * sts:GetCallerIdentity through always and never checks the permissions AWS
 * adds for tags set on creation (ec2:CreateTags, rds:AddTagsToResource); it
 * answers rds:DescribeAccountAttributes (the advisory quota check) with a 500
 * "not implemented" before any policy check. For those the test checks that
 * the policy holds them and that moto still runs the scenario without them. */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ciha.h>
#include "../check.h"

#define MAX_USERS 40
#define VOLUME_AZ "us-east-1a"

static const char *const scenario_commands[] = { "whoami", "snapshot:run" };
static const char *const not_enforced_by_moto[] = {
	"sts:GetCallerIdentity", "ec2:CreateTags", "rds:AddTagsToResource", "rds:DescribeAccountAttributes"
};

typedef struct {
	char omitted[96];   /* the action left out; "" for the full policy */
	char key_id[128];
	char secret[128];
} user;

static struct {
	char dir[512];
	char url[128];
	char moto_sh[1024];
	int running, strict;
	char *policy;                 /* the generated document */
	json_t *actions;              /* its actions, in order */
	user users[MAX_USERS];
	size_t nusers;
	char volume[64];
	int64_t now;                  /* policy time of the next run; each run is two days later */
} t;

static char *trace;
static size_t trace_len;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	return system(cmd);
}

/* ---- the private server ----------------------------------------------------- */

static int server_start(void)
{
	const char *src = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	const char *base = getenv("CIHA_BUILDDIR") ? getenv("CIHA_BUILDDIR") : "/tmp";
	char cmd[2048];
	FILE *p;
	snprintf(t.moto_sh, sizeof(t.moto_sh), "%s/tests/tools/moto.sh", src);
	snprintf(t.dir, sizeof(t.dir), "%s/moto-iam.XXXXXX", base);
	if (strchr(t.moto_sh, '\'') || strchr(t.dir, '\'') || !mkdtemp(t.dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "bash '%s' start '%s'", t.moto_sh, t.dir);
	fflush(NULL);
	if (!(p = popen(cmd, "r")))
		return -1;
	if (!fgets(t.url, sizeof(t.url), p))
		t.url[0] = '\0';
	t.url[strcspn(t.url, "\n")] = '\0';
	t.running = 1;
	return pclose(p) == 0 && strncmp(t.url, "http://", 7) == 0 ? 0 : -1;
}

static int strict_mode(const char *count)
{
	return sh("curl -sf -o /dev/null -X POST -H 'Content-Type: text/plain' --data '%s' '%s/moto-api/reset-auth'",
	          count, t.url);
}

static void server_stop(void)
{
	if (t.strict && strict_mode("inf") != 0)
		fprintf(stderr, "could not switch strict authentication off at %s\n", t.url);
	t.strict = 0;
	if (!t.running)
		return;
	t.running = 0;
	if (sh("bash '%s' stop '%s'", t.moto_sh, t.dir) != 0)
		fprintf(stderr, "could not stop the private moto server in %s\n", t.dir);
	if (check__failed)
		fprintf(stderr, "moto log kept in %s/moto.log\n", t.dir);
	else
		sh("rm -rf '%s'", t.dir);
}

/* ---- clients ---------------------------------------------------------------- */

static void keep_trace(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	size_t n = strlen(message);
	char *grown = realloc(trace, trace_len + n + 2);
	(void)level, (void)subsystem, (void)payload;
	if (!grown)
		return;
	trace = grown;
	memcpy(trace + trace_len, message, n);
	trace_len += n;
	trace[trace_len++] = '\n';
	trace[trace_len] = '\0';
}

static ciha_client *client_for(const char *key_id, const char *secret)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	if (ciha_credentials_provider_new_static(&p, key_id, secret, NULL) != CIHA_OK)
		return NULL;
	o.region = "us-east-1";
	o.endpoint_url = t.url;
	o.credentials = p;
	o.max_attempts = 1;
	o.log_cb = keep_trace;
	o.log_level = CIHA_LOG_TRACE;
	if (ciha_client_new(&c, &o) != CIHA_OK)
		fprintf(stderr, "client: %s\n", ciha_error_message(ciha_error_last()));
	ciha_credentials_provider_release(p);
	return c;
}

/* ciha_call, printing failures; consumes params. */
static json_t *call(ciha_client *c, const char *service, const char *action, json_t *params)
{
	json_t *out = NULL;
	if (ciha_call(&out, c, service, action, params) != CIHA_OK)
		fprintf(stderr, "  %s %s: %s\n", service, action, ciha_error_message(ciha_client_error(c)));
	json_decref(params);
	return out;
}

static int copy_text(char *dst, size_t size, const json_t *v)
{
	const char *s = json_string_value(v);
	if (!s || strlen(s) >= size)
		return -1;
	strcpy(dst, s);
	return 0;
}

/* ---- set-up while authentication is off ------------------------------------- */

/* The policy document without `omit` (NULL: all of it). */
static char *policy_without(const char *omit)
{
	size_t i, k = 0, n = json_array_size(t.actions);
	const char **kept = calloc(n + 1, sizeof(*kept));
	char *doc = NULL;
	for (i = 0; kept && i < n; i++) {
		const char *a = json_string_value(json_array_get(t.actions, i));
		if (!omit || strcmp(a, omit) != 0)
			kept[k++] = a;
	}
	if (kept && ciha_iam_policy_for_actions(&doc, kept, k) != CIHA_OK)
		fprintf(stderr, "policy: %s\n", ciha_error_message(ciha_error_last()));
	free(kept);
	return doc;
}

static int make_user(ciha_client *admin, user *u, const char *omit)
{
	char name[64];
	char *doc = policy_without(omit);
	json_t *r;
	int ok;
	snprintf(name, sizeof(name), "ciha-iam-%zu", t.nusers);
	snprintf(u->omitted, sizeof(u->omitted), "%s", omit ? omit : "");
	json_decref(call(admin, "iam", "CreateUser", json_pack("{s:s}", "UserName", name)));
	json_decref(call(admin, "iam", "PutUserPolicy", json_pack("{s:s, s:s, s:s}", "UserName", name, "PolicyName",
	                                                         "ciha", "PolicyDocument", doc ? doc : "")));
	r = call(admin, "iam", "CreateAccessKey", json_pack("{s:s}", "UserName", name));
	ok = doc && copy_text(u->key_id, sizeof(u->key_id), json_object_get(json_object_get(r, "AccessKey"), "AccessKeyId")) == 0
	     && copy_text(u->secret, sizeof(u->secret),
	                  json_object_get(json_object_get(r, "AccessKey"), "SecretAccessKey")) == 0;
	json_decref(r);
	ciha_free(doc);
	return ok ? 0 : -1;
}

static int make_targets(ciha_client *admin)
{
	json_t *r = call(admin, "ec2", "CreateVolume", json_pack("{s:s, s:i}", "AvailabilityZone", VOLUME_AZ, "Size", 8));
	int ok = copy_text(t.volume, sizeof(t.volume), json_object_get(r, "volumeId")) == 0;
	json_decref(r);
	r = call(admin, "rds", "CreateDBInstance", json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "DBInstanceIdentifier",
	         "ciha-iam-db", "DBInstanceClass", "db.t3.micro", "Engine", "postgres", "AllocatedStorage", 20,
	         "MasterUsername", "ciha", "MasterUserPassword", "not-a-secret-1"));
	ok = ok && r;
	json_decref(r);
	r = call(admin, "rds", "CreateDBCluster", json_pack("{s:s, s:s, s:s, s:s}", "DBClusterIdentifier",
	         "ciha-iam-cluster", "Engine", "aurora-postgresql", "MasterUsername", "ciha", "MasterUserPassword",
	         "not-a-secret-1"));
	ok = ok && r;
	json_decref(r);
	return ok ? 0 : -1;
}

static int load_policy(void)
{
	size_t i, j;
	const json_t *st, *a;
	if (ciha_iam_policy_for_commands(&t.policy, scenario_commands, 2) != CIHA_OK)
		return -1;
	json_t *doc = json_loads(t.policy, 0, NULL);
	t.actions = json_array();
	json_array_foreach(json_object_get(doc, "Statement"), i, st)
		json_array_foreach(json_object_get(st, "Action"), j, a)
			json_array_append(t.actions, (json_t *)a);
	json_decref(doc);
	return json_array_size(t.actions) > 0 ? 0 : -1;
}

/* ---- the scenario ------------------------------------------------------------ */

typedef struct {
	int failed_ops;      /* operations that did not return CIHA_OK */
	int access_denied;   /* AccessDenied seen anywhere */
	int deletes;         /* snapshots the rotation deleted */
	char first[512];     /* the first failure, for messages */
} outcome;

static void note_failure(outcome *o, const char *what, const ciha_error *e)
{
	o->failed_ops++;
	if (e && ciha_error_code(e) == CIHA_EAUTH && ciha_error_aws_code(e) &&
	    strcmp(ciha_error_aws_code(e), "AccessDenied") == 0)
		o->access_denied = 1;
	if (!o->first[0])
		snprintf(o->first, sizeof(o->first), "%s: %s", what, e ? ciha_error_message(e) : "?");
}

static void note_report(outcome *o, const char *what, int rc, ciha_snapshot_report *rep, ciha_client *c)
{
	size_t i;
	if (rc != CIHA_OK)
		note_failure(o, what, ciha_client_error(c));
	for (i = 0; rep && i < ciha_snapshot_report_count(rep); i++) {
		const char *msg = ciha_snapshot_report_message(rep, i);
		if (msg && strstr(msg, "AccessDenied"))
			o->access_denied = 1;
		if (strcmp(ciha_snapshot_report_action(rep, i), "delete") == 0 && ciha_snapshot_report_outcome(rep, i) == CIHA_OK)
			o->deletes++;
	}
	ciha_snapshot_report_free(rep);
}

static ciha_snapshot_selector *selector(void)
{
	ciha_snapshot_selector *sel = NULL;
	if (ciha_snapshot_selector_new(&sel) != CIHA_OK)
		return NULL;
	ciha_snapshot_selector_add_volume(sel, t.volume);
	ciha_snapshot_selector_add_db(sel, "ciha-iam-db");
	ciha_snapshot_selector_add_cluster(sel, "ciha-iam-cluster");
	return sel;
}

/* whoami, then take and rotate (keep 1) as user `u`, two policy days after the last run. */
static outcome run_scenario(const user *u)
{
	outcome o;
	ciha_client *c = client_for(u->key_id, u->secret);
	ciha_snapshot_selector *sel = selector();
	ciha_snapshot_policy *policy = NULL;
	ciha_snapshot_options opts = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_snapshot_report *rep = NULL;
	ciha_identity *id = NULL;

	memset(&o, 0, sizeof(o));
	trace_len = 0;
	if (trace)
		trace[0] = '\0';
	if (!c || !sel || ciha_snapshot_policy_new(&policy, "ciha-iam") != CIHA_OK ||
	    ciha_snapshot_policy_set_keep_last(policy, 1) != CIHA_OK) {
		snprintf(o.first, sizeof(o.first), "set-up failed");
		o.failed_ops = 1;
	} else {
		t.now += 2 * 86400;
		opts.now = t.now;
		if (ciha_client_whoami(&id, c) != CIHA_OK)
			note_failure(&o, "whoami", ciha_client_error(c));
		ciha_identity_free(id);
		int rc = ciha_snapshot_run(&rep, c, sel, policy, &opts);
		note_report(&o, "snapshot run", rc, rep, c);
	}
	if (trace && strstr(trace, "AccessDenied"))
		o.access_denied = 1;
	ciha_snapshot_policy_free(policy);
	ciha_snapshot_selector_free(sel);
	ciha_client_free(c);
	return o;
}

/* ---- cases ------------------------------------------------------------------- */

static int moto_exempt(const char *action)
{
	size_t i;
	for (i = 0; i < sizeof(not_enforced_by_moto) / sizeof(not_enforced_by_moto[0]); i++)
		if (strcmp(action, not_enforced_by_moto[i]) == 0)
			return 1;
	return 0;
}

static int has_action(const char *action)
{
	size_t i;
	for (i = 0; i < json_array_size(t.actions); i++)
		if (strcmp(json_string_value(json_array_get(t.actions, i)), action) == 0)
			return 1;
	return 0;
}

static void test_iam__policy_names_every_call_of_the_scenario(void)
{
	static const char *const expected[] = {
		"sts:GetCallerIdentity", "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:CreateSnapshot",
		"ec2:CreateTags", "ec2:DeleteSnapshot", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
		"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots", "rds:CreateDBSnapshot",
		"rds:CreateDBClusterSnapshot", "rds:AddTagsToResource", "rds:DeleteDBSnapshot",
		"rds:DeleteDBClusterSnapshot", "rds:DescribeAccountAttributes"
	};
	size_t i;
	json_t *doc = json_loads(t.policy, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(doc, "Version")), "2012-10-17");
	CHECK_INT(json_array_size(json_object_get(doc, "Statement")), 3);   /* ec2, rds, sts */
	CHECK_INT(json_array_size(t.actions), sizeof(expected) / sizeof(expected[0]));
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		CHECK_MSG(has_action(expected[i]), "%s missing from the policy", expected[i]);
	json_decref(doc);
}

static void test_iam__setup_users_and_strict_mode(void)
{
	ciha_client *admin = client_for("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	size_t i;
	CHECK(admin != NULL);
	if (!admin)
		return;
	CHECK(make_targets(admin) == 0);
	CHECK(make_user(admin, &t.users[t.nusers++], NULL) == 0);
	for (i = 0; i < json_array_size(t.actions) && t.nusers < MAX_USERS; i++)
		CHECK(make_user(admin, &t.users[t.nusers++], json_string_value(json_array_get(t.actions, i))) == 0);
	ciha_client_free(admin);
	if (check__failed_in_case)
		return;
	t.now = (int64_t)time(NULL);
	CHECK_MSG(strict_mode("0") == 0, "POST %s/moto-api/reset-auth failed", t.url);
	t.strict = 1;
}

static void test_iam__full_policy_runs_everything(void)
{
	outcome o;
	if (!t.strict)
		return;
	o = run_scenario(&t.users[0]);
	CHECK_MSG(o.failed_ops == 0, "%s", o.first);
	CHECK_MSG(!o.access_denied, "AccessDenied with the full policy");
	o = run_scenario(&t.users[0]); /* a second run has older snapshots to delete */
	CHECK_MSG(o.failed_ops == 0, "%s", o.first);
	CHECK_MSG(!o.access_denied, "AccessDenied with the full policy");
	CHECK_INT(o.deletes, 3);   /* the first run's volume, instance and cluster snapshots */
}

static void test_iam__each_action_removed_is_denied(void)
{
	size_t i;
	int denied = 0, exempt = 0;
	if (!t.strict)
		return;
	for (i = 1; i < t.nusers; i++) {
		outcome o = run_scenario(&t.users[i]);
		if (moto_exempt(t.users[i].omitted)) {
			exempt++;
			CHECK_MSG(o.failed_ops == 0 && !o.access_denied, "without %s (not checked by moto): %s",
			          t.users[i].omitted, o.first);
			continue;
		}
		CHECK_MSG(o.access_denied, "without %s every operation still succeeded", t.users[i].omitted);
		denied += o.access_denied;
		/* The next run needs a snapshot to rotate whatever this one could not make. */
		run_scenario(&t.users[0]);
	}
	printf("iam policy: %zu actions; %d removed one at a time were denied by moto, %d are not checked by moto\n",
	       json_array_size(t.actions), denied, exempt);
	CHECK_INT(denied + exempt, (int)t.nusers - 1);
}

static void test_iam__policy_arguments(void)
{
	static const char *const bad[] = { "ec2DescribeVolumes" };
	static const char *const unknown[] = { "snapshots" };
	static const char *const two[] = { "sns:Publish", "sns:Publish" };
	char *doc = NULL;
	CHECK_INT(ciha_iam_policy_for_actions(&doc, bad, 1), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "ec2DescribeVolumes") != NULL);
	CHECK_INT(ciha_iam_policy_for_actions(&doc, NULL, 0), CIHA_EINVAL);
	CHECK_INT(ciha_iam_policy_for_commands(&doc, unknown, 1), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "unknown command 'snapshots'") != NULL);
	CHECK(doc == NULL);
	CHECK_INT(ciha_iam_policy_for_actions(&doc, two, 2), CIHA_OK);
	CHECK(doc && strstr(doc, "sns:Publish") && !strstr(strstr(doc, "sns:Publish") + 1, "sns:Publish"));
	ciha_free(doc);
}

int main(void)
{
	if (ciha_global_init(CIHA_GLOBAL_DEFAULT) != CIHA_OK)
		return 1;
	RUN(test_iam__policy_arguments);
	if (load_policy() != 0)
		CHECK_SKIP("no policy for the scenario: %s", ciha_error_message(ciha_error_last()));
	RUN(test_iam__policy_names_every_call_of_the_scenario);
	if (server_start() != 0) {
		server_stop();
		CHECK_SKIP("the private moto server did not start (tests/tools/moto.sh)");
	}
	RUN(test_iam__setup_users_and_strict_mode);
	RUN(test_iam__full_policy_runs_everything);
	RUN(test_iam__each_action_removed_is_denied);
	server_stop();
	json_decref(t.actions);
	ciha_free(t.policy);
	free(trace);
	ciha_global_cleanup();
	return CHECK_DONE("test_iam_policy");
}
