/*
 * libciha: CI high availability on AWS.
 * common.h: export macro, result codes, library lifecycle, memory.
 */
#ifndef CIHA_COMMON_H
#define CIHA_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "ciha/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && (__GNUC__ >= 4)
#define CIHA_EXTERN(type) extern __attribute__((visibility("default"))) type
#define CIHA_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CIHA_EXTERN(type) extern type
#define CIHA_WARN_UNUSED
#endif

/** A return value: CIHA_OK (0) or a negative ciha_code. */
typedef int ciha_result;

/** Result codes. Append-only; a code is never renumbered or reused. */
typedef enum {
	CIHA_OK = 0,
	CIHA_ERROR = -1,        /**< unclassified failure */
	CIHA_ENOMEM = -2,       /**< out of memory */
	CIHA_EINVAL = -3,       /**< bad argument or input (client side) */
	CIHA_ENOTFOUND = -4,    /**< the resource does not exist */
	CIHA_EEXISTS = -5,      /**< the resource already exists */
	CIHA_EAUTH = -6,        /**< credentials missing, rejected or not authorised */
	CIHA_ETHROTTLED = -7,   /**< throttled by AWS after all retries */
	CIHA_ETIMEOUT = -8,     /**< a timeout expired */
	CIHA_ENETWORK = -9,     /**< connection or transport failure */
	CIHA_ESTATE = -10,      /**< the resource is in a state that forbids the operation */
	CIHA_EAWS = -11,        /**< an AWS service error not mapped to anything above */
	CIHA_EUSER = -12,       /**< a user callback asked to stop */
	CIHA_ITEROVER = -13,    /**< an iterator has no more items (not an error) */
	CIHA_EUNSUPPORTED = -14,/**< not supported by this build or version */
	CIHA_EAGAIN = -15       /**< not finished yet; call again */
} ciha_code;

/** Flags for ciha_global_init(). */
#define CIHA_GLOBAL_DEFAULT 0u
#define CIHA_GLOBAL_NO_CURL 1u /**< the application initialises libcurl itself */

/**
 * Initialise the library (libcurl, OpenSSL). Reference-counted: every call
 * must be matched by ciha_global_cleanup(). Not thread-safe against itself.
 * @return CIHA_OK, or CIHA_ERROR if libcurl failed to initialise.
 * Since 0.1.
 */
CIHA_EXTERN(ciha_result) ciha_global_init(unsigned int flags);

/** Release what ciha_global_init() set up once the count drops to zero. Since 0.1. */
CIHA_EXTERN(void) ciha_global_cleanup(void);

/**
 * Free memory that libciha handed out as a caller-owned `char **out` or
 * similar raw buffer. NULL is allowed. Do not use free() on it. Since 0.1.
 */
CIHA_EXTERN(void) ciha_free(void *ptr);

/** @return borrowed static string "MAJOR.MINOR.PATCH" of the running library. Since 0.1. */
CIHA_EXTERN(const char *) ciha_version(void);

/**
 * @return 1 if the running library is at least major.minor.patch, else 0.
 * Since 0.1.
 */
CIHA_EXTERN(int) ciha_version_check(int major, int minor, int patch);

#ifdef __cplusplus
}
#endif
#endif
