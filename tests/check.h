/* check.h: a tiny test harness. Each test_<area>__<case> is a void function;
 * CHECK records failures with file:line and goes on; main() prints
 * "<program>: N passed, N failed" and exits 1 on any failure (77 = skip). */
#ifndef CIHA_TEST_CHECK_H
#define CIHA_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check__failed_in_case;
static int check__passed, check__failed;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); check__failed_in_case++; } } while (0)
#define CHECK_MSG(cond, ...) do { if (!(cond)) { \
	fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); check__failed_in_case++; } } while (0)
#define CHECK_STR(a, b) do { const char *check__a = (a), *check__b = (b); \
	if (!check__a || !check__b || strcmp(check__a, check__b) != 0) { \
	fprintf(stderr, "  FAIL %s:%d: %s == %s\n    got:      [%s]\n    expected: [%s]\n", __FILE__, __LINE__, \
		#a, #b, check__a ? check__a : "(null)", check__b ? check__b : "(null)"); check__failed_in_case++; } } while (0)
#define CHECK_INT(a, b) do { long long check__x = (long long)(a), check__y = (long long)(b); \
	if (check__x != check__y) { fprintf(stderr, "  FAIL %s:%d: %s == %s (got %lld, expected %lld)\n", \
		__FILE__, __LINE__, #a, #b, check__x, check__y); check__failed_in_case++; } } while (0)

/* Run one case: counts it as passed or failed. */
#define RUN(fn) do { check__failed_in_case = 0; fn(); \
	if (check__failed_in_case) { check__failed++; fprintf(stderr, "not ok %s\n", #fn); } \
	else { check__passed++; if (getenv("CHECK_VERBOSE")) fprintf(stderr, "ok %s\n", #fn); } } while (0)

/* Count a data-driven case by name (for suites of vectors). */
#define CHECK_CASE(name, ok) do { if (ok) check__passed++; else { check__failed++; \
	fprintf(stderr, "not ok %s\n", (name)); } } while (0)

#define CHECK_DONE(prog) (printf("%s: %d passed, %d failed\n", (prog), check__passed, check__failed), \
	check__failed ? 1 : 0)

/* Skip loudly (exit 77) when an integration prerequisite is missing. */
#define CHECK_SKIP(...) do { fprintf(stderr, "SKIP: "); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
	exit(77); } while (0)
#endif
