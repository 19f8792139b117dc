/* cmd_call.c: `ciha call SERVICE ACTION [Name=Value | Name:=JSON ...] [--all]`. */
#include <stdio.h>
#include <string.h>
#include "cli_int.h"

/* Name=Value sets a string; Name:=JSON sets any JSON value (lists, objects, numbers). */
static int add_param(json_t *params, const char *arg)
{
	const char *eq = strchr(arg, '=');
	json_t *value;
	json_error_t jerr;
	char name[512];
	size_t n;
	int typed;

	if (!eq || eq == arg)
		return cli_usage_error("parameter '%s' is not Name=Value or Name:=JSON", arg);
	typed = eq[-1] == ':';
	n = (size_t)(eq - arg) - (typed ? 1 : 0);
	if (n == 0 || n >= sizeof(name))
		return cli_usage_error("parameter name in '%s' is empty or too long", arg);
	memcpy(name, arg, n);
	name[n] = '\0';
	if (typed) {
		value = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
		if (!value)
			return cli_usage_error("parameter %s: invalid JSON: %s", name, jerr.text);
	} else {
		value = json_string(eq + 1);
		if (!value)
			return cli_usage_error("parameter %s: value is not valid UTF-8", name);
	}
	if (json_object_set_new(params, name, value) != 0)
		return cli_usage_error("out of memory");
	return 0;
}

int cmd_call(const cli_args *args)
{
	ciha_client *client;
	json_t *params, *result = NULL;
	int i, rc;

	if (args->argc < 2)
		return cli_usage_error("usage: ciha call SERVICE ACTION [Name=Value | Name:=JSON ...] [--all]");
	params = json_object();
	if (!params)
		return cli_usage_error("out of memory");
	for (i = 2; i < args->argc; i++) {
		if ((rc = add_param(params, args->argv[i])) != 0) {
			json_decref(params);
			return rc;
		}
	}
	if (!(client = cli_client(args))) {
		json_decref(params);
		return CLI_EXIT_ERROR;
	}
	if (args->all)
		rc = ciha_call_all(&result, client, args->argv[0], args->argv[1], params);
	else
		rc = ciha_call(&result, client, args->argv[0], args->argv[1], params);
	rc = rc == CIHA_OK ? cli_print_json(result) : cli_fail(ciha_client_error(client));
	json_decref(result);
	json_decref(params);
	ciha_client_free(client);
	return rc;
}
