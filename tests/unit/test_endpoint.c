/* test_endpoint.c: region and endpoint resolution (aws-wire.md section 7). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "service_int.h"
#include "error_int.h"

static char tmpdir[64];

static void clear_env(void)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_AUTO_SCALING",
		"AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_STS_REGIONAL_ENDPOINTS", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", NULL };
	int i;
	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* Resolve svc's endpoint with a config file holding `config_text` (may be NULL). */
static void resolve(ciha__endpoint *ep, const char *service, const char *region, const char *override,
                    const char *config_text, int *rc)
{
	char cfg_path[128], cred_path[128];
	ciha__aws_config cfg;
	snprintf(cfg_path, sizeof(cfg_path), "%s/config", tmpdir);
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	write_file(cfg_path, config_text ? config_text : "");
	write_file(cred_path, "");
	memset(&cfg, 0, sizeof(cfg));
	*rc = ciha__aws_config_load(&cfg, NULL, cfg_path, cred_path);
	if (*rc == CIHA_OK)
		*rc = ciha__endpoint_resolve(ep, ciha__service_find(service), region, override, &cfg);
	ciha__aws_config_dispose(&cfg);
}

static void expect(const char *service, const char *region, const char *override, const char *config_text,
                   const char *url, const char *signing_region, const char *source)
{
	ciha__endpoint ep;
	int rc;
	resolve(&ep, service, region, override, config_text, &rc);
	CHECK_INT(rc, CIHA_OK);
	if (rc != CIHA_OK)
		return;
	CHECK_STR(ep.url, url);
	CHECK_STR(ep.signing_region, signing_region);
	CHECK_STR(ep.source, source);
	ciha__endpoint_dispose(&ep);
}

static void test_endpoint__defaults_per_service(void)
{
	clear_env();
	expect("cloudformation", "eu-west-1", NULL, NULL, "https://cloudformation.eu-west-1.amazonaws.com", "eu-west-1", "default");
	expect("cloudwatch", "us-east-2", NULL, NULL, "https://monitoring.us-east-2.amazonaws.com", "us-east-2", "default");
	expect("elbv2", "us-east-1", NULL, NULL, "https://elasticloadbalancing.us-east-1.amazonaws.com", "us-east-1", "default");
	expect("elb", "us-east-1", NULL, NULL, "https://elasticloadbalancing.us-east-1.amazonaws.com", "us-east-1", "default");
	expect("ec2", "cn-north-1", NULL, NULL, "https://ec2.cn-north-1.amazonaws.com.cn", "cn-north-1", "default");
	expect("rds", "eusc-de-east-1", NULL, NULL, "https://rds.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "default");
}

static void test_endpoint__sts_regional_and_global(void)
{
	clear_env();
	expect("sts", "eu-central-1", NULL, NULL, "https://sts.eu-central-1.amazonaws.com", "eu-central-1", "default");
	expect("sts", "aws-global", NULL, NULL, "https://sts.amazonaws.com", "us-east-1", "default");
	setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy", 1);
	expect("sts", "eu-west-1", NULL, NULL, "https://sts.amazonaws.com", "us-east-1", "default");
	expect("sts", "af-south-1", NULL, NULL, "https://sts.af-south-1.amazonaws.com", "af-south-1", "default");
	unsetenv("AWS_STS_REGIONAL_ENDPOINTS");
}

static void test_endpoint__iam_is_global(void)
{
	clear_env();
	expect("iam", "eu-west-1", NULL, NULL, "https://iam.amazonaws.com", "us-east-1", "default");
	expect("iam", "cn-northwest-1", NULL, NULL, "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1", "default");
	expect("iam", "us-gov-east-1", NULL, NULL, "https://iam.us-gov.amazonaws.com", "us-gov-west-1", "default");
}

static void test_endpoint__precedence(void)
{
	const char *config =
		"[default]\n"
		"endpoint_url = http://profile.example:1\n"
		"services = local\n"
		"[services local]\n"
		"ec2 =\n"
		"  endpoint_url = http://services-ec2.example:2\n"
		"auto_scaling =\n"
		"  endpoint_url = http://services-asg.example:3/\n";
	clear_env();
	expect("rds", "us-east-1", NULL, config, "http://profile.example:1", "us-east-1", "config profile");
	expect("ec2", "us-east-1", NULL, config, "http://services-ec2.example:2", "us-east-1", "config services");
	expect("autoscaling", "us-east-1", NULL, config, "http://services-asg.example:3", "us-east-1", "config services");
	setenv("AWS_ENDPOINT_URL", "http://global-env.example:4", 1);
	expect("ec2", "us-east-1", NULL, config, "http://global-env.example:4", "us-east-1", "AWS_ENDPOINT_URL");
	setenv("AWS_ENDPOINT_URL_EC2", "http://ec2-env.example:5", 1);
	expect("ec2", "us-east-1", NULL, config, "http://ec2-env.example:5", "us-east-1", "AWS_ENDPOINT_URL_<SERVICE>");
	expect("ec2", "us-east-1", "http://127.0.0.1:9/", config, "http://127.0.0.1:9", "us-east-1", "option");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	expect("ec2", "us-east-1", NULL, config, "https://ec2.us-east-1.amazonaws.com", "us-east-1", "default");
	expect("ec2", "us-east-1", "http://127.0.0.1:9", config, "http://127.0.0.1:9", "us-east-1", "option");
	clear_env();
	setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "http://elbv2.example:6", 1);
	expect("elbv2", "us-east-1", NULL, NULL, "http://elbv2.example:6", "us-east-1", "AWS_ENDPOINT_URL_<SERVICE>");
	expect("elb", "us-east-1", NULL, NULL, "https://elasticloadbalancing.us-east-1.amazonaws.com", "us-east-1", "default");
	clear_env();
}

static void test_endpoint__no_region_is_a_clear_error(void)
{
	ciha__endpoint ep;
	int rc;
	clear_env();
	resolve(&ep, "ec2", NULL, NULL, NULL, &rc);
	CHECK_INT(rc, CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "AWS_REGION") != NULL);
}

static void test_region__order(void)
{
	char cfg_path[128], cred_path[128];
	ciha__aws_config cfg;
	const char *source = NULL;
	clear_env();
	snprintf(cfg_path, sizeof(cfg_path), "%s/config", tmpdir);
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", tmpdir);
	write_file(cfg_path, "[default]\nregion = ap-south-1\n[profile dev]\nregion = sa-east-1\n");
	write_file(cred_path, "");
	memset(&cfg, 0, sizeof(cfg));
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, cfg_path, cred_path), CIHA_OK);
	CHECK_STR(ciha__region_resolve(NULL, &cfg, &source), "ap-south-1");
	CHECK_STR(source, "profile");
	setenv("AWS_DEFAULT_REGION", "eu-west-3", 1);
	CHECK_STR(ciha__region_resolve(NULL, &cfg, &source), "eu-west-3");
	CHECK_STR(source, "AWS_DEFAULT_REGION");
	setenv("AWS_REGION", "eu-north-1", 1);
	CHECK_STR(ciha__region_resolve(NULL, &cfg, &source), "eu-north-1");
	CHECK_STR(source, "AWS_REGION");
	CHECK_STR(ciha__region_resolve("us-west-2", &cfg, &source), "us-west-2");
	CHECK_STR(source, "option");
	ciha__aws_config_dispose(&cfg);
	clear_env();
	memset(&cfg, 0, sizeof(cfg));
	CHECK_INT(ciha__aws_config_load(&cfg, "dev", cfg_path, cred_path), CIHA_OK);
	CHECK_STR(ciha__region_resolve(NULL, &cfg, &source), "sa-east-1");
	ciha__aws_config_dispose(&cfg);
}

static void test_service__aliases(void)
{
	CHECK_STR(ciha__service_find("monitoring")->name, "cloudwatch");
	CHECK_STR(ciha__service_find("CloudFormation")->version, "2010-05-15");
	CHECK_STR(ciha__service_find("elasticloadbalancingv2")->version, "2015-12-01");
	CHECK_INT(ciha__service_find("ec2")->protocol, CIHA__PROTO_EC2);
	CHECK_STR(ciha__service_find("rds")->token_in, "Marker");
	CHECK_STR(ciha__service_find("elbv2")->token_out, "NextMarker");
	CHECK(ciha__service_find("s3") == NULL);
}

int main(void)
{
	char cmd[96];
	strcpy(tmpdir, "/tmp/ciha-endpoint-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(test_endpoint__defaults_per_service);
	RUN(test_endpoint__sts_regional_and_global);
	RUN(test_endpoint__iam_is_global);
	RUN(test_endpoint__precedence);
	RUN(test_endpoint__no_region_is_a_clear_error);
	RUN(test_region__order);
	RUN(test_service__aliases);
	ciha_error_clear();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return CHECK_DONE("test_endpoint");
}
