/* call_int.h: calls by service descriptor, for the pager and domain code. */
#ifndef CIHA_CALL_INT_H
#define CIHA_CALL_INT_H
#include <jansson.h>
#include "ciha/call.h"
#include "client_int.h"

/* ciha_call with a resolved service; failures are copied into client->err. */
int ciha__call_service(json_t **out, ciha_client *client, const ciha__service *svc, const char *action,
                       const json_t *params);
#endif
