/* creds_chain.c: the default chain: env, profile, web identity, container, IMDS. */
#include <string.h>
#include "alloc_int.h"
#include "creds_int.h"
#include "error_int.h"

#define CHAIN_MAX 5

typedef struct {
	ciha_credentials_provider *links[CHAIN_MAX];
	size_t count;
	int winner;              /* index of the link that last gave keys, or -1 */
	int env_skipped;         /* a profile was named in code: env is not consulted */
} chain_impl;

/* Ask the link that won last time; "nothing now" sends us back to the scan. */
static int ask_winner(ciha_credentials **out, chain_impl *c)
{
	ciha__buf ignored = CIHA__BUF_INIT;
	int rc = ciha__provider_get_tried(out, c->links[c->winner], &ignored);
	ciha__buf_dispose(&ignored);
	if (rc == CIHA_ENOTFOUND)
		c->winner = -1;
	return rc;
}

static int chain_get(ciha_credentials **out, ciha_credentials_provider *p, ciha__buf *tried)
{
	chain_impl *c = p->impl;
	size_t i;
	int rc;
	if (c->winner >= 0 && (rc = ask_winner(out, c)) != CIHA_ENOTFOUND)
		return rc;
	if (c->env_skipped)
		ciha__tried_add(tried, "env (skipped: a profile was given explicitly)");
	for (i = 0; i < c->count; i++) {
		rc = ciha__provider_get_tried(out, c->links[i], tried);
		if (rc == CIHA_ENOTFOUND)
			continue;
		if (rc == CIHA_OK) {
			c->winner = (int)i;
			ciha__log(&p->logger, CIHA_LOG_DEBUG, "creds", "credentials from %s (key id %s)", (*out)->provider,
			          (*out)->access_key_id);
		}
		return rc;
	}
	return CIHA_ENOTFOUND;
}

static void chain_destroy(ciha_credentials_provider *p)
{
	chain_impl *c = p->impl;
	size_t i;
	for (i = 0; i < c->count; i++)
		ciha_credentials_provider_release(c->links[i]);
	ciha__free(c);
}

static const ciha__provider_vtable chain_vtable = { "chain", chain_get, chain_destroy };

static int add_links(chain_impl *c, const ciha_credentials_options *opts)
{
	int rc = CIHA_OK;
	c->env_skipped = opts && opts->profile && *opts->profile;
	if (!c->env_skipped)
		rc = ciha_credentials_provider_new_env(&c->links[c->count++], opts);
	if (rc == CIHA_OK)
		rc = ciha_credentials_provider_new_profile(&c->links[c->count++], opts);
	if (rc == CIHA_OK)
		rc = ciha_credentials_provider_new_web_identity(&c->links[c->count++], opts);
	if (rc == CIHA_OK)
		rc = ciha_credentials_provider_new_container(&c->links[c->count++], opts);
	if (rc == CIHA_OK)
		rc = ciha_credentials_provider_new_imds(&c->links[c->count++], opts);
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_credentials_provider_new_default(ciha_credentials_provider **out,
	const ciha_credentials_options *opts)
{
	chain_impl *c;
	int rc;
	size_t i;
	if (!out)
		return ciha__error_raise(CIHA_EINVAL, "ciha_credentials_provider_new_default: out is NULL");
	*out = NULL;
	if (!(c = ciha__calloc(1, sizeof(*c))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory");
	c->winner = -1;
	rc = add_links(c, opts);
	if (rc == CIHA_OK)
		rc = ciha__provider_new(out, &chain_vtable, c, opts);
	if (rc != CIHA_OK) {
		for (i = 0; i < c->count; i++)
			ciha_credentials_provider_release(c->links[i]);
		ciha__free(c);
	}
	return rc;
}
