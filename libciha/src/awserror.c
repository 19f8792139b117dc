/* awserror.c: AWS error bodies of every shape (query, EC2, moto) and non-XML failures. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "decode_int.h"
#include "error_int.h"
#include "xml_int.h"

static const char *reason_phrase(int status)
{
	static const struct { int status; const char *phrase; } phrases[] = {
		{400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
		{405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
		{413, "Payload Too Large"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
		{501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
		{504, "Gateway Timeout"},
	};
	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (phrases[i].status == status)
			return phrases[i].phrase;
	if (status >= 500)
		return "Server Error";
	if (status >= 400)
		return "Client Error";
	return "Unexpected Response";
}

/* The <Error> element of any known envelope, or NULL. */
static const ciha__xml_node *find_error_element(const ciha__xml_node *root)
{
	const ciha__xml_node *errors;
	if (strcmp(root->name, "Error") == 0)
		return root;
	if (ciha__xml_child(root, "Error"))
		return ciha__xml_child(root, "Error");         /* query: ErrorResponse/Error */
	errors = ciha__xml_child(root, "Errors");           /* EC2 Response/Errors, moto ErrorResponse/Errors */
	return errors ? ciha__xml_child(errors, "Error") : NULL;
}

static const char *find_request_id(const ciha__xml_node *root, const ciha__xml_node *error)
{
	static const char *const paths[] = {"RequestId", "RequestID", "requestId", "ResponseMetadata/RequestId"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *id = ciha__xml_path_text(root, paths[i]);
		if (id && *id)
			return id;
		id = error ? ciha__xml_path_text(error, paths[i]) : NULL;
		if (id && *id)
			return id;
	}
	return NULL;
}

static int set_copy(char **dst, const char *src)
{
	if (!src || !*src)
		return CIHA_OK;
	*dst = ciha__strdup(src);
	return *dst ? CIHA_OK : CIHA_ENOMEM;
}

static int looks_like_xml(const char *body, size_t len)
{
	size_t i = 0;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len || body[i] != '<')
		return 0;
	/* HTML error pages from proxies and load balancers */
	return !(len - i >= 5 && (strncmp(body + i, "<html", 5) == 0 || strncmp(body + i, "<HTML", 5) == 0 ||
	                         strncmp(body + i, "<!DOC", 5) == 0 || strncmp(body + i, "<!doc", 5) == 0));
}

static int fill_from_xml(ciha__aws_error *out, const char *body, size_t len)
{
	ciha__xml_node *root = NULL;
	const ciha__xml_node *error;
	int rc;

	if (ciha__xml_parse(&root, body, len) != CIHA_OK)
		return CIHA_OK; /* malformed or truncated: the status fallback applies */
	error = find_error_element(root);
	rc = set_copy(&out->request_id, find_request_id(root, error));
	if (error && rc == CIHA_OK)
		rc = set_copy(&out->code, ciha__xml_path_text(error, "Code"));
	if (error && rc == CIHA_OK)
		rc = set_copy(&out->message, ciha__xml_path_text(error, "Message"));
	if (error && rc == CIHA_OK && !out->message)
		rc = set_copy(&out->message, ciha__xml_path_text(error, "message"));
	if (error && rc == CIHA_OK)
		rc = set_copy(&out->type, ciha__xml_path_text(error, "Type"));
	ciha__xml_free(root);
	return rc;
}

static int fill_from_status(ciha__aws_error *out, int http_status)
{
	char code[16];
	int rc = CIHA_OK;
	if (!out->code && http_status >= 300) {
		snprintf(code, sizeof(code), "%d", http_status);
		rc = set_copy(&out->code, code);
	}
	if (rc == CIHA_OK && !out->message)
		rc = set_copy(&out->message, reason_phrase(http_status));
	return rc;
}

int ciha__aws_error_parse(ciha__aws_error *out, const char *body, size_t len, int http_status)
{
	int rc = CIHA_OK;
	memset(out, 0, sizeof(*out));
	if (body && len > 0 && looks_like_xml(body, len))
		rc = fill_from_xml(out, body, len);
	if (rc == CIHA_OK)
		rc = fill_from_status(out, http_status);
	if (rc != CIHA_OK) {
		ciha__aws_error_dispose(out);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading an AWS error");
	}
	return CIHA_OK;
}

void ciha__aws_error_dispose(ciha__aws_error *e)
{
	if (!e)
		return;
	ciha__free(e->code);
	ciha__free(e->message);
	ciha__free(e->request_id);
	ciha__free(e->type);
	memset(e, 0, sizeof(*e));
}
