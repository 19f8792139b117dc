/* config_int.h: the shared AWS config and credentials files (INI style). */
#ifndef CIHA_CONFIG_INT_H
#define CIHA_CONFIG_INT_H
#include <stddef.h>

typedef struct ciha__ini ciha__ini;

/* Parse INI text. Sections "[name]"; "key = value"; '#' and ';' comments;
 * a key with an empty value followed by indented "k = v" lines is a
 * sub-section (e.g. "s3 =\n  endpoint_url = ..."), stored as key "s3.k".
 * `source` names the file in error messages. Bad lines raise CIHA_EINVAL
 * with file:line. */
int ciha__ini_parse(ciha__ini **out, const char *text, size_t len, const char *source);
/* Read a file: a missing file is an empty ini (CIHA_OK); an unreadable one is CIHA_EINVAL.
 * Sets *world_readable when other users can read it (for a warning). */
int ciha__ini_load(ciha__ini **out, const char *path, int *world_readable);
void ciha__ini_free(ciha__ini *ini);
/* Value of key in section, or NULL. Section names as written between the brackets,
 * trimmed ("profile dev", "default", "services local"). */
const char *ciha__ini_get(const ciha__ini *ini, const char *section, const char *key);
int ciha__ini_has_section(const ciha__ini *ini, const char *section);

/* The two files together, with the profile rules of aws-wire.md 6.2. */
typedef struct {
	ciha__ini *config;       /* ~/.aws/config */
	ciha__ini *credentials;  /* ~/.aws/credentials */
	char *config_path;
	char *credentials_path;
	char *profile;           /* the selected profile name */
	int profile_explicit;    /* named by the caller, AWS_PROFILE or AWS_DEFAULT_PROFILE */
	int config_world_readable;      /* group/others may read the file (warn if it holds keys) */
	int credentials_world_readable;
} ciha__aws_config;

/* Load both files (paths: explicit, AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE,
 * ~/.aws/...), profile: explicit, AWS_PROFILE, AWS_DEFAULT_PROFILE, "default". */
int ciha__aws_config_load(ciha__aws_config *cfg, const char *profile, const char *config_path,
                          const char *credentials_path);
void ciha__aws_config_dispose(ciha__aws_config *cfg);
/* A key of profile `name` in the config file ("[profile name]", or "[default]"). */
const char *ciha__aws_config_profile_get(const ciha__aws_config *cfg, const char *name, const char *key);
/* A key of profile `name` in the credentials file ("[name]"). */
const char *ciha__aws_config_cred_get(const ciha__aws_config *cfg, const char *name, const char *key);
/* Does profile `name` exist in either file? */
int ciha__aws_config_has_profile(const ciha__aws_config *cfg, const char *name);
/* endpoint_url for a service from "[services X]" named by the profile's
 * `services` key, sub-section keyed by config_key ("sts", "auto_scaling"). */
const char *ciha__aws_config_service_endpoint(const ciha__aws_config *cfg, const char *config_key);
#endif
