/* multi_int.h: many calls at once on one thread (curl multi), for deletes and
 * copies. Requests are signed and retried like ciha__client_send (standard
 * mode, the client's retry quota); throttling lowers the number in flight
 * (halved, at least 1) and successes raise it again by one up to the limit,
 * so a throttled run slows down instead of failing. */
#ifndef CIHA_MULTI_INT_H
#define CIHA_MULTI_INT_H
#include <jansson.h>
#include "client_int.h"

typedef struct ciha__multi ciha__multi;

/* Called once per request when it is finished (after retries). rc is CIHA_OK
 * with `root` the parsed response, or an error code with `err` (AWS code,
 * request id, status). Both borrowed for the duration of the call. */
typedef void (*ciha__multi_done_cb)(void *user, int rc, const ciha__xml_node *root, const ciha_error *err,
                                    void *payload);

/* concurrency: the most requests in flight (0 = 8). */
int ciha__multi_new(ciha__multi **out, ciha_client *client, int concurrency);
void ciha__multi_free(ciha__multi *m);
/* Queue `action` of svc with params (encoded now; params not retained). */
int ciha__multi_add(ciha__multi *m, const ciha__service *svc, const char *action, const json_t *params, void *user);
/* Run everything queued; calls cb once per request as it finishes. Returns
 * CIHA_OK when the run itself worked (individual failures go to cb), or
 * CIHA_ENOMEM/CIHA_ERROR when curl's multi handle failed: then the requests
 * not finished get no callback and the multi handle is only good for freeing. */
int ciha__multi_run(ciha__multi *m, ciha__multi_done_cb cb, void *payload);

typedef struct {
	long requests;        /* HTTP requests sent, retries included */
	long retries;
	long throttled;       /* responses classified as throttling */
	int peak_in_flight;
	int final_limit;      /* the concurrency limit at the end */
	int min_limit;        /* the lowest the limit went */
	long connections;     /* new connections opened (keep-alive reuses them) */
} ciha__multi_stats;
void ciha__multi_stats_get(const ciha__multi *m, ciha__multi_stats *out);
#endif
