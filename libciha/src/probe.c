/* probe.c: probes for cron on the instances. Mount points from mountinfo and the
 * age of a target's newest snapshot, published as CloudWatch metrics that the
 * volume-not-mounted and snapshot-too-old presets watch. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "ciha/alarm.h"
#include "ciha/call.h"
#include "alloc_int.h"
#include "buf_int.h"
#include "alarm_int.h"
#include "client_int.h"
#include "snapshot_int.h"

#define SUBSYSTEM "cw"
#define MAX_METRICS_PER_CALL 1000   /* PutMetricData's limit on MetricData members */
#define MAX_DIMENSION_VALUE 1024

/* ---- mountinfo ------------------------------------------------------------ */

typedef struct {
	char *mount_point;
	char *fstype;
	char *source;
} mount_entry;

typedef struct {
	mount_entry *items;
	size_t n, cap;
} mount_table;

static void mount_table_dispose(mount_table *t)
{
	size_t i;
	for (i = 0; i < t->n; i++) {
		ciha__free(t->items[i].mount_point);
		ciha__free(t->items[i].fstype);
		ciha__free(t->items[i].source);
	}
	ciha__free(t->items);
	memset(t, 0, sizeof(*t));
}

/* mountinfo escapes space, tab, newline and backslash as \ooo (octal). */
static char *decode_field(const char *s, size_t len)
{
	char *out = ciha__malloc(len + 1);
	size_t i, o = 0;
	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[o++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Split a line at single spaces into at most `max` fields; returns the count. */
static size_t split_fields(const char *line, const char **start, size_t *len, size_t max)
{
	size_t n = 0;
	while (*line && n < max) {
		size_t l = strcspn(line, " \n");
		if (l) {
			start[n] = line;
			len[n++] = l;
		}
		line += l;
		if (*line == '\n')
			break;
		if (*line)
			line++;
	}
	return n;
}

/* "36 35 98:0 /root /mnt/point rw,noatime master:1 - ext4 /dev/sdb rw": mount point is field 5;
 * file system type and source follow the "-" that ends the optional fields. */
static int parse_mountinfo_line(mount_entry *out, const char *line)
{
	const char *start[64];
	size_t len[64], n = split_fields(line, start, len, 64), sep;
	for (sep = 6; sep < n; sep++)
		if (len[sep] == 1 && start[sep][0] == '-')
			break;
	memset(out, 0, sizeof(*out));
	if (sep + 2 >= n)
		return 0;   /* not a mountinfo line */
	out->mount_point = decode_field(start[4], len[4]);
	out->fstype = decode_field(start[sep + 1], len[sep + 1]);
	out->source = decode_field(start[sep + 2], len[sep + 2]);
	if (!out->mount_point || !out->fstype || !out->source) {
		ciha__free(out->mount_point);
		ciha__free(out->fstype);
		ciha__free(out->source);
		return ciha__error_raise(CIHA_ENOMEM, "out of memory reading mountinfo");
	}
	return 1;
}

static int mount_table_add(mount_table *t, const mount_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		mount_entry *grown = ciha__realloc(t->items, cap * sizeof(*grown));
		if (!grown)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory reading mountinfo");
		t->items = grown;
		t->cap = cap;
	}
	t->items[t->n++] = *e;
	return CIHA_OK;
}

static int mount_table_read(mount_table *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = CIHA_OK;
	memset(t, 0, sizeof(*t));
	if (!f)
		return ciha__error_raise(CIHA_EINVAL, "cannot read mount table %s: %s", path, strerror(errno));
	while (rc == CIHA_OK && getline(&line, &cap, f) >= 0) {
		mount_entry e;
		int got = parse_mountinfo_line(&e, line);
		if (got < 0)
			rc = got;
		else if (got && (rc = mount_table_add(t, &e)) != CIHA_OK) {
			ciha__free(e.mount_point);
			ciha__free(e.fstype);
			ciha__free(e.source);
		}
	}
	free(line);
	fclose(f);
	if (rc == CIHA_OK && t->n == 0)
		rc = ciha__error_raise(CIHA_EINVAL, "%s holds no mount in mountinfo format", path);
	if (rc != CIHA_OK)
		mount_table_dispose(t);
	return rc;
}

/* The mount on `path` exactly (the last one: later mounts hide earlier ones), or NULL. */
static const mount_entry *mount_at(const mount_table *t, const char *path)
{
	size_t i = t->n;
	while (i--)
		if (strcmp(t->items[i].mount_point, path) == 0)
			return &t->items[i];
	return NULL;
}

/* Does mount point `mp` contain `path` ("/" contains all; "/data" contains "/data/x", not "/database")? */
static int contains(const char *mp, const char *path)
{
	size_t n = strlen(mp);
	if (strcmp(mp, "/") == 0)
		return 1;
	return strncmp(mp, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The mount `path` lies on: the longest mount point containing it, or NULL. */
static const mount_entry *mount_owner(const mount_table *t, const char *path)
{
	const mount_entry *best = NULL;
	size_t i;
	for (i = 0; i < t->n; i++)
		if (contains(t->items[i].mount_point, path) &&
		    (!best || strlen(t->items[i].mount_point) >= strlen(best->mount_point)))
			best = &t->items[i];
	return best;
}

/* ---- checking one mount point ---------------------------------------------- */

/* "/data//" -> "/data"; refuses relative and empty paths. */
static int normalise_mount_point(char *out, size_t size, const char *path)
{
	size_t n;
	if (!path || path[0] != '/')
		return ciha__error_raise(CIHA_EINVAL, "mount point '%s' is not an absolute path", path ? path : "(null)");
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= size || n > MAX_DIMENSION_VALUE)
		return ciha__error_raise(CIHA_EINVAL, "mount point '%.64s...' is longer than %d bytes", path,
		                         MAX_DIMENSION_VALUE);
	memcpy(out, path, n);
	out[n] = '\0';
	return CIHA_OK;
}

/* The expected source matches the device (also through a symlink such as
 * /dev/disk/by-label/ci-data) or names the file system type. */
static int source_matches(const mount_entry *m, const char *expected)
{
	char resolved[PATH_MAX];
	if (strcmp(m->source, expected) == 0 || strcmp(m->fstype, expected) == 0)
		return 1;
	return expected[0] == '/' && realpath(expected, resolved) && strcmp(resolved, m->source) == 0;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* One report item; *ok says whether the mount point is as expected. */
static json_t *check_mount(const mount_table *t, const char *mount_point, const char *expected, int *ok)
{
	const mount_entry *m = mount_at(t, mount_point), *owner = m ? NULL : mount_owner(t, mount_point);
	ciha__buf detail = CIHA__BUF_INIT;
	json_t *item;
	*ok = m && (!expected || source_matches(m, expected));
	if (!m && owner)
		ciha__buf_printf(&detail, "not a mount point: it lies on %s (%s from %s)", owner->mount_point,
		                 owner->fstype, owner->source);
	else if (!m)
		ciha__buf_puts(&detail, "not a mount point");
	else if (!*ok)
		ciha__buf_printf(&detail, "mounted from %s (%s), expected %s", m->source, m->fstype, expected);
	else
		ciha__buf_printf(&detail, "mounted from %s (%s)", m->source, m->fstype);
	item = json_pack("{s:s, s:b, s:o, s:o, s:o, s:b, s:i, s:s}", "mount_point", mount_point, "mounted", m != NULL,
	                 "source", string_or_null(m ? m->source : NULL), "fstype", string_or_null(m ? m->fstype : NULL),
	                 "expected", string_or_null(expected), "ok", *ok, "value", *ok ? 1 : 0, "detail",
	                 detail.failed ? "" : ciha__buf_cstr(&detail));
	if (item && !m)
		json_object_set_new(item, "lies_on", string_or_null(owner ? owner->mount_point : NULL));
	ciha__buf_dispose(&detail);
	return item;
}

/* ---- publishing --------------------------------------------------------------- */

static json_t *metric_datum(const char *name, double value, const char *unit, const char *const *dims)
{
	json_t *dimensions = json_array(), *datum;
	size_t i;
	for (i = 0; dims[i] && dims[i + 1]; i += 2)
		json_array_append_new(dimensions, json_pack("{s:s, s:s}", "Name", dims[i], "Value", dims[i + 1]));
	datum = json_pack("{s:s, s:o, s:f, s:s}", "MetricName", name, "Dimensions", dimensions, "Value", value,
	                  "Unit", unit);
	return datum;
}

/* One PutMetricData call in CIHA_METRIC_NAMESPACE with `data` (taken over). */
static int put_metric_data(ciha_client *client, json_t *data)
{
	json_t *result = NULL;
	int rc = ciha__alarm_call(&result, client, "cloudwatch", "PutMetricData",
	                          data ? json_pack("{s:s, s:o}", "Namespace", CIHA_METRIC_NAMESPACE, "MetricData", data)
	                               : NULL, 0);
	json_decref(result);
	return rc;
}

/* ---- ciha_probe_mounts ---------------------------------------------------------- */

static int mounts_arguments(char **out_json, ciha_client *client, const char *const *mount_points, size_t n,
                            int publish)
{
	if (!out_json)
		return ciha__error_raise(CIHA_EINVAL, "ciha_probe_mounts: out_json is NULL");
	*out_json = NULL;
	if (!mount_points || n == 0)
		return ciha__error_raise(CIHA_EINVAL, "ciha_probe_mounts: no mount point given");
	if (n > MAX_METRICS_PER_CALL)
		return ciha__error_raise(CIHA_EINVAL, "ciha_probe_mounts: at most %d mount points per probe, got %zu",
		                         MAX_METRICS_PER_CALL, n);
	if (publish && !client)
		return ciha__error_raise(CIHA_EINVAL, "ciha_probe_mounts: publishing needs a client");
	return CIHA_OK;
}

/* `host`, or this machine's name when NULL. */
static int resolve_host(char *out, size_t size, const char *host)
{
	if (host) {
		if (!*host || strlen(host) >= size)
			return ciha__error_raise(CIHA_EINVAL, "host name must be 1 to %zu bytes", size - 1);
		memcpy(out, host, strlen(host) + 1);
		return CIHA_OK;
	}
	if (gethostname(out, size) != 0 || !*out)
		return ciha__error_raise(CIHA_EINVAL, "no host given and gethostname() failed: %s", strerror(errno));
	out[size - 1] = '\0';
	return CIHA_OK;
}

typedef struct {
	json_t *items;
	json_t *data;       /* MetricData members */
	ciha__buf problems; /* "/data: not a mount point; ..." */
	size_t failing;
} mounts_result;

static int check_all(mounts_result *r, const mount_table *t, const char *host, const char *const *mount_points,
                     const char *const *expected_source, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		char mp[MAX_DIMENSION_VALUE + 1];
		const char *expected = expected_source && expected_source[i] && *expected_source[i] ? expected_source[i]
		                                                                                    : NULL;
		const char *dims[5] = { "Host", host, "MountPoint", mp, NULL };
		json_t *item;
		int ok, rc = normalise_mount_point(mp, sizeof(mp), mount_points[i]);
		if (rc != CIHA_OK)
			return rc;
		if (!(item = check_mount(t, mp, expected, &ok)) || json_array_append_new(r->items, item) != 0 ||
		    json_array_append_new(r->data, metric_datum("VolumeMounted", ok ? 1.0 : 0.0, "Count", dims)) != 0)
			return ciha__error_raise(CIHA_ENOMEM, "out of memory building the mount report");
		if (!ok) {
			ciha__buf_printf(&r->problems, "%s%s: %s", r->failing ? "; " : "", mp,
			                 json_string_value(json_object_get(item, "detail")));
			r->failing++;
		}
	}
	return CIHA_OK;
}

static int finish_mounts(char **out_json, mounts_result *r, const char *host, int published, size_t n)
{
	int rc = ciha__alarm_json_out(out_json, json_pack("{s:s, s:b, s:O}", "host", host, "published", published,
	                                                  "mounts", r->items));
	if (rc == CIHA_OK && r->failing)
		return ciha__error_raise(CIHA_ESTATE, "%zu of %zu mount point%s not as expected: %s", r->failing, n,
		                         n == 1 ? "" : "s", ciha__buf_cstr(&r->problems));
	return rc;
}

CIHA_EXTERN(ciha_result) ciha_probe_mounts(char **out_json, ciha_client *client, const char *host,
                                           const char *const *mount_points, const char *const *expected_source,
                                           size_t n, const char *mountinfo_path, int publish)
{
	mounts_result r = { NULL, NULL, CIHA__BUF_INIT, 0 };
	mount_table table;
	char hostname[256];
	int rc = mounts_arguments(out_json, client, mount_points, n, publish);
	if (rc == CIHA_OK)
		rc = resolve_host(hostname, sizeof(hostname), host);
	if (rc == CIHA_OK)
		rc = mount_table_read(&table, mountinfo_path ? mountinfo_path : "/proc/self/mountinfo");
	if (rc != CIHA_OK)
		return client ? ciha__client_fail(client, rc) : rc;
	r.items = json_array();
	r.data = json_array();
	if (!r.items || !r.data)
		rc = ciha__error_raise(CIHA_ENOMEM, "out of memory");
	else
		rc = check_all(&r, &table, hostname, mount_points, expected_source, n);
	mount_table_dispose(&table);
	if (rc == CIHA_OK && publish) {
		rc = put_metric_data(client, r.data);
		r.data = NULL;
	}
	if (rc == CIHA_OK)
		rc = finish_mounts(out_json, &r, hostname, publish, n);
	json_decref(r.items);
	json_decref(r.data);
	ciha__buf_dispose(&r.problems);
	if (rc != CIHA_OK && client)
		ciha__client_fail(client, rc);
	return rc;
}

/* ---- ciha_probe_snapshot_age -------------------------------------------------------- */

/* Creation time of the newest completed snapshot of `target`; CIHA_ENOTFOUND if none. */
static int newest_completed(int64_t *created, ciha_client *client, const char *target)
{
	const ciha__snap_driver *driver = strncmp(target, "vol-", 4) == 0 ? &ciha__ebs_driver : &ciha__rds_driver;
	ciha__snap *snaps = NULL;
	size_t n = 0, i;
	int found = 0, rc = driver->list(&snaps, &n, client, target);
	if (rc != CIHA_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (snaps[i].state == CIHA__SNAP_COMPLETED && (!found || snaps[i].created > *created)) {
			*created = snaps[i].created;
			found = 1;
		}
	}
	for (i = 0; i < n; i++)
		ciha__snap_dispose(&snaps[i]);
	ciha__free(snaps);
	if (!found)
		return ciha__error_raise(CIHA_ENOTFOUND, "%s has no completed snapshot", target);
	return CIHA_OK;
}

CIHA_EXTERN(ciha_result) ciha_probe_snapshot_age(int64_t *out_age_s, ciha_client *client, const char *target,
                                                 int publish)
{
	int64_t created = 0, age;
	const char *dims[3] = { "Target", target, NULL };
	int rc;
	if (!out_age_s || !client || !target || !*target || strlen(target) > MAX_DIMENSION_VALUE) {
		rc = ciha__error_raise(CIHA_EINVAL, "ciha_probe_snapshot_age: needs an output, a client and a target "
		                       "(vol-... or a DB instance identifier)");
		return client ? ciha__client_fail(client, rc) : rc;
	}
	if ((rc = newest_completed(&created, client, target)) != CIHA_OK)
		return ciha__client_fail(client, rc);
	age = (int64_t)time(NULL) - created;
	if (age < 0)
		age = 0;   /* a clock behind AWS's */
	*out_age_s = age;
	ciha__log(&client->logger, CIHA_LOG_DEBUG, SUBSYSTEM, "newest snapshot of %s is %lld s old", target,
	          (long long)age);
	if (!publish)
		return CIHA_OK;
	rc = put_metric_data(client, json_pack("[o]", metric_datum("SnapshotAgeSeconds", (double)age, "Seconds", dims)));
	return rc == CIHA_OK ? CIHA_OK : ciha__client_fail(client, rc);
}
