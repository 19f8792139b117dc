#define _POSIX_C_SOURCE 200809L
/* multi.c: many query/EC2 calls at once on one thread with a curl multi
 * handle. Each request is encoded once and signed per attempt; request.c
 * judges every response exactly as for ciha__client_send. A retry waits for
 * its full-jitter backoff on a timer, without holding a slot. Throttling
 * halves the number in flight (at least 1); every SUCCESSES_PER_RAISE
 * successes raise it by one, up to the concurrency asked for. */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "alloc_int.h"
#include "multi_int.h"
#include "request_int.h"
#include "time_int.h"

#define SUBSYSTEM "multi"
#define DEFAULT_CONCURRENCY 8
#define SUCCESSES_PER_RAISE 10
#define IDLE_POLL_MS 1000

/* An added request until a slot takes it: only its action and encoded body
 * (one allocation, "action\0body"), so thousands queued stay small. */
typedef struct {
	const ciha__service *svc;
	char *text;
	size_t action_len, body_len;
	void *user;
} pending;

/* A started request, alive until it finished. */
typedef struct multi_req {
	ciha__request req;
	char *text;                  /* the pending's "action\0body", sent by every attempt */
	void *user;
	long long ready_at_ms;       /* monotonic time its backoff ends */
	struct multi_req *next;      /* in the list of retries waiting for their backoff */
} multi_req;

typedef struct {
	ciha__http *http;            /* one kept easy handle per slot */
	multi_req *busy;             /* the request in flight on it, or NULL */
} multi_slot;

struct ciha__multi {
	ciha_client *client;
	CURLM *curlm;
	int concurrency;
	int limit;                   /* in flight at most, adapted to throttling */
	int in_flight;
	int successes;               /* since the limit last changed */
	multi_slot *slots;           /* concurrency of them */
	pending *queue;              /* added requests; those before next_new were started */
	size_t queued, queue_cap, next_new;
	multi_req *waiting;          /* retries waiting for their backoff, any order */
	ciha__multi_done_cb cb;
	void *payload;
	ciha__multi_stats stats;
};

/* ---- creation ------------------------------------------------------------------- */

static int multi_setup(ciha__multi *m)
{
	int i, rc;
	m->curlm = curl_multi_init();
	m->slots = ciha__calloc((size_t)m->concurrency, sizeof *m->slots);
	if (!m->curlm || !m->slots)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory creating a curl multi handle");
	curl_multi_setopt(m->curlm, CURLMOPT_MAX_HOST_CONNECTIONS, (long)m->concurrency);
	curl_multi_setopt(m->curlm, CURLMOPT_MAXCONNECTS, (long)m->concurrency);
	for (i = 0; i < m->concurrency; i++)
		if ((rc = ciha__http_new(&m->slots[i].http, &m->client->logger)) != CIHA_OK)
			return rc;
	return CIHA_OK;
}

int ciha__multi_new(ciha__multi **out, ciha_client *client, int concurrency)
{
	ciha__multi *m;
	int rc;
	*out = NULL;
	if (!client)
		return ciha__error_raise(CIHA_EINVAL, "ciha__multi_new: NULL client");
	if (concurrency < 0)
		return ciha__error_raise(CIHA_EINVAL, "concurrency must not be negative, got %d", concurrency);
	if (!(m = ciha__calloc(1, sizeof *m)))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	m->client = client;
	m->concurrency = concurrency ? concurrency : DEFAULT_CONCURRENCY;
	m->limit = m->concurrency;
	m->stats.final_limit = m->stats.min_limit = m->limit;
	if ((rc = multi_setup(m)) != CIHA_OK) {
		ciha__multi_free(m);
		return rc;
	}
	*out = m;
	return CIHA_OK;
}

static void req_free(multi_req *q)
{
	if (!q)
		return;
	ciha__request_dispose(&q->req);
	ciha__free(q->text);
	ciha__free(q);
}

void ciha__multi_free(ciha__multi *m)
{
	size_t i;
	if (!m)
		return;
	for (i = 0; m->slots && i < (size_t)m->concurrency; i++) {
		if (m->slots[i].busy) {
			curl_multi_remove_handle(m->curlm, ciha__http_easy(m->slots[i].http));
			req_free(m->slots[i].busy);
		}
		ciha__http_free(m->slots[i].http);
	}
	while (m->waiting) {
		multi_req *next = m->waiting->next;
		req_free(m->waiting);
		m->waiting = next;
	}
	for (i = m->next_new; i < m->queued; i++)
		ciha__free(m->queue[i].text);
	ciha__free(m->queue);
	ciha__free(m->slots);
	if (m->curlm)
		curl_multi_cleanup(m->curlm);
	ciha__free(m);
}

void ciha__multi_stats_get(const ciha__multi *m, ciha__multi_stats *out)
{
	int i;
	*out = m->stats;
	out->final_limit = m->limit;
	for (i = 0; i < m->concurrency; i++)
		out->connections += ciha__http_connections_opened(m->slots[i].http);
}

/* ---- queueing ---------------------------------------------------------------------- */

static int queue_push(ciha__multi *m, const pending *p)
{
	if (m->queued == m->queue_cap) {
		size_t cap = m->queue_cap ? m->queue_cap * 2 : 64;
		pending *grown = ciha__realloc(m->queue, cap * sizeof *grown);
		if (!grown)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory");
		m->queue = grown;
		m->queue_cap = cap;
	}
	m->queue[m->queued++] = *p;
	return CIHA_OK;
}

/* p->text = "action\0body" with the body encoded from params. */
static int pending_encode(pending *p, const ciha__service *svc, const char *action, const json_t *params)
{
	ciha__buf body = CIHA__BUF_INIT;
	int rc = ciha__query_encode(&body, svc->protocol, svc->name, action, svc->version, NULL, NULL, params);
	if (rc == CIHA_OK && body.failed)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	p->action_len = strlen(action);
	p->body_len = body.len;
	if (rc == CIHA_OK && !(p->text = ciha__malloc(p->action_len + 1 + body.len + 1)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if (rc == CIHA_OK) {
		memcpy(p->text, action, p->action_len + 1);
		memcpy(p->text + p->action_len + 1, ciha__buf_cstr(&body), body.len + 1);
	}
	ciha__buf_dispose(&body);
	return rc;
}

int ciha__multi_add(ciha__multi *m, const ciha__service *svc, const char *action, const json_t *params, void *user)
{
	pending p;
	int rc;
	if (!svc)
		return ciha__error_raise(CIHA_EINVAL, "unknown service (known: %s)", ciha__service_names());
	if (!action || !*action)
		return ciha__error_raise(CIHA_EINVAL, "no action given for %s", svc->name);
	if (params && !json_is_object(params))
		return ciha__error_raise(CIHA_EINVAL, "parameters of %s %s must be a JSON object", svc->name, action);
	memset(&p, 0, sizeof p);
	p.svc = svc;
	p.user = user;
	rc = pending_encode(&p, svc, action, params);
	if (rc == CIHA_OK)
		rc = queue_push(m, &p);
	if (rc != CIHA_OK)
		ciha__free(p.text);
	return rc;
}

/* ---- adaptive concurrency ----------------------------------------------------------- */

static void limit_set(ciha__multi *m, int limit, const char *why)
{
	ciha__log(&m->client->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "in-flight limit %d -> %d (%s)", m->limit, limit, why);
	m->limit = limit;
	m->successes = 0;
	if (limit < m->stats.min_limit)
		m->stats.min_limit = limit;
}

static void adapt_to_throttling(ciha__multi *m)
{
	m->stats.throttled++;
	if (m->limit > 1)
		limit_set(m, m->limit / 2, "throttled");
	else
		m->successes = 0;
}

static void adapt_to_success(ciha__multi *m)
{
	if (++m->successes >= SUCCESSES_PER_RAISE && m->limit < m->concurrency)
		limit_set(m, m->limit + 1, "successes");
}

/* ---- finishing ------------------------------------------------------------------------ */

static void note_attempts(ciha__multi *m, const multi_req *q)
{
	ciha_client *c = m->client;
	if (q->req.attempt > c->last_attempts)
		c->last_attempts = q->req.attempt;
	snprintf(c->last_request_id, sizeof c->last_request_id, "%s", q->req.request_id);
}

static void req_finish(ciha__multi *m, multi_req *q, int rc, const ciha__xml_node *root, const ciha_error *err)
{
	note_attempts(m, q);
	if (m->cb)
		m->cb(q->user, rc, root, err, m->payload);
	req_free(q);
}

/* The callback for a failure gets its own copy of this thread's last error. */
static void notify_failure(ciha__multi *m, void *user, int rc)
{
	struct ciha_error err;
	memset(&err, 0, sizeof err);
	ciha__error_copy(&err, ciha_error_last());
	if (m->cb)
		m->cb(user, rc, NULL, &err, m->payload);
	ciha__error_reset(&err);
}

static void req_fail(ciha__multi *m, multi_req *q, int rc)
{
	note_attempts(m, q);
	notify_failure(m, q->user, rc);
	req_free(q);
}

/* An added request that could not even be started. */
static void pending_fail(ciha__multi *m, pending *p, int rc)
{
	notify_failure(m, p->user, rc);
	ciha__free(p->text);
	p->text = NULL;
}

static void waiting_push(ciha__multi *m, multi_req *q, long delay_ms)
{
	q->ready_at_ms = ciha__mono_ms() + delay_ms;
	q->next = m->waiting;
	m->waiting = q;
}

/* The attempt of q ended with curl's `result`: success, retry later, or failure. */
static void req_judge(ciha__multi *m, multi_slot *s, multi_req *q, CURLcode result)
{
	ciha__xml_node *root = NULL;
	long delay_ms = 0;
	int rc = ciha__http_finish(s->http, &q->req.http, &q->req.resp, (int)result);
	if (rc == CIHA_OK)
		rc = ciha__request_judge(&root, &delay_ms, &q->req);
	if (q->req.kind == CIHA__RETRY_THROTTLE)
		adapt_to_throttling(m);
	if (rc == CIHA_OK) {
		adapt_to_success(m);
		req_finish(m, q, CIHA_OK, root, NULL);
	} else if (rc == CIHA_EAGAIN) {
		waiting_push(m, q, delay_ms);
	} else {
		req_fail(m, q, rc);
	}
	ciha__xml_free(root);
}

static multi_slot *slot_of(ciha__multi *m, CURL *easy)
{
	int i;
	for (i = 0; i < m->concurrency; i++)
		if (m->slots[i].busy && ciha__http_easy(m->slots[i].http) == easy)
			return &m->slots[i];
	return NULL;
}

static void collect_done(ciha__multi *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m->curlm, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		multi_slot *s;
		multi_req *q;
		if (msg->msg != CURLMSG_DONE || !(s = slot_of(m, easy)))
			continue;
		curl_multi_remove_handle(m->curlm, easy);
		q = s->busy;
		s->busy = NULL;
		m->in_flight--;
		req_judge(m, s, q, result);
	}
}

/* ---- starting ---------------------------------------------------------------------------- */

static multi_slot *free_slot(ciha__multi *m)
{
	int i;
	for (i = 0; i < m->concurrency; i++)
		if (!m->slots[i].busy)
			return &m->slots[i];
	return NULL;
}

static void start_attempt(ciha__multi *m, multi_slot *s, multi_req *q)
{
	int rc = ciha__request_prepare(&q->req);
	if (rc == CIHA_OK)
		rc = ciha__http_start(s->http, &q->req.http, &q->req.resp);
	if (rc == CIHA_OK && curl_multi_add_handle(m->curlm, ciha__http_easy(s->http)) != CURLM_OK)
		rc = ciha__error_raise(CIHA_ENOMEM, "curl could not add a transfer to the multi handle");
	if (rc != CIHA_OK) {
		req_fail(m, q, rc);
		return;
	}
	s->busy = q;
	m->stats.requests++;
	if (q->req.attempt > 1)
		m->stats.retries++;
	if (++m->in_flight > m->stats.peak_in_flight)
		m->stats.peak_in_flight = m->in_flight;
}

/* The retry whose backoff ended first, taken off the waiting list; NULL if none is due. */
static multi_req *take_due_retry(ciha__multi *m, long long now)
{
	multi_req **p, **best = NULL;
	multi_req *q;
	for (p = &m->waiting; *p; p = &(*p)->next)
		if ((*p)->ready_at_ms <= now && (!best || (*p)->ready_at_ms < (*best)->ready_at_ms))
			best = p;
	if (!best)
		return NULL;
	q = *best;
	*best = q->next;
	q->next = NULL;
	return q;
}

/* The request of p, which takes over p's text; NULL when that failed (and was reported). */
static multi_req *req_from_pending(ciha__multi *m, pending *p)
{
	multi_req *q = ciha__calloc(1, sizeof *q);
	int rc;
	if (!q) {
		pending_fail(m, p, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
		return NULL;
	}
	q->text = p->text;
	q->user = p->user;
	p->text = NULL;
	rc = ciha__request_init(&q->req, m->client, p->svc, q->text, q->text + p->action_len + 1, p->body_len);
	if (rc != CIHA_OK) {
		req_fail(m, q, rc);
		return NULL;
	}
	return q;
}

static multi_req *next_to_start(ciha__multi *m, long long now)
{
	multi_req *q = take_due_retry(m, now);
	while (!q && m->next_new < m->queued)
		q = req_from_pending(m, &m->queue[m->next_new++]);
	return q;
}

static void fill_slots(ciha__multi *m)
{
	long long now = ciha__mono_ms();
	multi_slot *s;
	multi_req *q;
	while (m->in_flight < m->limit && (s = free_slot(m)) && (q = next_to_start(m, now)))
		start_attempt(m, s, q);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static int work_remains(const ciha__multi *m)
{
	return m->in_flight > 0 || m->waiting || m->next_new < m->queued;
}

static long long earliest_retry(const ciha__multi *m)
{
	const multi_req *q;
	long long t = -1;
	for (q = m->waiting; q; q = q->next)
		if (t < 0 || q->ready_at_ms < t)
			t = q->ready_at_ms;
	return t;
}

/* How long to wait for network activity: until the next backoff ends when a slot could take it. */
static int poll_timeout_ms(const ciha__multi *m)
{
	long long due = earliest_retry(m), now = ciha__mono_ms();
	if (m->in_flight < m->limit && m->next_new < m->queued)
		return 0;
	if (m->in_flight >= m->limit || due < 0)
		return IDLE_POLL_MS;
	if (due <= now)
		return 0;
	return due - now < IDLE_POLL_MS ? (int)(due - now) : IDLE_POLL_MS;
}

static int multi_failed(CURLMcode mc)
{
	return ciha__error_raise(mc == CURLM_OUT_OF_MEMORY ? CIHA_ENOMEM : CIHA_ERROR, "curl multi: %s",
	                         curl_multi_strerror(mc));
}

static int run_step(ciha__multi *m)
{
	int running;
	CURLMcode mc;
	fill_slots(m);
	if ((mc = curl_multi_perform(m->curlm, &running)) != CURLM_OK)
		return multi_failed(mc);
	collect_done(m);
	if (!work_remains(m))
		return CIHA_OK;
	if ((mc = curl_multi_poll(m->curlm, NULL, 0, poll_timeout_ms(m), NULL)) != CURLM_OK)
		return multi_failed(mc);
	return CIHA_OK;
}

int ciha__multi_run(ciha__multi *m, ciha__multi_done_cb cb, void *payload)
{
	int rc = CIHA_OK;
	m->cb = cb;
	m->payload = payload;
	m->client->last_attempts = 0;
	m->client->last_request_id[0] = '\0';
	ciha__error_reset(&m->client->err);
	while (rc == CIHA_OK && work_remains(m))
		rc = run_step(m);
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(m->client, rc);
}
