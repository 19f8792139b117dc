/* whoami.c: STS GetCallerIdentity plus where the keys came from. */
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"
#include "creds_int.h"

struct ciha_identity {
	char *account;
	char *arn;
	char *user_id;
	char *provider;
	char *region;
	char *endpoint;
};

static char *member_dup(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	return ciha__strdup(v ? v : "");
}

CIHA_EXTERN(ciha_result) ciha_client_whoami(ciha_identity **out, ciha_client *client)
{
	const ciha__service *sts = ciha__service_find("sts");
	ciha_credentials *creds = NULL;
	ciha_identity *id;
	json_t *result = NULL;
	char *endpoint = NULL;
	int rc;

	if (!out || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_client_whoami: NULL argument");
	*out = NULL;
	if ((rc = ciha__call_service(&result, client, sts, "GetCallerIdentity", NULL)) != CIHA_OK)
		return rc;
	if ((rc = ciha_credentials_provider_get(&creds, client->provider)) != CIHA_OK
	    || (rc = ciha_client_endpoint(&endpoint, client, "sts")) != CIHA_OK) {
		json_decref(result);
		ciha_credentials_release(creds);
		return ciha__client_fail(client, rc);
	}
	id = ciha__calloc(1, sizeof(*id));
	if (id) {
		id->account = member_dup(result, "Account");
		id->arn = member_dup(result, "Arn");
		id->user_id = member_dup(result, "UserId");
		id->provider = ciha__strdup(ciha_credentials_provider_name(creds));
		id->region = ciha__strdup(client->region);
		id->endpoint = endpoint;
		endpoint = NULL;
	}
	json_decref(result);
	ciha_credentials_release(creds);
	ciha__free(endpoint);
	if (!id || !id->account || !id->arn || !id->user_id || !id->provider || !id->region) {
		ciha_identity_free(id);
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	}
	*out = id;
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_identity_free(ciha_identity *id)
{
	if (!id)
		return;
	ciha__free(id->account);
	ciha__free(id->arn);
	ciha__free(id->user_id);
	ciha__free(id->provider);
	ciha__free(id->region);
	ciha__free(id->endpoint);
	ciha__free(id);
}

CIHA_EXTERN(const char *) ciha_identity_account(const ciha_identity *id) { return id ? id->account : NULL; }
CIHA_EXTERN(const char *) ciha_identity_arn(const ciha_identity *id) { return id ? id->arn : NULL; }
CIHA_EXTERN(const char *) ciha_identity_user_id(const ciha_identity *id) { return id ? id->user_id : NULL; }
CIHA_EXTERN(const char *) ciha_identity_provider(const ciha_identity *id) { return id ? id->provider : NULL; }
CIHA_EXTERN(const char *) ciha_identity_region(const ciha_identity *id) { return id ? id->region : NULL; }
CIHA_EXTERN(const char *) ciha_identity_endpoint(const ciha_identity *id) { return id ? id->endpoint : NULL; }
