/* stack_int.h: what the stack modules share (spec, templates, waiting, events). */
#ifndef CIHA_STACK_INT_H
#define CIHA_STACK_INT_H
#include <jansson.h>
#include "ciha/stack.h"
#include "client_int.h"

typedef struct {
	char *key;
	char *value;           /* NULL with use_previous */
	int use_previous;
	char *snapshot_kind;   /* "rds"/"ebs": value resolved from the newest snapshot of snapshot_source */
	char *snapshot_source;
} ciha__stack_param;

struct ciha_stack_spec {
	char *name;
	char *template_body;
	ciha__stack_param *params;
	size_t nparams;
	char **tag_keys, **tag_values;
	size_t ntags;
	char **capabilities;
	size_t ncapabilities;
	char **notification_arns;
	size_t nnotification_arns;
	char *role_arn;
	int timeout_minutes;
	char *on_failure;
	int termination_protection;   /* -1 leave, 0 off, 1 on */
	char *policy_body;
};

/* Resolve snapshot parameters to concrete values (newest manual RDS snapshot
 * identifier / newest completed EBS snapshot id). Returns a new JSON array of
 * {"ParameterKey", "ParameterValue" | "UsePreviousValue": true} for the API. */
int ciha__stack_spec_parameters(json_t **out, ciha_client *c, const ciha_stack_spec *spec);

/* ---- templates (template.c) ---- */
/* Parse a JSON or YAML (CloudFormation short tags like !Ref, !Sub, !GetAtt become
 * {"Ref": ..}, {"Fn::Sub": ..}, {"Fn::GetAtt": [..]}) template into JSON. CIHA_EINVAL
 * with line/column on bad input. `source` names it in messages. */
int ciha__template_parse(json_t **out, const char *body, const char *source);
/* Resource types that hold data: AWS::RDS::DBInstance, AWS::RDS::DBCluster, AWS::EC2::Volume,
 * AWS::EFS::FileSystem, AWS::DynamoDB::Table, AWS::S3::Bucket, AWS::ElastiCache::*, ... */
int ciha__resource_type_is_stateful(const char *type);

/* ---- events and waiting (stack_wait.c) ---- */
/* The id of the newest event of the stack now (NULL if none or no stack): events
 * after it belong to the operation about to start. *out is ciha__malloc'd. */
int ciha__stack_last_event(char **out, ciha_client *c, const char *stack);
/* Wait like ciha_stack_wait, delivering only events newer than `after_event_id`. */
int ciha__stack_wait_since(char **out_status, ciha_client *c, const char *stack, ciha_stack_wait_kind kind,
                           const ciha_stack_wait_options *opts, const char *after_event_id);
/* Root-cause failed resources since `after_event_id`: "Db (AWS::RDS::DBInstance): reason; ..." */
int ciha__stack_failure_summary(char **out, ciha_client *c, const char *stack, const char *after_event_id);

/* ---- helpers shared by the lifecycle modules (stack_wait.c) ---- */
/* Member `key` of a decoded object as a non-empty string, or NULL. */
const char *ciha__stack_str(const json_t *o, const char *key);
/* Every resource summary of the stack (ListStackResources, all pages) as a new JSON array. */
int ciha__stack_resources(json_t **out, ciha_client *c, const char *stack);
/* CIHA_EUNSUPPORTED naming `what` unless 0 < version <= known. */
int ciha__stack_options_check(unsigned int version, unsigned int known, const char *what);
/* Case-insensitive substring test; NULL haystack never matches. */
int ciha__stack_contains_ci(const char *haystack, const char *needle);

/* The stack's description as JSON (DescribeStacks member), CIHA_ENOTFOUND when absent. */
int ciha__stack_describe_json(json_t **out, ciha_client *c, const char *stack);

/* ---- shared helpers (stack_describe.c) ---- */
/* A CloudFormation call that takes `params` (NULL: out of memory). "Stack ... does not
 * exist" (ValidationError) becomes CIHA_ENOTFOUND naming `stack`; failures are copied
 * into the client's error. `out` may be NULL. */
int ciha__stack_call(json_t **out, ciha_client *c, const char *action, json_t *params, const char *stack);
/* JSON text (indented, key order kept) of `o`, which it takes (NULL: out of memory),
 * as a new string (ciha_free). */
int ciha__stack_json_text(char **out, json_t *o);
/* CIHA_EINVAL (message starting with `what`) unless the text is a stack policy: a JSON
 * object with a "Statement" array, at most 16384 bytes (stack_protect.c). */
int ciha__stack_policy_check(const char *policy_json, const char *what);
#endif
