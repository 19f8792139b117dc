/* config.c: the shared AWS config and credentials files (INI style). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ciha/common.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "config_int.h"
#include "error_int.h"

typedef struct {
	char *section;
	char *key;
	char *value;
} ini_entry;

struct ciha__ini {
	ini_entry *entries;
	size_t nentries, cap;
	char **sections;
	size_t nsections, sections_cap;
};

/* Parser state while walking the lines. */
typedef struct {
	ciha__ini *ini;
	const char *source;
	int line;
	const char *section;      /* borrowed from ini->sections */
	ini_entry *last;          /* the last top-level key of this section, for sub-sections */
	int last_is_parent;       /* `last` had an empty value: indented lines are sub-keys */
} ini_parser;

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char *trimmed_dup(const char *s, size_t len)
{
	while (len && is_blank(*s)) {
		s++;
		len--;
	}
	while (len && (is_blank(s[len - 1]) || s[len - 1] == '\n'))
		len--;
	return ciha__strndup(s, len);
}

/* "profile   dev" is "profile dev". */
static void collapse_blanks(char *s)
{
	char *w = s;
	const char *r;
	for (r = s; *r; r++) {
		if (is_blank(*r) && w > s && w[-1] == ' ')
			continue;
		*w++ = is_blank(*r) ? ' ' : *r;
	}
	*w = '\0';
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;
	if (need <= *cap)
		return CIHA_OK;
	ncap = *cap ? *cap * 2 : 16;
	while (ncap < need)
		ncap *= 2;
	p = ciha__realloc(*arr, ncap * elem);
	if (!p)
		return CIHA_ENOMEM;
	*arr = p;
	*cap = ncap;
	return CIHA_OK;
}

static ini_entry *find_entry(const ciha__ini *ini, const char *section, const char *key)
{
	size_t i;
	for (i = ini->nentries; i-- > 0;)
		if (strcmp(ini->entries[i].section, section) == 0 && strcmp(ini->entries[i].key, key) == 0)
			return &ini->entries[i];
	return NULL;
}

static const char *intern_section(ciha__ini *ini, const char *name, size_t len)
{
	size_t i;
	char *copy;
	for (i = 0; i < ini->nsections; i++)
		if (strlen(ini->sections[i]) == len && strncmp(ini->sections[i], name, len) == 0)
			return ini->sections[i];
	if (grow((void **)&ini->sections, &ini->sections_cap, ini->nsections + 1, sizeof(char *)) != CIHA_OK)
		return NULL;
	if (!(copy = ciha__strndup(name, len)))
		return NULL;
	ini->sections[ini->nsections++] = copy;
	return copy;
}

/* Set section.key = value (last one wins). Takes ownership of key and value. */
static ini_entry *ini_set(ciha__ini *ini, const char *section, char *key, char *value)
{
	ini_entry *e = find_entry(ini, section, key);
	if (e) {
		ciha__free(key);
		ciha__free(e->value);
		e->value = value;
		return e;
	}
	if (grow((void **)&ini->entries, &ini->cap, ini->nentries + 1, sizeof(ini_entry)) != CIHA_OK) {
		ciha__free(key);
		ciha__free(value);
		return NULL;
	}
	e = &ini->entries[ini->nentries++];
	e->section = (char *)section;
	e->key = key;
	e->value = value;
	return e;
}

static int parse_error(const ini_parser *p, const char *what)
{
	return ciha__error_raise(CIHA_EINVAL, "%s:%d: %s", p->source, p->line, what);
}

static int parse_section(ini_parser *p, const char *s, size_t len)
{
	const char *close = memchr(s, ']', len);
	const char *rest;
	char *name;
	if (!close)
		return parse_error(p, "section header without ']'");
	for (rest = close + 1; rest < s + len; rest++)
		if (*rest == '#' || *rest == ';')
			break;
		else if (!is_blank(*rest))
			return parse_error(p, "text after section header");
	if (!(name = trimmed_dup(s + 1, (size_t)(close - s - 1))))
		return CIHA_ENOMEM;
	if (!*name) {
		ciha__free(name);
		return parse_error(p, "empty section name");
	}
	collapse_blanks(name);
	p->section = intern_section(p->ini, name, strlen(name));
	ciha__free(name);
	p->last = NULL;
	p->last_is_parent = 0;
	return p->section ? CIHA_OK : CIHA_ENOMEM;
}

/* Split "key = value" into trimmed copies. */
static int split_pair(ini_parser *p, const char *s, size_t len, char **key, char **value)
{
	const char *eq = memchr(s, '=', len);
	if (!eq)
		return parse_error(p, "expected 'key = value'");
	*key = trimmed_dup(s, (size_t)(eq - s));
	*value = trimmed_dup(eq + 1, (size_t)(s + len - eq - 1));
	if (!*key || !*value) {
		ciha__free(*key);
		ciha__free(*value);
		return CIHA_ENOMEM;
	}
	if (!**key) {
		ciha__free(*key);
		ciha__free(*value);
		return parse_error(p, "empty key");
	}
	return CIHA_OK;
}

static int parse_subkey(ini_parser *p, const char *s, size_t len)
{
	char *key, *value, *full;
	size_t parent = (size_t)(p->last - p->ini->entries);
	int rc = split_pair(p, s, len, &key, &value);
	if (rc != CIHA_OK)
		return rc;
	full = ciha__malloc(strlen(p->last->key) + strlen(key) + 2);
	if (full)
		sprintf(full, "%s.%s", p->last->key, key);
	ciha__free(key);
	if (!full) {
		ciha__free(value);
		return CIHA_ENOMEM;
	}
	if (!ini_set(p->ini, p->section, full, value))
		return CIHA_ENOMEM;
	p->last = &p->ini->entries[parent]; /* adding the sub-key may have moved the entries */
	return CIHA_OK;
}

/* An indented line continuing a value: configparser joins them with '\n'. */
static int parse_continuation(ini_parser *p, const char *s, size_t len)
{
	ciha__buf b = CIHA__BUF_INIT;
	char *more = trimmed_dup(s, len);
	if (!more)
		return CIHA_ENOMEM;
	ciha__buf_printf(&b, "%s\n%s", p->last->value, more);
	ciha__free(more);
	if (b.failed) {
		ciha__buf_dispose(&b);
		return CIHA_ENOMEM;
	}
	ciha__free(p->last->value);
	p->last->value = ciha__buf_detach(&b);
	return CIHA_OK;
}

static int parse_indented(ini_parser *p, const char *s, size_t len)
{
	if (!p->last)
		return parse_error(p, "indented line without a key above it");
	if (p->last_is_parent)
		return parse_subkey(p, s, len);
	return parse_continuation(p, s, len);
}

static int parse_pair(ini_parser *p, const char *s, size_t len)
{
	char *key, *value;
	int rc;
	if (!p->section)
		return parse_error(p, "key outside of any [section]");
	if ((rc = split_pair(p, s, len, &key, &value)) != CIHA_OK)
		return rc;
	p->last_is_parent = !*value;
	p->last = ini_set(p->ini, p->section, key, value);
	return p->last ? CIHA_OK : CIHA_ENOMEM;
}

static int parse_line(ini_parser *p, const char *s, size_t len)
{
	size_t indent = 0;
	while (indent < len && is_blank(s[indent]))
		indent++;
	if (indent == len || s[indent] == '#' || s[indent] == ';')
		return CIHA_OK;
	if (s[indent] == '[')
		return parse_section(p, s + indent, len - indent);
	if (indent > 0 && p->section)
		return parse_indented(p, s + indent, len - indent);
	return parse_pair(p, s + indent, len - indent);
}

int ciha__ini_parse(ciha__ini **out, const char *text, size_t len, const char *source)
{
	ini_parser p;
	const char *s = text, *end = text + len;
	int rc = CIHA_OK;
	*out = NULL;
	memset(&p, 0, sizeof(p));
	if (!(p.ini = ciha__calloc(1, sizeof(ciha__ini))))
		return ciha__error_raise(CIHA_ENOMEM, "out of memory parsing %s", source);
	p.source = source ? source : "(config)";
	while (s < end && rc == CIHA_OK) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		p.line++;
		rc = parse_line(&p, s, (size_t)(eol - s));
		s = nl ? nl + 1 : end;
	}
	if (rc != CIHA_OK) {
		ciha__ini_free(p.ini);
		return rc == CIHA_ENOMEM ? ciha__error_raise(rc, "out of memory parsing %s", p.source) : rc;
	}
	*out = p.ini;
	return CIHA_OK;
}

static int read_file(char **out, size_t *out_len, FILE *f)
{
	ciha__buf b = CIHA__BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ciha__buf_put(&b, chunk, n);
	if (ferror(f) || b.failed) {
		ciha__buf_dispose(&b);
		return CIHA_EINVAL;
	}
	*out_len = b.len;
	*out = ciha__buf_detach(&b);
	return *out ? CIHA_OK : CIHA_ENOMEM;
}

int ciha__ini_load(ciha__ini **out, const char *path, int *world_readable)
{
	struct stat st;
	FILE *f;
	char *text = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	if (world_readable)
		*world_readable = 0;
	if (!path || stat(path, &st) != 0) {
		if (path && errno != ENOENT && errno != ENOTDIR)
			return ciha__error_raise(CIHA_EINVAL, "cannot read %s: %s", path, strerror(errno));
		return ciha__ini_parse(out, "", 0, path);
	}
	if (!S_ISREG(st.st_mode))
		return ciha__error_raise(CIHA_EINVAL, "cannot read %s: not a regular file", path);
	if (!(f = fopen(path, "rb")))
		return ciha__error_raise(CIHA_EINVAL, "cannot read %s: %s", path, strerror(errno));
	rc = read_file(&text, &len, f);
	fclose(f);
	if (rc != CIHA_OK)
		return ciha__error_raise(rc, "cannot read %s", path);
	if (world_readable)
		*world_readable = (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
	rc = ciha__ini_parse(out, text, len, path);
	ciha__free(text);
	return rc;
}

void ciha__ini_free(ciha__ini *ini)
{
	size_t i;
	if (!ini)
		return;
	for (i = 0; i < ini->nentries; i++) {
		ciha__free(ini->entries[i].key);
		ciha__free_secret(ini->entries[i].value);
	}
	for (i = 0; i < ini->nsections; i++)
		ciha__free(ini->sections[i]);
	ciha__free(ini->entries);
	ciha__free(ini->sections);
	ciha__free(ini);
}

const char *ciha__ini_get(const ciha__ini *ini, const char *section, const char *key)
{
	const ini_entry *e;
	if (!ini || !section || !key)
		return NULL;
	e = find_entry(ini, section, key);
	return e ? e->value : NULL;
}

int ciha__ini_has_section(const ciha__ini *ini, const char *section)
{
	size_t i;
	if (!ini || !section)
		return 0;
	for (i = 0; i < ini->nsections; i++)
		if (strcmp(ini->sections[i], section) == 0)
			return 1;
	return 0;
}

/* ---- the two files together ---------------------------------------------- */

static char *expand_home(const char *path)
{
	const char *home = getenv("HOME");
	char *out;
	if (strncmp(path, "~/", 2) != 0 || !home || !*home)
		return ciha__strdup(path);
	out = ciha__malloc(strlen(home) + strlen(path));
	if (out)
		sprintf(out, "%s%s", home, path + 1);
	return out;
}

/* explicit, then the environment variable, then ~/.aws/<name>. */
static char *choose_path(const char *explicit_path, const char *env_name, const char *name)
{
	const char *env = getenv(env_name);
	const char *home = getenv("HOME");
	char *out;
	if (explicit_path && *explicit_path)
		return expand_home(explicit_path);
	if (env && *env)
		return expand_home(env);
	if (!home || !*home)
		home = "";
	out = ciha__malloc(strlen(home) + strlen(name) + 8);
	if (out)
		sprintf(out, "%s/.aws/%s", home, name);
	return out;
}

static const char *choose_profile(const char *explicit_profile, int *is_explicit)
{
	const char *env = getenv("AWS_PROFILE");
	*is_explicit = 1;
	if (explicit_profile && *explicit_profile)
		return explicit_profile;
	if (env && *env)
		return env;
	env = getenv("AWS_DEFAULT_PROFILE");
	if (env && *env)
		return env;
	*is_explicit = 0;
	return "default";
}

int ciha__aws_config_load(ciha__aws_config *cfg, const char *profile, const char *config_path,
                          const char *credentials_path)
{
	int rc;
	memset(cfg, 0, sizeof(*cfg));
	cfg->config_path = choose_path(config_path, "AWS_CONFIG_FILE", "config");
	cfg->credentials_path = choose_path(credentials_path, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
	cfg->profile = ciha__strdup(choose_profile(profile, &cfg->profile_explicit));
	if (!cfg->config_path || !cfg->credentials_path || !cfg->profile) {
		ciha__aws_config_dispose(cfg);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory loading the AWS config");
	}
	rc = ciha__ini_load(&cfg->config, cfg->config_path, &cfg->config_world_readable);
	if (rc == CIHA_OK)
		rc = ciha__ini_load(&cfg->credentials, cfg->credentials_path, &cfg->credentials_world_readable);
	if (rc != CIHA_OK)
		ciha__aws_config_dispose(cfg);
	return rc;
}

void ciha__aws_config_dispose(ciha__aws_config *cfg)
{
	if (!cfg)
		return;
	ciha__ini_free(cfg->config);
	ciha__ini_free(cfg->credentials);
	ciha__free(cfg->config_path);
	ciha__free(cfg->credentials_path);
	ciha__free(cfg->profile);
	memset(cfg, 0, sizeof(*cfg));
}

const char *ciha__aws_config_profile_get(const ciha__aws_config *cfg, const char *name, const char *key)
{
	ciha__buf section = CIHA__BUF_INIT;
	const char *v;
	if (!cfg || !name)
		return NULL;
	ciha__buf_printf(&section, "profile %s", name);
	v = section.failed ? NULL : ciha__ini_get(cfg->config, section.ptr, key);
	ciha__buf_dispose(&section);
	if (!v && strcmp(name, "default") == 0)
		v = ciha__ini_get(cfg->config, "default", key);
	return v;
}

const char *ciha__aws_config_cred_get(const ciha__aws_config *cfg, const char *name, const char *key)
{
	return cfg ? ciha__ini_get(cfg->credentials, name, key) : NULL;
}

int ciha__aws_config_has_profile(const ciha__aws_config *cfg, const char *name)
{
	ciha__buf section = CIHA__BUF_INIT;
	int found;
	if (!cfg || !name)
		return 0;
	ciha__buf_printf(&section, "profile %s", name);
	found = !section.failed && ciha__ini_has_section(cfg->config, section.ptr);
	ciha__buf_dispose(&section);
	if (!found && strcmp(name, "default") == 0)
		found = ciha__ini_has_section(cfg->config, "default");
	return found || ciha__ini_has_section(cfg->credentials, name);
}

const char *ciha__aws_config_service_endpoint(const ciha__aws_config *cfg, const char *config_key)
{
	ciha__buf section = CIHA__BUF_INIT, key = CIHA__BUF_INIT;
	const char *services, *v = NULL;
	if (!cfg || !config_key)
		return NULL;
	services = ciha__aws_config_profile_get(cfg, cfg->profile, "services");
	if (!services)
		return NULL;
	ciha__buf_printf(&section, "services %s", services);
	ciha__buf_printf(&key, "%s.endpoint_url", config_key);
	if (!section.failed && !key.failed)
		v = ciha__ini_get(cfg->config, section.ptr, key.ptr);
	ciha__buf_dispose(&section);
	ciha__buf_dispose(&key);
	return v;
}
