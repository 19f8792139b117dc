/* iam.h: least-privilege IAM policies for what libciha does. */
#ifndef CIHA_IAM_H
#define CIHA_IAM_H

#include <stddef.h>
#include "ciha/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * An IAM policy document allowing exactly `actions` ("ec2:CreateSnapshot",
 * "cloudwatch:PutMetricAlarm", ...) on every resource: one statement per
 * service, actions sorted, duplicates dropped.
 * @param out_json receives the document (free with ciha_free()).
 * @return CIHA_OK, CIHA_EINVAL (an action not of the form service:Action, or none at all). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_iam_policy_for_actions(char **out_json, const char *const *actions, size_t n);

/**
 * The policy for ciha commands: "whoami", "snapshot" (or one of its parts
 * "snapshot:list", "snapshot:take", "snapshot:rotate", "snapshot:run",
 * "snapshot:copy", "snapshot:restore"), "stack" (and "stack:deploy",
 * "stack:describe", "stack:delete", "stack:protect", "stack:drift", "stack:fix",
 * "stack:agents"), "alarm" (and "alarm:list", "alarm:apply", "alarm:subscribe",
 * "alarm:drill", "alarm:probe"), "env" (and "env:plan", "env:apply", "env:audit",
 * "env:drill"). The actions are those libciha sends for the command, plus the
 * permissions AWS checks besides the action itself (ec2:CreateTags for tags set
 * on creation, rds:AddTagsToResource, cloudwatch:TagResource).
 * @return CIHA_OK, CIHA_EINVAL naming an unknown command. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_iam_policy_for_commands(char **out_json, const char *const *commands, size_t n);

/** @return the name of the i-th command ciha_iam_policy_for_commands() knows, or NULL past the end. Since 0.1. */
CIHA_EXTERN(const char *) ciha_iam_command_name(size_t i);

#ifdef __cplusplus
}
#endif
#endif
