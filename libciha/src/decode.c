/* decode.c: XML results to JSON, with a botocore-style model or without one. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "crypto_int.h"
#include "decode_int.h"
#include "error_int.h"
#include "time_int.h"

#define MAX_NESTING 128

typedef struct {
	const json_t *shapes;
	int depth;
} dec_ctx;

static int nomem(void)
{
	return ciha__error_raise(CIHA_ENOMEM, "out of memory decoding XML");
}

static int bad_value(const ciha__xml_node *n, const char *what)
{
	return ciha__error_raise(CIHA_EINVAL, "element <%s>: '%s' is not %s", n->name, n->text, what);
}

/* ---- model-driven decoding ---- */

static const json_t *trait(const json_t *ref, const json_t *shape, const char *name)
{
	const json_t *v = ref ? json_object_get(ref, name) : NULL;
	return v ? v : (shape ? json_object_get(shape, name) : NULL);
}

static const char *loc_name(const json_t *ref)
{
	return json_string_value(json_object_get(ref, "locationName"));
}

static const json_t *resolve(const dec_ctx *ctx, const json_t *ref)
{
	return json_object_get(ctx->shapes, json_string_value(json_object_get(ref, "shape")));
}

static int decode_node(json_t **out, dec_ctx *ctx, const ciha__xml_node *n, const json_t *ref);

static int decode_integer(json_t **out, const ciha__xml_node *n)
{
	char *end;
	long long v;
	errno = 0;
	v = strtoll(n->text, &end, 10);
	if (errno != 0 || end == n->text || *end != '\0')
		return bad_value(n, "an integer");
	*out = json_integer((json_int_t)v);
	return *out ? CIHA_OK : nomem();
}

static int decode_float(json_t **out, const ciha__xml_node *n)
{
	char *end;
	double v;
	if (strcmp(n->text, "NaN") == 0 || strcmp(n->text, "Infinity") == 0 ||
	    strcmp(n->text, "-Infinity") == 0) {
		*out = json_string(n->text);
		return *out ? CIHA_OK : nomem();
	}
	v = strtod(n->text, &end);
	if (end == n->text || *end != '\0')
		return bad_value(n, "a number");
	*out = json_real(v);
	return *out ? CIHA_OK : nomem();
}

/* Epoch seconds: an integer when whole, else a real. */
static json_t *epoch_json(double secs)
{
	/* Only a whole number within json_int_t's range may be converted (else UB). */
	if (secs > -9.2e18 && secs < 9.2e18 && secs == (double)(json_int_t)secs)
		return json_integer((json_int_t)secs);
	return json_real(secs);
}

static int decode_timestamp(json_t **out, const ciha__xml_node *n)
{
	double secs;
	if (ciha__time_parse(n->text, &secs) != 0)
		return bad_value(n, "a timestamp");
	*out = epoch_json(secs);
	return *out ? CIHA_OK : nomem();
}

static int decode_blob(json_t **out, const ciha__xml_node *n)
{
	size_t len = 0;
	unsigned char *bytes;
	if (n->text[0] == '\0') {
		*out = json_string("");
		return *out ? CIHA_OK : nomem();
	}
	bytes = ciha__base64_decode(n->text, &len);
	if (!bytes)
		return bad_value(n, "base64");
	*out = json_stringn_nocheck((const char *)bytes, len);
	ciha__free(bytes);
	return *out ? CIHA_OK : nomem();
}

static int decode_scalar(json_t **out, const ciha__xml_node *n, const char *type)
{
	if (strcmp(type, "boolean") == 0) {
		if (strcmp(n->text, "true") != 0 && strcmp(n->text, "false") != 0)
			return bad_value(n, "a boolean");
		*out = json_boolean(strcmp(n->text, "true") == 0);
		return CIHA_OK;
	}
	if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 || strcmp(type, "short") == 0 ||
	    strcmp(type, "byte") == 0)
		return decode_integer(out, n);
	if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0)
		return decode_float(out, n);
	if (strcmp(type, "timestamp") == 0)
		return decode_timestamp(out, n);
	if (strcmp(type, "blob") == 0)
		return decode_blob(out, n);
	*out = json_string(n->text);
	return *out ? CIHA_OK : nomem();
}

/* Decode every child of `parent` named `name` with `ref` and append it to `arr`. */
static int collect_items(json_t *arr, dec_ctx *ctx, const ciha__xml_node *parent, const char *name,
                         const json_t *ref)
{
	for (size_t i = 0; i < parent->nchildren; i++) {
		json_t *item = NULL;
		int rc;
		if (strcmp(parent->children[i]->name, name) != 0)
			continue;
		rc = decode_node(&item, ctx, parent->children[i], ref);
		if (rc == CIHA_OK && json_array_append_new(arr, item) != 0)
			rc = nomem();
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

/* Non-flattened list: <Name><member|item|locationName>...</...></Name>. */
static int decode_list(json_t **out, dec_ctx *ctx, const ciha__xml_node *n, const json_t *shape)
{
	const json_t *member_ref = json_object_get(shape, "member");
	const char *item = loc_name(member_ref);
	json_t *arr = json_array();
	int rc;
	if (!arr)
		return nomem();
	rc = collect_items(arr, ctx, n, item ? item : "member", member_ref);
	if (rc != CIHA_OK) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return CIHA_OK;
}

/* One map entry: an element holding <key> and <value> (or their locationNames). */
static int decode_map_entry(json_t *map, dec_ctx *ctx, const ciha__xml_node *entry, const json_t *shape)
{
	const json_t *key_ref = json_object_get(shape, "key"), *value_ref = json_object_get(shape, "value");
	const char *key_name = loc_name(key_ref), *value_name = loc_name(value_ref);
	const ciha__xml_node *k = ciha__xml_child(entry, key_name ? key_name : "key");
	const ciha__xml_node *v = ciha__xml_child(entry, value_name ? value_name : "value");
	json_t *value = NULL;
	int rc;
	if (!k)
		return CIHA_OK;
	if (v) {
		rc = decode_node(&value, ctx, v, value_ref);
		if (rc != CIHA_OK)
			return rc;
	} else {
		value = json_null();
	}
	return json_object_set_new(map, k->text, value) == 0 ? CIHA_OK : nomem();
}

static int decode_map_entries(json_t *map, dec_ctx *ctx, const ciha__xml_node *parent, const char *name,
                              const json_t *shape)
{
	for (size_t i = 0; i < parent->nchildren; i++) {
		if (strcmp(parent->children[i]->name, name) == 0) {
			int rc = decode_map_entry(map, ctx, parent->children[i], shape);
			if (rc != CIHA_OK)
				return rc;
		}
	}
	return CIHA_OK;
}

static int count_named(const ciha__xml_node *parent, const char *name)
{
	int count = 0;
	for (size_t i = 0; i < parent->nchildren; i++)
		count += strcmp(parent->children[i]->name, name) == 0;
	return count;
}

/*
 * A flattened list or map member: its items repeat directly inside `parent`
 * under the member's wire name, or (legacy models) under the list member's
 * locationName. Sets *out to NULL when there are none (member absent).
 */
static int decode_flattened(json_t **out, dec_ctx *ctx, const ciha__xml_node *parent, const char *name,
                            const json_t *shape, int is_map)
{
	const char *fallback = is_map ? NULL : loc_name(json_object_get(shape, "member"));
	json_t *container;
	int rc;

	*out = NULL;
	if (count_named(parent, name) == 0) {
		if (!fallback || count_named(parent, fallback) == 0)
			return CIHA_OK;
		name = fallback;
	}
	container = is_map ? json_object() : json_array();
	if (!container)
		return nomem();
	if (is_map)
		rc = decode_map_entries(container, ctx, parent, name, shape);
	else
		rc = collect_items(container, ctx, parent, name, json_object_get(shape, "member"));
	if (rc != CIHA_OK) {
		json_decref(container);
		return rc;
	}
	*out = container;
	return CIHA_OK;
}

static int decode_member(json_t *obj, dec_ctx *ctx, const ciha__xml_node *n, const char *member,
                         const json_t *ref)
{
	const json_t *shape = resolve(ctx, ref);
	const char *type = json_string_value(json_object_get(shape, "type"));
	const char *name = loc_name(ref) ? loc_name(ref) : member;
	const ciha__xml_node *child;
	json_t *value = NULL;
	int rc;

	if (!type)
		return ciha__error_raise(CIHA_EINVAL, "member %s: the model has no such shape", member);
	if ((strcmp(type, "list") == 0 || strcmp(type, "map") == 0) &&
	    json_is_true(trait(ref, shape, "flattened"))) {
		rc = decode_flattened(&value, ctx, n, name, shape, strcmp(type, "map") == 0);
	} else {
		child = ciha__xml_child(n, name);
		if (!child)
			return CIHA_OK;
		rc = decode_node(&value, ctx, child, ref);
	}
	if (rc != CIHA_OK || !value)
		return rc;
	return json_object_set_new(obj, member, value) == 0 ? CIHA_OK : nomem();
}

static int decode_structure(json_t **out, dec_ctx *ctx, const ciha__xml_node *n, const json_t *shape)
{
	const char *member;
	const json_t *ref;
	json_t *obj = json_object();
	if (!obj)
		return nomem();
	json_object_foreach((json_t *)json_object_get(shape, "members"), member, ref) {
		int rc = decode_member(obj, ctx, n, member, ref);
		if (rc != CIHA_OK) {
			json_decref(obj);
			return rc;
		}
	}
	*out = obj;
	return CIHA_OK;
}

static int decode_typed(json_t **out, dec_ctx *ctx, const ciha__xml_node *n, const json_t *ref,
                        const json_t *shape, const char *type)
{
	json_t *map;
	int rc;
	if (strcmp(type, "structure") == 0)
		return decode_structure(out, ctx, n, shape);
	if (strcmp(type, "list") == 0)
		return decode_list(out, ctx, n, shape);
	if (strcmp(type, "map") == 0) {
		map = json_object();
		if (!map)
			return nomem();
		rc = decode_map_entries(map, ctx, n, "entry", shape);
		if (rc != CIHA_OK) {
			json_decref(map);
			return rc;
		}
		*out = map;
		return CIHA_OK;
	}
	(void)ref;
	return decode_scalar(out, n, type);
}

static int decode_node(json_t **out, dec_ctx *ctx, const ciha__xml_node *n, const json_t *ref)
{
	const json_t *shape = resolve(ctx, ref);
	const char *type = json_string_value(json_object_get(shape, "type"));
	int rc;
	if (!type)
		return ciha__error_raise(CIHA_EINVAL, "element <%s>: the model has no such shape", n->name);
	if (++ctx->depth > MAX_NESTING) {
		ctx->depth--;
		return ciha__error_raise(CIHA_EINVAL, "element <%s>: nested too deeply", n->name);
	}
	rc = decode_typed(out, ctx, n, ref, shape, type);
	ctx->depth--;
	return rc;
}

int ciha__decode_shape(json_t **out, const ciha__xml_node *node, const json_t *shapes,
                       const char *shape_name)
{
	dec_ctx ctx = {shapes, 0};
	json_t *ref;
	int rc;
	*out = NULL;
	if (!json_object_get(shapes, shape_name))
		return ciha__error_raise(CIHA_EINVAL, "shape '%s' is not in the model", shape_name);
	ref = json_pack("{ss}", "shape", shape_name);
	if (!ref)
		return nomem();
	rc = decode_node(out, &ctx, node, ref);
	json_decref(ref);
	return rc;
}

/* ---- schemaless decoding ---- */

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Lists whose item name is not the container name less "s"/"List"/"Set". */
static int is_known_list(const char *container, const char *item)
{
	static const struct { const char *container, *item; } lists[] = {
		{"VpcSecurityGroups", "VpcSecurityGroupMembership"},
		{"StatusInfos", "DBInstanceStatusInfo"},
		{"AssociatedRoles", "DBInstanceRole"},
		{"DBClusterOptionGroupMemberships", "DBClusterOptionGroup"},
		{"DBClusterParameterGroups", "DBClusterParameterGroup"},
		{"EventCategoriesList", "EventCategory"},
		{"SourceIdsList", "SourceId"},
		{"Subnets", "Subnet"},
		{"SupportedCharacterSets", "CharacterSet"},
		{"ValidProcessorFeatures", "AvailableProcessorFeature"},
	};
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (strcmp(lists[i].container, container) == 0 && strcmp(lists[i].item, item) == 0)
			return 1;
	return 0;
}

static int is_named_list_container(const char *container, const char *item)
{
	size_t li = strlen(item);
	if (strncmp(container, item, li) == 0) {
		const char *rest = container + li;
		if (strcmp(rest, "s") == 0 || strcmp(rest, "es") == 0 || strcmp(rest, "List") == 0 ||
		    strcmp(rest, "Set") == 0)
			return 1;
	}
	/* Policy -> Policies */
	if (li > 1 && item[li - 1] == 'y' && strncmp(container, item, li - 1) == 0 &&
	    strcmp(container + li - 1, "ies") == 0)
		return 1;
	return is_known_list(container, item);
}

static int is_array_element(const ciha__xml_node *n)
{
	const char *first;
	if (n->nchildren == 0)
		return 0;
	first = n->children[0]->name;
	for (size_t i = 1; i < n->nchildren; i++)
		if (strcmp(n->children[i]->name, first) != 0)
			return 0;
	return strcmp(first, "member") == 0 || strcmp(first, "item") == 0 ||
	       is_named_list_container(n->name, first);
}

static int schemaless_node(json_t **out, const ciha__xml_node *n, int depth);

static int schemaless_array(json_t **out, const ciha__xml_node *n, int depth)
{
	json_t *arr = json_array();
	if (!arr)
		return nomem();
	for (size_t i = 0; i < n->nchildren; i++) {
		json_t *item = NULL;
		int rc = schemaless_node(&item, n->children[i], depth + 1);
		if (rc == CIHA_OK && json_array_append_new(arr, item) != 0)
			rc = nomem();
		if (rc != CIHA_OK) {
			json_decref(arr);
			return rc;
		}
	}
	*out = arr;
	return CIHA_OK;
}

/* Add `value` under `name`; a repeated name turns the member into an array. */
static int object_add(json_t *obj, const char *name, json_t *value, int repeated)
{
	json_t *existing = json_object_get(obj, name);
	if (!repeated)
		return json_object_set_new(obj, name, value) == 0 ? CIHA_OK : nomem();
	if (!existing) {
		existing = json_array();
		if (!existing || json_object_set_new(obj, name, existing) != 0) {
			json_decref(value);
			return nomem();
		}
	}
	return json_array_append_new(existing, value) == 0 ? CIHA_OK : nomem();
}

static int schemaless_object(json_t **out, const ciha__xml_node *n, int depth)
{
	json_t *obj = json_object();
	if (!obj)
		return nomem();
	for (size_t i = 0; i < n->nchildren; i++) {
		const ciha__xml_node *child = n->children[i];
		json_t *value = NULL;
		int rc = schemaless_node(&value, child, depth + 1);
		if (rc == CIHA_OK)
			rc = object_add(obj, child->name, value, count_named(n, child->name) > 1);
		if (rc != CIHA_OK) {
			json_decref(obj);
			return rc;
		}
	}
	*out = obj;
	return CIHA_OK;
}

/* <X><entry><key>k</key><value>v</value></entry>...</X>: a query map. */
static int is_map_element(const ciha__xml_node *n)
{
	for (size_t i = 0; i < n->nchildren; i++) {
		const ciha__xml_node *c = n->children[i];
		if (strcmp(c->name, "entry") != 0 || !ciha__xml_child(c, "key") || !ciha__xml_child(c, "value"))
			return 0;
	}
	return n->nchildren > 0;
}

static int schemaless_map(json_t **out, const ciha__xml_node *n, int depth)
{
	json_t *obj = json_object();
	if (!obj)
		return nomem();
	for (size_t i = 0; i < n->nchildren; i++) {
		json_t *value = NULL;
		int rc = schemaless_node(&value, ciha__xml_child(n->children[i], "value"), depth + 1);
		if (rc == CIHA_OK && json_object_set_new(obj, ciha__xml_child(n->children[i], "key")->text, value) != 0)
			rc = nomem();
		if (rc != CIHA_OK) {
			json_decref(obj);
			return rc;
		}
	}
	*out = obj;
	return CIHA_OK;
}

/* An empty element named like a list (<volumeSet/>, <Stacks/>, <TagList/>) is an
 * empty list, not an empty string; names such as Status or Address are not lists. */
static int is_empty_list_element(const ciha__xml_node *n)
{
	const char *p;
	if (n->nchildren != 0)
		return 0;
	for (p = n->text; *p; p++)
		if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
			return 0;
	if (ends_with(n->name, "Set") || ends_with(n->name, "List"))
		return 1;
	return ends_with(n->name, "s") && !ends_with(n->name, "ss") && !ends_with(n->name, "us") &&
	       !ends_with(n->name, "is") && !ends_with(n->name, "as");
}

static int schemaless_node(json_t **out, const ciha__xml_node *n, int depth)
{
	if (depth > MAX_NESTING)
		return ciha__error_raise(CIHA_EINVAL, "element <%s>: nested too deeply", n->name);
	if (is_empty_list_element(n)) {
		*out = json_array();
		return *out ? CIHA_OK : nomem();
	}
	if (n->nchildren == 0) {
		*out = json_string(n->text);
		return *out ? CIHA_OK : nomem();
	}
	if (is_map_element(n))
		return schemaless_map(out, n, depth);
	if (is_array_element(n))
		return schemaless_array(out, n, depth);
	return schemaless_object(out, n, depth);
}

int ciha__decode_schemaless(json_t **out, const ciha__xml_node *node)
{
	*out = NULL;
	if (!node) {
		*out = json_object();
		return *out ? CIHA_OK : nomem();
	}
	return schemaless_node(out, node, 0);
}

/* ---- locating the result ---- */

static const char *find_request_id(const ciha__xml_node *root, const ciha__xml_node *result)
{
	const char *id = ciha__xml_path_text(root, "ResponseMetadata/RequestId");
	if (!id)
		id = ciha__xml_path_text(root, "requestId");
	if (!id)
		id = ciha__xml_path_text(root, "RequestId");
	if (!id)
		id = ciha__xml_path_text(root, "RequestID");
	if (!id && result)
		id = ciha__xml_path_text(result, "RequestId");
	return id;
}

static const ciha__xml_node *query_result_node(const ciha__xml_node *root, const char *action)
{
	char name[256];
	if (action && strlen(action) + sizeof("Result") <= sizeof(name)) {
		const ciha__xml_node *n;
		strcpy(name, action);
		strcat(name, "Result");
		n = ciha__xml_child(root, name);
		if (n)
			return n;
	}
	for (size_t i = 0; i < root->nchildren; i++)
		if (ends_with(root->children[i]->name, "Result"))
			return root->children[i];
	return NULL;
}

const ciha__xml_node *ciha__decode_result_node(const ciha__xml_node *root, ciha__protocol proto,
                                               const char *action, const char **request_id)
{
	const ciha__xml_node *result = NULL;
	if (root)
		result = proto == CIHA__PROTO_EC2 ? root : query_result_node(root, action);
	if (request_id)
		*request_id = root ? find_request_id(root, result) : NULL;
	return result;
}
