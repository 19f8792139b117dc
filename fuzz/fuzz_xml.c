/* fuzz_xml: the XML tree, result location and the schemaless decoder. */
#include "fuzz_common.h"
#include "decode_int.h"
#include "xml_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha__xml_node *root = NULL;
	const ciha__xml_node *result;
	const char *request_id = NULL;
	json_t *out = NULL;

	if (ciha__xml_parse(&root, (const char *)data, size) != 0)
		return 0;
	ciha__xml_path_text(root, "ResponseMetadata/RequestId");
	for (int proto = CIHA__PROTO_QUERY; proto <= CIHA__PROTO_EC2; proto++) {
		result = ciha__decode_result_node(root, (ciha__protocol)proto, "DescribeThings", &request_id);
		if (ciha__decode_schemaless(&out, result) == 0) {
			char *text = json_dumps(out, JSON_COMPACT);
			free(text);
		}
		json_decref(out);
		out = NULL;
	}
	ciha__xml_free(root);
	return 0;
}
