/* service_int.h: the services libciha speaks to, and endpoint resolution. */
#ifndef CIHA_SERVICE_INT_H
#define CIHA_SERVICE_INT_H
#include "query_int.h"
#include "config_int.h"

typedef struct {
	const char *name;           /* "cloudformation", "cloudwatch", "elbv2" ... */
	const char *version;        /* "2010-05-15" */
	ciha__protocol protocol;
	const char *endpoint_prefix;/* host prefix: "monitoring" */
	const char *signing_name;   /* "monitoring" */
	const char *env_id;         /* AWS_ENDPOINT_URL_<env_id>: "CLOUDWATCH" */
	const char *config_key;     /* [services] sub-section key: "cloudwatch" */
	int global;                 /* IAM */
	const char *token_in;       /* pagination request token: "NextToken" / "Marker" */
	const char *token_out;      /* response token element: "NextToken" / "Marker" / "NextMarker" / "nextToken" */
} ciha__service;

/* By name or alias ("monitoring" = cloudwatch, "elasticloadbalancing" = elb,
 * "elasticloadbalancingv2" = elbv2, "auto-scaling"...). NULL if unknown. */
const ciha__service *ciha__service_find(const char *name);
/* Comma-separated list of names, for messages. */
const char *ciha__service_names(void);

typedef struct {
	char *url;             /* owned: scheme://host[:port][/path] without trailing '/' */
	char *signing_region;  /* owned */
	const char *source;    /* "option", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL", "config services", "config profile", "default" */
} ciha__endpoint;

/* Resolve the endpoint of svc (aws-wire.md 7): client override, env per
 * service, env global, config services section, profile endpoint_url, then
 * the default https://prefix.region.suffix (STS regional; IAM global; cn). */
int ciha__endpoint_resolve(ciha__endpoint *out, const ciha__service *svc, const char *region,
                           const char *override_url, const ciha__aws_config *cfg);
void ciha__endpoint_dispose(ciha__endpoint *e);

/* Region: explicit, AWS_REGION, AWS_DEFAULT_REGION, profile region. NULL if none
 * (returned string borrowed from env/cfg or `explicit`). *source names where. */
const char *ciha__region_resolve(const char *explicit, const ciha__aws_config *cfg, const char **source);
#endif
