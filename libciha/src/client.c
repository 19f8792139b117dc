/* client.c: creating a client from versioned options. */
#include <stdio.h>
#include <string.h>
#include "alloc_int.h"
#include "client_int.h"
#include "creds_int.h"

CIHA_EXTERN(ciha_result) ciha_client_options_init(ciha_client_options *opts, unsigned int version)
{
	static const ciha_client_options defaults = CIHA_CLIENT_OPTIONS_INIT;
	if (!opts)
		return ciha__error_raise(CIHA_EINVAL, "ciha_client_options_init: NULL options");
	if (version == 0 || version > CIHA_CLIENT_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "client options version %u is not supported by libciha %s "
		                         "(it knows up to %d)", version, CIHA_VERSION_STRING, CIHA_CLIENT_OPTIONS_VERSION);
	*opts = defaults;
	opts->version = version;
	return CIHA_OK;
}

static int client_check_options(const ciha_client_options *o)
{
	if (o->version == 0 || o->version > CIHA_CLIENT_OPTIONS_VERSION)
		return ciha__error_raise(CIHA_EUNSUPPORTED, "client options version %u is not supported by libciha %s "
		                         "(it knows up to %d); initialise with CIHA_CLIENT_OPTIONS_INIT",
		                         o->version, CIHA_VERSION_STRING, CIHA_CLIENT_OPTIONS_VERSION);
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0)
		return ciha__error_raise(CIHA_EINVAL, "timeouts must not be negative");
	if (o->max_attempts < 0)
		return ciha__error_raise(CIHA_EINVAL, "max_attempts must not be negative (0 means the default)");
	if (o->endpoint_url && *o->endpoint_url && strncmp(o->endpoint_url, "http://", 7) != 0
	    && strncmp(o->endpoint_url, "https://", 8) != 0)
		return ciha__error_raise(CIHA_EINVAL, "endpoint_url '%s' must start with http:// or https://",
		                         o->endpoint_url);
	return CIHA_OK;
}

static int client_setup_credentials(ciha_client *c, const ciha_client_options *o)
{
	ciha_credentials_options co = CIHA_CREDENTIALS_OPTIONS_INIT;
	if (o->credentials) {
		c->provider = ciha_credentials_provider_acquire(o->credentials);
		return CIHA_OK;
	}
	co.profile = o->profile;
	co.config_file = o->config_file;
	co.credentials_file = o->credentials_file;
	co.region = c->region;
	co.log_cb = c->logger.cb;
	co.log_payload = c->logger.payload;
	co.log_level = c->logger.level;
	co.ca_bundle = o->ca_bundle;
	return ciha_credentials_provider_new_default(&c->provider, &co);
}

static int client_setup(ciha_client *c, const ciha_client_options *o)
{
	const char *region;
	const char *profile_attempts, *profile_mode;
	ciha__buf ua = CIHA__BUF_INIT;
	int rc;

	ciha__logger_init(&c->logger, o->log_cb, o->log_payload, o->log_level);
	if ((rc = ciha__aws_config_load(&c->config, o->profile, o->config_file, o->credentials_file)) != CIHA_OK)
		return rc;
	region = ciha__region_resolve(o->region, &c->config, &c->region_source);
	if (!region)
		return ciha__error_raise(CIHA_EINVAL, "no region: tried the region option, AWS_REGION, AWS_DEFAULT_REGION "
		                         "and 'region' of profile '%s' in %s", c->config.profile,
		                         c->config.config_path ? c->config.config_path : "the config file");
	c->region = ciha__strdup(region);
	c->endpoint_override = ciha__strdup(o->endpoint_url && *o->endpoint_url ? o->endpoint_url : NULL);
	c->ca_bundle = ciha__strdup(o->ca_bundle);
	c->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
	profile_attempts = ciha__aws_config_profile_get(&c->config, c->config.profile, "max_attempts");
	profile_mode = ciha__aws_config_profile_get(&c->config, c->config.profile, "retry_mode");
	rc = ciha__retry_policy_resolve(&c->retry, o->max_attempts, o->retry_mode, profile_attempts, profile_mode);
	if (rc != CIHA_OK)
		return rc;
	ciha__retry_quota_init(&c->quota);
	ciha__buf_printf(&ua, "libciha/%s", CIHA_VERSION_STRING);
	if (o->user_agent_suffix && *o->user_agent_suffix)
		ciha__buf_printf(&ua, " %s", o->user_agent_suffix);
	c->user_agent = ciha__buf_detach(&ua);
	if (!c->region || !c->user_agent)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = client_setup_credentials(c, o)) != CIHA_OK)
		return rc;
	if ((rc = ciha__http_new(&c->http, &c->logger)) != CIHA_OK)
		return rc;
	ciha__log(&c->logger, CIHA_LOG_DEBUG, "client", "region %s (from %s), profile %s, %d attempts",
	          c->region, c->region_source, c->config.profile, c->retry.max_attempts);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_client_new(ciha_client **out, const ciha_client_options *opts)
{
	static const ciha_client_options defaults = CIHA_CLIENT_OPTIONS_INIT;
	ciha_client *c;
	int rc;

	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_client_new: NULL out");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if ((rc = client_check_options(opts)) != CIHA_OK)
		return rc;
	c = ciha__calloc(1, sizeof(*c));
	if (!c)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = client_setup(c, opts)) != CIHA_OK) {
		ciha_client_free(c);
		return rc;
	}
	*out = c;
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_client_free(ciha_client *c)
{
	if (!c)
		return;
	ciha__http_free(c->http);
	ciha_credentials_provider_release(c->provider);
	ciha__sigv4_key_cache_wipe(&c->sigv4_keys);
	ciha__aws_config_dispose(&c->config);
	ciha__error_reset(&c->err);
	ciha__free(c->region);
	ciha__free(c->endpoint_override);
	ciha__free(c->user_agent);
	ciha__free(c->ca_bundle);
	ciha__free(c);
}

CIHA_EXTERN(const ciha_error *) ciha_client_error(const ciha_client *c)
{
	return c ? &c->err : ciha_error_last();
}

CIHA_EXTERN(const char *) ciha_client_region(const ciha_client *c)
{
	return c ? c->region : NULL;
}

CIHA_EXTERN(ciha_result) ciha_client_endpoint(char **out, const ciha_client *c, const char *service)
{
	const ciha__service *svc = ciha__service_find(service);
	ciha__endpoint ep;
	int rc;
	if (!out || !c)
		return ciha__error_raise(CIHA_EINVAL, "ciha_client_endpoint: NULL argument");
	if (!svc)
		return ciha__error_raise(CIHA_EINVAL, "unknown service '%s' (known: %s)", service ? service : "(null)",
		                         ciha__service_names());
	if ((rc = ciha__endpoint_resolve(&ep, svc, c->region, c->endpoint_override, &c->config)) != CIHA_OK)
		return rc;
	*out = ep.url;
	ep.url = NULL;
	ciha__endpoint_dispose(&ep);
	return CIHA_OK;
}

CIHA_EXTERN(const char *) ciha_client_last_request_id(const ciha_client *c)
{
	return c && c->last_request_id[0] ? c->last_request_id : NULL;
}

CIHA_EXTERN(int) ciha_client_last_attempts(const ciha_client *c)
{
	return c ? c->last_attempts : 0;
}

int ciha__client_fail(ciha_client *c, int code)
{
	ciha__error_copy(&c->err, ciha_error_last());
	return code;
}

int ciha__client_clone_region(ciha_client **out, const ciha_client *src, const char *region)
{
	ciha_client *c;
	int rc;
	*out = NULL;
	c = ciha__calloc(1, sizeof(*c));
	if (!c)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	c->logger = src->logger;
	c->region_source = "option";
	c->connect_timeout_ms = src->connect_timeout_ms;
	c->timeout_ms = src->timeout_ms;
	c->retry = src->retry;
	ciha__retry_quota_init(&c->quota);
	c->region = ciha__strdup(region);
	c->endpoint_override = ciha__strdup(src->endpoint_override);
	c->user_agent = ciha__strdup(src->user_agent);
	c->ca_bundle = ciha__strdup(src->ca_bundle);
	c->provider = ciha_credentials_provider_acquire(src->provider);
	rc = ciha__aws_config_load(&c->config, src->config.profile, src->config.config_path,
	                           src->config.credentials_path);
	if (rc == CIHA_OK && (!c->region || !c->user_agent || (src->endpoint_override && !c->endpoint_override)
	                      || (src->ca_bundle && !c->ca_bundle)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK)
		rc = ciha__http_new(&c->http, &c->logger);
	if (rc != CIHA_OK) {
		ciha_client_free(c);
		return rc;
	}
	*out = c;
	return CIHA_OK;
}
