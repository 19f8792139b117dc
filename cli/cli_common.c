/* cli_common.c: option parsing, client creation, error and JSON output. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const char *option_value(int *i, int argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name) == 0) {
		if (*i + 1 >= argc)
			return NULL;
		return argv[++*i];
	}
	return NULL;
}

static int is_option(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static const struct {
	const char *name;
	size_t offset;
} global_valued[] = {
	{ "--region", offsetof(cli_args, region) },
	{ "--profile", offsetof(cli_args, profile) },
	{ "--endpoint-url", offsetof(cli_args, endpoint_url) },
	{ "--ca-bundle", offsetof(cli_args, ca_bundle) },
};
#define NGLOBAL (sizeof(global_valued) / sizeof(global_valued[0]))

static int in_list(const char *arg, const char *const *list)
{
	for (; list && *list; list++)
		if (is_option(arg, *list))
			return 1;
	return 0;
}

const char *cli_command_name(int argc, char **argv)
{
	int i;
	size_t k;
	for (i = 0; i < argc; i++) {
		int skip = 0;
		if (argv[i][0] != '-')
			return argv[i];
		for (k = 0; k < NGLOBAL; k++)
			if (strcmp(argv[i], global_valued[k].name) == 0)
				skip = 1;
		i += skip;
	}
	return NULL;
}

static int command_option(cli_args *a, int *i, int argc, char **argv, const cli_spec *spec)
{
	const char *arg = argv[*i];
	size_t n = strcspn(arg, "=");
	if (a->nopts >= (int)(sizeof(a->opt_names) / sizeof(a->opt_names[0])))
		return cli_usage_error("too many options");
	if (spec && in_list(arg, spec->valued)) {
		const char *v = arg[n] == '=' ? arg + n + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		if (!v)
			return cli_usage_error("%.*s needs a value", (int)n, arg);
		a->opt_names[a->nopts] = arg;
		a->opt_values[a->nopts++] = v;
		return 0;
	}
	if (spec && in_list(arg, spec->flags) && arg[n] == '\0') {
		a->opt_names[a->nopts] = arg;
		a->opt_values[a->nopts++] = NULL;
		return 0;
	}
	return cli_usage_error("unknown option '%s'", arg);
}

int cli_parse(cli_args *a, int argc, char **argv, const cli_spec *spec)
{
	int i, only_positional = 0;
	size_t k;

	a->argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->argv)
		return cli_usage_error("out of memory");
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int matched = 0;
		if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
			a->argv[a->argc++] = argv[i];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_positional = 1;
			continue;
		}
		for (k = 0; k < NGLOBAL; k++) {
			if (is_option(arg, global_valued[k].name)) {
				const char *v = option_value(&i, argc, argv, global_valued[k].name);
				if (!v || !*v)
					return cli_usage_error("%s needs a value", global_valued[k].name);
				*(const char **)((char *)a + global_valued[k].offset) = v;
				matched = 1;
			}
		}
		if (matched)
			continue;
		if (strcmp(arg, "--json") == 0)
			a->json = 1;
		else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0)
			a->verbose = 1;
		else if (strcmp(arg, "--all") == 0)
			a->all = 1;
		else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
			a->help = 1;
		else if (command_option(a, &i, argc, argv, spec) != 0)
			return CLI_EXIT_USAGE;
	}
	return 0;
}

const char *cli_opt(const cli_args *a, const char *name)
{
	const char *v = NULL;
	int i;
	size_t n = strlen(name);
	for (i = 0; i < a->nopts; i++)
		if (strncmp(a->opt_names[i], name, n) == 0 && (a->opt_names[i][n] == '\0' || a->opt_names[i][n] == '='))
			v = a->opt_values[i];
	return v;
}

int cli_flag(const cli_args *a, const char *name)
{
	int i;
	for (i = 0; i < a->nopts; i++)
		if (strcmp(a->opt_names[i], name) == 0)
			return 1;
	return 0;
}

int cli_opt_int(const cli_args *a, const char *name, int *out)
{
	const char *v = cli_opt(a, name);
	char *end;
	long n;
	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < 0 || n > 1000000)
		return cli_usage_error("%s expects a non-negative integer, got '%s'", name, v);
	*out = (int)n;
	return 0;
}

static void cli_log(ciha_log_level level, const char *subsystem, const char *message, void *payload)
{
	(void)payload;
	fprintf(stderr, "ciha: %s %s: %s\n", ciha_log_level_name(level), subsystem, message);
}

ciha_client *cli_client(const cli_args *a)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *client = NULL;
	o.region = a->region;
	o.profile = a->profile;
	o.endpoint_url = a->endpoint_url;
	o.ca_bundle = a->ca_bundle;
	o.user_agent_suffix = "ciha-cli";
	if (a->verbose) {
		o.log_cb = cli_log;
		o.log_level = CIHA_LOG_TRACE;
	}
	if (ciha_client_new(&client, &o) != CIHA_OK) {
		cli_fail(ciha_error_last());
		return NULL;
	}
	return client;
}

/* The library's message usually names the AWS code and request id already; add what it lacks. */
int cli_fail(const ciha_error *err)
{
	const char *message = ciha_error_message(err);
	const char *aws_code = ciha_error_aws_code(err);
	const char *request_id = ciha_error_request_id(err);
	fprintf(stderr, "ciha: error: %s", message);
	if (aws_code && *aws_code && !strstr(message, aws_code))
		fprintf(stderr, " (AWS code %s)", aws_code);
	if (request_id && *request_id && !strstr(message, request_id))
		fprintf(stderr, " (request id %s)", request_id);
	fputc('\n', stderr);
	return CLI_EXIT_ERROR;
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("ciha: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see 'ciha --help')\n", stderr);
	return CLI_EXIT_USAGE;
}

/* Streamed to stdout: a 10,000-item result needs no second copy as one string. */
int cli_print_json(const json_t *value)
{
	if (json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) != 0)
		return cli_usage_error("cannot write the result as JSON");
	putchar('\n');
	return CLI_EXIT_OK;
}

#define CLI_MAX_FILE_BYTES (1 << 20)

char *cli_read_file(const char *path, const char *what)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int too_big = 0;
	if (f && (text = malloc(CLI_MAX_FILE_BYTES + 1)) != NULL) {
		len = fread(text, 1, CLI_MAX_FILE_BYTES + 1, f);
		too_big = len > CLI_MAX_FILE_BYTES;
		if (ferror(f) || too_big) {
			free(text);
			text = NULL;
		} else {
			text[len] = '\0';
		}
	}
	if (f)
		fclose(f);
	if (!text)
		fprintf(stderr, "ciha: error: cannot read %s %s%s\n", what, path, too_big ? " (larger than 1 MiB)" : "");
	return text;
}
