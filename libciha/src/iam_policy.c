/* iam_policy.c: least-privilege IAM policies for the calls libciha makes.
 * The tables list, per command, the actions its modules send (grep the module
 * named in the comment) and the extra permissions AWS checks for tags set on
 * creation. Keep them in step with the modules. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ciha/iam.h"
#include "alloc_int.h"
#include "error_int.h"

#define MAX_ACTIONS 512

typedef struct {
	const char *name;
	const char *const *includes;  /* other commands whose actions this one needs; NULL-terminated */
	const char *const *actions;   /* NULL-terminated */
} command;

/* whoami.c */
static const char *const whoami_actions[] = { "sts:GetCallerIdentity", NULL };

/* snapshot_select.c, snapshot_ebs.c, snapshot_rds.c (listing and resolving targets) */
static const char *const snapshot_list_actions[] = {
	"ec2:DescribeVolumes", "ec2:DescribeSnapshots", "rds:DescribeDBInstances", "rds:DescribeDBClusters",
	"rds:DescribeDBSnapshots", "rds:DescribeDBClusterSnapshots", NULL
};
/* snapshot_ebs.c, snapshot_rds.c (tags go on at creation), snapshot_run.c (RDS quota) */
static const char *const snapshot_take_actions[] = {
	"ec2:CreateSnapshot", "ec2:CreateTags", "rds:CreateDBSnapshot", "rds:CreateDBClusterSnapshot",
	"rds:AddTagsToResource", "rds:DescribeAccountAttributes", NULL
};
/* rotate.c through snapshot_ebs.c, snapshot_rds.c */
static const char *const snapshot_rotate_actions[] = {
	"ec2:DeleteSnapshot", "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot", NULL
};
/* snapshot_copy.c: copies in the destination region, rotated there */
static const char *const snapshot_copy_actions[] = {
	"ec2:CopySnapshot", "ec2:CreateTags", "rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot",
	"rds:AddTagsToResource", NULL
};
/* snapshot_restore.c */
static const char *const snapshot_restore_actions[] = {
	"ec2:CreateVolume", "ec2:CreateTags", "ec2:DescribeVolumes", "ec2:DescribeSnapshots",
	"rds:RestoreDBInstanceFromDBSnapshot", "rds:AddTagsToResource", "rds:DescribeDBInstances",
	"rds:DescribeDBSnapshots", NULL
};

/* stack_describe.c, stack_wait.c */
static const char *const stack_describe_actions[] = {
	"cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:ListStackResources",
	"cloudformation:ListStacks", "cloudformation:GetStackPolicy", NULL
};
/* stack_deploy.c (REVIEW_IN_PROGRESS recovery deletes), stack_spec.c (snapshot parameters),
 * stack_protect.c (protection and policy set by the spec) */
static const char *const stack_deploy_actions[] = {
	"cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
	"cloudformation:DeleteChangeSet", "cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection",
	"cloudformation:SetStackPolicy", "ec2:DescribeSnapshots", "rds:DescribeDBSnapshots", NULL
};
/* stack_delete.c (final snapshots through snapshot_ebs.c and snapshot_rds.c) */
static const char *const stack_delete_actions[] = {
	"cloudformation:DeleteStack", "cloudformation:UpdateTerminationProtection", "ec2:CreateSnapshot",
	"ec2:CreateTags", "ec2:DescribeSnapshots", "rds:CreateDBSnapshot", "rds:AddTagsToResource",
	"rds:DescribeDBSnapshots", NULL
};
/* stack_protect.c */
static const char *const stack_protect_actions[] = {
	"cloudformation:UpdateTerminationProtection", "cloudformation:SetStackPolicy", NULL
};
/* stack_drift.c */
static const char *const stack_drift_actions[] = {
	"cloudformation:DetectStackDrift", "cloudformation:DescribeStackDriftDetectionStatus",
	"cloudformation:DescribeStackResourceDrifts", NULL
};
/* stack_stuck.c */
static const char *const stack_fix_actions[] = {
	"cloudformation:CancelUpdateStack", "cloudformation:ContinueUpdateRollback", NULL
};
/* agents.c */
static const char *const stack_agents_actions[] = {
	"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeScheduledActions",
	"autoscaling:PutScheduledUpdateGroupAction", "autoscaling:DeleteScheduledAction",
	"autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity", NULL
};

/* alarm_apply.c (ciha_alarm_list) */
static const char *const alarm_list_actions[] = { "cloudwatch:DescribeAlarms", NULL };
/* alarm_apply.c: alarms are tagged as ours when put */
static const char *const alarm_apply_actions[] = {
	"cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:DeleteAlarms",
	"cloudwatch:ListTagsForResource", NULL
};
/* sns.c */
static const char *const alarm_subscribe_actions[] = {
	"sns:CreateTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes", NULL
};
/* alarm_drill.c through sns.c */
static const char *const alarm_drill_actions[] = { "sns:Publish", NULL };
/* probe.c */
static const char *const alarm_probe_actions[] = { "cloudwatch:PutMetricData", NULL };

/* env_plan.c */
static const char *const env_plan_actions[] = { "sns:ListTopics", "cloudformation:DeleteChangeSet", NULL };
/* env_audit.c */
static const char *const env_audit_actions[] = {
	"ec2:DescribeSecurityGroups", "cloudformation:GetTemplate", NULL
};
/* env_drill.c: scratch restores are deleted again, the recovery figures published */
static const char *const env_drill_actions[] = {
	"rds:DeleteDBInstance", "ec2:DeleteVolume", "cloudwatch:PutMetricData", NULL
};
static const char *const none[] = { NULL };

static const char *const snapshot_take_needs[] = { "snapshot:list", NULL };
static const char *const snapshot_run_needs[] = { "snapshot:take", "snapshot:rotate", NULL };
static const char *const snapshot_copy_needs[] = { "snapshot:list", "snapshot:rotate", NULL };
static const char *const stack_needs_describe[] = { "stack:describe", NULL };
static const char *const alarm_apply_needs[] = { "alarm:list", "alarm:subscribe", NULL };
static const char *const alarm_drill_needs[] = { "alarm:list", "alarm:subscribe", NULL };
static const char *const alarm_probe_needs[] = { "snapshot:list", NULL };
static const char *const probe_needs[] = { "alarm:probe", NULL };
static const char *const env_plan_needs[] = {
	"stack:describe", "stack:deploy", "snapshot:list", "alarm:list", "alarm:subscribe", "stack:agents", NULL
};
static const char *const env_apply_needs[] = { "stack", "snapshot:run", "alarm:apply", "alarm:subscribe", NULL };
static const char *const env_audit_needs[] = { "stack:describe", "snapshot:list", "alarm:list", "alarm:subscribe", NULL };
static const char *const env_drill_needs[] = { "snapshot:list", "snapshot:restore", "alarm:drill", NULL };

static const command commands[] = {
	{ "whoami", none, whoami_actions },
	{ "snapshot:list", none, snapshot_list_actions },
	{ "snapshot:take", snapshot_take_needs, snapshot_take_actions },
	{ "snapshot:rotate", snapshot_take_needs, snapshot_rotate_actions },
	{ "snapshot:run", snapshot_run_needs, none },
	{ "snapshot:copy", snapshot_copy_needs, snapshot_copy_actions },
	{ "snapshot:restore", none, snapshot_restore_actions },
	{ "stack:describe", none, stack_describe_actions },
	{ "stack:deploy", stack_needs_describe, stack_deploy_actions },
	{ "stack:delete", stack_needs_describe, stack_delete_actions },
	{ "stack:protect", stack_needs_describe, stack_protect_actions },
	{ "stack:drift", none, stack_drift_actions },
	{ "stack:fix", stack_needs_describe, stack_fix_actions },
	{ "stack:agents", none, stack_agents_actions },
	{ "alarm:list", none, alarm_list_actions },
	{ "alarm:apply", alarm_apply_needs, alarm_apply_actions },
	{ "alarm:subscribe", none, alarm_subscribe_actions },
	{ "alarm:drill", alarm_drill_needs, alarm_drill_actions },
	{ "alarm:probe", alarm_probe_needs, alarm_probe_actions },
	{ "probe", probe_needs, none },
	{ "env:plan", env_plan_needs, env_plan_actions },
	{ "env:apply", env_apply_needs, none },
	{ "env:audit", env_audit_needs, env_audit_actions },
	{ "env:drill", env_drill_needs, env_drill_actions },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The group names: "snapshot" stands for every "snapshot:..." command. */
static const char *const groups[] = { "snapshot", "stack", "alarm", "env" };
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

typedef struct {
	const char *items[MAX_ACTIONS];
	size_t n;
	unsigned char seen[NCOMMANDS];
} action_set;

static int is_action(const char *a)
{
	const char *p = a;
	while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')
		p++;
	if (p == a || *p != ':' || !*++p)
		return 0;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '*')
			return 0;
	return 1;
}

static int add_action(action_set *set, const char *action)
{
	if (!action || !is_action(action))
		return ciha__error_raise(CIHA_EINVAL, "'%s' is not an IAM action (service:Action, e.g. ec2:DescribeVolumes)",
		                         action ? action : "(null)");
	if (set->n == MAX_ACTIONS)
		return ciha__error_raise(CIHA_EINVAL, "more than %d actions", MAX_ACTIONS);
	set->items[set->n++] = action;
	return CIHA_OK;
}

static int is_group_member(const char *group, const char *name)
{
	size_t len = strlen(group);
	return strncmp(name, group, len) == 0 && name[len] == ':';
}

static int add_command(action_set *set, const char *name);

static int add_entry(action_set *set, size_t i)
{
	int rc = CIHA_OK;
	if (set->seen[i])
		return CIHA_OK;
	set->seen[i] = 1;
	for (const char *const *inc = commands[i].includes; rc == CIHA_OK && *inc; inc++)
		rc = add_command(set, *inc);
	for (const char *const *a = commands[i].actions; rc == CIHA_OK && *a; a++)
		rc = add_action(set, *a);
	return rc;
}

static int unknown_command(const char *name)
{
	return ciha__error_raise(CIHA_EINVAL, "unknown command '%s' (known: whoami, snapshot, stack, alarm, env, "
	                         "or a part such as snapshot:take; see ciha iam-policy --list)", name ? name : "(null)");
}

static int add_command(action_set *set, const char *name)
{
	int found = 0, rc = CIHA_OK;
	if (!name)
		return unknown_command(name);
	for (size_t g = 0; g < NGROUPS; g++) {
		if (strcmp(name, groups[g]) != 0)
			continue;
		for (size_t i = 0; rc == CIHA_OK && i < NCOMMANDS; i++)
			if (is_group_member(groups[g], commands[i].name)) {
				found = 1;
				rc = add_entry(set, i);
			}
	}
	for (size_t i = 0; rc == CIHA_OK && i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0) {
			found = 1;
			rc = add_entry(set, i);
		}
	return rc != CIHA_OK ? rc : found ? CIHA_OK : unknown_command(name);
}

static int compare_actions(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "cloudformation" -> "CihaCloudformation" */
static void statement_id(char *out, size_t size, const char *action)
{
	size_t n = (size_t)snprintf(out, size, "Ciha");
	for (const char *p = action; *p != ':' && n + 1 < size; p++) {
		if (!isalnum((unsigned char)*p))
			continue;
		out[n] = (char)(n == 4 ? toupper((unsigned char)*p) : *p);
		n++;
	}
	out[n] = '\0';
}

static int same_service(const char *a, const char *b)
{
	size_t la = (size_t)(strchr(a, ':') - a);
	return la == (size_t)(strchr(b, ':') - b) && strncmp(a, b, la) == 0;
}

/* One statement per service, in service order. */
static json_t *policy_document(action_set *set)
{
	json_t *statements = json_array(), *doc;
	qsort(set->items, set->n, sizeof(set->items[0]), compare_actions);
	for (size_t i = 0; statements && i < set->n;) {
		char sid[64];
		json_t *actions = json_array(), *st;
		size_t j = i;
		for (; actions && j < set->n && same_service(set->items[i], set->items[j]); j++)
			if (j == i || strcmp(set->items[j], set->items[j - 1]) != 0)
				json_array_append_new(actions, json_string(set->items[j]));
		statement_id(sid, sizeof(sid), set->items[i]);
		st = actions ? json_pack("{s:s, s:s, s:o, s:s}", "Sid", sid, "Effect", "Allow", "Action", actions,
		                         "Resource", "*") : NULL;
		if (!st || json_array_append_new(statements, st) != 0) {
			json_decref(statements);
			return NULL;
		}
		i = j;
	}
	doc = statements ? json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement", statements) : NULL;
	return doc;
}

static int render(char **out_json, action_set *set)
{
	json_t *doc;
	char *text;
	if (set->n == 0)
		return ciha__error_raise(CIHA_EINVAL, "no actions: the policy would allow nothing");
	if (!(doc = policy_document(set)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory building the policy");
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	*out_json = text ? ciha__strdup(text) : NULL;
	free(text);
	return *out_json ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory building the policy");
}

/* A policy from `items`, each added to the set by `add`. */
static int build(char **out_json, const char *const *items, size_t n, int (*add)(action_set *, const char *),
                 const char *fn)
{
	action_set *set;
	int rc = CIHA_OK;
	if (!out_json || (n && !items))
		return ciha__error_raise(CIHA_EINVAL, "%s: NULL argument", fn);
	*out_json = NULL;
	if (!(set = ciha__calloc(1, sizeof(*set))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory building the policy");
	for (size_t i = 0; rc == CIHA_OK && i < n; i++)
		rc = add(set, items[i]);
	if (rc == CIHA_OK)
		rc = render(out_json, set);
	ciha__free(set);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_iam_policy_for_actions(char **out_json, const char *const *actions, size_t n)
{
	return build(out_json, actions, n, add_action, "ciha_iam_policy_for_actions");
}

CIHA_EXTERN(ciha_result) ciha_iam_policy_for_commands(char **out_json, const char *const *names, size_t n)
{
	return build(out_json, names, n, add_command, "ciha_iam_policy_for_commands");
}

CIHA_EXTERN(const char *) ciha_iam_command_name(size_t i)
{
	if (i < NGROUPS)
		return groups[i];
	i -= NGROUPS;
	return i < NCOMMANDS ? commands[i].name : NULL;
}
