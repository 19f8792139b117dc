/* fuzz_template: CloudFormation templates, JSON or YAML, and the stateful-resource check. */
#include "fuzz_common.h"
#include "stack_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	json_t *tpl = NULL;
	if (ciha__template_parse(&tpl, text, "fuzz.yaml") == 0) {
		const char *name;
		json_t *res;
		json_object_foreach(json_object_get(tpl, "Resources"), name, res)
			ciha__resource_type_is_stateful(json_string_value(json_object_get(res, "Type")));
	}
	json_decref(tpl);
	free(text);
	return 0;
}
