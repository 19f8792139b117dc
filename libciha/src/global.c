/* global.c: reference-counted library initialisation. */
#include <curl/curl.h>
#include "ciha/common.h"
#include "error_int.h"

static int init_count;
static unsigned int init_flags;

CIHA_EXTERN(ciha_result) ciha_global_init(unsigned int flags)
{
	if (init_count++ > 0)
		return CIHA_OK;
	init_flags = flags;
	if (!(flags & CIHA_GLOBAL_NO_CURL) && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		init_count = 0;
		return ciha__error_raise(CIHA_ERROR, "libcurl failed to initialise");
	}
	return CIHA_OK;
}

CIHA_EXTERN(void) ciha_global_cleanup(void)
{
	if (init_count == 0 || --init_count > 0)
		return;
	if (!(init_flags & CIHA_GLOBAL_NO_CURL))
		curl_global_cleanup();
	ciha__error_thread_cleanup();
}
