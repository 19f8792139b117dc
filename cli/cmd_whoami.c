/* cmd_whoami.c: `ciha whoami`. */
#include <stdio.h>
#include "cli_int.h"

static void print_text(const ciha_identity *id)
{
	printf("account   %s\n", ciha_identity_account(id));
	printf("arn       %s\n", ciha_identity_arn(id));
	printf("user id   %s\n", ciha_identity_user_id(id));
	printf("provider  %s\n", ciha_identity_provider(id));
	printf("region    %s\n", ciha_identity_region(id));
	printf("endpoint  %s\n", ciha_identity_endpoint(id));
}

static int print_json(const ciha_identity *id)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "account", ciha_identity_account(id),
	                      "arn", ciha_identity_arn(id), "user_id", ciha_identity_user_id(id),
	                      "provider", ciha_identity_provider(id), "region", ciha_identity_region(id),
	                      "endpoint", ciha_identity_endpoint(id));
	int rc = o ? cli_print_json(o) : cli_usage_error("out of memory");
	json_decref(o);
	return rc;
}

int cmd_whoami(const cli_args *args)
{
	ciha_client *client;
	ciha_identity *id = NULL;
	int rc;
	if (args->argc > 0)
		return cli_usage_error("whoami takes no arguments");
	if (!(client = cli_client(args)))
		return CLI_EXIT_ERROR;
	if (ciha_client_whoami(&id, client) != CIHA_OK) {
		rc = cli_fail(ciha_client_error(client));
	} else if (args->json) {
		rc = print_json(id);
	} else {
		print_text(id);
		rc = CLI_EXIT_OK;
	}
	ciha_identity_free(id);
	ciha_client_free(client);
	return rc;
}
