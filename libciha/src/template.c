/* template.c: CloudFormation templates (JSON, or YAML with the short-form tags)
 * as JSON; the stateful resource table, the template check and stack policies. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <yaml.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "stack_int.h"

/* CloudFormation reads at most 1 MB from S3 (TemplateURL). TemplateBody itself is
 * limited to 51,200 bytes; that limit belongs to the API call, not to parsing. */
#define TEMPLATE_MAX_BYTES (1024 * 1024)
#define YAML_MAX_DEPTH 128

/* ---- errors with positions ---------------------------------------------- */

static int raise_at(const char *source, size_t line, size_t column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int raise_at(const char *source, size_t line, size_t column, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ciha__error_raise(CIHA_EINVAL, "%s:%zu:%zu: %s", source, line, column, what);
}

/* ---- JSON ----------------------------------------------------------------- */

static int parse_json(json_t **out, const char *body, size_t len, const char *source)
{
	json_error_t err;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		return raise_at(source, (size_t)(err.line > 0 ? err.line : 1), (size_t)(err.column > 0 ? err.column : 1),
		                "%s", err.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return ciha__error_raise(CIHA_EINVAL, "%s: a template is a JSON object, not an array", source);
	}
	*out = root;
	return CIHA_OK;
}

/* ---- YAML ----------------------------------------------------------------- */

typedef struct {
	yaml_parser_t parser;
	yaml_event_t event;
	int have_event;
	const char *source;
} yaml_reader;

static int yaml_fail(const yaml_reader *r, const yaml_mark_t *m, const char *what)
{
	return raise_at(r->source, m->line + 1, m->column + 1, "%s", what);
}

static int yaml_advance(yaml_reader *r)
{
	if (r->have_event)
		yaml_event_delete(&r->event);
	r->have_event = 0;
	if (!yaml_parser_parse(&r->parser, &r->event)) {
		const yaml_parser_t *p = &r->parser;
		if (p->error == YAML_MEMORY_ERROR)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
		return raise_at(r->source, p->problem_mark.line + 1, p->problem_mark.column + 1, "%s%s%s",
		                p->problem ? p->problem : "not valid YAML", p->context ? " " : "",
		                p->context ? p->context : "");
	}
	r->have_event = 1;
	return CIHA_OK;
}

static int text_is(const char *s, size_t len, const char *a, const char *b, const char *c)
{
	return (strlen(a) == len && memcmp(s, a, len) == 0) || (strlen(b) == len && memcmp(s, b, len) == 0) ||
	       (strlen(c) == len && memcmp(s, c, len) == 0);
}

/* Decimal without a leading zero (an account id such as 012345678901 stays a string). */
static int is_decimal_integer(const char *s, size_t len)
{
	size_t i = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
	if (i == len || (s[i] == '0' && len - i > 1))
		return 0;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static json_t *integer_or_string(const char *text)
{
	long long v;
	char *end;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == ERANGE || *end)
		return json_string(text);
	return json_integer((json_int_t)v);
}

/* A float only when it prints back as written: "10.10" (a version) stays a string. */
static json_t *real_or_string(const char *text)
{
	char back[64], *end;
	double v = strtod(text, &end);
	if (*end || !strchr(text, '.'))
		return json_string(text);
	snprintf(back, sizeof(back), "%.15g", v);
	return strcmp(back, text) == 0 ? json_real(v) : json_string(text);
}

/* A plain (unquoted, untagged) scalar: null, booleans and numbers, else a string. */
static json_t *plain_scalar(const char *s, size_t len)
{
	if (len == 0 || text_is(s, len, "~", "null", "Null") || text_is(s, len, "NULL", "", ""))
		return json_null();
	if (text_is(s, len, "true", "True", "TRUE"))
		return json_true();
	if (text_is(s, len, "false", "False", "FALSE"))
		return json_false();
	if (is_decimal_integer(s, len))
		return integer_or_string(s);
	if ((s[0] >= '0' && s[0] <= '9') || ((s[0] == '-' || s[0] == '+' || s[0] == '.') && len > 1))
		return real_or_string(s);
	return json_stringn(s, len);
}

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

static int scalar_value(json_t **out, const yaml_reader *r, const char *tag)
{
	const yaml_event_t *ev = &r->event;
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	if (memchr(s, '\0', len))
		return yaml_fail(r, &ev->start_mark, "a scalar holds a NUL character");
	if (tag && strcmp(tag, YAML_TAG_PREFIX "str") != 0 && strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0)
		*out = plain_scalar(s, len);            /* !!int, !!bool, !!float, !!null */
	else if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		*out = plain_scalar(s, len);
	else
		*out = json_stringn(s, len);
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
}

static const char *const fn_tags[] = { "And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If",
	"ImportValue", "Join", "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString", "Transform", NULL };

/* !GetAtt Res.Attr (the attribute may hold dots: Db.Endpoint.Address) or !GetAtt [Res, Attr]. */
static int getatt_args(json_t **args, json_t *value, const yaml_reader *r, const yaml_mark_t *m)
{
	const char *text = json_string_value(value), *dot = text ? strchr(text, '.') : NULL;
	if (json_is_array(value)) {
		*args = json_incref(value);
		return CIHA_OK;
	}
	if (!dot || dot == text || !dot[1])
		return yaml_fail(r, m, "!GetAtt needs Resource.Attribute or [Resource, Attribute]");
	*args = json_pack("[s%, s]", text, (size_t)(dot - text), dot + 1);
	return *args ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
}

/* The long form of a short-form tag: !Ref x -> {"Ref": x}, !Sub s -> {"Fn::Sub": s}. */
static int apply_short_tag(json_t **node, const char *tag, const yaml_reader *r, const yaml_mark_t *m)
{
	char key[64], what[160];
	json_t *args = NULL, *wrapped;
	const char *name = tag + 1;
	size_t i;
	int rc = CIHA_OK;
	if (strcmp(name, "Ref") == 0 || strcmp(name, "Condition") == 0) {
		snprintf(key, sizeof(key), "%.40s", name);
		args = json_incref(*node);
	} else if (strcmp(name, "GetAtt") == 0) {
		snprintf(key, sizeof(key), "Fn::GetAtt");
		rc = getatt_args(&args, *node, r, m);
	} else {
		for (i = 0; fn_tags[i] && strcmp(fn_tags[i], name) != 0; i++)
			;
		if (!fn_tags[i]) {
			snprintf(what, sizeof(what), "unknown tag %.100s", tag);
			return yaml_fail(r, m, what);
		}
		snprintf(key, sizeof(key), "Fn::%.40s", name);
		args = json_incref(*node);
	}
	if (rc != CIHA_OK)
		return rc;
	wrapped = json_object();
	if (!wrapped || json_object_set_new(wrapped, key, args) != 0) {
		json_decref(wrapped);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
	}
	json_decref(*node);
	*node = wrapped;
	return CIHA_OK;
}

static int read_node(json_t **out, yaml_reader *r, int depth);

static int read_sequence(json_t **out, yaml_reader *r, int depth)
{
	json_t *seq = json_array(), *item = NULL;
	int rc = seq ? yaml_advance(r) : ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
	while (rc == CIHA_OK && r->event.type != YAML_SEQUENCE_END_EVENT) {
		if ((rc = read_node(&item, r, depth + 1)) != CIHA_OK)
			break;
		if (json_array_append_new(seq, item) != 0)
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
		else
			rc = yaml_advance(r);
	}
	if (rc != CIHA_OK) {
		json_decref(seq);
		return rc;
	}
	*out = seq;
	return CIHA_OK;
}

static int read_key(char **key, const yaml_reader *r, const json_t *map)
{
	const yaml_event_t *ev = &r->event;
	char what[200];
	if (ev->type != YAML_SCALAR_EVENT)
		return yaml_fail(r, &ev->start_mark, "a mapping key must be a plain string");
	*key = ciha__strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	if (!*key)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
	if (strlen(*key) != ev->data.scalar.length || json_object_get(map, *key)) {
		if (strlen(*key) != ev->data.scalar.length)
			snprintf(what, sizeof(what), "a mapping key holds a NUL character");
		else
			snprintf(what, sizeof(what), "duplicate mapping key '%.120s'", *key);
		ciha__free(*key);
		*key = NULL;
		return yaml_fail(r, &ev->start_mark, what);
	}
	return CIHA_OK;
}

static int read_mapping(json_t **out, yaml_reader *r, int depth)
{
	json_t *map = json_object(), *value = NULL;
	char *key = NULL;
	int rc = map ? yaml_advance(r) : ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
	while (rc == CIHA_OK && r->event.type != YAML_MAPPING_END_EVENT) {
		if ((rc = read_key(&key, r, map)) != CIHA_OK || (rc = yaml_advance(r)) != CIHA_OK ||
		    (rc = read_node(&value, r, depth + 1)) != CIHA_OK)
			break;
		if (json_object_set_new(map, key, value) != 0)
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", r->source);
		else
			rc = yaml_advance(r);
		ciha__free(key);
		key = NULL;
	}
	ciha__free(key);
	if (rc != CIHA_OK) {
		json_decref(map);
		return rc;
	}
	*out = map;
	return CIHA_OK;
}

/* Read the node whose first event is current; on return its last event is current. */
static int read_node(json_t **out, yaml_reader *r, int depth)
{
	const yaml_event_t *ev = &r->event;
	yaml_mark_t mark = ev->start_mark;
	const yaml_char_t *raw_tag = NULL;
	char tag[128] = "";
	int rc;
	*out = NULL;
	if (depth > YAML_MAX_DEPTH)
		return yaml_fail(r, &mark, "nested more than 128 levels deep");
	if (ev->type == YAML_SCALAR_EVENT)
		raw_tag = ev->data.scalar.tag;
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		raw_tag = ev->data.sequence_start.tag;
	else if (ev->type == YAML_MAPPING_START_EVENT)
		raw_tag = ev->data.mapping_start.tag;
	else if (ev->type == YAML_ALIAS_EVENT)
		return yaml_fail(r, &mark, "YAML aliases are not allowed in CloudFormation templates");
	else
		return yaml_fail(r, &mark, "unexpected YAML structure");
	if (raw_tag && strcmp((const char *)raw_tag, "!") != 0)
		snprintf(tag, sizeof(tag), "%s", (const char *)raw_tag);
	if (ev->type == YAML_SCALAR_EVENT)
		rc = scalar_value(out, r, *tag ? tag : NULL);
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		rc = read_sequence(out, r, depth);
	else
		rc = read_mapping(out, r, depth);
	if (rc == CIHA_OK && tag[0] == '!' && tag[1] != '!')
		rc = apply_short_tag(out, tag, r, &mark);
	if (rc != CIHA_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* Stream start, document start, the root mapping, document end, stream end. */
static int read_document(json_t **out, yaml_reader *r)
{
	json_t *root = NULL;
	int rc = yaml_advance(r);
	if (rc == CIHA_OK && r->event.type == YAML_STREAM_START_EVENT)
		rc = yaml_advance(r);
	if (rc == CIHA_OK && r->event.type != YAML_DOCUMENT_START_EVENT)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template is empty", r->source);
	if (rc == CIHA_OK)
		rc = yaml_advance(r);
	if (rc == CIHA_OK && r->event.type != YAML_MAPPING_START_EVENT)
		return yaml_fail(r, &r->event.start_mark, "a template is a mapping (Resources: ...)");
	if (rc == CIHA_OK)
		rc = read_node(&root, r, 0);
	if (rc == CIHA_OK)
		rc = yaml_advance(r);   /* document end */
	if (rc == CIHA_OK)
		rc = yaml_advance(r);
	if (rc == CIHA_OK && r->event.type != YAML_STREAM_END_EVENT)
		rc = yaml_fail(r, &r->event.start_mark, "a template is one YAML document; found another");
	if (rc != CIHA_OK) {
		json_decref(root);
		return rc;
	}
	*out = root;
	return CIHA_OK;
}

static int parse_yaml(json_t **out, const char *body, size_t len, const char *source)
{
	yaml_reader r;
	int rc;
	memset(&r, 0, sizeof(r));
	r.source = source;
	if (!yaml_parser_initialize(&r.parser))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading %s", source);
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)body, len);
	rc = read_document(out, &r);
	if (r.have_event)
		yaml_event_delete(&r.event);
	yaml_parser_delete(&r.parser);
	return rc;
}

int ciha__template_parse(json_t **out, const char *body, const char *source)
{
	size_t len, i = 0;
	*out = NULL;
	if (!source)
		source = "template";
	if (!body)
		return ciha__error_raise(CIHA_EINVAL, "%s: no template", source);
	len = strlen(body);
	if (len > TEMPLATE_MAX_BYTES)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template is %zu bytes; CloudFormation reads at most %d",
		                         source, len, TEMPLATE_MAX_BYTES);
	while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len)
		return ciha__error_raise(CIHA_EINVAL, "%s: the template is empty", source);
	if (body[i] == '{' || body[i] == '[')
		return parse_json(out, body, len, source);
	return parse_yaml(out, body, len, source);
}

/* ---- stateful resources ----------------------------------------------------- */

/*
 * Types whose loss loses data. AWS::Logs::LogGroup is left out: its data has a
 * retention period of its own and most templates create one per function, so
 * flagging it would bury the databases and volumes the check is for.
 * AWS::SQS::Queue is left out too: messages are in flight, not kept.
 */
static const struct {
	const char *type;
	int snapshot;     /* DeletionPolicy/UpdateReplacePolicy Snapshot is supported */
} stateful_types[] = {
	{ "AWS::RDS::DBInstance", 1 },
	{ "AWS::RDS::DBCluster", 1 },
	{ "AWS::EC2::Volume", 1 },
	{ "AWS::ElastiCache::CacheCluster", 1 },
	{ "AWS::ElastiCache::ReplicationGroup", 1 },
	{ "AWS::Neptune::DBCluster", 1 },
	{ "AWS::DocDB::DBCluster", 1 },
	{ "AWS::Redshift::Cluster", 1 },
	{ "AWS::EFS::FileSystem", 0 },
	{ "AWS::DynamoDB::Table", 0 },
	{ "AWS::DynamoDB::GlobalTable", 0 },
	{ "AWS::S3::Bucket", 0 },
	{ "AWS::OpenSearchService::Domain", 0 },
	{ "AWS::Elasticsearch::Domain", 0 },
	{ "AWS::FSx::FileSystem", 0 },
};

static int stateful_index(const char *type)
{
	size_t i;
	for (i = 0; type && i < sizeof(stateful_types) / sizeof(stateful_types[0]); i++)
		if (strcmp(stateful_types[i].type, type) == 0)
			return (int)i;
	return -1;
}

int ciha__resource_type_is_stateful(const char *type)
{
	return stateful_index(type) >= 0;
}

/* ---- the template check ------------------------------------------------------ */

typedef int (*stateful_fn)(json_t *into, const char *logical_id, const json_t *res, int type_index);

/* Parse the template and call fn on each stateful resource, in template order. */
static int each_stateful(const char *body, json_t *into, stateful_fn fn)
{
	json_t *root = NULL;
	const json_t *resources, *res;
	const char *logical_id;
	int rc;
	if (!into)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = ciha__template_parse(&root, body, "template")) != CIHA_OK)
		return rc;
	resources = json_object_get(root, "Resources");
	if (!json_is_object(resources))
		rc = ciha__error_raise(CIHA_EINVAL, "template: no Resources mapping");
	json_object_foreach((json_t *)resources, logical_id, res) {
		int idx = stateful_index(json_string_value(json_object_get(res, "Type")));
		if (rc == CIHA_OK && idx >= 0)
			rc = fn(into, logical_id, res, idx);
	}
	json_decref(root);
	return rc;
}

/* What is wrong with one policy attribute, appended to `problems` (nothing when it protects). */
static void policy_problem(ciha__buf *problems, const json_t *value, const char *attribute, const char *type,
                           int snapshot_ok, int default_snapshot)
{
	const char *v = json_string_value(value);
	const char *sep = problems->len ? "; " : "";
	if (v && (strcmp(v, "Retain") == 0 || (snapshot_ok && strcmp(v, "Snapshot") == 0) ||
	          (strcmp(attribute, "DeletionPolicy") == 0 && strcmp(v, "RetainExceptOnCreate") == 0)))
		return;
	if (v && strcmp(v, "Snapshot") == 0)
		ciha__buf_printf(problems, "%s%s Snapshot is not supported for %s: use Retain", sep, attribute, type);
	else if (value && !v)
		ciha__buf_printf(problems, "%s%s is not a literal value and cannot be checked", sep, attribute);
	else if (v)
		ciha__buf_printf(problems, "%s%s %s destroys the data", sep, attribute, v);
	else if (default_snapshot)
		ciha__buf_printf(problems, "%sno %s (CloudFormation's default for %s is Snapshot; say so explicitly)",
		                 sep, attribute, type);
	else
		ciha__buf_printf(problems, "%sno %s: the data is lost", sep, attribute);
	if (!default_snapshot && (!v || strcmp(v, "Snapshot") != 0))
		ciha__buf_puts(problems, snapshot_ok ? " (set Snapshot or Retain)" : " (set Retain)");
}

static json_t *policy_text(const json_t *value)
{
	char *dumped;
	json_t *text;
	if (!value)
		return json_null();
	if (json_is_string(value))
		return json_incref((json_t *)value);
	dumped = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	text = dumped ? json_string(dumped) : NULL;
	free(dumped);
	return text;
}

/* Append a finding unless the resource is protected. */
static int add_finding(json_t *findings, const char *logical_id, const json_t *res, int idx)
{
	const char *type = json_string_value(json_object_get(res, "Type"));
	const json_t *dp = json_object_get(res, "DeletionPolicy"), *urp = json_object_get(res, "UpdateReplacePolicy");
	int snapshot_ok = stateful_types[idx].snapshot;
	/* RDS snapshots by default on delete, unless the instance belongs to a cluster */
	int rds_default = strcmp(type, "AWS::RDS::DBCluster") == 0 ||
	                  (strcmp(type, "AWS::RDS::DBInstance") == 0 &&
	                   !json_object_get(json_object_get(res, "Properties"), "DBClusterIdentifier"));
	ciha__buf problems = CIHA__BUF_INIT;
	json_t *finding = NULL;
	int found;
	policy_problem(&problems, dp, "DeletionPolicy", type, snapshot_ok, rds_default);
	policy_problem(&problems, urp, "UpdateReplacePolicy", type, snapshot_ok, 0);
	if (problems.failed) {
		ciha__buf_dispose(&problems);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	found = problems.len > 0;
	if (found)
		finding = json_pack("{s:s, s:s, s:o, s:o, s:s}", "logical_id", logical_id, "type", type, "deletion_policy",
		                 policy_text(dp), "update_replace_policy", policy_text(urp), "problem",
		                 ciha__buf_cstr(&problems));
	ciha__buf_dispose(&problems);
	if (found && json_array_append_new(findings, finding) != 0)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_template_check(char **out_json, const char *template_body)
{
	json_t *findings;
	int rc;
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_template_check: out_json is NULL");
	*out_json = NULL;
	findings = json_array();
	if ((rc = each_stateful(template_body, findings, add_finding)) != CIHA_OK) {
		json_decref(findings);
		return rc;
	}
	return ciha__stack_json_text(out_json, findings);
}

/* ---- stack policies ------------------------------------------------------------- */

static int add_deny(json_t *statements, const char *logical_id, const json_t *res, int idx)
{
	char resource[300];
	(void)res;
	(void)idx;
	snprintf(resource, sizeof(resource), "LogicalResourceId/%s", logical_id);
	if (json_array_append_new(statements, json_pack("{s:s, s:[s, s], s:s, s:s}", "Effect", "Deny", "Action",
	                                                "Update:Replace", "Update:Delete", "Principal", "*", "Resource",
	                                                resource)) != 0)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_stack_policy_generate(char **out, const char *template_body)
{
	json_t *statements;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_stack_policy_generate: out is NULL");
	*out = NULL;
	statements = json_pack("[{s:s, s:s, s:s, s:s}]", "Effect", "Allow", "Action", "Update:*", "Principal", "*",
	                       "Resource", "*");
	if ((rc = each_stateful(template_body, statements, add_deny)) != CIHA_OK) {
		json_decref(statements);
		return rc;
	}
	return ciha__stack_json_text(out, json_pack("{s:o}", "Statement", statements));
}
