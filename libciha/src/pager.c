/* pager.c: following NextToken / Marker / NextMarker across pages. */
#include <string.h>
#include "alloc_int.h"
#include "call_int.h"

struct ciha_pager {
	ciha_client *client;
	const ciha__service *svc;
	char *action;
	json_t *params;
	char *token;   /* request token for the next page; NULL before the first */
	int pages;
	int done;
};

CIHA_EXTERN(ciha_result) ciha_pager_new(ciha_pager **out, ciha_client *client, const char *service,
                                        const char *action, const json_t *params)
{
	ciha_pager *p;
	const ciha__service *svc = ciha__service_find(service);
	if (!out || !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_pager_new: NULL argument");
	*out = NULL;
	if (!svc)
		return ciha__error_raise(CIHA_EINVAL, "unknown service '%s' (known: %s)", service ? service : "(null)",
		                         ciha__service_names());
	if (!svc->token_in)
		return ciha__error_raise(CIHA_EINVAL, "%s has no paginated actions", svc->name);
	if (!action || !*action)
		return ciha__error_raise(CIHA_EINVAL, "no action given for %s", svc->name);
	if (params && !json_is_object(params))
		return ciha__error_raise(CIHA_EINVAL, "parameters of %s %s must be a JSON object", svc->name, action);
	p = ciha__calloc(1, sizeof(*p));
	if (!p)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	p->client = client;
	p->svc = svc;
	p->action = ciha__strdup(action);
	p->params = params ? json_deep_copy(params) : json_object();
	if (!p->action || !p->params) {
		ciha_pager_free(p);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	*out = p;
	return CIHA_OK;
}

static const char *page_token(const json_t *page, const ciha__service *svc)
{
	const json_t *t = json_object_get(page, svc->token_out);
	if (!t && strcmp(svc->token_out, "nextToken") == 0)
		t = json_object_get(page, "NextToken");
	return json_is_string(t) && *json_string_value(t) ? json_string_value(t) : NULL;
}

CIHA_EXTERN(ciha_result) ciha_pager_next(json_t **out, ciha_pager *p)
{
	json_t *page = NULL;
	const char *next;
	int rc;

	if (!out || !p)
		return ciha__error_raise(CIHA_EINVAL, "ciha_pager_next: NULL argument");
	*out = NULL;
	if (p->done)
		return CIHA_ITEROVER;
	if (p->token && json_object_set_new(p->params, p->svc->token_in, json_string(p->token)) != 0)
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	if ((rc = ciha__call_service(&page, p->client, p->svc, p->action, p->params)) != CIHA_OK)
		return rc;
	p->pages++;
	next = page_token(page, p->svc);
	if (!next) {
		p->done = 1;
	} else if (p->token && strcmp(next, p->token) == 0) {
		json_decref(page);
		p->done = 1;
		rc = ciha__error_raise(CIHA_EAWS, "%s %s returned the same page token twice; stopping to avoid a loop",
		                       p->svc->name, p->action);
		return ciha__client_fail(p->client, rc);
	}
	ciha__free(p->token);
	p->token = next ? ciha__strdup(next) : NULL;
	if (next && !p->token) {
		json_decref(page);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	}
	*out = page;
	return CIHA_OK;
}

CIHA_EXTERN(int) ciha_pager_pages(const ciha_pager *p)
{
	return p ? p->pages : 0;
}

CIHA_EXTERN(void) ciha_pager_free(ciha_pager *p)
{
	if (!p)
		return;
	ciha__free(p->action);
	ciha__free(p->token);
	json_decref(p->params);
	ciha__free(p);
}

/* Append the arrays of `page` to those of `all`; other members keep the first page's value. */
static int merge_page(json_t *all, json_t *page)
{
	const char *key;
	json_t *value;
	json_object_foreach(page, key, value) {
		json_t *have = json_object_get(all, key);
		if (json_is_array(value) && json_is_array(have)) {
			if (json_array_extend(have, value) != 0)
				return -1;
		} else if (!have && json_object_set(all, key, value) != 0) {
			return -1;
		}
	}
	return 0;
}

CIHA_EXTERN(ciha_result) ciha_call_all(json_t **out, ciha_client *client, const char *service, const char *action,
                                       const json_t *params)
{
	ciha_pager *p = NULL;
	json_t *all = NULL, *page = NULL;
	int rc;

	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_call_all: NULL out");
	*out = NULL;
	if ((rc = ciha_pager_new(&p, client, service, action, params)) != CIHA_OK)
		return rc;
	while ((rc = ciha_pager_next(&page, p)) == CIHA_OK) {
		if (!all) {
			all = page;
		} else {
			int bad = merge_page(all, page);
			json_decref(page);
			if (bad) {
				rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
				break;
			}
		}
		page = NULL;
	}
	if (rc == CIHA_ITEROVER) {
		json_object_del(all, p->svc->token_out);
		*out = all;
		all = NULL;
		rc = CIHA_OK;
	}
	json_decref(all);
	ciha_pager_free(p);
	return rc;
}
