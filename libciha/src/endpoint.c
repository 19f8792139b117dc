/* endpoint.c: region and endpoint resolution (aws-wire.md section 7). */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "alloc_int.h"
#include "buf_int.h"
#include "error_int.h"
#include "service_int.h"

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

const char *ciha__region_resolve(const char *explicit, const ciha__aws_config *cfg, const char **source)
{
	const char *v;
	const char *dummy;
	if (!source)
		source = &dummy;
	if (explicit && *explicit) {
		*source = "option";
		return explicit;
	}
	if ((v = env_nonempty("AWS_REGION"))) {
		*source = "AWS_REGION";
		return v;
	}
	if ((v = env_nonempty("AWS_DEFAULT_REGION"))) {
		*source = "AWS_DEFAULT_REGION";
		return v;
	}
	if (cfg && (v = ciha__aws_config_profile_get(cfg, cfg->profile, "region")) && *v) {
		*source = "profile";
		return v;
	}
	*source = NULL;
	return NULL;
}

static const char *dns_suffix(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "amazonaws.com.cn";
	if (strncmp(region, "eusc-", 5) == 0)
		return "amazonaws.eu";
	return "amazonaws.com";
}

static int sts_legacy_global_region(const char *region)
{
	static const char *const legacy[] = { "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
		"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2", NULL };
	const char *mode = env_nonempty("AWS_STS_REGIONAL_ENDPOINTS");
	size_t i;
	if (!mode || strcasecmp(mode, "legacy") != 0)
		return 0;
	for (i = 0; legacy[i]; i++)
		if (strcmp(region, legacy[i]) == 0)
			return 1;
	return 0;
}

static int endpoint_set(ciha__endpoint *out, const char *url, const char *signing_region, const char *source)
{
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	out->url = ciha__strndup(url, n);
	out->signing_region = ciha__strdup(signing_region);
	out->source = source;
	if (!out->url || !out->signing_region) {
		ciha__endpoint_dispose(out);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	return CIHA_OK;
}

static int endpoint_default(ciha__endpoint *out, const ciha__service *svc, const char *region)
{
	ciha__buf url = CIHA__BUF_INIT;
	const char *signing_region = region;
	int rc;

	if (svc->global) {
		if (strncmp(region, "cn-", 3) == 0) {
			ciha__buf_puts(&url, "https://iam.cn-north-1.amazonaws.com.cn");
			signing_region = "cn-north-1";
		} else if (strncmp(region, "us-gov-", 7) == 0) {
			ciha__buf_puts(&url, "https://iam.us-gov.amazonaws.com");
			signing_region = "us-gov-west-1";
		} else {
			ciha__buf_puts(&url, "https://iam.amazonaws.com");
			signing_region = "us-east-1";
		}
	} else if (strcmp(svc->name, "sts") == 0 && (strcmp(region, "aws-global") == 0 || sts_legacy_global_region(region))) {
		ciha__buf_puts(&url, "https://sts.amazonaws.com");
		signing_region = "us-east-1";
	} else {
		ciha__buf_printf(&url, "https://%s.%s.%s", svc->endpoint_prefix, region, dns_suffix(region));
	}
	if (url.failed)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = endpoint_set(out, ciha__buf_cstr(&url), signing_region, "default");
	ciha__buf_dispose(&url);
	return rc;
}

static int configured_endpoints_ignored(const ciha__aws_config *cfg)
{
	if (is_true(env_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")))
		return 1;
	return cfg && is_true(ciha__aws_config_profile_get(cfg, cfg->profile, "ignore_configured_endpoint_urls"));
}

int ciha__endpoint_resolve(ciha__endpoint *out, const ciha__service *svc, const char *region,
                           const char *override_url, const ciha__aws_config *cfg)
{
	char env_name[64];
	const char *url;

	memset(out, 0, sizeof(*out));
	if (!region || !*region)
		return ciha__error_raise(CIHA_EINVAL, "no region for %s: set AWS_REGION, AWS_DEFAULT_REGION, "
		                         "the profile's region, or the client's region option", svc->name);
	if (override_url && *override_url)
		return endpoint_set(out, override_url, region, "option");
	if (!configured_endpoints_ignored(cfg)) {
		snprintf(env_name, sizeof(env_name), "AWS_ENDPOINT_URL_%s", svc->env_id);
		if ((url = env_nonempty(env_name)))
			return endpoint_set(out, url, region, "AWS_ENDPOINT_URL_<SERVICE>");
		if ((url = env_nonempty("AWS_ENDPOINT_URL")))
			return endpoint_set(out, url, region, "AWS_ENDPOINT_URL");
		if (cfg && (url = ciha__aws_config_service_endpoint(cfg, svc->config_key)) && *url)
			return endpoint_set(out, url, region, "config services");
		if (cfg && (url = ciha__aws_config_profile_get(cfg, cfg->profile, "endpoint_url")) && *url)
			return endpoint_set(out, url, region, "config profile");
	}
	return endpoint_default(out, svc, region);
}

void ciha__endpoint_dispose(ciha__endpoint *e)
{
	ciha__free(e->url);
	ciha__free(e->signing_region);
	e->url = e->signing_region = NULL;
}
