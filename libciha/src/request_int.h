/* request_int.h: one query/EC2 request and its attempts: endpoint, SigV4
 * signing at send time, and what each response means (success, AWS error,
 * transport error; retried or not, under the client's retry quota). One
 * implementation for the synchronous path (send.c) and curl multi (multi.c):
 *
 *   ciha__request_init(&r, ...);
 *   for (;;) {
 *           rc = ciha__request_prepare(&r);           // attempt r.attempt, signed now
 *           ... perform r.http into r.resp ...
 *           rc = ciha__request_judge(&root, &delay, &r);
 *           if (rc != CIHA_EAGAIN) break;              // CIHA_OK or the raised error
 *           ... wait delay ms ...
 *   }
 *   ciha__request_dispose(&r);
 */
#ifndef CIHA_REQUEST_INT_H
#define CIHA_REQUEST_INT_H
#include "client_int.h"
#include "decode_int.h"

typedef struct {
	ciha_client *client;
	const ciha__service *svc;
	const char *action;        /* borrowed */
	const char *body;          /* borrowed, stays valid until dispose */
	size_t body_len;
	ciha__endpoint ep;
	char *url;                 /* endpoint + "/" (botocore joins the request URI "/" onto the path) */
	char *host;                /* authority without a default port */
	char *target;              /* path + "/" */
	int attempt;               /* 1-based number of the attempt prepared last; 0 before */
	int last_cost;             /* quota tokens taken for the latest retry, 0 if none */
	ciha__retry_kind kind;     /* how the latest response was classified (NO for a success) */
	char request_id[128];      /* of the latest attempt, "" if none */
	ciha__http_request http;   /* the signed exchange of the latest attempt */
	char **headers;            /* its header lines (owned, hold the signature) */
	ciha__http_response resp;  /* filled by whoever performs r->http */
	ciha__aws_error aerr;      /* the latest error response, parsed */
} ciha__request;

/* Resolve the endpoint of svc for the client and split its URL. On failure
 * (raised) r is still safe to dispose. */
int ciha__request_init(ciha__request *r, ciha_client *client, const ciha__service *svc, const char *action,
                       const char *body, size_t body_len);
void ciha__request_dispose(ciha__request *r);

/* Start the next attempt: count it, fetch credentials, sign with the current
 * time and fill r->http; r->resp is emptied, ready to be filled. */
int ciha__request_prepare(ciha__request *r);

/* Judge r->resp of the attempt just performed. Returns CIHA_OK with
 * *out_root the parsed answer (caller frees with ciha__xml_free); CIHA_EAGAIN
 * with *delay_ms when it is to be retried after that wait (quota taken,
 * logged at DEBUG); otherwise the raised error with the AWS code, request id,
 * status and retryable flag. */
int ciha__request_judge(ciha__xml_node **out_root, long *delay_ms, ciha__request *r);
#endif
