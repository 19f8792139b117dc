/* main.c: the ciha command: dispatch to subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_int.h"

static const struct {
	const char *name;
	int (*run)(const cli_args *args);
	const cli_spec *spec;
	const char *summary;
} commands[] = {
	{ "whoami", cmd_whoami, NULL, "show the account, ARN, credential source, region and endpoint" },
	{ "call", cmd_call, NULL, "call any action: ciha call SERVICE ACTION [Name=Value | Name:=JSON ...] [--all]" },
	{ "snapshot", cmd_snapshot, &cmd_snapshot_spec,
	  "take|run|rotate|list|copy|restore EBS and RDS snapshots under a policy (ciha snapshot --help)" },
	{ "stack", cmd_stack, &cmd_stack_spec,
	  "deploy, watch, protect, delete and recover CloudFormation stacks; agent schedules (ciha stack --help)" },
	{ "env", cmd_env, &cmd_env_spec,
	  "plan|apply|audit|drill the whole environment from one spec (ciha env --help)" },
	{ "alarm", cmd_alarm, &cmd_alarm_spec,
	  "apply|list|drill alarms wired to SNS and PagerDuty; topic, subscribe (ciha alarm --help)" },
	{ "probe", cmd_probe, &cmd_probe_spec,
	  "mounts|snapshot-age: check and publish the metrics the alarms watch, from cron (ciha probe --help)" },
	{ "pagerduty", cmd_pagerduty, &cmd_pagerduty_spec,
	  "trigger|ack|resolve a PagerDuty incident by dedup key (ciha pagerduty --help)" },
	{ "iam-policy", cmd_iam, &cmd_iam_spec,
	  "print the least-privilege IAM policy for commands: ciha iam-policy snapshot whoami [--action svc:Action]" },
};

static void print_help(void)
{
	size_t i;
	printf("usage: ciha [GLOBAL OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-9s %s\n", commands[i].name, commands[i].summary);
	printf("\nglobal options:\n"
	       "  --region REGION        AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, profile)\n"
	       "  --profile NAME         profile of ~/.aws/config and ~/.aws/credentials\n"
	       "  --endpoint-url URL     send every call to URL (e.g. a local moto server)\n"
	       "  --ca-bundle FILE       trust the CA certificates in FILE for TLS\n"
	       "  --json                 print results as JSON\n"
	       "  --verbose              trace HTTP exchanges on stderr (secrets redacted)\n"
	       "  --all                  (call) follow NextToken/Marker and merge every page\n"
	       "\nservices: cloudformation ec2 rds cloudwatch sns autoscaling elb elbv2 sts iam\n"
	       "exit status: 0 success, 1 error, 2 usage error\n");
}

int main(int argc, char **argv)
{
	cli_args args;
	const cli_spec *spec = NULL;
	const char *name;
	size_t i;
	int rc;

	memset(&args, 0, sizeof(args));
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("ciha %s\n", ciha_version());
		return CLI_EXIT_OK;
	}
	name = cli_command_name(argc - 1, argv + 1);
	for (i = 0; name && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(name, commands[i].name) == 0)
			spec = commands[i].spec;
	if ((rc = cli_parse(&args, argc - 1, argv + 1, spec)) != 0) {
		free(args.argv);
		return rc;
	}
	if ((args.help && spec == NULL) || args.argc == 0) {
		print_help();
		free(args.argv);
		return args.help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (ciha_global_init(CIHA_GLOBAL_DEFAULT) != CIHA_OK) {
		free(args.argv);
		return cli_fail(ciha_error_last());
	}
	rc = -1;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(args.argv[0], commands[i].name) == 0) {
			cli_args sub = args;
			sub.argc--;
			sub.argv++;
			rc = commands[i].run(&sub);
		}
	}
	if (rc == -1)
		rc = cli_usage_error("unknown command '%s'", args.argv[0]);
	ciha_global_cleanup();
	free(args.argv);
	return rc;
}
