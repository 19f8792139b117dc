/* xml.c: a small read-only XML tree over expat, hardened against hostile input. */
#include <stddef.h>
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

/* Every node, name, text and child array of a document comes from its arena:
 * a list of chunks, each twice the size of the one before, freed together. */
typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	unsigned char data[];
} chunk;

/* The root node comes first so that the document is found from it. */
typedef struct {
	ciha__xml_node root;
	chunk *chunks;
} document;

#define ARENA_ALIGN sizeof(void *)   /* nodes and child arrays hold pointers and sizes only */
#define ARENA_FIRST_CHUNK 4096

typedef struct {
	XML_Parser parser;
	document *doc;
	ciha__xml_node *current;
	int depth;
	parse_failure failure;
	ciha__buf text;                     /* character data of the open elements, innermost last */
	ciha__xml_node **pending;           /* children of the open elements, innermost last */
	size_t npending, cap_pending;
	size_t text_start[XML_MAX_DEPTH + 1];
	size_t pending_start[XML_MAX_DEPTH + 1];
} parse_ctx;

static char empty_text[1];

static void *arena_alloc(document *doc, size_t n)
{
	chunk *c = doc->chunks;
	size_t size = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (!c || c->cap - c->used < size) {
		size_t cap = c ? 2 * c->cap : ARENA_FIRST_CHUNK;
		chunk *grown;
		while (cap < size)
			cap *= 2;
		grown = ciha__malloc(sizeof(chunk) + cap);
		if (!grown)
			return NULL;
		grown->next = c;
		grown->used = 0;
		grown->cap = cap;
		doc->chunks = c = grown;
	}
	c->used += size;
	return c->data + c->used - size;
}

static char *arena_strndup(document *doc, const char *s, size_t n)
{
	char *copy;
	if (n == 0)
		return empty_text;
	copy = arena_alloc(doc, n + 1);
	if (copy) {
		memcpy(copy, s, n);
		copy[n] = '\0';
	}
	return copy;
}

static void document_free(document *doc)
{
	chunk *c = doc->chunks;
	while (c) {
		chunk *next = c->next;
		ciha__free(c);
		c = next;
	}
	ciha__free(doc);
}

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

static int push_pending(parse_ctx *ctx, ciha__xml_node *n)
{
	if (ctx->npending == ctx->cap_pending) {
		size_t cap = ctx->cap_pending ? 2 * ctx->cap_pending : 64;
		ciha__xml_node **grown = ciha__realloc(ctx->pending, cap * sizeof(*grown));
		if (!grown)
			return -1;
		ctx->pending = grown;
		ctx->cap_pending = cap;
	}
	ctx->pending[ctx->npending++] = n;
	return 0;
}

static ciha__xml_node *node_new(parse_ctx *ctx, const char *name)
{
	size_t len = strlen(name);
	ciha__xml_node *n = ctx->current ? arena_alloc(ctx->doc, sizeof(*n)) : &ctx->doc->root;
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = arena_strndup(ctx->doc, name, len);
	n->parent = ctx->current;
	if (!n->name || (ctx->current && push_pending(ctx, n) != 0))
		return NULL;
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
	if (!(n = node_new(ctx, local_name(name)))) {
		stop(ctx, PARSE_NOMEM);
		return;
	}
	ctx->current = n;
	ctx->depth++;
	ctx->text_start[ctx->depth] = ctx->text.len;
	ctx->pending_start[ctx->depth] = ctx->npending;
}

/* The closing element takes its text and its children out of the stacks. */
static int finish_node(parse_ctx *ctx, ciha__xml_node *n)
{
	size_t text_at = ctx->text_start[ctx->depth], first = ctx->pending_start[ctx->depth];
	n->text = arena_strndup(ctx->doc, ctx->text.ptr ? ctx->text.ptr + text_at : "", ctx->text.len - text_at);
	n->nchildren = ctx->npending - first;
	if (n->nchildren) {
		n->children = arena_alloc(ctx->doc, n->nchildren * sizeof(*n->children));
		if (n->children)
			memcpy(n->children, ctx->pending + first, n->nchildren * sizeof(*n->children));
	}
	ctx->text.len = text_at;
	if (ctx->text.ptr)
		ctx->text.ptr[text_at] = '\0';
	ctx->npending = first;
	return n->text && (!n->nchildren || n->children) && !ctx->text.failed ? 0 : -1;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	parse_ctx *ctx = data;
	(void)name;
	if (ctx->failure != PARSE_OK || !ctx->current)
		return;
	if (finish_node(ctx, ctx->current) != 0) {
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
		ciha__buf_put(&ctx->text, s, (size_t)len);
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
	ciha__buf_dispose(&ctx->text);
	ciha__free(ctx->pending);
	if (ctx->parser)
		XML_ParserFree(ctx->parser);
}

static int ctx_init(parse_ctx *ctx)
{
	ctx->doc = ciha__calloc(1, sizeof(*ctx->doc));
	ctx->parser = ctx->doc ? XML_ParserCreateNS(NULL, NS_SEPARATOR) : NULL;
	if (!ctx->parser)
		return -1;
	XML_SetUserData(ctx->parser, ctx);
	XML_SetElementHandler(ctx->parser, on_start, on_end);
	XML_SetCharacterDataHandler(ctx->parser, on_text);
	XML_SetStartDoctypeDeclHandler(ctx->parser, on_doctype);
	XML_SetEntityDeclHandler(ctx->parser, on_entity_decl);
	return 0;
}

int ciha__xml_parse(ciha__xml_node **out, const char *data, size_t len)
{
	/* On the stack and not zeroed whole: the per-depth offsets are written
	 * when an element opens, before they are read. */
	parse_ctx ctx;
	int rc = CIHA_OK;

	*out = NULL;
	if (len > (size_t)0x7fffffff)
		return ciha__error_raise(CIHA_EINVAL, "XML document too large");
	memset(&ctx, 0, offsetof(parse_ctx, text_start));
	if (ctx_init(&ctx) != 0) {
		if (ctx.doc)
			document_free(ctx.doc);
		ctx_dispose(&ctx);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory parsing XML");
	}
	if (XML_Parse(ctx.parser, data ? data : "", (int)len, XML_TRUE) != XML_STATUS_OK || ctx.failure != PARSE_OK)
		rc = raise_parse_error(&ctx);
	else if (!ctx.doc->root.name)
		rc = ciha__error_raise(CIHA_EINVAL, "malformed XML at line 1 column 1: no element found");
	if (rc == CIHA_OK)
		*out = &ctx.doc->root;
	else
		document_free(ctx.doc);
	ctx_dispose(&ctx);
	return rc;
}

/* Frees the whole document; only a root (a node without parent) owns one. */
void ciha__xml_free(ciha__xml_node *n)
{
	if (n && !n->parent)
		document_free((document *)n);
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
