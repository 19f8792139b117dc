/*
 * fuzz_sigv4: the SigV4 canonicaliser. Input: one flags byte, then lines
 * "METHOD\nTARGET\nName: value\n...\n\nBODY" (the first empty line ends the
 * headers). Flags: 1 normalize_path, 2 sign_body, 4 session token,
 * 8 omit_session_token, 16 presign instead of sign.
 */
#include "fuzz_common.h"
#include "ciha/sigv4.h"
#include "ciha/common.h"

#define MAX_LINES 40

static void add_headers(ciha_sigv4_request *req, char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *colon = strchr(lines[i], ':');
		if (!colon)
			continue;
		*colon = '\0';
		ciha_sigv4_request_add_header(req, lines[i], colon + 1);
	}
}

static void read_back(const ciha_sigv4_request *req)
{
	size_t n = ciha_sigv4_request_header_count(req);
	for (size_t i = 0; i <= n; i++) {
		ciha_sigv4_request_header_name(req, i);
		ciha_sigv4_request_header_value(req, i);
	}
	ciha_sigv4_request_header(req, "authorization");
	ciha_sigv4_request_canonical(req);
	ciha_sigv4_request_string_to_sign(req);
	ciha_sigv4_request_signature(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ciha_sigv4_options opts = CIHA_SIGV4_OPTIONS_INIT;
	ciha_sigv4_request *req = NULL;
	char *lines[MAX_LINES], *text, *body = NULL, *target = NULL;
	size_t n, nheaders;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	text = fuzz_cstr(data + 1, size - 1);
	n = fuzz_split_lines(text, lines, MAX_LINES);
	for (nheaders = 2; nheaders < n && lines[nheaders][0] != '\0'; nheaders++)
		;
	if (nheaders + 1 < n)
		body = lines[nheaders + 1];
	if (n >= 2 && ciha_sigv4_request_new(&req, lines[0], lines[1]) == CIHA_OK) {
		add_headers(req, lines + 2, nheaders - 2);
		if (body)
			ciha_sigv4_request_set_body(req, body, strlen(body));
		opts.access_key_id = "AKIDEXAMPLE";
		opts.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
		opts.session_token = (flags & 4) ? "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==" : NULL;
		opts.region = "us-east-1";
		opts.service = "service";
		opts.when = 1440938160; /* 2015-08-30T12:36:00Z, the test suites' time */
		opts.normalize_path = (flags & 1) != 0;
		opts.sign_body = (flags & 2) != 0;
		opts.omit_session_token = (flags & 8) != 0;
		if (flags & 16) {
			if (ciha_sigv4_presign(&target, req, &opts, 3600) == CIHA_OK)
				ciha_free(target);
		} else {
			ciha_sigv4_sign(req, &opts);
		}
		read_back(req);
	}
	ciha_sigv4_request_free(req);
	free(text);
	return 0;
}
