/* cli_int.h: shared pieces of the ciha command. */
#ifndef CIHA_CLI_INT_H
#define CIHA_CLI_INT_H
#include <ciha.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_USAGE 2

typedef struct {
	const char *region;
	const char *profile;
	const char *endpoint_url;
	const char *ca_bundle;
	int json;
	int verbose;
	int all;
	int help;
	int argc;          /* positional arguments after the command name */
	char **argv;
} cli_args;

/* Parse global and command options out of argv, leaving positionals in args->argv.
 * Returns 0, or prints a usage error and returns CLI_EXIT_USAGE. */
int cli_parse(cli_args *args, int argc, char **argv);
/* Create a client from the global options; prints the error and returns NULL on failure. */
ciha_client *cli_client(const cli_args *args);
/* Print "ciha: error: ..." with AWS code and request id; returns CLI_EXIT_ERROR. */
int cli_fail(const ciha_error *err);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print JSON to stdout, indented, in document order. */
int cli_print_json(const json_t *value);

int cmd_whoami(const cli_args *args);
int cmd_call(const cli_args *args);
#endif
