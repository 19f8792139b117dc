/* service.c: the table of services libciha speaks to (aws-wire.md section 1). */
#define _DEFAULT_SOURCE
#include <string.h>
#include <strings.h>
#include "service_int.h"

static const ciha__service services[] = {
	{ "cloudformation", "2010-05-15", CIHA__PROTO_QUERY, "cloudformation", "cloudformation",
	  "CLOUDFORMATION", "cloudformation", 0, "NextToken", "NextToken" },
	{ "ec2", "2016-11-15", CIHA__PROTO_EC2, "ec2", "ec2", "EC2", "ec2", 0, "NextToken", "nextToken" },
	{ "rds", "2014-10-31", CIHA__PROTO_QUERY, "rds", "rds", "RDS", "rds", 0, "Marker", "Marker" },
	{ "cloudwatch", "2010-08-01", CIHA__PROTO_QUERY, "monitoring", "monitoring", "CLOUDWATCH",
	  "cloudwatch", 0, "NextToken", "NextToken" },
	{ "sns", "2010-03-31", CIHA__PROTO_QUERY, "sns", "sns", "SNS", "sns", 0, "NextToken", "NextToken" },
	{ "autoscaling", "2011-01-01", CIHA__PROTO_QUERY, "autoscaling", "autoscaling", "AUTO_SCALING",
	  "auto_scaling", 0, "NextToken", "NextToken" },
	{ "elb", "2012-06-01", CIHA__PROTO_QUERY, "elasticloadbalancing", "elasticloadbalancing",
	  "ELASTIC_LOAD_BALANCING", "elastic_load_balancing", 0, "Marker", "NextMarker" },
	{ "elbv2", "2015-12-01", CIHA__PROTO_QUERY, "elasticloadbalancing", "elasticloadbalancing",
	  "ELASTIC_LOAD_BALANCING_V2", "elastic_load_balancing_v2", 0, "Marker", "NextMarker" },
	{ "sts", "2011-06-15", CIHA__PROTO_QUERY, "sts", "sts", "STS", "sts", 0, NULL, NULL },
	{ "iam", "2010-05-08", CIHA__PROTO_QUERY, "iam", "iam", "IAM", "iam", 1, "Marker", "Marker" },
};

static const struct {
	const char *alias;
	const char *name;
} aliases[] = {
	{ "monitoring", "cloudwatch" },
	{ "cw", "cloudwatch" },
	{ "cfn", "cloudformation" },
	{ "auto-scaling", "autoscaling" },
	{ "asg", "autoscaling" },
	{ "elasticloadbalancing", "elb" },
	{ "elasticloadbalancingv2", "elbv2" },
};

const ciha__service *ciha__service_find(const char *name)
{
	size_t i;
	if (!name)
		return NULL;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			name = aliases[i].name;
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
		if (strcasecmp(name, services[i].name) == 0)
			return &services[i];
	return NULL;
}

const char *ciha__service_names(void)
{
	return "cloudformation, ec2, rds, cloudwatch, sns, autoscaling, elb, elbv2, sts, iam";
}
