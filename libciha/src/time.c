/* time.c: AWS timestamp formats and clocks. */
#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "time_int.h"

/* Read exactly `n` digits at *p into *out and advance. */
static int read_digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect_char(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

static int valid_tm(const struct tm *tm)
{
	return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31 &&
	       tm->tm_hour >= 0 && tm->tm_hour <= 23 && tm->tm_min >= 0 && tm->tm_min <= 59 &&
	       tm->tm_sec >= 0 && tm->tm_sec <= 60;
}

/* ".123" -> 0.123; leaves p after the digits. */
static double read_fraction(const char **p)
{
	double frac = 0, scale = 0.1;
	if (**p != '.' && **p != ',')
		return 0;
	(*p)++;
	while (isdigit((unsigned char)**p)) {
		frac += (**p - '0') * scale;
		scale /= 10;
		(*p)++;
	}
	return frac;
}

/* "Z", "+hh:mm", "-hhmm", "+hh" or nothing; returns seconds east of UTC. */
static int read_zone(const char **p, long *offset)
{
	int sign, hh, mm = 0;
	*offset = 0;
	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return 0;
	sign = **p == '-' ? -1 : 1;
	(*p)++;
	if (read_digits(p, 2, &hh) != 0)
		return -1;
	if (**p == ':')
		(*p)++;
	if (isdigit((unsigned char)**p) && read_digits(p, 2, &mm) != 0)
		return -1;
	*offset = sign * (hh * 3600L + mm * 60L);
	return 0;
}

static int parse_iso8601(const char *s, double *out)
{
	struct tm tm;
	int year, mon, day, hh, mi, ss;
	double frac;
	long offset;
	const char *p = s;

	memset(&tm, 0, sizeof(tm));
	if (read_digits(&p, 4, &year) || expect_char(&p, '-') || read_digits(&p, 2, &mon) ||
	    expect_char(&p, '-') || read_digits(&p, 2, &day))
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (read_digits(&p, 2, &hh) || expect_char(&p, ':') || read_digits(&p, 2, &mi) ||
	    expect_char(&p, ':') || read_digits(&p, 2, &ss))
		return -1;
	frac = read_fraction(&p);
	if (read_zone(&p, &offset) != 0 || *p != '\0')
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	if (!valid_tm(&tm))
		return -1;
	*out = (double)timegm(&tm) - (double)offset + frac;
	return 0;
}

static int month_index(const char *abbr)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	for (int i = 0; i < 12; i++)
		if (strncmp(abbr, months[i], 3) == 0)
			return i;
	return -1;
}

/* "Tue, 29 Apr 2014 18:30:38 GMT" (weekday optional, GMT/UTC/Z/+hhmm zone). */
static int parse_rfc822(const char *s, double *out)
{
	struct tm tm;
	char mon[4], zone[8] = "";
	int day, year, hh, mi, ss, consumed = 0;
	long offset = 0;
	const char *p = s, *comma = strchr(s, ',');

	if (comma)
		p = comma + 1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(p, " %d %3s %d %d:%d:%d %n", &day, mon, &year, &hh, &mi, &ss, &consumed) != 6)
		return -1;
	p += consumed;
	if (*p) {
		if (sscanf(p, "%7s", zone) != 1)
			return -1;
		if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0 && strcmp(zone, "UT") != 0) {
			const char *z = zone;
			if (read_zone(&z, &offset) != 0 || *z)
				return -1;
		}
	}
	tm.tm_mon = month_index(mon);
	tm.tm_year = year - 1900;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	if (tm.tm_mon < 0 || !valid_tm(&tm))
		return -1;
	*out = (double)timegm(&tm) - (double)offset;
	return 0;
}

static int parse_epoch(const char *s, double *out)
{
	char *end;
	double v;
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

int ciha__time_parse(const char *s, double *out)
{
	if (!s || !*s)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (parse_iso8601(s, out) == 0 || parse_epoch(s, out) == 0 || parse_rfc822(s, out) == 0)
		return 0;
	return -1;
}

void ciha__time_iso8601(time_t t, char out[21])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		out[0] = '\0';
}

void ciha__time_amz(time_t t, char out[17])
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) == 0)
		out[0] = '\0';
}

static long long clock_ms(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long ciha__now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

long long ciha__mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

void ciha__sleep_ms(long ms)
{
	struct timespec req, rem;
	if (ms <= 0)
		return;
	req.tv_sec = ms / 1000;
	req.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&req, &rem) != 0 && errno == EINTR)
		req = rem;
}
