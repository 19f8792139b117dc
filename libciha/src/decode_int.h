/* decode_int.h: XML results and errors to JSON. */
#ifndef CIHA_DECODE_INT_H
#define CIHA_DECODE_INT_H
#include <jansson.h>
#include "xml_int.h"
#include "query_int.h"

/*
 * Decode the structure `node` with the model: members by name/locationName,
 * lists (member/item/named/flattened, single elements still lists, empty -> []),
 * maps (entry/key/value with locationNames, flattened), scalars by type
 * (integers, floats incl. NaN/Infinity, booleans, timestamps -> epoch seconds
 * as JSON real/integer, blobs base64-decoded to strings), missing -> absent.
 */
int ciha__decode_shape(json_t **out, const ciha__xml_node *node, const json_t *shapes,
                       const char *shape_name);

/* Without a model: children named member/item -> array; repeated names ->
 * array; element with children -> object; leaf -> string. RDS-style named
 * lists (<DBSnapshots><DBSnapshot>..) are arrays when every child has the same
 * name and the container is that name + "s"/"List"/"Set" or is a known list.
 * <X><entry><key>k</key><value>v</value></entry></X> becomes the object
 * {"k": "v"}. A NULL node (no result element) decodes to an empty object. */
int ciha__decode_schemaless(json_t **out, const ciha__xml_node *node);

/* Locate the result of a successful response: query -> <ActionResult> (NULL
 * when absent, which ciha__decode_schemaless turns into {}); EC2 -> the root
 * element (it still holds <requestId>; drop that member after decoding). Sets *request_id (borrowed
 * from the tree) from ResponseMetadata/RequestId or requestId. */
const ciha__xml_node *ciha__decode_result_node(const ciha__xml_node *root, ciha__protocol proto,
                                               const char *action, const char **request_id);

typedef struct {
	char *code;        /* owned; NULL if none */
	char *message;     /* owned */
	char *request_id;  /* owned */
	char *type;        /* Sender/Receiver, owned */
} ciha__aws_error;

/* Parse an error body of any shape (query ErrorResponse/Error, EC2
 * Response/Errors/Error, moto's ErrorResponse/Errors/Error) or a non-XML body.
 * When no <Code> can be read (non-XML, HTML, empty, truncated or malformed
 * body) and status >= 300, code = the status number as text ("503"); a
 * missing message becomes the reason phrase ("Service Unavailable"). Always fills what it can; never fails
 * except on ENOMEM. */
int ciha__aws_error_parse(ciha__aws_error *out, const char *body, size_t len, int http_status);
void ciha__aws_error_dispose(ciha__aws_error *e);
#endif
