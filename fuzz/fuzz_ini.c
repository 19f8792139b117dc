/* fuzz_ini: the INI parser of ~/.aws/config and ~/.aws/credentials. */
#include "fuzz_common.h"
#include "config_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha__ini *ini = NULL;
	if (ciha__ini_parse(&ini, (const char *)data, size, "fuzz.ini") == 0) {
		ciha__ini_get(ini, "default", "region");
		ciha__ini_get(ini, "profile dev", "s3.endpoint_url");
		ciha__ini_has_section(ini, "services local");
	}
	ciha__ini_free(ini);
	return 0;
}
