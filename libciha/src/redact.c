#define _GNU_SOURCE
/* redact.c: masking secrets in text bound for logs and error messages. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "log_int.h"

#define MASK "[redacted]"

typedef enum { END_LINE, END_TOKEN, END_XML, END_JSON } value_end;

typedef struct {
	const char *key;      /* matched case-insensitively */
	const char *between;  /* characters that may sit between key and value */
	value_end end;
} pattern;

static const pattern patterns[] = {
	{ "Signature=", "", END_TOKEN },
	{ "X-Amz-Security-Token:", " \t", END_LINE },
	{ "X-Amz-Security-Token=", "", END_TOKEN },
	{ "x-aws-ec2-metadata-token:", " \t", END_LINE },
	{ "aws_secret_access_key", " \t=", END_LINE },
	{ "aws_session_token", " \t=", END_LINE },
	{ "AWS_SECRET_ACCESS_KEY", " \t=", END_LINE },
	{ "AWS_SESSION_TOKEN", " \t=", END_LINE },
	{ "<SecretAccessKey>", "", END_XML },
	{ "<SessionToken>", "", END_XML },
	{ "\"SecretAccessKey\"", " \t:", END_JSON },
	{ "\"Token\"", " \t:", END_JSON },
	{ "\"SessionToken\"", " \t:", END_JSON },
	{ "\"routing_key\"", " \t:", END_JSON },
	{ "\"integration_key\"", " \t:", END_JSON },
	{ "WebIdentityToken=", "", END_TOKEN },
};

static size_t value_length(const char *v, value_end end)
{
	size_t n = 0;
	switch (end) {
	case END_LINE:
		while (v[n] && v[n] != '\r' && v[n] != '\n')
			n++;
		break;
	case END_TOKEN:
		while (v[n] && v[n] != '&' && v[n] != ',' && v[n] != '"' && !isspace((unsigned char)v[n]))
			n++;
		break;
	case END_XML:
		while (v[n] && v[n] != '<')
			n++;
		break;
	case END_JSON:
		while (v[n] && v[n] != '"') {
			if (v[n] == '\\' && v[n + 1])
				n++;
			n++;
		}
		break;
	}
	return n;
}

/* Replace value [v, v+n) by MASK when that does not grow the string, else by stars. */
static void mask_value(char *v, size_t n)
{
	size_t m = strlen(MASK);
	if (n == 0)
		return;
	if (n >= m) {
		memcpy(v, MASK, m);
		memmove(v + m, v + n, strlen(v + n) + 1);
	} else {
		memset(v, '*', n);
	}
}

static int already_masked(const char *v)
{
	return strncmp(v, MASK, strlen(MASK)) == 0;
}

static void redact_pattern(char *s, const pattern *p)
{
	size_t klen = strlen(p->key);
	char *at = s;
	while (*at) {
		char *v;
		if (strncasecmp(at, p->key, klen) != 0) {
			at++;
			continue;
		}
		v = at + klen;
		while (*v && strchr(p->between, *v))
			v++;
		if (p->end == END_JSON) {
			if (*v != '"') { /* not a string value: nothing to mask */
				at = v;
				continue;
			}
			v++;
		}
		if (!already_masked(v))
			mask_value(v, value_length(v, p->end));
		at = v;
	}
}

/* Authorization values other than SigV4's (container tokens, bearer tokens) are masked whole. */
static void redact_authorization(char *s)
{
	static const char key[] = "Authorization:";
	char *at = s;
	while ((at = strcasestr(at, key)) != NULL) {
		char *v = at + strlen(key);
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncmp(v, "AWS4-", 5) != 0 && !already_masked(v))
			mask_value(v, value_length(v, END_LINE));
		at = v;
	}
}

char *ciha__redact(char *s)
{
	size_t i;
	if (!s)
		return s;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		redact_pattern(s, &patterns[i]);
	redact_authorization(s);
	return s;
}
