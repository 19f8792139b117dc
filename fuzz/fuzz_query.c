/*
 * fuzz_query: the query/EC2 form encoder over JSON params. Input: one byte
 * (bit 0: EC2 protocol, bit 1: encode with the small model below, bit 2: RDS
 * service for the schemaless named-member rule), then the params as JSON.
 */
#include "fuzz_common.h"
#include "query_int.h"

static const char model_text[] =
	"{"
	"\"In\": {\"type\": \"structure\", \"members\": {"
	"  \"Name\": {\"shape\": \"String\"},"
	"  \"Count\": {\"shape\": \"Integer\"},"
	"  \"Enabled\": {\"shape\": \"Boolean\"},"
	"  \"Ratio\": {\"shape\": \"Double\"},"
	"  \"When\": {\"shape\": \"Timestamp\"},"
	"  \"WhenUnix\": {\"shape\": \"Timestamp\", \"timestampFormat\": \"unixTimestamp\"},"
	"  \"Data\": {\"shape\": \"Blob\"},"
	"  \"Ids\": {\"shape\": \"IdList\"},"
	"  \"Flat\": {\"shape\": \"FlatList\"},"
	"  \"Tags\": {\"shape\": \"TagMap\", \"locationName\": \"Tag\"},"
	"  \"FlatTags\": {\"shape\": \"FlatMap\"},"
	"  \"Filters\": {\"shape\": \"FilterList\", \"locationName\": \"Filter\"},"
	"  \"Renamed\": {\"shape\": \"String\", \"locationName\": \"wireName\", \"queryName\": \"QueryName\"},"
	"  \"Token\": {\"shape\": \"String\", \"idempotencyToken\": true},"
	"  \"Nested\": {\"shape\": \"In\"}"
	"}},"
	"\"String\": {\"type\": \"string\"},"
	"\"Integer\": {\"type\": \"integer\"},"
	"\"Boolean\": {\"type\": \"boolean\"},"
	"\"Double\": {\"type\": \"double\"},"
	"\"Timestamp\": {\"type\": \"timestamp\"},"
	"\"Blob\": {\"type\": \"blob\"},"
	"\"IdList\": {\"type\": \"list\", \"member\": {\"shape\": \"String\", \"locationName\": \"Id\"}},"
	"\"FlatList\": {\"type\": \"list\", \"member\": {\"shape\": \"String\"}, \"flattened\": true},"
	"\"TagMap\": {\"type\": \"map\", \"key\": {\"shape\": \"String\", \"locationName\": \"Key\"},"
	"  \"value\": {\"shape\": \"String\", \"locationName\": \"Value\"}},"
	"\"FlatMap\": {\"type\": \"map\", \"key\": {\"shape\": \"String\"}, \"value\": {\"shape\": \"Integer\"},"
	"  \"flattened\": true},"
	"\"FilterList\": {\"type\": \"list\", \"member\": {\"shape\": \"Filter\", \"locationName\": \"Filter\"}},"
	"\"Filter\": {\"type\": \"structure\", \"members\": {\"Name\": {\"shape\": \"String\"},"
	"  \"Values\": {\"shape\": \"IdList\"}}}"
	"}";

static json_t *model;

static void fixed_token(char out[37])
{
	memcpy(out, "00000000-0000-4000-8000-000000000000", 37);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	json_error_t err;
	(void)argc;
	(void)argv;
	model = json_loads(model_text, 0, &err);
	if (!model)
		abort();
	ciha__query_set_token_generator(fixed_token);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha__buf body = CIHA__BUF_INIT;
	json_t *params;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	params = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!params)
		return 0;
	ciha__query_encode(&body, (flags & 1) ? CIHA__PROTO_EC2 : CIHA__PROTO_QUERY, (flags & 4) ? "rds" : "ec2",
	                   "DoThing", "2020-01-01", (flags & 2) ? model : NULL, (flags & 2) ? "In" : NULL, params);
	ciha__buf_dispose(&body);
	json_decref(params);
	return 0;
}
