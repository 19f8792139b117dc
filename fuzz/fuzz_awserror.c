/* fuzz_awserror: error bodies of every shape, and of none. The first byte picks the HTTP status. */
#include "fuzz_common.h"
#include "decode_int.h"
#include "error_int.h"

static const int statuses[] = { 200, 301, 400, 401, 403, 404, 409, 412, 429, 500, 502, 503, 504, 599, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha__aws_error e;
	int status = size ? statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))] : 400;

	memset(&e, 0, sizeof(e));
	if (size)
		data++, size--;
	if (ciha__aws_error_parse(&e, (const char *)data, size, status) == 0 && e.code)
		ciha__error_code_for_aws(e.code, status);
	ciha__aws_error_dispose(&e);
	return 0;
}
