/* query.c: AWS query and EC2 protocol form bodies, with or without a model. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "crypto_int.h"
#include "error_int.h"
#include "query_int.h"
#include "time_int.h"

#define MAX_NESTING 64

typedef struct {
	ciha__buf *out;
	ciha__protocol proto;
	const json_t *shapes;
	int rds;
	ciha__buf key; /* the parameter path being encoded */
	int depth;
} enc_ctx;

static void default_token(char out[37])
{
	ciha__uuid4(out);
}

static void (*token_generator)(char out[37]) = default_token;

#ifdef CIHA_TESTING
void ciha__query_set_token_generator(void (*gen)(char out[37]))
{
	token_generator = gen ? gen : default_token;
}
#endif

void ciha__percent_encode(ciha__buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
			ciha__buf_putc(out, (char)c);
		} else if (c == ' ') {
			ciha__buf_putc(out, '+');
		} else {
			char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
			ciha__buf_put(out, esc, 3);
		}
	}
}

static void emit(enc_ctx *ctx, const char *value, size_t len)
{
	ciha__buf_putc(ctx->out, '&');
	ciha__percent_encode(ctx->out, ctx->key.ptr ? ctx->key.ptr : "", ctx->key.len);
	ciha__buf_putc(ctx->out, '=');
	ciha__percent_encode(ctx->out, value, len);
}

static void emit_str(enc_ctx *ctx, const char *value)
{
	emit(ctx, value, strlen(value));
}

/* Append ".name" (or "name" at the top) to the key; returns the old length. */
static size_t key_push(enc_ctx *ctx, const char *name)
{
	size_t saved = ctx->key.len;
	if (saved > 0)
		ciha__buf_putc(&ctx->key, '.');
	ciha__buf_puts(&ctx->key, name);
	return saved;
}

static size_t key_push_index(enc_ctx *ctx, size_t index)
{
	char num[24];
	snprintf(num, sizeof(num), "%zu", index);
	return key_push(ctx, num);
}

static void key_pop(enc_ctx *ctx, size_t saved)
{
	if (ctx->key.ptr && saved <= ctx->key.len) {
		ctx->key.len = saved;
		ctx->key.ptr[saved] = '\0';
	}
}

static int invalid(const enc_ctx *ctx, const char *what)
{
	return ciha__error_raise(CIHA_EINVAL, "parameter '%s': %s", ciha__buf_cstr(&ctx->key), what);
}

/* Doubles as Python's repr() prints them: shortest round-trip digits. */
static void format_double(double v, char *out, size_t size)
{
	int digits, exponent;
	char sci[40];
	for (digits = 1; digits <= 17; digits++) {
		snprintf(sci, sizeof(sci), "%.*e", digits - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	if (digits > 17)
		digits = 17;
	exponent = atoi(strchr(sci, 'e') + 1);
	if (exponent < -4 || exponent >= 16) {
		snprintf(out, size, "%s", sci);
		return;
	}
	snprintf(out, size, "%.*f", digits - 1 - exponent > 0 ? digits - 1 - exponent : 0, v);
	if (!strchr(out, '.'))
		strncat(out, ".0", size - strlen(out) - 1);
}

static int emit_number(enc_ctx *ctx, const json_t *v, int want_integer)
{
	char num[48];
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (want_integer) {
			if (d != floor(d) || fabs(d) > 9.2e18)
				return invalid(ctx, "expected an integer");
			snprintf(num, sizeof(num), "%lld", (long long)d);
		} else {
			format_double(d, num, sizeof(num));
		}
	} else {
		return invalid(ctx, want_integer ? "expected an integer" : "expected a number");
	}
	emit_str(ctx, num);
	return CIHA_OK;
}

static int is_special_float(const char *s)
{
	return strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0;
}

/* ---- model-driven encoding ---- */

/* A trait from the member reference, else from the target shape. */
static const json_t *trait(const json_t *ref, const json_t *shape, const char *name)
{
	const json_t *v = ref ? json_object_get(ref, name) : NULL;
	return v ? v : (shape ? json_object_get(shape, name) : NULL);
}

static const char *trait_str(const json_t *ref, const json_t *shape, const char *name)
{
	return json_string_value(trait(ref, shape, name));
}

static int trait_true(const json_t *ref, const json_t *shape, const char *name)
{
	return json_is_true(trait(ref, shape, name));
}

static const json_t *resolve(const enc_ctx *ctx, const json_t *ref)
{
	return json_object_get(ctx->shapes, json_string_value(json_object_get(ref, "shape")));
}

static int encode_value(enc_ctx *ctx, const json_t *ref, const json_t *value);

static int format_timestamp(enc_ctx *ctx, const char *format, const json_t *value)
{
	char text[64];
	double secs;
	time_t whole;
	struct tm tm;

	if (json_is_number(value))
		secs = json_number_value(value);
	else if (!json_is_string(value) || ciha__time_parse(json_string_value(value), &secs) != 0)
		return invalid(ctx, "expected a timestamp");
	if (!(secs > -62135596800.0 && secs < 253402300800.0)) /* years 1 to 9999; NaN fails too */
		return invalid(ctx, "timestamp out of range");
	whole = (time_t)floor(secs);
	if (format && strcmp(format, "unixTimestamp") == 0) {
		if (secs == floor(secs))
			snprintf(text, sizeof(text), "%lld", (long long)whole);
		else
			format_double(secs, text, sizeof(text));
	} else if (!gmtime_r(&whole, &tm)) {
		return invalid(ctx, "timestamp out of range");
	} else if (format && strcmp(format, "rfc822") == 0) {
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	} else {
		long micros = lround((secs - (double)whole) * 1e6);
		size_t n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
		if (micros > 0 && micros < 1000000)
			snprintf(text + n, sizeof(text) - n, ".%06ldZ", micros);
		else
			snprintf(text + n, sizeof(text) - n, "Z");
	}
	emit_str(ctx, text);
	return CIHA_OK;
}

static int encode_blob(enc_ctx *ctx, const json_t *value)
{
	char *b64;
	if (!json_is_string(value))
		return invalid(ctx, "expected a string (blob)");
	b64 = ciha__base64_encode(json_string_value(value), json_string_length(value));
	if (!b64)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory encoding '%s'", ciha__buf_cstr(&ctx->key));
	emit_str(ctx, b64);
	ciha__free(b64);
	return CIHA_OK;
}

static int encode_scalar(enc_ctx *ctx, const json_t *ref, const json_t *shape, const json_t *value)
{
	const char *type = json_string_value(json_object_get(shape, "type"));
	if (strcmp(type, "string") == 0 || strcmp(type, "character") == 0) {
		if (!json_is_string(value))
			return invalid(ctx, "expected a string");
		emit(ctx, json_string_value(value), json_string_length(value));
		return CIHA_OK;
	}
	if (strcmp(type, "boolean") == 0) {
		if (!json_is_boolean(value))
			return invalid(ctx, "expected a boolean");
		emit_str(ctx, json_is_true(value) ? "true" : "false");
		return CIHA_OK;
	}
	if (strcmp(type, "integer") == 0 || strcmp(type, "long") == 0 || strcmp(type, "short") == 0 ||
	    strcmp(type, "byte") == 0)
		return emit_number(ctx, value, 1);
	if (strcmp(type, "float") == 0 || strcmp(type, "double") == 0) {
		if (json_is_string(value) && is_special_float(json_string_value(value))) {
			emit_str(ctx, json_string_value(value));
			return CIHA_OK;
		}
		return emit_number(ctx, value, 0);
	}
	if (strcmp(type, "timestamp") == 0)
		return format_timestamp(ctx, trait_str(ref, shape, "timestampFormat"), value);
	if (strcmp(type, "blob") == 0)
		return encode_blob(ctx, value);
	return invalid(ctx, "unsupported shape type in model");
}

static void capitalise_into(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
	dst[0] = (char)toupper((unsigned char)dst[0]);
}

/* Wire name of a structure member. */
static void member_wire_name(const enc_ctx *ctx, const char *member, const json_t *ref, char *out,
                             size_t size)
{
	const char *loc = json_string_value(json_object_get(ref, "locationName"));
	const char *query_name = json_string_value(json_object_get(ref, "queryName"));
	if (ctx->proto == CIHA__PROTO_EC2) {
		if (query_name)
			snprintf(out, size, "%s", query_name);
		else
			capitalise_into(out, size, loc ? loc : member);
	} else {
		snprintf(out, size, "%s", loc ? loc : member);
	}
}

/* Query flattened lists without a name of their own take the list member's locationName. */
static const char *flattened_item_name(const enc_ctx *ctx, const json_t *ref)
{
	const json_t *shape = resolve(ctx, ref);
	const char *type = json_string_value(json_object_get(shape, "type"));
	if (ctx->proto != CIHA__PROTO_QUERY || !type || strcmp(type, "list") != 0 ||
	    !trait_true(ref, shape, "flattened") || json_object_get(ref, "locationName"))
		return NULL;
	return json_string_value(json_object_get(json_object_get(shape, "member"), "locationName"));
}

static int encode_member(enc_ctx *ctx, const char *member, const json_t *ref, const json_t *v)
{
	char name[256];
	size_t saved;
	int rc;
	if (flattened_item_name(ctx, ref))
		snprintf(name, sizeof(name), "%s", flattened_item_name(ctx, ref));
	else
		member_wire_name(ctx, member, ref, name, sizeof(name));
	saved = key_push(ctx, name);
	rc = encode_value(ctx, ref, v);
	key_pop(ctx, saved);
	return rc;
}

/* Unset idempotencyToken members get a generated UUID, after the given members. */
static int fill_idempotency_tokens(enc_ctx *ctx, const json_t *members, const json_t *value)
{
	const char *member;
	const json_t *ref;
	json_object_foreach((json_t *)members, member, ref) {
		const json_t *v = json_object_get(value, member);
		char token[37];
		json_t *generated;
		int rc;
		if ((v && !json_is_null(v)) || !json_is_true(json_object_get(ref, "idempotencyToken")))
			continue;
		token_generator(token);
		generated = json_string(token);
		if (!generated)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory encoding '%s'", member);
		rc = encode_member(ctx, member, ref, generated);
		json_decref(generated);
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

/* Members go out in the caller's order, as botocore sends them. */
static int encode_structure(enc_ctx *ctx, const json_t *shape, const json_t *value)
{
	const json_t *members = json_object_get(shape, "members");
	const char *member;
	const json_t *v;

	if (!json_is_object(value))
		return invalid(ctx, "expected an object");
	json_object_foreach((json_t *)value, member, v) {
		const json_t *ref = json_object_get(members, member);
		int rc;
		if (json_is_null(v))
			continue;
		if (!ref) {
			size_t saved = key_push(ctx, member);
			rc = invalid(ctx, "unknown parameter");
			key_pop(ctx, saved);
			return rc;
		}
		rc = encode_member(ctx, member, ref, v);
		if (rc != CIHA_OK)
			return rc;
	}
	return fill_idempotency_tokens(ctx, members, value);
}

static int encode_list(enc_ctx *ctx, const json_t *ref, const json_t *shape, const json_t *value)
{
	const json_t *member_ref = json_object_get(shape, "member");
	const char *item_name = NULL;
	size_t i, saved_item = ctx->key.len;
	const json_t *item;

	if (!json_is_array(value))
		return invalid(ctx, "expected an array");
	if (json_array_size(value) == 0) {
		if (ctx->proto == CIHA__PROTO_QUERY)
			emit(ctx, "", 0);
		return CIHA_OK;
	}
	if (ctx->proto == CIHA__PROTO_QUERY && !trait_true(ref, shape, "flattened")) {
		item_name = json_string_value(json_object_get(member_ref, "locationName"));
		saved_item = key_push(ctx, item_name ? item_name : "member");
	}
	json_array_foreach(value, i, item) {
		size_t saved = key_push_index(ctx, i + 1);
		int rc = encode_value(ctx, member_ref, item);
		key_pop(ctx, saved);
		if (rc != CIHA_OK)
			return rc;
	}
	key_pop(ctx, saved_item);
	return CIHA_OK;
}

static int encode_map(enc_ctx *ctx, const json_t *ref, const json_t *shape, const json_t *value)
{
	const json_t *key_ref = json_object_get(shape, "key"), *value_ref = json_object_get(shape, "value");
	const char *key_name = json_string_value(json_object_get(key_ref, "locationName"));
	const char *value_name = json_string_value(json_object_get(value_ref, "locationName"));
	int flattened = trait_true(ref, shape, "flattened");
	const char *k;
	const json_t *v;
	size_t n = 0;

	if (!json_is_object(value))
		return invalid(ctx, "expected an object (map)");
	json_object_foreach((json_t *)value, k, v) {
		size_t saved = flattened ? ctx->key.len : key_push(ctx, "entry");
		size_t entry;
		int rc;
		key_push_index(ctx, ++n);
		entry = key_push(ctx, key_name ? key_name : "key");
		emit_str(ctx, k);
		key_pop(ctx, entry);
		key_push(ctx, value_name ? value_name : "value");
		rc = encode_value(ctx, value_ref, v);
		key_pop(ctx, saved);
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int encode_value(enc_ctx *ctx, const json_t *ref, const json_t *value)
{
	const json_t *shape = resolve(ctx, ref);
	const char *type = json_string_value(json_object_get(shape, "type"));
	int rc;

	if (!type)
		return invalid(ctx, "the model has no such shape");
	if (++ctx->depth > MAX_NESTING) {
		ctx->depth--;
		return invalid(ctx, "nested too deeply");
	}
	if (strcmp(type, "structure") == 0)
		rc = encode_structure(ctx, shape, value);
	else if (strcmp(type, "list") == 0)
		rc = encode_list(ctx, ref, shape, value);
	else if (strcmp(type, "map") == 0)
		rc = encode_map(ctx, ref, shape, value);
	else
		rc = encode_scalar(ctx, ref, shape, value);
	ctx->depth--;
	return rc;
}

/* ---- schemaless encoding (rules in ciha/call.h) ---- */

const char *ciha__query_rds_member_name(const char *list_name)
{
	static const struct { const char *list, *member; } names[] = {
		{"AvailabilityZones", "AvailabilityZone"},
		{"DBSecurityGroupMemberships", "DBSecurityGroupName"},
		{"DBSecurityGroups", "DBSecurityGroupName"},
		{"EventCategories", "EventCategory"},
		{"Filters", "Filter"},
		{"OptionSettings", "OptionSetting"},
		{"OptionsToInclude", "OptionConfiguration"},
		{"Parameters", "Parameter"},
		{"ProcessorFeatures", "ProcessorFeature"},
		{"SourceIds", "SourceId"},
		{"SubnetIds", "SubnetIdentifier"},
		{"TagSpecifications", "item"},
		{"Tags", "Tag"},
		{"Values", "Value"},
		{"ValuesToAdd", "AttributeValue"},
		{"ValuesToRemove", "AttributeValue"},
		{"VpcSecurityGroupIds", "VpcSecurityGroupId"},
		{"VpcSecurityGroupMemberships", "VpcSecurityGroupId"},
	};
	if (!list_name)
		return NULL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].list, list_name) == 0)
			return names[i].member;
	return NULL;
}

static int encode_free(enc_ctx *ctx, const json_t *value);

/* The last dotted component of the current key: the list's own name. */
static const char *key_last_component(const enc_ctx *ctx)
{
	const char *key = ciha__buf_cstr(&ctx->key), *dot = strrchr(key, '.');
	return dot ? dot + 1 : key;
}

static int encode_free_array(enc_ctx *ctx, const json_t *value)
{
	const char *item_name = NULL;
	const char *list_name = key_last_component(ctx);
	size_t i, saved_item = ctx->key.len;
	const json_t *item;

	if (json_array_size(value) == 0) {
		if (ctx->proto == CIHA__PROTO_QUERY)
			emit(ctx, "", 0);
		return CIHA_OK;
	}
	/* A map spelled as {"Attributes": {"entry": [{"key": k, "value": v}]}} is sent as entry.N. */
	if (ctx->proto == CIHA__PROTO_QUERY && strcmp(list_name, "entry") != 0) {
		item_name = ctx->rds ? ciha__query_rds_member_name(list_name) : NULL;
		saved_item = key_push(ctx, item_name ? item_name : "member");
	}
	json_array_foreach(value, i, item) {
		size_t saved = key_push_index(ctx, i + 1);
		int rc = encode_free(ctx, item);
		key_pop(ctx, saved);
		if (rc != CIHA_OK)
			return rc;
	}
	key_pop(ctx, saved_item);
	return CIHA_OK;
}

static int encode_free_object(enc_ctx *ctx, const json_t *value)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)value, k, v) {
		size_t saved;
		int rc;
		if (*k == '\0')
			return invalid(ctx, "empty member name");
		saved = key_push(ctx, k);
		rc = encode_free(ctx, v);
		key_pop(ctx, saved);
		if (rc != CIHA_OK)
			return rc;
	}
	return CIHA_OK;
}

static int encode_free(enc_ctx *ctx, const json_t *value)
{
	int rc = CIHA_OK;
	if (++ctx->depth > MAX_NESTING) {
		ctx->depth--;
		return invalid(ctx, "nested too deeply");
	}
	switch (json_typeof(value)) {
	case JSON_NULL:
		break;
	case JSON_OBJECT:
		rc = encode_free_object(ctx, value);
		break;
	case JSON_ARRAY:
		rc = encode_free_array(ctx, value);
		break;
	case JSON_STRING:
		emit(ctx, json_string_value(value), json_string_length(value));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		emit_str(ctx, json_is_true(value) ? "true" : "false");
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		rc = emit_number(ctx, value, 0);
		break;
	}
	ctx->depth--;
	return rc;
}

int ciha__query_encode(ciha__buf *out, ciha__protocol proto, const char *service,
                       const char *action, const char *version,
                       const json_t *shapes, const char *input_shape, const json_t *params)
{
	enc_ctx ctx;
	int rc = CIHA_OK;

	if (!action || !*action || !version || !*version)
		return ciha__error_raise(CIHA_EINVAL, "query request needs an action and a version");
	if (params && !json_is_object(params))
		return ciha__error_raise(CIHA_EINVAL, "parameters of %s must be a JSON object", action);
	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	ctx.proto = proto;
	ctx.shapes = shapes;
	ctx.rds = service && strcmp(service, "rds") == 0;
	ciha__buf_puts(out, "Action=");
	ciha__percent_encode(out, action, strlen(action));
	ciha__buf_puts(out, "&Version=");
	ciha__percent_encode(out, version, strlen(version));
	if (shapes && input_shape) {
		json_t *ref = json_pack("{ss}", "shape", input_shape);
		json_t *empty = params ? NULL : json_object();
		if (!ref || (!params && !empty))
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory encoding %s", action);
		else if (!json_object_get(shapes, input_shape))
			rc = ciha__error_raise(CIHA_EINVAL, "input shape '%s' of %s is not in the model",
			                       input_shape, action);
		else
			rc = encode_value(&ctx, ref, params ? params : empty);
		json_decref(ref);
		json_decref(empty);
	} else if (params) {
		rc = encode_free(&ctx, params);
	}
	if (rc == CIHA_OK && (out->failed || ctx.key.failed))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory encoding %s", action);
	ciha__buf_dispose(&ctx.key);
	return rc;
}
