/* test_tls.c: TLS verification against moto's HTTPS mode. The test starts its
 * own moto servers: one with werkzeug's ad-hoc self-signed certificate (-s),
 * refused; one with a certificate made here for IP:127.0.0.1 (-c/-k), refused
 * by default and accepted when the client's ca_bundle names that certificate.
 * A failure is CIHA_ENETWORK with a message about the certificate. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ciha.h>
#include "../check.h"

static struct {
	char dir[512];
	char python[512];
	char cert[600], key[600], other_cert[600], other_key[600];
	int port;
	pid_t pid;
} s;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(NULL);
	return system(cmd);
}

/* The first line a shell command prints, or "" */
static void first_line(char *out, size_t size, const char *cmd)
{
	FILE *p;
	out[0] = '\0';
	fflush(NULL);
	if (!(p = popen(cmd, "r")))
		return;
	if (!fgets(out, (int)size, p))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static int make_certificate(const char *cert, const char *key)
{
	return sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
	          "-addext subjectAltName=IP:127.0.0.1 -keyout '%s' -out '%s' >/dev/null 2>&1", key, cert);
}

static int setup(void)
{
	const char *src = getenv("CIHA_SRCDIR") ? getenv("CIHA_SRCDIR") : ".";
	const char *base = getenv("CIHA_BUILDDIR") ? getenv("CIHA_BUILDDIR") : "/tmp";
	char cmd[1200];
	snprintf(s.dir, sizeof(s.dir), "%s/tls-test.XXXXXX", base);
	if (strchr(s.dir, '\'') || strchr(src, '\'') || !mkdtemp(s.dir))
		return -1;
	snprintf(cmd, sizeof(cmd), "bash '%s/tests/tools/moto.sh' python", src);
	first_line(s.python, sizeof(s.python), cmd);
	snprintf(s.cert, sizeof(s.cert), "%s/cert.pem", s.dir);
	snprintf(s.key, sizeof(s.key), "%s/key.pem", s.dir);
	snprintf(s.other_cert, sizeof(s.other_cert), "%s/other-cert.pem", s.dir);
	snprintf(s.other_key, sizeof(s.other_key), "%s/other-key.pem", s.dir);
	if (!s.python[0] || make_certificate(s.cert, s.key) != 0 || make_certificate(s.other_cert, s.other_key) != 0)
		return -1;
	return 0;
}

static int free_port(void)
{
	char cmd[700], line[32];
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); "
	         "print(s.getsockname()[1])'", s.python);
	first_line(line, sizeof(line), cmd);
	return atoi(line);
}

/* Start moto with TLS options `tls` ("-s" or "-c CERT -k KEY"); wait until it answers. */
static int server_start(const char *const *tls)
{
	char port[16], log[600];
	const char *argv[16];
	int n = 0, i;
	s.port = free_port();
	if (s.port <= 0)
		return -1;
	snprintf(port, sizeof(port), "%d", s.port);
	snprintf(log, sizeof(log), "%s/moto.log", s.dir);
	argv[n++] = s.python;
	argv[n++] = "-m";
	argv[n++] = "moto.server";
	argv[n++] = "-H";
	argv[n++] = "127.0.0.1";
	argv[n++] = "-p";
	argv[n++] = port;
	for (i = 0; tls[i]; i++)
		argv[n++] = tls[i];
	argv[n] = NULL;
	fflush(NULL);
	s.pid = fork();
	if (s.pid == 0) {
		if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr) || !freopen("/dev/null", "r", stdin))
			_exit(127);
		execv(s.python, (char *const *)argv);
		_exit(127);
	}
	for (i = 0; s.pid > 0 && i < 200; i++) {
		if (sh("curl -skf -o /dev/null -X POST https://127.0.0.1:%d/moto-api/reset", s.port) == 0)
			return 0;
		if (waitpid(s.pid, NULL, WNOHANG) == s.pid) {
			s.pid = 0;
			return -1;
		}
		usleep(100000);
	}
	return -1;
}

static void server_stop(void)
{
	if (s.pid > 0) {
		kill(s.pid, SIGTERM);
		waitpid(s.pid, NULL, 0);
	}
	s.pid = 0;
}

/* whoami over https with `ca_bundle` (NULL: the system store); returns the result code. */
static int whoami(const char *ca_bundle, char *message, size_t size)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	ciha_credentials_provider *p = NULL;
	ciha_client *c = NULL;
	ciha_identity *id = NULL;
	char url[64];
	int rc;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", s.port);
	message[0] = '\0';
	if (ciha_credentials_provider_new_static(&p, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	                                         NULL) != CIHA_OK)
		return -1;
	o.region = "us-east-1";
	o.endpoint_url = url;
	o.credentials = p;
	o.max_attempts = 1;
	o.ca_bundle = ca_bundle;
	rc = ciha_client_new(&c, &o);
	ciha_credentials_provider_release(p);
	if (rc != CIHA_OK)
		return rc;
	rc = ciha_client_whoami(&id, c);
	if (rc != CIHA_OK)
		snprintf(message, size, "%s", ciha_error_message(ciha_client_error(c)));
	else
		CHECK_STR(ciha_identity_account(id), "123456789012");
	ciha_identity_free(id);
	ciha_client_free(c);
	return rc;
}

static void check_refused(const char *ca_bundle)
{
	char msg[1024];
	CHECK_INT(whoami(ca_bundle, msg, sizeof(msg)), CIHA_ENETWORK);
	CHECK_MSG(strstr(msg, "certificate") != NULL, "the message does not mention the certificate: %s", msg);
}

static void test_tls__self_signed_refused(void)
{
	static const char *const adhoc[] = { "-s", NULL };
	CHECK_MSG(server_start(adhoc) == 0, "moto -s did not start (log in %s)", s.dir);
	if (s.pid > 0)
		check_refused(NULL);
	server_stop();
}

static void test_tls__own_certificate_needs_ca_bundle(void)
{
	const char *const own[] = { "-c", s.cert, "-k", s.key, NULL };
	char msg[1024];
	CHECK_MSG(server_start(own) == 0, "moto -c/-k did not start (log in %s)", s.dir);
	if (s.pid <= 0)
		return;
	check_refused(NULL);
	check_refused(s.other_cert);
	CHECK_MSG(whoami(s.cert, msg, sizeof(msg)) == CIHA_OK, "with ca_bundle: %s", msg);
	server_stop();
}

int main(void)
{
	if (ciha_global_init(CIHA_GLOBAL_DEFAULT) != CIHA_OK)
		return 1;
	if (setup() != 0)
		CHECK_SKIP("need openssl and a Python with moto (tests/tools/setup-debian.sh)");
	RUN(test_tls__self_signed_refused);
	RUN(test_tls__own_certificate_needs_ca_bundle);
	server_stop();
	if (!check__failed)
		sh("rm -rf '%s'", s.dir);
	ciha_global_cleanup();
	return CHECK_DONE("test_tls");
}
