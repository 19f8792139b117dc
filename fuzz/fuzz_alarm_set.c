/* fuzz_alarm_set: ciha_alarm_set_from_json. */
#include "fuzz_common.h"
#include "ciha/alarm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	ciha_alarm_set *set = NULL;
	ciha_alarm_set_from_json(&set, text, "fuzz.json");
	ciha_alarm_set_free(set);
	free(text);
	return 0;
}
