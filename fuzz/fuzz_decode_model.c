/* fuzz_decode_model: the model-driven XML decoder with a small result model
 * (scalars of every type, wrapped, named and flattened lists, maps, recursion). */
#include "fuzz_common.h"
#include "decode_int.h"
#include "xml_int.h"

static const char model_text[] =
	"{"
	"\"Out\": {\"type\": \"structure\", \"members\": {"
	"  \"Name\": {\"shape\": \"String\"},"
	"  \"Count\": {\"shape\": \"Long\"},"
	"  \"Enabled\": {\"shape\": \"Boolean\"},"
	"  \"Ratio\": {\"shape\": \"Float\"},"
	"  \"When\": {\"shape\": \"Timestamp\"},"
	"  \"Data\": {\"shape\": \"Blob\"},"
	"  \"Items\": {\"shape\": \"ItemList\"},"
	"  \"Named\": {\"shape\": \"NamedList\", \"locationName\": \"namedSet\"},"
	"  \"Flat\": {\"shape\": \"FlatList\"},"
	"  \"Legacy\": {\"shape\": \"LegacyFlatList\"},"
	"  \"Attributes\": {\"shape\": \"AttrMap\"},"
	"  \"FlatAttrs\": {\"shape\": \"FlatMap\", \"locationName\": \"Attr\"},"
	"  \"Child\": {\"shape\": \"Out\"},"
	"  \"Broken\": {\"shape\": \"Missing\"}"
	"}},"
	"\"String\": {\"type\": \"string\"},"
	"\"Long\": {\"type\": \"long\"},"
	"\"Boolean\": {\"type\": \"boolean\"},"
	"\"Float\": {\"type\": \"float\"},"
	"\"Timestamp\": {\"type\": \"timestamp\"},"
	"\"Blob\": {\"type\": \"blob\"},"
	"\"ItemList\": {\"type\": \"list\", \"member\": {\"shape\": \"Out\"}},"
	"\"NamedList\": {\"type\": \"list\", \"member\": {\"shape\": \"String\", \"locationName\": \"item\"}},"
	"\"FlatList\": {\"type\": \"list\", \"member\": {\"shape\": \"Long\"}, \"flattened\": true},"
	"\"LegacyFlatList\": {\"type\": \"list\", \"member\": {\"shape\": \"String\", \"locationName\": \"Old\"},"
	"  \"flattened\": true},"
	"\"AttrMap\": {\"type\": \"map\", \"key\": {\"shape\": \"String\", \"locationName\": \"Name\"},"
	"  \"value\": {\"shape\": \"Timestamp\", \"locationName\": \"Value\"}},"
	"\"FlatMap\": {\"type\": \"map\", \"key\": {\"shape\": \"String\"}, \"value\": {\"shape\": \"Out\"},"
	"  \"flattened\": true}"
	"}";

static json_t *model;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	model = json_loads(model_text, 0, NULL);
	if (!model)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha__xml_node *root = NULL;
	const ciha__xml_node *result;
	json_t *out = NULL;

	if (ciha__xml_parse(&root, (const char *)data, size) != 0)
		return 0;
	result = ciha__decode_result_node(root, CIHA__PROTO_QUERY, "Get", NULL);
	if (ciha__decode_shape(&out, result ? result : root, model, "Out") == 0) {
		char *text = json_dumps(out, JSON_COMPACT);
		free(text);
	}
	json_decref(out);
	ciha__xml_free(root);
	return 0;
}
