/* test_config.c: the shared config/credentials files and profile selection. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "ciha/errors.h"
#include "alloc_int.h"
#include "config_int.h"
#include "error_int.h"
#include "../check.h"

static char tmpdir[256];

static ciha__ini *parse(const char *text, int expect_rc)
{
	ciha__ini *ini = NULL;
	int rc = ciha__ini_parse(&ini, text, strlen(text), "test.ini");
	CHECK_INT(rc, expect_rc);
	return ini;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void path_in_tmp(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static void clear_env(void)
{
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	setenv("HOME", tmpdir, 1);
}

static void test_ini__sections_and_keys(void)
{
	ciha__ini *ini = parse("# comment\n; another\n[default]\nregion = eu-west-1\n"
	                       "  \n[profile dev]   # trailing comment\nregion=us-east-2\nkey = a = b\n"
	                       "[profile    spaced]\nx = 1\r\n", CIHA_OK);
	CHECK_STR(ciha__ini_get(ini, "default", "region"), "eu-west-1");
	CHECK_STR(ciha__ini_get(ini, "profile dev", "region"), "us-east-2");
	CHECK_STR(ciha__ini_get(ini, "profile dev", "key"), "a = b");
	CHECK_STR(ciha__ini_get(ini, "profile spaced", "x"), "1");
	CHECK(ciha__ini_get(ini, "profile dev", "missing") == NULL);
	CHECK(ciha__ini_get(ini, "nope", "region") == NULL);
	CHECK(ciha__ini_has_section(ini, "profile dev"));
	CHECK(!ciha__ini_has_section(ini, "dev"));
	ciha__ini_free(ini);
}

static void test_ini__last_value_wins_and_sections_merge(void)
{
	ciha__ini *ini = parse("[a]\nk = 1\n[b]\nk = 2\n[a]\nk = 3\nj = 4\n", CIHA_OK);
	CHECK_STR(ciha__ini_get(ini, "a", "k"), "3");
	CHECK_STR(ciha__ini_get(ini, "a", "j"), "4");
	CHECK_STR(ciha__ini_get(ini, "b", "k"), "2");
	ciha__ini_free(ini);
}

static void test_ini__sub_sections(void)
{
	ciha__ini *ini = parse("[services local]\nsts =\n  endpoint_url = http://127.0.0.1:5000\n"
	                       "\tregion = us-west-2\nec2 =\n  endpoint_url = http://e\nplain = v\n"
	                       "multi = first\n  second\n", CIHA_OK);
	CHECK_STR(ciha__ini_get(ini, "services local", "sts.endpoint_url"), "http://127.0.0.1:5000");
	CHECK_STR(ciha__ini_get(ini, "services local", "sts.region"), "us-west-2");
	CHECK_STR(ciha__ini_get(ini, "services local", "ec2.endpoint_url"), "http://e");
	CHECK_STR(ciha__ini_get(ini, "services local", "sts"), "");
	CHECK_STR(ciha__ini_get(ini, "services local", "plain"), "v");
	CHECK_STR(ciha__ini_get(ini, "services local", "multi"), "first\nsecond");
	ciha__ini_free(ini);
}

static void check_bad(const char *text, const char *where)
{
	ciha__ini *ini = parse(text, CIHA_EINVAL);
	const char *msg = ciha_error_message(ciha_error_last());
	CHECK(ini == NULL);
	CHECK_MSG(strstr(msg, where) != NULL, "message [%s] lacks [%s]", msg, where);
}

static void test_ini__bad_lines_name_file_and_line(void)
{
	check_bad("[default]\nregion = x\nthis line has no equals\n", "test.ini:3:");
	check_bad("key = outside\n", "test.ini:1:");
	check_bad("[default\n", "test.ini:1:");
	check_bad("[ok]\n[]\n", "test.ini:2:");
	check_bad("[ok]\n = value\n", "test.ini:2:");
	check_bad("[ok]\n\n\n[x] junk\n", "test.ini:4:");
}

static void test_ini__load_missing_and_unreadable(void)
{
	char path[512];
	ciha__ini *ini = NULL;
	int wr = -1;
	path_in_tmp(path, sizeof(path), "does-not-exist");
	CHECK_INT(ciha__ini_load(&ini, path, &wr), CIHA_OK);
	CHECK(ini != NULL);
	CHECK_INT(wr, 0);
	CHECK(!ciha__ini_has_section(ini, "default"));
	ciha__ini_free(ini);
	ini = NULL;
	CHECK_INT(ciha__ini_load(&ini, tmpdir, &wr), CIHA_EINVAL); /* a directory */
	CHECK(strstr(ciha_error_message(ciha_error_last()), tmpdir) != NULL);
	CHECK(ini == NULL);
}

static void test_ini__world_readable_flag(void)
{
	char path[512];
	ciha__ini *ini = NULL;
	int wr = -1;
	path_in_tmp(path, sizeof(path), "perm");
	write_file(path, "[default]\nk = v\n", 0600);
	CHECK_INT(ciha__ini_load(&ini, path, &wr), CIHA_OK);
	CHECK_INT(wr, 0);
	ciha__ini_free(ini);
	chmod(path, 0644);
	CHECK_INT(ciha__ini_load(&ini, path, &wr), CIHA_OK);
	CHECK_INT(wr, 1);
	CHECK_STR(ciha__ini_get(ini, "default", "k"), "v");
	ciha__ini_free(ini);
	unlink(path);
}

static void test_ini__load_reports_file_and_line(void)
{
	char path[512];
	ciha__ini *ini = NULL;
	path_in_tmp(path, sizeof(path), "bad");
	write_file(path, "[default]\n\nnot a pair\n", 0600);
	CHECK_INT(ciha__ini_load(&ini, path, NULL), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "bad:3:") != NULL);
	unlink(path);
}

static void test_profile__selection_rules(void)
{
	ciha__aws_config cfg;
	clear_env();
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, NULL, NULL), CIHA_OK);
	CHECK_STR(cfg.profile, "default");
	CHECK_INT(cfg.profile_explicit, 0);
	ciha__aws_config_dispose(&cfg);
	setenv("AWS_DEFAULT_PROFILE", "legacy", 1);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, NULL, NULL), CIHA_OK);
	CHECK_STR(cfg.profile, "legacy");
	ciha__aws_config_dispose(&cfg);
	setenv("AWS_PROFILE", "envprof", 1);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, NULL, NULL), CIHA_OK);
	CHECK_STR(cfg.profile, "envprof");
	CHECK_INT(cfg.profile_explicit, 1);
	ciha__aws_config_dispose(&cfg);
	CHECK_INT(ciha__aws_config_load(&cfg, "given", NULL, NULL), CIHA_OK);
	CHECK_STR(cfg.profile, "given");
	ciha__aws_config_dispose(&cfg);
	clear_env();
}

static void test_profile__file_paths(void)
{
	ciha__aws_config cfg;
	char expect[512];
	clear_env();
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, NULL, NULL), CIHA_OK);
	path_in_tmp(expect, sizeof(expect), ".aws/config");
	CHECK_STR(cfg.config_path, expect);
	path_in_tmp(expect, sizeof(expect), ".aws/credentials");
	CHECK_STR(cfg.credentials_path, expect);
	ciha__aws_config_dispose(&cfg);
	setenv("AWS_CONFIG_FILE", "~/cfg", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/x/creds", 1);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, NULL, NULL), CIHA_OK);
	path_in_tmp(expect, sizeof(expect), "cfg");
	CHECK_STR(cfg.config_path, expect);
	CHECK_STR(cfg.credentials_path, "/x/creds");
	ciha__aws_config_dispose(&cfg);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, "/a/b", "/c/d"), CIHA_OK);
	CHECK_STR(cfg.config_path, "/a/b");
	CHECK_STR(cfg.credentials_path, "/c/d");
	ciha__aws_config_dispose(&cfg);
	clear_env();
}

static void test_profile__lookups_and_precedence(void)
{
	char conf[512], creds[512];
	ciha__aws_config cfg;
	clear_env();
	path_in_tmp(conf, sizeof(conf), "config");
	path_in_tmp(creds, sizeof(creds), "credentials");
	write_file(conf, "[default]\nregion = eu-west-1\naws_access_key_id = AKIDCONFIG\n"
	                 "[profile dev]\nregion = us-east-2\nservices = local\n"
	                 "[dev]\nregion = ignored-no-profile-prefix\n"
	                 "[services local]\nsts =\n  endpoint_url = http://127.0.0.1:1\n", 0600);
	write_file(creds, "[default]\naws_access_key_id = AKIDCREDS\n[onlycreds]\naws_access_key_id = X\n", 0600);
	CHECK_INT(ciha__aws_config_load(&cfg, "dev", conf, creds), CIHA_OK);
	CHECK_STR(ciha__aws_config_profile_get(&cfg, "dev", "region"), "us-east-2");
	CHECK_STR(ciha__aws_config_profile_get(&cfg, "default", "region"), "eu-west-1");
	CHECK_STR(ciha__aws_config_profile_get(&cfg, "default", "aws_access_key_id"), "AKIDCONFIG");
	CHECK_STR(ciha__aws_config_cred_get(&cfg, "default", "aws_access_key_id"), "AKIDCREDS");
	CHECK(ciha__aws_config_profile_get(&cfg, "onlycreds", "aws_access_key_id") == NULL);
	CHECK(ciha__aws_config_has_profile(&cfg, "onlycreds"));
	CHECK(ciha__aws_config_has_profile(&cfg, "dev"));
	CHECK(ciha__aws_config_has_profile(&cfg, "default"));
	CHECK(!ciha__aws_config_has_profile(&cfg, "local"));
	CHECK_STR(ciha__aws_config_service_endpoint(&cfg, "sts"), "http://127.0.0.1:1");
	CHECK(ciha__aws_config_service_endpoint(&cfg, "ec2") == NULL);
	ciha__aws_config_dispose(&cfg);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, conf, creds), CIHA_OK);
	CHECK(ciha__aws_config_service_endpoint(&cfg, "sts") == NULL); /* default has no services key */
	ciha__aws_config_dispose(&cfg);
	unlink(conf);
	unlink(creds);
}

static void test_profile__profile_prefix_default(void)
{
	char conf[512];
	ciha__aws_config cfg;
	clear_env();
	path_in_tmp(conf, sizeof(conf), "config2");
	write_file(conf, "[profile default]\nregion = ap-south-1\n", 0600);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, conf, "/nonexistent/creds"), CIHA_OK);
	CHECK(ciha__aws_config_has_profile(&cfg, "default"));
	CHECK_STR(ciha__aws_config_profile_get(&cfg, "default", "region"), "ap-south-1");
	ciha__aws_config_dispose(&cfg);
	unlink(conf);
}

static void test_profile__bad_file_fails_load(void)
{
	char conf[512];
	ciha__aws_config cfg;
	clear_env();
	path_in_tmp(conf, sizeof(conf), "config3");
	write_file(conf, "[default]\nregion\n", 0600);
	CHECK_INT(ciha__aws_config_load(&cfg, NULL, conf, NULL), CIHA_EINVAL);
	CHECK(strstr(ciha_error_message(ciha_error_last()), "config3:2:") != NULL);
	unlink(conf);
}

static void test_config__no_leaks(void)
{
	ciha__error_thread_cleanup();
	CHECK_INT(ciha__alloc_outstanding(), 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ciha-test-config-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_ini__sections_and_keys);
	RUN(test_ini__last_value_wins_and_sections_merge);
	RUN(test_ini__sub_sections);
	RUN(test_ini__bad_lines_name_file_and_line);
	RUN(test_ini__load_missing_and_unreadable);
	RUN(test_ini__world_readable_flag);
	RUN(test_ini__load_reports_file_and_line);
	RUN(test_profile__selection_rules);
	RUN(test_profile__file_paths);
	RUN(test_profile__lookups_and_precedence);
	RUN(test_profile__profile_prefix_default);
	RUN(test_profile__bad_file_fails_load);
	RUN(test_config__no_leaks);
	rmdir(tmpdir);
	return CHECK_DONE("test_config");
}
