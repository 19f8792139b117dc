/* xml.c: a small read-only XML tree over expat, hardened against hostile input. */
#include <string.h>
#include <expat.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "xml_int.h"

#define XML_MAX_DEPTH 256
#define NS_SEPARATOR '\x01'

typedef enum { PARSE_OK = 0, PARSE_NOMEM, PARSE_TOO_DEEP, PARSE_DOCTYPE } parse_failure;

typedef struct {
	XML_Parser parser;
	ciha__xml_node *root;
	ciha__xml_node *current;
	ciha__buf text[XML_MAX_DEPTH + 1]; /* character data of each open element */
	int depth;
	parse_failure failure;
} parse_ctx;

static void stop(parse_ctx *ctx, parse_failure why)
{
	if (ctx->failure == PARSE_OK)
		ctx->failure = why;
	XML_StopParser(ctx->parser, XML_FALSE);
}

/* "uri\x01local" -> "local"; "prefix:local" (undeclared-namespace parsers) -> "local". */
static const char *local_name(const char *name)
{
	const char *sep = strrchr(name, NS_SEPARATOR);
	if (sep)
		return sep + 1;
	sep = strrchr(name, ':');
	return sep ? sep + 1 : name;
}

static int append_child(ciha__xml_node *parent, ciha__xml_node *child)
{
	ciha__xml_node **grown = ciha__realloc(parent->children, (parent->nchildren + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	parent->children = grown;
	parent->children[parent->nchildren++] = child;
	child->parent = parent;
	return 0;
}

static ciha__xml_node *node_new(const char *name)
{
	ciha__xml_node *n = ciha__calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = ciha__strdup(name);
	if (!n->name) {
		ciha__free(n);
		return NULL;
	}
	return n;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	parse_ctx *ctx = data;
	ciha__xml_node *n;
	(void)attrs;
	if (ctx->failure != PARSE_OK)
		return;
	if (ctx->depth >= XML_MAX_DEPTH) {
		stop(ctx, PARSE_TOO_DEEP);
		return;
	}
	n = node_new(local_name(name));
	if (!n) {
		stop(ctx, PARSE_NOMEM);
		return;
	}
	if (ctx->current) {
		if (append_child(ctx->current, n) != 0) {
			ciha__xml_free(n);
			stop(ctx, PARSE_NOMEM);
			return;
		}
	} else {
		ctx->root = n;
	}
	ctx->current = n;
	ctx->depth++;
	ciha__buf_clear(&ctx->text[ctx->depth]);
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	parse_ctx *ctx = data;
	ciha__buf *text;
	(void)name;
	if (ctx->failure != PARSE_OK || !ctx->current)
		return;
	text = &ctx->text[ctx->depth];
	ctx->current->text = ciha__strndup(ciha__buf_cstr(text), text->len);
	if (!ctx->current->text || text->failed) {
		stop(ctx, PARSE_NOMEM);
		return;
	}
	ctx->current = ctx->current->parent;
	ctx->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len)
{
	parse_ctx *ctx = data;
	if (ctx->failure == PARSE_OK && ctx->depth > 0)
		ciha__buf_put(&ctx->text[ctx->depth], s, (size_t)len);
}

/* AWS never sends a DTD; refusing it rules out entity-expansion bombs and external entities. */
static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	stop(data, PARSE_DOCTYPE);
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void)name; (void)is_param; (void)value; (void)value_len;
	(void)base; (void)sysid; (void)pubid; (void)notation;
	stop(data, PARSE_DOCTYPE);
}

static int raise_parse_error(const parse_ctx *ctx)
{
	unsigned long line = (unsigned long)XML_GetCurrentLineNumber(ctx->parser);
	unsigned long col = (unsigned long)XML_GetCurrentColumnNumber(ctx->parser) + 1;
	switch (ctx->failure) {
	case PARSE_NOMEM:
		return ciha__error_raise(CIHA_ENOMEM, "out of memory parsing XML");
	case PARSE_TOO_DEEP:
		return ciha__error_raise(CIHA_EINVAL, "malformed XML at line %lu column %lu: nesting deeper than %d",
		                         line, col, XML_MAX_DEPTH);
	case PARSE_DOCTYPE:
		return ciha__error_raise(CIHA_EINVAL, "malformed XML at line %lu column %lu: DOCTYPE and entity "
		                         "declarations are refused", line, col);
	case PARSE_OK:
		break;
	}
	return ciha__error_raise(CIHA_EINVAL, "malformed XML at line %lu column %lu: %s", line, col,
	                         XML_ErrorString(XML_GetErrorCode(ctx->parser)));
}

static void ctx_dispose(parse_ctx *ctx)
{
	for (int i = 0; i <= XML_MAX_DEPTH; i++)
		ciha__buf_dispose(&ctx->text[i]);
	if (ctx->parser)
		XML_ParserFree(ctx->parser);
}

int ciha__xml_parse(ciha__xml_node **out, const char *data, size_t len)
{
	parse_ctx *ctx;
	int rc = CIHA_OK;

	*out = NULL;
	if (len > (size_t)0x7fffffff)
		return ciha__error_raise(CIHA_EINVAL, "XML document too large");
	ctx = ciha__calloc(1, sizeof(*ctx));
	if (!ctx)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory parsing XML");
	ctx->parser = XML_ParserCreateNS(NULL, NS_SEPARATOR);
	if (!ctx->parser) {
		ciha__free(ctx);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory parsing XML");
	}
	XML_SetUserData(ctx->parser, ctx);
	XML_SetElementHandler(ctx->parser, on_start, on_end);
	XML_SetCharacterDataHandler(ctx->parser, on_text);
	XML_SetStartDoctypeDeclHandler(ctx->parser, on_doctype);
	XML_SetEntityDeclHandler(ctx->parser, on_entity_decl);
	if (XML_Parse(ctx->parser, data ? data : "", (int)len, XML_TRUE) != XML_STATUS_OK ||
	    ctx->failure != PARSE_OK)
		rc = raise_parse_error(ctx);
	else if (!ctx->root)
		rc = ciha__error_raise(CIHA_EINVAL, "malformed XML at line 1 column 1: no element found");
	if (rc == CIHA_OK)
		*out = ctx->root;
	else
		ciha__xml_free(ctx->root);
	ctx_dispose(ctx);
	ciha__free(ctx);
	return rc;
}

void ciha__xml_free(ciha__xml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nchildren; i++)
		ciha__xml_free(n->children[i]);
	ciha__free(n->children);
	ciha__free(n->name);
	ciha__free(n->text);
	ciha__free(n);
}

const ciha__xml_node *ciha__xml_child(const ciha__xml_node *n, const char *name)
{
	if (!n)
		return NULL;
	for (size_t i = 0; i < n->nchildren; i++)
		if (strcmp(n->children[i]->name, name) == 0)
			return n->children[i];
	return NULL;
}

const char *ciha__xml_path_text(const ciha__xml_node *n, const char *path)
{
	char step[256];
	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		if (len >= sizeof(step))
			return NULL;
		memcpy(step, path, len);
		step[len] = '\0';
		n = ciha__xml_child(n, step);
		path += len + (slash ? 1 : 0);
	}
	return n ? (n->text ? n->text : "") : NULL;
}
