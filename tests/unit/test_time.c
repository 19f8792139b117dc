/* test_time.c: timestamp parsing and formatting, clocks. */
#include <math.h>
#include "check.h"
#include "time_int.h"

static double parsed(const char *s)
{
	double v = -1e300;
	if (ciha__time_parse(s, &v) != 0)
		return -1e300;
	return v;
}

#define CHECK_TIME(s, expected) CHECK_MSG(fabs(parsed(s) - (expected)) < 1e-6, "%s -> %.6f", s, parsed(s))

static void test_time__iso8601_utc(void)
{
	CHECK_TIME("2015-01-25T08:00:00Z", 1422172800.0);
	CHECK_TIME("1970-01-01T00:00:00Z", 0.0);
	CHECK_TIME("2014-04-29T18:30:38Z", 1398796238.0);
	CHECK_TIME("2000-01-02T20:34:56.123Z", 946845296.123);
	CHECK_TIME("2000-01-02T20:34:56.000Z", 946845296.0);
	CHECK_TIME("2024-02-29T23:59:59Z", 1709251199.0);
}

static void test_time__iso8601_offsets(void)
{
	CHECK_TIME("2019-12-16T22:48:18-01:00", 1576540098.0);
	CHECK_TIME("2019-12-17T00:48:18+01:00", 1576540098.0);
	CHECK_TIME("2019-12-16T23:48:18+00:00", 1576540098.0);
	CHECK_TIME("2019-12-17T05:18:18+0530", 1576540098.0);
	CHECK_TIME("2019-12-16T23:48:18", 1576540098.0); /* no zone: UTC */
}

static void test_time__rfc822(void)
{
	CHECK_TIME("Tue, 29 Apr 2014 18:30:38 GMT", 1398796238.0);
	CHECK_TIME("29 Apr 2014 18:30:38 GMT", 1398796238.0);
	CHECK_TIME("Tue, 29 Apr 2014 19:30:38 +0100", 1398796238.0);
}

static void test_time__epoch(void)
{
	CHECK_TIME("1398796238", 1398796238.0);
	CHECK_TIME("1398796238.5", 1398796238.5);
	CHECK_TIME("0", 0.0);
}

static void test_time__rejects_garbage(void)
{
	double v;
	CHECK_INT(ciha__time_parse("", &v), -1);
	CHECK_INT(ciha__time_parse(NULL, &v), -1);
	CHECK_INT(ciha__time_parse("yesterday", &v), -1);
	CHECK_INT(ciha__time_parse("2015-13-25T08:00:00Z", &v), -1);
	CHECK_INT(ciha__time_parse("2015-01-25T25:00:00Z", &v), -1);
	CHECK_INT(ciha__time_parse("2015-01-25T08:00:00Zjunk", &v), -1);
	CHECK_INT(ciha__time_parse("2015-01-25", &v), -1);
	CHECK_INT(ciha__time_parse("Tue, 29 Foo 2014 18:30:38 GMT", &v), -1);
	CHECK_INT(ciha__time_parse("12abc", &v), -1);
}

static void test_time__formats(void)
{
	char iso[21], amz[17];
	ciha__time_iso8601((time_t)1422172800, iso);
	CHECK_STR(iso, "2015-01-25T08:00:00Z");
	ciha__time_amz((time_t)1440938160, amz);
	CHECK_STR(amz, "20150830T123600Z");
	ciha__time_iso8601((time_t)0, iso);
	CHECK_STR(iso, "1970-01-01T00:00:00Z");
}

static void test_time__round_trip(void)
{
	char iso[21];
	for (time_t t = 0; t < (time_t)4000000000LL; t += (time_t)86413 * 97) {
		ciha__time_iso8601(t, iso);
		CHECK_MSG(parsed(iso) == (double)t, "%s", iso);
	}
}

static void test_time__clocks(void)
{
	long long wall = ciha__now_ms(), start = ciha__mono_ms(), elapsed;
	CHECK(wall > 1600000000000LL);
	ciha__sleep_ms(20);
	elapsed = ciha__mono_ms() - start;
	CHECK_MSG(elapsed >= 20 && elapsed < 2000, "slept %lld ms", elapsed);
	ciha__sleep_ms(0);
	ciha__sleep_ms(-5);
}

int main(void)
{
	RUN(test_time__iso8601_utc);
	RUN(test_time__iso8601_offsets);
	RUN(test_time__rfc822);
	RUN(test_time__epoch);
	RUN(test_time__rejects_garbage);
	RUN(test_time__formats);
	RUN(test_time__round_trip);
	RUN(test_time__clocks);
	return CHECK_DONE("test_time");
}
