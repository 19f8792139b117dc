/* client_int.h: the client internals shared by call.c, whoami and domain code. */
#ifndef CIHA_CLIENT_INT_H
#define CIHA_CLIENT_INT_H
#include "ciha/client.h"
#include "crypto_int.h"
#include "error_int.h"
#include "http_int.h"
#include "retry_int.h"
#include "service_int.h"
#include "xml_int.h"

struct ciha_client {
	char *region;
	const char *region_source;
	char *endpoint_override;
	char *user_agent;
	char *ca_bundle;
	long connect_timeout_ms;
	long timeout_ms;
	ciha__retry_policy retry;
	ciha__retry_quota quota;
	ciha__aws_config config;
	ciha_credentials_provider *provider;
	ciha__logger logger;
	ciha__http *http;
	struct ciha_error err;
	char last_request_id[128];
	int last_attempts;
	ciha__sigv4_key_cache sigv4_keys;   /* the derived signing key; wiped by ciha_client_free */
	int send_once;      /* set around a call without idempotency token: one attempt, on a new connection */
};

/*
 * Send one query/EC2 request body to svc with signing, retries and the quota.
 * On success *out_root is the parsed response tree (caller frees with
 * ciha__xml_free); on failure an error is raised (AWS code, request id,
 * status, retryable) and copied into client->err.
 */
int ciha__client_send(ciha__xml_node **out_root, ciha_client *client, const ciha__service *svc,
                      const char *action, const char *body, size_t body_len);

/* A client like src (credentials, endpoint override, retries, log) for another region. */
int ciha__client_clone_region(ciha_client **out, const ciha_client *src, const char *region);

/* Raise through the client: copies the thread's last error into client->err. */
int ciha__client_fail(ciha_client *client, int code);
#endif
