/* query_int.h: AWS query and EC2 protocol request encoding. */
#ifndef CIHA_QUERY_INT_H
#define CIHA_QUERY_INT_H
#include <jansson.h>
#include "buf_int.h"

typedef enum { CIHA__PROTO_QUERY = 0, CIHA__PROTO_EC2 = 1 } ciha__protocol;

/* Form encoding as botocore sends it (Python's urlencode): A-Za-z0-9-_.~ kept,
 * space as '+', everything else %XX (upper hex). AWS accepts %20 too, but
 * verifiers that re-encode the form the Python way (moto's strict mode) need '+'. */
void ciha__percent_encode(ciha__buf *out, const char *s, size_t len);

/*
 * Encode a form body "Action=A&Version=V&..." from params.
 *
 * With `shapes` (a botocore-style "shapes" object) and `input_shape` (name
 * of the input structure, may be NULL for no input), names and list/map forms
 * follow the model exactly (member/locationName/queryName, flattened, maps,
 * timestampFormat, blobs as base64, special floats, EC2 capitalisation and
 * flat lists, query's empty list `Name=`).
 * In params, timestamps may be JSON numbers (epoch seconds) or strings;
 * blobs are raw strings.
 *
 * Without a model (shapes NULL) the rules in ciha/call.h apply: objects nest
 * with '.', arrays become member.N (query; RDS named members via
 * ciha__query_rds_member_name) or .N (EC2), dotted keys pass through.
 * `service` is only used for the RDS rule (may be NULL).
 *
 * Returns CIHA_OK, or raises CIHA_EINVAL naming the offending parameter path.
 */
int ciha__query_encode(ciha__buf *out, ciha__protocol proto, const char *service,
                       const char *action, const char *version,
                       const json_t *shapes, const char *input_shape, const json_t *params);

/* Name RDS uses for items of the list called `list_name` (Filters -> Filter,
 * Values -> Value, Tags -> Tag, VpcSecurityGroupIds -> VpcSecurityGroupId,
 * DBSecurityGroups -> DBSecurityGroupName, ...). Returns a static string or
 * NULL when unknown (then "member" is used). */
const char *ciha__query_rds_member_name(const char *list_name);

/* Replace the UUID source for unset idempotencyToken members (NULL restores
 * the random default). Defined only in CIHA_TESTING builds (libciha_test.la). */
void ciha__query_set_token_generator(void (*gen)(char out[37]));
#endif
