/* call.c: any action by name, parameters and result as JSON. */
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "decode_int.h"

static int call_lookup(const ciha__service **svc, const char *service, const char *action)
{
	*svc = ciha__service_find(service);
	if (!*svc)
		return ciha__error_raise(CIHA_EINVAL, "unknown service '%s' (known: %s)", service ? service : "(null)",
		                         ciha__service_names());
	if (!action || !*action)
		return ciha__error_raise(CIHA_EINVAL, "no action given for %s", (*svc)->name);
	return CIHA_OK;
}

static int call_encode(ciha__buf *body, const ciha__service *svc, const char *action, const json_t *params)
{
	if (params && !json_is_object(params))
		return ciha__error_raise(CIHA_EINVAL, "parameters of %s %s must be a JSON object", svc->name, action);
	return ciha__query_encode(body, svc->protocol, svc->name, action, svc->version, NULL, NULL, params);
}

static int call_decode(json_t **out, const ciha__xml_node *root, const ciha__service *svc, const char *action)
{
	const char *request_id = NULL;
	const ciha__xml_node *node = ciha__decode_result_node(root, svc->protocol, action, &request_id);
	int rc;
	if (!node) {
		*out = json_object();
		return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	rc = ciha__decode_schemaless(out, node);
	if (rc != CIHA_OK)
		return rc;
	if (!json_is_object(*out)) {
		/* An element with text only (e.g. an empty Result) decodes as a string. */
		json_decref(*out);
		*out = json_object();
	}
	if (svc->protocol == CIHA__PROTO_EC2)
		json_object_del(*out, "requestId");
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

int ciha__call_service(json_t **out, ciha_client *client, const ciha__service *svc, const char *action,
                       const json_t *params)
{
	ciha__buf body = CIHA__BUF_INIT;
	ciha__xml_node *root = NULL;
	int rc;

	ciha__error_reset(&client->err);
	rc = call_encode(&body, svc, action, params);
	if (rc == CIHA_OK && body.failed)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = ciha__client_send(&root, client, svc, action, ciha__buf_cstr(&body), body.len);
	ciha__buf_dispose(&body);
	if (rc == CIHA_OK)
		rc = call_decode(out, root, svc, action);
	ciha__xml_free(root);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}

CIHA_EXTERN(ciha_result) ciha_call(json_t **out, ciha_client *client, const char *service, const char *action,
                                   const json_t *params)
{
	const ciha__service *svc;
	int rc;
	if (!out || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_call: NULL argument");
	*out = NULL;
	if ((rc = call_lookup(&svc, service, action)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	return ciha__call_service(out, client, svc, action, params);
}

CIHA_EXTERN(ciha_result) ciha_call_encode(char **out, const char *service, const char *action, const json_t *params)
{
	const ciha__service *svc;
	ciha__buf body = CIHA__BUF_INIT;
	int rc;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_call_encode: NULL out");
	*out = NULL;
	if ((rc = call_lookup(&svc, service, action)) != CIHA_OK)
		return rc;
	if ((rc = call_encode(&body, svc, action, params)) != CIHA_OK) {
		ciha__buf_dispose(&body);
		return rc;
	}
	*out = ciha__buf_detach(&body);
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}
