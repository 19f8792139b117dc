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
	/* command options, in order: name ("--keep") and value (NULL for flags) */
	int nopts;
	const char *opt_names[128];
	const char *opt_values[128];
} cli_args;

/* A command's own options: NULL-terminated lists of names taking a value and of flags. */
typedef struct {
	const char *const *valued;
	const char *const *flags;
} cli_spec;

/* Parse global and command options out of argv, leaving positionals in args->argv.
 * Returns 0, or prints a usage error and returns CLI_EXIT_USAGE. */
int cli_parse(cli_args *args, int argc, char **argv, const cli_spec *spec);
/* The first positional argument (the command name), skipping global options; NULL if none. */
const char *cli_command_name(int argc, char **argv);
/* Last value of a command option, or NULL. */
const char *cli_opt(const cli_args *args, const char *name);
/* Is a command flag set? */
int cli_flag(const cli_args *args, const char *name);
/* Parse an option's value as a non-negative int into *out (kept when absent); 0 or CLI_EXIT_USAGE. */
int cli_opt_int(const cli_args *args, const char *name, int *out);
/* Create a client from the global options; prints the error and returns NULL on failure. */
ciha_client *cli_client(const cli_args *args);
/* Print "ciha: error: ..." with AWS code and request id; returns CLI_EXIT_ERROR. */
int cli_fail(const ciha_error *err);
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole file (at most 1 MiB) as a NUL-terminated string to free(), or NULL after
 * "ciha: error: cannot read WHAT PATH" on stderr. */
char *cli_read_file(const char *path, const char *what);
/* Print JSON to stdout, indented, in document order. */
int cli_print_json(const json_t *value);

int cmd_whoami(const cli_args *args);
int cmd_call(const cli_args *args);
int cmd_snapshot(const cli_args *args);
extern const cli_spec cmd_snapshot_spec;
int cmd_stack(const cli_args *args);
extern const cli_spec cmd_stack_spec;
int cmd_env(const cli_args *args);
extern const cli_spec cmd_env_spec;
int cmd_alarm(const cli_args *args);
extern const cli_spec cmd_alarm_spec;
int cmd_probe(const cli_args *args);
extern const cli_spec cmd_probe_spec;
int cmd_pagerduty(const cli_args *args);
extern const cli_spec cmd_pagerduty_spec;
int cmd_iam(const cli_args *args);
extern const cli_spec cmd_iam_spec;
#endif
