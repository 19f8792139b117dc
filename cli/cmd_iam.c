/* cmd_iam.c: `ciha iam-policy [COMMAND...] [--action service:Action ...] [--list]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const char *const valued[] = { "--action", NULL };
static const char *const flags[] = { "--list", NULL };
const cli_spec cmd_iam_spec = { valued, flags };

static void print_help(void)
{
	size_t i;
	printf("usage: ciha iam-policy [COMMAND...] [--action service:Action ...]\n"
	       "       ciha iam-policy --list\n\n"
	       "Print a least-privilege IAM policy allowing what the commands do (and the extra\n"
	       "actions named), one statement per service. Commands:\n ");
	for (i = 0; ciha_iam_command_name(i); i++)
		printf(" %s", ciha_iam_command_name(i));
	printf("\n");
}

/* The actions of the policy `json` appended to `list` (borrowed from `doc`). */
static int collect_actions(const char **list, size_t *n, size_t cap, const json_t *doc)
{
	size_t i, j;
	const json_t *st;
	json_array_foreach(json_object_get(doc, "Statement"), i, st) {
		const json_t *a;
		json_array_foreach(json_object_get(st, "Action"), j, a) {
			if (*n == cap)
				return -1;
			list[(*n)++] = json_string_value(a);
		}
	}
	return 0;
}

/* Commands' actions plus the --action values. */
static int policy_for(char **out, const cli_args *args)
{
	const char **actions = calloc((size_t)args->nopts + 512, sizeof(*actions));
	json_t *doc = NULL;
	size_t n = 0;
	int i, rc = CIHA_OK;
	if (!actions)
		return CIHA_ENOMEM;
	if (args->argc > 0) {
		rc = ciha_iam_policy_for_commands(out, (const char *const *)args->argv, (size_t)args->argc);
		if (rc == CIHA_OK && !(doc = json_loads(*out, 0, NULL)))
			rc = CIHA_ENOMEM;
		if (rc == CIHA_OK && collect_actions(actions, &n, 512, doc) != 0)
			rc = CIHA_EINVAL;
		ciha_free(*out);
		*out = NULL;
	}
	for (i = 0; rc == CIHA_OK && i < args->nopts; i++)
		if (strcmp(args->opt_names[i], "--action") == 0)
			actions[n++] = args->opt_values[i];
	if (rc == CIHA_OK)
		rc = ciha_iam_policy_for_actions(out, actions, n);
	json_decref(doc);
	free(actions);
	return rc;
}

int cmd_iam(const cli_args *args)
{
	char *policy = NULL;
	size_t i;
	if (args->help) {
		print_help();
		return CLI_EXIT_OK;
	}
	if (cli_flag(args, "--list")) {
		for (i = 0; ciha_iam_command_name(i); i++)
			printf("%s\n", ciha_iam_command_name(i));
		return CLI_EXIT_OK;
	}
	if (args->argc == 0 && !cli_opt(args, "--action"))
		return cli_usage_error("iam-policy needs a COMMAND (see ciha iam-policy --list) or --action service:Action");
	if (policy_for(&policy, args) != CIHA_OK) {
		const ciha_error *e = ciha_error_last();
		return ciha_error_code(e) == CIHA_EINVAL ? cli_usage_error("%s", ciha_error_message(e)) : cli_fail(e);
	}
	printf("%s\n", policy);
	ciha_free(policy);
	return CLI_EXIT_OK;
}
