/* fuzz_snapshot_policy: ciha_snapshot_policy_from_json. */
#include "fuzz_common.h"
#include "ciha/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	ciha_snapshot_policy *policy = NULL;
	ciha_snapshot_policy_from_json(&policy, text, "fuzz.json");
	ciha_snapshot_policy_free(policy);
	free(text);
	return 0;
}
