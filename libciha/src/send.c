#define _POSIX_C_SOURCE 200809L
/* send.c: one query/EC2 call, synchronously: each attempt signed, POSTed and
 * judged by request.c (classification, retry quota, error detail); between
 * attempts it sleeps the full-jitter backoff (aws-wire.md 5). */
#include <stdio.h>
#include <string.h>
#include "request_int.h"
#include "time_int.h"

#define SUBSYSTEM "retry"

static int send_loop(ciha__xml_node **out_root, ciha__request *r)
{
	ciha_client *c = r->client;
	long delay_ms;
	int rc;

	for (;;) {
		rc = ciha__request_prepare(r);
		c->last_attempts = r->attempt;
		if (rc == CIHA_OK)
			rc = ciha__http_perform(c->http, &r->http, &r->resp);
		if (rc == CIHA_OK)
			rc = ciha__request_judge(out_root, &delay_ms, r);
		if (rc != CIHA_EAGAIN)
			return rc;
		ciha__sleep_ms(delay_ms);
	}
}

int ciha__client_send(ciha__xml_node **out_root, ciha_client *client, const ciha__service *svc,
                      const char *action, const char *body, size_t body_len)
{
	ciha__request r;
	int rc;

	*out_root = NULL;
	client->last_request_id[0] = '\0';
	client->last_attempts = 0;
	if (client->retry.adaptive)
		ciha__log(&client->logger, CIHA_LOG_DEBUG, SUBSYSTEM,
		          "retry mode 'adaptive' runs as 'standard' (no client-side rate limiting)");
	rc = ciha__request_init(&r, client, svc, action, body, body_len);
	if (rc == CIHA_OK)
		rc = send_loop(out_root, &r);
	snprintf(client->last_request_id, sizeof client->last_request_id, "%s", r.request_id);
	ciha__request_dispose(&r);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
