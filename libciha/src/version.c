/* version.c: the running library's version. */
#include "ciha/common.h"

CIHA_EXTERN(const char *) ciha_version(void)
{
	return CIHA_VERSION_STRING;
}

CIHA_EXTERN(int) ciha_version_check(int major, int minor, int patch)
{
	long have = ((long)CIHA_VERSION_MAJOR << 16) | (CIHA_VERSION_MINOR << 8) | CIHA_VERSION_PATCH;
	long want = ((long)major << 16) | ((long)minor << 8) | patch;
	return have >= want;
}
