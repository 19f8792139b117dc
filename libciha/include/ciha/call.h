/* call.h: any action of the supported services by name, with pagination. */
#ifndef CIHA_CALL_H
#define CIHA_CALL_H

#include <jansson.h>
#include "ciha/common.h"
#include "ciha/client.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Call `action` of `service` ("cloudformation", "ec2", "rds", "cloudwatch",
 * "sns", "autoscaling", "elb", "elbv2", "sts", "iam").
 *
 * `params` is a JSON object (or NULL) in the wire names of the action:
 * nested objects become `Prefix.Member`, arrays become `Prefix.member.N`
 * (query), RDS's named members (`Filters.Filter.N`, `Tags.Tag.N`), or
 * `Prefix.N` (EC2); keys that already contain a dot are sent as given;
 * booleans as true/false; numbers in decimal. Keys are sent in insertion order.
 *
 * The result is the decoded XML result: for query services the content of
 * `<ActionResult>`, for EC2 the content of `<ActionResponse>` less requestId.
 * Elements become members; `member`/`item` lists and repeated elements
 * become arrays (an empty list-named element such as <volumeSet/> or
 * <Stacks/> is []); `<entry><key/><value/></entry>` maps become objects;
 * leaves are strings. Maps are sent as {"Attributes": {"entry": [{"key": k,
 * "value": v}]}} or with dotted keys (Attributes.entry.1.key).
 *
 * @param out new reference; json_decref() it.
 * @return CIHA_OK or an error (details in ciha_client_error()). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_call(json_t **out, ciha_client *client, const char *service,
                                   const char *action, const json_t *params);

/**
 * Encode a call's request body without sending it (for review and tests).
 * @param out new string; free with ciha_free(). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_call_encode(char **out, const char *service, const char *action,
                                          const json_t *params);

/** A lazy pager over an action's result pages (NextToken, Marker, NextMarker). */
typedef struct ciha_pager ciha_pager;
/**
 * Start a pager over `action`; no call is made until ciha_pager_next().
 * @param out new pager; free with ciha_pager_free(). `params` is copied.
 * @return CIHA_OK, CIHA_EINVAL (unknown service). Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_pager_new(ciha_pager **out, ciha_client *client, const char *service,
                                        const char *action, const json_t *params);
/**
 * Fetch the next page.
 * @param out new reference to the decoded page.
 * @return CIHA_OK, CIHA_ITEROVER when the previous page had no token, or an error. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_pager_next(json_t **out, ciha_pager *pager);
/** @return pages fetched so far. Since 0.1. */
CIHA_EXTERN(int) ciha_pager_pages(const ciha_pager *pager);
/** Free a pager. NULL-safe. Since 0.1. */
CIHA_EXTERN(void) ciha_pager_free(ciha_pager *pager);

/**
 * Fetch every page and merge them: arrays are concatenated, the token removed.
 * @param out new reference. Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_call_all(json_t **out, ciha_client *client, const char *service,
                                       const char *action, const json_t *params);

#ifdef __cplusplus
}
#endif
#endif
