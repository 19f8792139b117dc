#define _POSIX_C_SOURCE 200809L
/* sns.c: the alarm topic, the PagerDuty subscription and its confirmation, publishing.
 * A subscriber URL carries the PagerDuty integration key: it is only ever shown redacted. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "alarm_int.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "client_int.h"
#include "error_int.h"
#include "log_int.h"

#define SUBSYSTEM "sns"
#define REDACTED_URL_SIZE 300
#define PENDING "PendingConfirmation"

/* ---- URLs ---- */

static const char *after_scheme(const char *url)
{
	const char *p = strstr(url, "://");
	return p ? p + 3 : NULL;
}

void ciha__sns_redact_url(char *out, size_t size, const char *url)
{
	const char *host = url ? after_scheme(url) : NULL;
	size_t host_len, scheme_len;
	const char *at;
	if (!host) {
		snprintf(out, size, "\xe2\x80\xa6[redacted]");
		return;
	}
	scheme_len = (size_t)(host - url);
	host_len = strcspn(host, "/?#");
	at = memchr(host, '@', host_len);  /* user:password@ is a secret too */
	if (at) {
		host_len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	snprintf(out, size, "%.*s%.*s/\xe2\x80\xa6[redacted]", (int)(scheme_len > 16 ? 16 : scheme_len), url,
	         (int)(host_len > 200 ? 200 : host_len), host);
}

/* The protocol for SNS ("https" or "http"), or CIHA_EINVAL naming only the redacted URL. */
static int endpoint_protocol(const char **protocol, const char *url, int allow_http)
{
	char shown[REDACTED_URL_SIZE];
	const char *host = url ? after_scheme(url) : NULL;
	if (!url || !*url)
		return ciha__error_raise(CIHA_EINVAL, "no endpoint URL to subscribe");
	ciha__sns_redact_url(shown, sizeof(shown), url);
	if (!host || !*host || strchr("/?#", *host))
		return ciha__error_raise(CIHA_EINVAL, "endpoint %s is not a URL with a host", shown);
	if (strncasecmp(url, "https://", 8) == 0) {
		*protocol = "https";
		return CIHA_OK;
	}
	if (strncasecmp(url, "http://", 7) == 0 && allow_http) {
		*protocol = "http";
		return CIHA_OK;
	}
	return ciha__error_raise(CIHA_EINVAL, "endpoint %s: only https endpoints can be subscribed%s", shown,
	                         strncasecmp(url, "http://", 7) == 0 ? " (http only for local receivers, with "
	                         "allow_http)" : "");
}

/* Replace every occurrence of `secret` in `text` by `mask`. */
static void replace_all(ciha__buf *out, const char *text, const char *secret, const char *mask)
{
	size_t n = strlen(secret);
	const char *hit;
	while (n && (hit = strstr(text, secret)) != NULL) {
		ciha__buf_put(out, text, (size_t)(hit - text));
		ciha__buf_puts(out, mask);
		text = hit + n;
	}
	ciha__buf_puts(out, text);
}

#define MIN_SECRET_TOKEN 16

/* Mask, in `text`, every path segment or query value of the URL long enough to be a key. */
static void mask_tokens(ciha__buf *out, const char *text, const char *url_rest)
{
	ciha__buf cur = CIHA__BUF_INIT, next = CIHA__BUF_INIT;
	const char *p = url_rest;
	ciha__buf_puts(&cur, text);
	while (*p) {
		size_t n = strcspn(p, "/?&=#;");
		if (n >= MIN_SECRET_TOKEN) {
			char *token = ciha__strndup(p, n);
			ciha__buf_clear(&next);
			if (token)
				replace_all(&next, ciha__buf_cstr(&cur), token, "[redacted]");
			ciha__free(token);
			ciha__buf_clear(&cur);
			ciha__buf_puts(&cur, ciha__buf_cstr(&next));
		}
		p += n + (p[n] ? 1 : 0);
	}
	ciha__buf_puts(out, ciha__buf_cstr(&cur));
	if (cur.failed || next.failed)
		out->failed = 1;
	ciha__buf_dispose(&cur);
	ciha__buf_dispose(&next);
}

/*
 * Re-raise the failure `rc` of a call that carried `url` with the URL (and the
 * key-like parts of its path and query) masked out of the message, keeping
 * the AWS detail.
 */
static int fail_scrubbed(ciha_client *client, int rc, const char *url)
{
	const char *host = after_scheme(url), *rest = host ? host + strcspn(host, "/?#") : url;
	char shown[REDACTED_URL_SIZE];
	ciha__buf once = CIHA__BUF_INIT, twice = CIHA__BUF_INIT;
	ciha__error_detail d;
	ciha_error *e = NULL;   /* a copy: raising resets the thread's last error */
	if (ciha_error_dup(&e, ciha_error_last()) != CIHA_OK)
		return ciha__client_fail(client, ciha__error_raise(CIHA_ENOMEM, "out of memory"));
	ciha__sns_redact_url(shown, sizeof(shown), url);
	replace_all(&once, ciha_error_message(e), url, shown);
	mask_tokens(&twice, ciha__buf_cstr(&once), rest);
	d.service = ciha_error_service(e);
	d.http_status = ciha_error_http_status(e);
	d.aws_code = ciha_error_aws_code(e);
	d.request_id = ciha_error_request_id(e);
	d.retryable = ciha_error_is_retryable(e);
	rc = ciha__error_raise_detail(rc, &d, "%s", twice.failed ? "(out of memory)" : ciha__buf_cstr(&twice));
	ciha__buf_dispose(&once);
	ciha__buf_dispose(&twice);
	ciha_error_free(e);
	return ciha__client_fail(client, rc);
}

/* ---- calls ---- */

/* Call `action` and copy the string member `key` of its result into *out (NULL-safe out). */
static int call_for_string(char **out, ciha_client *client, const char *action, json_t *params, const char *key)
{
	json_t *result = NULL;
	const char *value;
	int rc = ciha__alarm_call(&result, client, "sns", action, params, 0);
	if (out)
		*out = NULL;
	if (rc != CIHA_OK)
		return rc;
	value = json_string_value(json_object_get(result, key));
	if (!value)
		rc = ciha__client_fail(client, ciha__error_raise(CIHA_EAWS, "sns %s: the answer has no %s", action, key));
	else if (out && !(*out = ciha__strdup(value)))
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	json_decref(result);
	return rc;
}

static int check_topic_name(const char *name)
{
	size_t n = name ? strlen(name) : 0, i, base = n;
	if (n > 5 && strcmp(name + n - 5, ".fifo") == 0)
		base = n - 5;
	if (n == 0 || n > 256)
		return ciha__error_raise(CIHA_EINVAL, "SNS topic name must be 1 to 256 characters");
	for (i = 0; i < base; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return ciha__error_raise(CIHA_EINVAL, "SNS topic name '%.256s': only letters, digits, '-' and '_' "
			                         "(and a .fifo suffix)", name);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_topic_ensure(char **out_arn, ciha_client *client, const char *name)
{
	int rc;
	if (!out_arn || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_topic_ensure: NULL %s", out_arn ? "client" : "out_arn");
	*out_arn = NULL;
	if ((rc = check_topic_name(name)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	/* CreateTopic is idempotent: an existing topic of that name answers with its ARN. */
	rc = call_for_string(out_arn, client, "CreateTopic", json_pack("{s:s}", "Name", name), "TopicArn");
	if (rc == CIHA_OK)
		ciha__log(&client->logger, CIHA_LOG_INFO, SUBSYSTEM, "topic %s ready", *out_arn);
	return rc;
}

static const char *find_in_page(const json_t *page, const char *endpoint_url)
{
	const json_t *subs = json_object_get(page, "Subscriptions");
	size_t i;
	for (i = 0; json_is_array(subs) && i < json_array_size(subs); i++) {
		const json_t *s = json_array_get(subs, i);
		const char *endpoint = json_string_value(json_object_get(s, "Endpoint"));
		if (endpoint && strcmp(endpoint, endpoint_url) == 0)
			return json_string_value(json_object_get(s, "SubscriptionArn"));
	}
	return NULL;
}

int ciha__sns_find_subscription(char **out, ciha_client *client, const char *topic_arn, const char *endpoint_url)
{
	json_t *params = json_pack("{s:s}", "TopicArn", topic_arn), *page = NULL;
	ciha_pager *pager = NULL;
	int rc;
	*out = NULL;
	if (!params)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	rc = ciha_pager_new(&pager, client, "sns", "ListSubscriptionsByTopic", params);
	json_decref(params);
	while (rc == CIHA_OK && (rc = ciha_pager_next(&page, pager)) == CIHA_OK) {
		const char *arn = find_in_page(page, endpoint_url);
		if (arn && !(*out = ciha__strdup(arn)))
			rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
		json_decref(page);
		if (arn)
			break;
	}
	ciha_pager_free(pager);
	return rc == CIHA_ITEROVER ? CIHA_OK : rc;
}

static int check_subscription_args(ciha_client *client, const char *topic_arn, const char *endpoint_url)
{
	if (!client)
		return ciha__error_raise(CIHA_EINVAL, "subscription: NULL client");
	if (!topic_arn || strncmp(topic_arn, "arn:", 4) != 0)
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "'%.200s' is not an SNS topic ARN",
		                                                   topic_arn ? topic_arn : "(null)"));
	if (!endpoint_url || !*endpoint_url)
		return ciha__client_fail(client, ciha__error_raise(CIHA_EINVAL, "no endpoint URL"));
	return CIHA_OK;
}

/* The public form of a subscription ARN: AWS lists unconfirmed ones as "PendingConfirmation". */
static int subscription_out(char **out, char *arn)
{
	if (strcmp(arn, PENDING) != 0 && strcmp(arn, "pending confirmation") != 0) {
		*out = arn;
		return CIHA_OK;
	}
	ciha__free(arn);
	*out = ciha__strdup("pending confirmation");
	return *out ? CIHA_OK : ciha__error_raise(CIHA_ENOMEM, "out of memory");
}

CIHA_EXTERN(ciha_result) ciha_alarm_subscribe(char **out_subscription_arn, ciha_client *client, const char *topic_arn,
                                              const char *endpoint_url, int allow_http)
{
	char shown[REDACTED_URL_SIZE], *arn = NULL;
	const char *protocol = NULL;
	int rc;
	if (!out_subscription_arn)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_subscribe: NULL out");
	*out_subscription_arn = NULL;
	if ((rc = check_subscription_args(client, topic_arn, endpoint_url)) != CIHA_OK)
		return rc;
	if ((rc = endpoint_protocol(&protocol, endpoint_url, allow_http)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	ciha__sns_redact_url(shown, sizeof(shown), endpoint_url);
	rc = ciha__sns_find_subscription(&arn, client, topic_arn, endpoint_url);
	if (rc == CIHA_OK && !arn) {
		rc = call_for_string(&arn, client, "Subscribe", json_pack("{s:s, s:s, s:s}", "TopicArn", topic_arn,
		                     "Protocol", protocol, "Endpoint", endpoint_url), "SubscriptionArn");
		if (rc == CIHA_OK)
			ciha__log(&client->logger, CIHA_LOG_INFO, SUBSYSTEM, "subscribed %s to %s: %s", shown, topic_arn, arn);
	} else if (rc == CIHA_OK) {
		ciha__log(&client->logger, CIHA_LOG_INFO, SUBSYSTEM, "%s was already subscribed to %s", shown, topic_arn);
	}
	if (rc != CIHA_OK)
		return rc == CIHA_ENOMEM ? rc : fail_scrubbed(client, rc, endpoint_url);
	return subscription_out(out_subscription_arn, arn);
}

static int pending_attribute(int *pending, ciha_client *client, const char *subscription_arn)
{
	json_t *result = NULL;
	const char *value;
	int rc = ciha__alarm_call(&result, client, "sns", "GetSubscriptionAttributes",
	                          json_pack("{s:s}", "SubscriptionArn", subscription_arn), 0);
	if (rc != CIHA_OK)
		return rc;
	value = json_string_value(json_object_get(json_object_get(result, "Attributes"), "PendingConfirmation"));
	*pending = value && strcmp(value, "true") == 0;
	json_decref(result);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_alarm_subscription_status(int *confirmed, ciha_client *client, const char *topic_arn,
                                                        const char *endpoint_url)
{
	char *arn = NULL;
	int rc, pending = 0;
	if (!confirmed)
		return ciha__error_raise(CIHA_EINVAL, "ciha_alarm_subscription_status: NULL confirmed");
	*confirmed = -1;
	if ((rc = check_subscription_args(client, topic_arn, endpoint_url)) != CIHA_OK)
		return rc;
	rc = ciha__sns_find_subscription(&arn, client, topic_arn, endpoint_url);
	if (rc == CIHA_OK && arn && strcmp(arn, PENDING) == 0)
		*confirmed = 0;
	else if (rc == CIHA_OK && arn && (rc = pending_attribute(&pending, client, arn)) == CIHA_OK)
		*confirmed = pending ? 0 : 1;
	ciha__free(arn);
	if (rc != CIHA_OK && rc != CIHA_ENOMEM)
		return fail_scrubbed(client, rc, endpoint_url);
	return rc;
}

int ciha__sns_publish(char **out_message_id, ciha_client *client, const char *topic_arn, const char *subject,
                      const char *message)
{
	return call_for_string(out_message_id, client, "Publish", json_pack("{s:s, s:s, s:s}", "TopicArn", topic_arn,
	                       "Subject", subject, "Message", message), "MessageId");
}
