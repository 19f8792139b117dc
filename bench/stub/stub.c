/* stub.c: a fast loopback AWS stub for bench/run (EC2, RDS, CloudFormation, CloudWatch).
 *
 * One thread, epoll, HTTP/1.1 keep-alive, no TLS, no signature checks, XML as
 * AWS sends it. It answers DescribeVolumes, DescribeSnapshots (MaxResults/
 * NextToken pages of at most 1,000 items with the full item XML AWS sends),
 * DeleteSnapshot; the RDS DescribeDBInstances, DescribeDBClusters,
 * DescribeDBSnapshots, DescribeDBClusterSnapshots and DeleteDBSnapshot; the
 * CloudFormation CreateStack, CreateChangeSet, DescribeChangeSet,
 * ExecuteChangeSet, DescribeStacks, DescribeStackEvents (pages of 100, newest
 * first), DescribeStackResources, ListStackResources and DeleteStack (stacks
 * made of the JSON template's resources, settled at once); the CloudWatch
 * DescribeAlarms and PutMetricAlarm (query protocol).
 *
 * State: V volumes tagged Backup=daily, each with S snapshots tagged as
 * libciha's under policy "bench" with distinct start times; optionally D DB
 * instances with M manual snapshots each, A alarms; stacks as created. Control
 * requests (not counted):
 *   GET /_reset?volumes=200&snapshots=50&dbs=0&dbsnapshots=0&policy=bench&alarms=0
 *                                  (also drops every stack)
 *   GET /_stats       counters as "name value" lines
 *   GET /_expired?keep=7           the ids keep-7 would delete now, one a line
 *   GET /_check?keep=7&upto=V      "ok" when the first V volumes (all by default)
 *                                  kept exactly their newest 7 and the rest all
 *
 * Usage: stub [PORT]   (0 or absent: any free port; prints "port N" on stdout) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS 64
#define MAX_REQUEST (1 << 20)
#define EC2_NS "http://ec2.amazonaws.com/doc/2016-11-15/"
#define RDS_NS "http://rds.amazonaws.com/doc/2014-10-31/"
#define ACCOUNT "123456789012"
#define REGION "us-east-1"

/* ---- growing byte buffers ---- */

typedef struct {
	char *data;
	size_t len, cap;
} buf;

static void buf_reserve(buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	while (b->len + extra + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 4096;
	b->data = realloc(b->data, b->cap);
	if (!b->data) {
		perror("stub: realloc");
		exit(1);
	}
}

static void buf_add(buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void buf_str(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	buf_reserve(b, 256);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Text echoed from a request goes out XML-escaped. */
static void buf_xml(buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_str(b, "&lt;"); break;
		case '>': buf_str(b, "&gt;"); break;
		case '&': buf_str(b, "&amp;"); break;
		case '"': buf_str(b, "&quot;"); break;
		default: buf_add(b, s, 1);
		}
	}
}

static void buf_consume(buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	if (b->data)
		b->data[b->len] = '\0';
}

/* ---- state ---- */

static struct {
	int volumes, per_volume, dbs, per_db;
	char policy[64];
	unsigned char *snap_deleted, *dbsnap_deleted;
	long base_time;   /* start time of the oldest snapshot */
	int step;         /* listing order inside a volume: k = j * step mod per_volume */
} st;

static struct {
	long requests, connections, bytes_out, errors;
	long describe_volumes, describe_snapshots, delete_snapshot, delete_ok, delete_missing;
	long describe_dbs, describe_db_snapshots, delete_db_snapshot, other;
	long cfn, stack_events_pages, cw;
} ctr;

static int gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void state_reset(int volumes, int per_volume, int dbs, int per_db, const char *policy)
{
	free(st.snap_deleted);
	free(st.dbsnap_deleted);
	st.volumes = volumes;
	st.per_volume = per_volume;
	st.dbs = dbs;
	st.per_db = per_db;
	snprintf(st.policy, sizeof(st.policy), "%s", policy);
	st.snap_deleted = calloc((size_t)volumes * per_volume + 1, 1);
	st.dbsnap_deleted = calloc((size_t)dbs * per_db + 1, 1);
	st.base_time = (long)time(NULL) - (long)(per_volume + 1) * 86400L;
	st.step = 1;
	for (int s = per_volume / 3 + 1; s < per_volume; s++)
		if (gcd(s, per_volume) == 1) {
			st.step = s;
			break;
		}
	memset(&ctr, 0, sizeof(ctr));
}

static void iso_time(char out[32], long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* Snapshot k of volume v: index v*per_volume + k, newer with larger k, times distinct. */
static long snap_time(int v, int k)
{
	return st.base_time + (long)k * 86400L + (long)v * 37L;
}

#define SNAP_BASE 0x1a2b3c0000000000UL
#define VOL_BASE 0x0f1e2d0000000000UL

static void snap_id(char out[32], long idx)
{
	snprintf(out, 32, "snap-0%016lx", SNAP_BASE + (unsigned long)idx);
}

static void vol_id(char out[32], int v)
{
	snprintf(out, 32, "vol-0%016lx", VOL_BASE + (unsigned long)v);
}

/* The index in an id "<prefix>0<16 hex digits>" made from base, or -1 when not below count. */
static long parse_id(const char *id, const char *prefix, unsigned long base, unsigned long count)
{
	size_t plen = strlen(prefix);
	char *end;
	unsigned long n;
	if (strncmp(id, prefix, plen) != 0 || strlen(id) != plen + 17 || id[plen] != '0')
		return -1;
	n = strtoul(id + plen, &end, 16);
	if (*end || n < base || n - base >= count)
		return -1;
	return (long)(n - base);
}

static long parse_snap_id(const char *id)
{
	return parse_id(id, "snap-", SNAP_BASE, (unsigned long)st.volumes * st.per_volume);
}

static int parse_vol_id(const char *id)
{
	return (int)parse_id(id, "vol-", VOL_BASE, (unsigned long)st.volumes);
}

/* ---- request parameters ---- */

typedef struct {
	char *name[MAX_PARAMS], *value[MAX_PARAMS];
	int n;
} params;

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes in place: '+' is a space, %XX a byte. */
static char *url_decode(char *s)
{
	char *r = s, *w = s;
	while (*r) {
		if (*r == '+') {
			*w++ = ' ';
			r++;
		} else if (*r == '%' && hexval(r[1]) >= 0 && hexval(r[2]) >= 0) {
			*w++ = (char)(hexval(r[1]) * 16 + hexval(r[2]));
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return s;
}

/* Splits a NUL-terminated form (modified in place) into p. */
static void params_parse(params *p, char *form)
{
	char *save = NULL, *pair;
	for (pair = strtok_r(form, "&", &save); pair && p->n < MAX_PARAMS; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		if (eq)
			*eq++ = '\0';
		p->name[p->n] = url_decode(pair);
		p->value[p->n] = eq ? url_decode(eq) : pair + strlen(pair);
		p->n++;
	}
}

static const char *param(const params *p, const char *name)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->name[i], name) == 0)
			return p->value[i];
	return NULL;
}

static long param_long(const params *p, const char *name, long dflt)
{
	const char *v = param(p, name);
	return v && *v ? strtol(v, NULL, 10) : dflt;
}

/* ---- EC2 filters: Filter.N.Name with Filter.N.Value.M; every filter must match one of its values ---- */

#define MAX_FILTERS 8
#define MAX_VALUES 8
typedef struct {
	const char *name;
	const char *values[MAX_VALUES];
	int nvalues;
} filter;

typedef struct {
	filter f[MAX_FILTERS];
	int n;
	const char *ids[MAX_PARAMS];   /* SnapshotId.N / VolumeId.N */
	int nids;
} selection;

static filter *filter_slot(selection *s, int number, filter *by_number[MAX_FILTERS + 1])
{
	if (number < 1 || number > MAX_FILTERS)
		return NULL;
	if (!by_number[number] && s->n < MAX_FILTERS)
		by_number[number] = &s->f[s->n++];
	return by_number[number];
}

static void selection_parse(selection *s, const params *p, const char *id_prefix)
{
	filter *by_number[MAX_FILTERS + 1] = { 0 };
	size_t plen = strlen(id_prefix);
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < p->n; i++) {
		const char *name = p->name[i];
		int number, value_number, used = 0;
		if (sscanf(name, "Filter.%d.Name%n", &number, &used) == 1 && name[used] == '\0') {
			filter *f = filter_slot(s, number, by_number);
			if (f)
				f->name = p->value[i];
		} else if (sscanf(name, "Filter.%d.Value.%d%n", &number, &value_number, &used) == 2 && name[used] == '\0') {
			filter *f = filter_slot(s, number, by_number);
			if (f && f->nvalues < MAX_VALUES)
				f->values[f->nvalues++] = p->value[i];
		} else if (strncmp(name, id_prefix, plen) == 0 && s->nids < MAX_PARAMS) {
			s->ids[s->nids++] = p->value[i];
		}
	}
}

static int value_in(const filter *f, const char *v)
{
	for (int i = 0; i < f->nvalues; i++)
		if (v && strcmp(f->values[i], v) == 0)
			return 1;
	return 0;
}

typedef struct {
	const char *key, *value;
} tag;

/* A filter name this resource knows; tags answer tag:KEY and tag-key. */
typedef const char *(*field_fn)(const void *res, const char *name, char scratch[64]);

static int tag_filter_match(const filter *f, const tag *tags, int ntags)
{
	for (int i = 0; i < ntags; i++) {
		if (strcmp(f->name, "tag-key") == 0 && value_in(f, tags[i].key))
			return 1;
		if (strncmp(f->name, "tag:", 4) == 0 && strcmp(f->name + 4, tags[i].key) == 0 && value_in(f, tags[i].value))
			return 1;
	}
	return 0;
}

static int selection_match(const selection *s, const void *res, field_fn field, const tag *tags, int ntags)
{
	for (int i = 0; i < s->n; i++) {
		const filter *f = &s->f[i];
		char scratch[64];
		if (!f->name)
			continue;
		if (strncmp(f->name, "tag", 3) == 0) {
			if (!tag_filter_match(f, tags, ntags))
				return 0;
		} else {
			const char *v = field(res, f->name, scratch);
			if (!v || !value_in(f, v))
				return 0;
		}
	}
	return 1;
}

/* ---- responses ---- */

static unsigned long request_serial;

static void request_id(char out[40])
{
	unsigned long n = ++request_serial;
	snprintf(out, 40, "%08lx-%04lx-4%03lx-8%03lx-%012lx", n * 2654435761UL & 0xffffffffUL, n & 0xffff,
	         (n >> 4) & 0xfff, (n >> 8) & 0xfff, n);
}

typedef struct {
	int status;
	buf body;
} response;

static void ec2_error(response *r, int status, const char *code, const char *message)
{
	char rid[40];
	request_id(rid);
	r->status = status;
	r->body.len = 0;
	buf_str(&r->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>");
	buf_xml(&r->body, code);
	buf_str(&r->body, "</Code><Message>");
	buf_xml(&r->body, message);
	buf_printf(&r->body, "</Message></Error></Errors><RequestID>%s</RequestID></Response>", rid);
	ctr.errors++;
}

/* Query-protocol services (RDS, CloudFormation, CloudWatch) differ only in their namespace. */
static void query_error(response *r, const char *ns, int status, const char *code, const char *message)
{
	char rid[40];
	request_id(rid);
	r->status = status;
	r->body.len = 0;
	buf_printf(&r->body, "<ErrorResponse xmlns=\"%s\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>", ns);
	buf_xml(&r->body, code);
	buf_str(&r->body, "</Code>\n    <Message>");
	buf_xml(&r->body, message);
	buf_printf(&r->body, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", rid);
	ctr.errors++;
}

static void rds_error(response *r, int status, const char *code, const char *message)
{
	query_error(r, RDS_NS, status, code, message);
}

static void ec2_open(response *r, const char *action)
{
	char rid[40];
	request_id(rid);
	r->status = 200;
	buf_printf(&r->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%sResponse xmlns=\"" EC2_NS "\">\n"
	           "    <requestId>%s</requestId>\n", action, rid);
}

static void query_open(response *r, const char *ns, const char *action)
{
	r->status = 200;
	buf_printf(&r->body, "<%sResponse xmlns=\"%s\">\n  <%sResult>\n", action, ns, action);
}

static void query_close(response *r, const char *action)
{
	char rid[40];
	request_id(rid);
	buf_printf(&r->body, "  </%sResult>\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
	           "</%sResponse>\n", action, rid, action);
}

/* An answer without result members (PutMetricAlarm, ExecuteChangeSet, ...). */
static void query_empty(response *r, const char *ns, const char *action)
{
	char rid[40];
	request_id(rid);
	r->status = 200;
	buf_printf(&r->body, "<%sResponse xmlns=\"%s\">\n  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n"
	           "  </ResponseMetadata>\n</%sResponse>\n", action, ns, rid, action);
}

static void rds_open(response *r, const char *action)
{
	query_open(r, RDS_NS, action);
}

static void rds_close(response *r, const char *action)
{
	query_close(r, action);
}

/* Page tokens look opaque; they carry the next position of the scan. */
static const unsigned long token_mask = 0x5bd1e9955bd1e995UL;

static void token_make(char out[64], long pos)
{
	snprintf(out, 64, "eyJ2IjoxLCJjIjo%016lxIn0=", (unsigned long)pos ^ token_mask);
}

static long token_parse(const char *t)
{
	char hex[17];
	if (!t || !*t)
		return 0;
	if (strncmp(t, "eyJ2IjoxLCJjIjo", 15) != 0 || strlen(t) < 31)
		return -1;
	memcpy(hex, t + 15, 16);
	hex[16] = '\0';
	return (long)(strtoul(hex, NULL, 16) ^ token_mask);
}

static void xml_tags(buf *b, const char *indent, const tag *tags, int n)
{
	buf_printf(b, "%s<tagSet>\n", indent);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s    <item>\n%s        <key>%s</key>\n%s        <value>%s</value>\n%s    </item>\n", indent,
		           indent, tags[i].key, indent, tags[i].value, indent);
	buf_printf(b, "%s</tagSet>\n", indent);
}

/* ---- EC2 volumes ---- */

typedef struct {
	int v;
	char id[32];
} vol_res;

static const char *vol_field(const void *res, const char *name, char scratch[64])
{
	const vol_res *r = res;
	if (strcmp(name, "volume-id") == 0)
		return r->id;
	if (strcmp(name, "status") == 0)
		return "in-use";
	if (strcmp(name, "availability-zone") == 0)
		return r->v % 2 ? REGION "b" : REGION "a";
	if (strcmp(name, "volume-type") == 0)
		return "gp3";
	snprintf(scratch, 64, "?");
	return NULL;
}

static int vol_tags(tag out[2], int v, char name[32])
{
	snprintf(name, 32, "ci-data-%03d", v);
	out[0].key = "Backup";
	out[0].value = "daily";
	out[1].key = "Name";
	out[1].value = name;
	return 2;
}

static void vol_item(buf *b, const vol_res *r)
{
	char created[32], name[32];
	tag tags[2];
	int ntags = vol_tags(tags, r->v, name);
	iso_time(created, st.base_time - 86400L * 30);
	buf_printf(b, "        <item>\n            <volumeId>%s</volumeId>\n            <size>100</size>\n"
	           "            <snapshotId/>\n            <availabilityZone>%s</availabilityZone>\n"
	           "            <status>in-use</status>\n            <createTime>%s</createTime>\n"
	           "            <attachmentSet>\n                <item>\n                    <volumeId>%s</volumeId>\n"
	           "                    <instanceId>i-0%016x</instanceId>\n                    <device>/dev/sdf</device>\n"
	           "                    <status>attached</status>\n                    <attachTime>%s</attachTime>\n"
	           "                    <deleteOnTermination>false</deleteOnTermination>\n                </item>\n"
	           "            </attachmentSet>\n",
	           r->id, r->v % 2 ? REGION "b" : REGION "a", created, r->id, 0x3c4d0000u + (unsigned)r->v, created);
	xml_tags(b, "            ", tags, ntags);
	buf_str(b, "            <volumeType>gp3</volumeType>\n            <iops>3000</iops>\n"
	        "            <encrypted>false</encrypted>\n            <multiAttachEnabled>false</multiAttachEnabled>\n"
	        "            <throughput>125</throughput>\n        </item>\n");
}

static void describe_volumes(response *r, const params *p)
{
	selection sel;
	long pos = token_parse(param(p, "NextToken")), max = param_long(p, "MaxResults", 500), emitted = 0;
	ctr.describe_volumes++;
	selection_parse(&sel, p, "VolumeId.");
	if (pos < 0)
		return ec2_error(r, 400, "InvalidParameterValue", "Invalid value for NextToken");
	if (param(p, "MaxResults") && max < 5)
		return ec2_error(r, 400, "InvalidParameterValue", "Value for parameter MaxResults must be between 5 and 500");
	if (max > 500)
		max = 500;   /* AWS answers at most 500 volumes a page, whatever MaxResults says */
	ec2_open(r, "DescribeVolumes");
	buf_str(&r->body, "    <volumeSet>\n");
	for (; pos < st.volumes && emitted < max; pos++) {
		vol_res res;
		char name[32];
		tag tags[2];
		int ntags, wanted = sel.nids == 0;
		res.v = (int)pos;
		vol_id(res.id, res.v);
		for (int i = 0; i < sel.nids && !wanted; i++)
			wanted = strcmp(sel.ids[i], res.id) == 0;
		ntags = vol_tags(tags, res.v, name);
		if (wanted && selection_match(&sel, &res, vol_field, tags, ntags)) {
			vol_item(&r->body, &res);
			emitted++;
		}
	}
	buf_str(&r->body, "    </volumeSet>\n");
	if (pos < st.volumes) {
		char token[64];
		token_make(token, pos);
		buf_printf(&r->body, "    <nextToken>%s</nextToken>\n", token);
	}
	buf_str(&r->body, "</DescribeVolumesResponse>\n");
}

/* ---- EC2 snapshots ---- */

typedef struct {
	int v, k;
	long idx;
	char id[32], volume[32], created[32];
} snap_res;

static void snap_res_make(snap_res *s, int v, int k)
{
	s->v = v;
	s->k = k;
	s->idx = (long)v * st.per_volume + k;
	snap_id(s->id, s->idx);
	vol_id(s->volume, v);
	iso_time(s->created, snap_time(v, k));
}

static const char *snap_field(const void *res, const char *name, char scratch[64])
{
	const snap_res *s = res;
	if (strcmp(name, "snapshot-id") == 0)
		return s->id;
	if (strcmp(name, "volume-id") == 0)
		return s->volume;
	if (strcmp(name, "status") == 0)
		return "completed";
	if (strcmp(name, "owner-id") == 0)
		return ACCOUNT;
	if (strcmp(name, "progress") == 0)
		return "100%";
	if (strcmp(name, "volume-size") == 0)
		return "100";
	if (strcmp(name, "encrypted") == 0)
		return "false";
	snprintf(scratch, 64, "?");
	return NULL;
}

static int snap_tags(tag out[5], const snap_res *s, char name[48])
{
	snprintf(name, 48, "ci-data-%03d-%03d", s->v, s->k);
	out[0].key = "ciha:managed-by";
	out[0].value = "libciha";
	out[1].key = "ciha:policy";
	out[1].value = st.policy;
	out[2].key = "ciha:source";
	out[2].value = s->volume;
	out[3].key = "ciha:created";
	out[3].value = s->created;
	out[4].key = "Name";
	out[4].value = name;
	return 5;
}

static void snap_item(buf *b, const snap_res *s)
{
	char name[48];
	tag tags[5];
	int ntags = snap_tags(tags, s, name);
	buf_printf(b, "        <item>\n            <snapshotId>%s</snapshotId>\n            <volumeId>%s</volumeId>\n"
	           "            <status>completed</status>\n            <startTime>%s</startTime>\n"
	           "            <progress>100%%</progress>\n            <ownerId>" ACCOUNT "</ownerId>\n"
	           "            <volumeSize>100</volumeSize>\n"
	           "            <description>libciha policy %s: %s</description>\n"
	           "            <encrypted>false</encrypted>\n",
	           s->id, s->volume, s->created, st.policy, s->volume);
	xml_tags(b, "            ", tags, ntags);
	buf_str(b, "            <storageTier>standard</storageTier>\n        </item>\n");
}

/* Position pos of the scan: volume pos / per_volume, listed in a scrambled order inside it. */
static void snap_at(snap_res *s, long pos)
{
	int v = (int)(pos / st.per_volume), j = (int)(pos % st.per_volume);
	snap_res_make(s, v, (int)((long)j * st.step % st.per_volume));
}

static int snap_wanted(const selection *sel, const snap_res *s)
{
	char name[48];
	tag tags[5];
	int ntags;
	if (st.snap_deleted[s->idx])
		return 0;
	ntags = snap_tags(tags, s, name);
	return selection_match(sel, s, snap_field, tags, ntags);
}

static int owner_ok(const params *p)
{
	for (int i = 0; i < p->n; i++)
		if (strncmp(p->name[i], "Owner.", 6) == 0 && strcmp(p->value[i], "self") != 0 &&
		    strcmp(p->value[i], ACCOUNT) != 0)
			return 0;
	return 1;
}

/* With a volume-id filter only those volumes are scanned (as AWS's index would). */
static int volume_filter(const selection *sel, int vols[MAX_VALUES])
{
	for (int i = 0; i < sel->n; i++)
		if (sel->f[i].name && strcmp(sel->f[i].name, "volume-id") == 0) {
			int n = 0;
			for (int j = 0; j < sel->f[i].nvalues; j++) {
				int v = parse_vol_id(sel->f[i].values[j]);
				if (v >= 0)
					vols[n++] = v;
			}
			return n;
		}
	return -1;
}

static void snapshots_by_id(response *r, const selection *sel)
{
	ec2_open(r, "DescribeSnapshots");
	buf_str(&r->body, "    <snapshotSet>\n");
	for (int i = 0; i < sel->nids; i++) {
		long idx = parse_snap_id(sel->ids[i]);
		snap_res s;
		char msg[128];
		if (idx < 0 || st.snap_deleted[idx]) {
			r->body.len = 0;
			snprintf(msg, sizeof(msg), "The snapshot '%.40s' does not exist.", sel->ids[i]);
			return ec2_error(r, 400, "InvalidSnapshot.NotFound", msg);
		}
		snap_res_make(&s, (int)(idx / st.per_volume), (int)(idx % st.per_volume));
		if (snap_wanted(sel, &s))
			snap_item(&r->body, &s);
	}
	buf_str(&r->body, "    </snapshotSet>\n</DescribeSnapshotsResponse>\n");
}

/* Scans positions [pos, end) of the volumes in `vols` (or all), emitting up to max items. */
static void describe_snapshots(response *r, const params *p)
{
	selection sel;
	int vols[MAX_VALUES], nvols;
	long pos = token_parse(param(p, "NextToken")), max = param_long(p, "MaxResults", 1000), emitted = 0, total;
	ctr.describe_snapshots++;
	selection_parse(&sel, p, "SnapshotId.");
	if (pos < 0)
		return ec2_error(r, 400, "InvalidParameterValue", "Invalid value for NextToken");
	if (param(p, "MaxResults") && max < 5)
		return ec2_error(r, 400, "InvalidParameterValue", "Value for parameter MaxResults must be between 5 and 1000");
	if (max > 1000)
		max = 1000;  /* at most 1,000 snapshots a page, as AWS */
	if (sel.nids)
		return snapshots_by_id(r, &sel);
	if (!owner_ok(p)) {
		ec2_open(r, "DescribeSnapshots");
		buf_str(&r->body, "    <snapshotSet/>\n</DescribeSnapshotsResponse>\n");
		return;
	}
	/* The scan runs over a virtual list: the selected volumes' snapshots, one volume after another. */
	nvols = volume_filter(&sel, vols);
	total = (nvols < 0 ? st.volumes : nvols) * (long)st.per_volume;
	ec2_open(r, "DescribeSnapshots");
	buf_str(&r->body, "    <snapshotSet>\n");
	for (; pos < total && emitted < max; pos++) {
		snap_res s;
		long at = nvols < 0 ? pos : (long)vols[pos / st.per_volume] * st.per_volume + pos % st.per_volume;
		snap_at(&s, at);
		if (snap_wanted(&sel, &s)) {
			snap_item(&r->body, &s);
			emitted++;
		}
	}
	buf_str(&r->body, "    </snapshotSet>\n");
	if (pos < total) {
		char token[64];
		token_make(token, pos);
		buf_printf(&r->body, "    <nextToken>%s</nextToken>\n", token);
	}
	buf_str(&r->body, "</DescribeSnapshotsResponse>\n");
}

static void delete_snapshot(response *r, const params *p)
{
	const char *id = param(p, "SnapshotId");
	long idx = id ? parse_snap_id(id) : -1;
	char msg[128];
	ctr.delete_snapshot++;
	if (!id)
		return ec2_error(r, 400, "MissingParameter", "The request must contain the parameter snapshotId");
	if (idx < 0 || st.snap_deleted[idx]) {
		ctr.delete_missing++;
		snprintf(msg, sizeof(msg), "The snapshot '%.40s' does not exist.", id);
		return ec2_error(r, 400, "InvalidSnapshot.NotFound", msg);
	}
	st.snap_deleted[idx] = 1;
	ctr.delete_ok++;
	ec2_open(r, "DeleteSnapshot");
	buf_str(&r->body, "    <return>true</return>\n</DeleteSnapshotResponse>\n");
}

/* ---- RDS: DB instance d is "ci-db-NNN"; its manual snapshots "ci-db-NNN-KKKK" ---- */

static int parse_db(const char *id)
{
	int d, used = 0;
	if (!id || sscanf(id, "ci-db-%3d%n", &d, &used) != 1 || used != 9 || id[used] || d < 0 || d >= st.dbs)
		return -1;
	return d;
}

static long parse_db_snap(const char *id)
{
	int d, k, used = 0;
	if (!id || sscanf(id, "ci-db-%3d-%4d%n", &d, &k, &used) != 2 || used != 14 || id[used] || d < 0 || d >= st.dbs ||
	    k < 0 || k >= st.per_db)
		return -1;
	return (long)d * st.per_db + k;
}

static void rds_tag_list(buf *b, const tag *tags, int n)
{
	buf_str(b, "        <TagList>\n");
	for (int i = 0; i < n; i++)
		buf_printf(b, "          <Tag>\n            <Key>%s</Key>\n            <Value>%s</Value>\n          </Tag>\n",
		           tags[i].key, tags[i].value);
	buf_str(b, "        </TagList>\n");
}

static void db_item(buf *b, int d)
{
	char created[32];
	tag tags[1] = { { "Backup", "daily" } };
	iso_time(created, st.base_time - 86400L * 30);
	buf_printf(b, "      <DBInstance>\n        <DBInstanceIdentifier>ci-db-%03d</DBInstanceIdentifier>\n"
	           "        <DBInstanceClass>db.t3.medium</DBInstanceClass>\n        <Engine>postgres</Engine>\n"
	           "        <DBInstanceStatus>available</DBInstanceStatus>\n        <MasterUsername>ci</MasterUsername>\n"
	           "        <AllocatedStorage>100</AllocatedStorage>\n        <InstanceCreateTime>%s</InstanceCreateTime>\n"
	           "        <AvailabilityZone>" REGION "a</AvailabilityZone>\n        <MultiAZ>false</MultiAZ>\n"
	           "        <EngineVersion>16.3</EngineVersion>\n        <StorageType>gp3</StorageType>\n"
	           "        <StorageEncrypted>false</StorageEncrypted>\n"
	           "        <DBInstanceArn>arn:aws:rds:" REGION ":" ACCOUNT ":db:ci-db-%03d</DBInstanceArn>\n",
	           d, created, d);
	rds_tag_list(b, tags, 1);
	buf_str(b, "      </DBInstance>\n");
}

/* Markers carry the next position, like page tokens. */
static long marker_window(const params *p, long *max, long lo, long hi)
{
	*max = param_long(p, "MaxRecords", 100);
	if (*max < lo || *max > hi)
		return -2;
	return token_parse(param(p, "Marker"));
}

static void rds_marker(response *r, long pos, long total)
{
	if (pos < total) {
		char token[64];
		token_make(token, pos);
		buf_printf(&r->body, "    <Marker>%s</Marker>\n", token);
	}
}

/* Opens a DescribeDB* answer listing `member`: returns the scan position, or -1
 * after answering an error. *only: the DB named by DBInstanceIdentifier, -2 if none. */
static long rds_list_open(response *r, const params *p, const char *action, const char *member, long *max, int *only)
{
	long pos = marker_window(p, max, 20, 100);
	const char *db = param(p, "DBInstanceIdentifier");
	*only = db ? parse_db(db) : -2;
	if (pos < 0) {
		rds_error(r, 400, "InvalidParameterValue", "Invalid MaxRecords or Marker");
		return -1;
	}
	if (*only == -1) {
		rds_error(r, 404, "DBInstanceNotFound", "DBInstance not found");
		return -1;
	}
	rds_open(r, action);
	buf_printf(&r->body, "    <%s>\n", member);
	return pos;
}

static void describe_db_instances(response *r, const params *p)
{
	long max, pos, emitted = 0;
	int only;
	ctr.describe_dbs++;
	if ((pos = rds_list_open(r, p, "DescribeDBInstances", "DBInstances", &max, &only)) < 0)
		return;
	for (; pos < st.dbs && emitted < max; pos++)
		if (only < 0 || only == pos) {
			db_item(&r->body, (int)pos);
			emitted++;
		}
	buf_str(&r->body, "    </DBInstances>\n");
	rds_marker(r, pos, st.dbs);
	rds_close(r, "DescribeDBInstances");
}

static void db_snap_item(buf *b, int d, int k)
{
	char created[32], db[16], source[16];
	tag tags[4];
	iso_time(created, snap_time(d, k));
	snprintf(db, sizeof(db), "ci-db-%03d", d);
	snprintf(source, sizeof(source), "%s", db);
	tags[0] = (tag){ "ciha:managed-by", "libciha" };
	tags[1] = (tag){ "ciha:policy", st.policy };
	tags[2] = (tag){ "ciha:source", source };
	tags[3] = (tag){ "ciha:created", created };
	buf_printf(b, "      <DBSnapshot>\n        <DBSnapshotIdentifier>%s-%04d</DBSnapshotIdentifier>\n"
	           "        <DBInstanceIdentifier>%s</DBInstanceIdentifier>\n"
	           "        <SnapshotCreateTime>%s</SnapshotCreateTime>\n        <Engine>postgres</Engine>\n"
	           "        <AllocatedStorage>100</AllocatedStorage>\n        <Status>available</Status>\n"
	           "        <Port>5432</Port>\n        <AvailabilityZone>" REGION "a</AvailabilityZone>\n"
	           "        <InstanceCreateTime>%s</InstanceCreateTime>\n        <MasterUsername>ci</MasterUsername>\n"
	           "        <EngineVersion>16.3</EngineVersion>\n        <SnapshotType>manual</SnapshotType>\n"
	           "        <PercentProgress>100</PercentProgress>\n        <StorageType>gp3</StorageType>\n"
	           "        <Encrypted>false</Encrypted>\n"
	           "        <DBSnapshotArn>arn:aws:rds:" REGION ":" ACCOUNT ":snapshot:%s-%04d</DBSnapshotArn>\n",
	           db, k, db, created, created, db, k);
	rds_tag_list(b, tags, 4);
	buf_str(b, "      </DBSnapshot>\n");
}

static void describe_db_snapshots(response *r, const params *p)
{
	long max, pos, emitted = 0, total;
	const char *type = param(p, "SnapshotType");
	int only;
	ctr.describe_db_snapshots++;
	if ((pos = rds_list_open(r, p, "DescribeDBSnapshots", "DBSnapshots", &max, &only)) < 0)
		return;
	total = only >= 0 ? st.per_db : (long)st.dbs * st.per_db;
	for (; pos < total && emitted < max && !(type && strcmp(type, "manual") != 0); pos++) {
		long idx = only >= 0 ? (long)only * st.per_db + pos : pos;
		if (!st.dbsnap_deleted[idx]) {
			db_snap_item(&r->body, (int)(idx / st.per_db), (int)(idx % st.per_db));
			emitted++;
		}
	}
	buf_str(&r->body, "    </DBSnapshots>\n");
	rds_marker(r, pos, total);
	rds_close(r, "DescribeDBSnapshots");
}

static void delete_db_snapshot(response *r, const params *p)
{
	long idx = parse_db_snap(param(p, "DBSnapshotIdentifier"));
	ctr.delete_db_snapshot++;
	if (idx < 0 || st.dbsnap_deleted[idx]) {
		ctr.delete_missing++;
		return rds_error(r, 404, "DBSnapshotNotFound", "DBSnapshot not found");
	}
	st.dbsnap_deleted[idx] = 1;
	ctr.delete_ok++;
	rds_open(r, "DeleteDBSnapshot");
	db_snap_item(&r->body, (int)(idx / st.per_db), (int)(idx % st.per_db));
	rds_close(r, "DeleteDBSnapshot");
}

static void rds_empty(response *r, const char *action, const char *member)
{
	rds_open(r, action);
	buf_printf(&r->body, "    <%s/>\n", member);
	rds_close(r, action);
}

/* ---- CloudFormation: stacks made from the template's resources, settled at once ---- */

#define CFN_NS "http://cloudformation.amazonaws.com/doc/2010-05-15/"
#define MAX_STACKS 32
#define MAX_RESOURCES 500
#define EVENTS_PAGE 100   /* DescribeStackEvents answers in pages of 100, newest first */
#define RESOURCES_PAGE 100

enum { ST_REVIEW, ST_CREATE_COMPLETE, ST_DELETE_COMPLETE };

typedef struct {
	char logical[64], type[64];
} cfn_resource;

typedef struct {
	char name[128], id[192], change_set[128], change_set_id[256];
	int status, via_change_set, executed, serial;
	long created;
	int nres;
	cfn_resource *res;
} cfn_stack;

static cfn_stack stacks[MAX_STACKS];
static int nstacks, stack_serial;

static void stacks_reset(void)
{
	for (int i = 0; i < nstacks; i++)
		free(stacks[i].res);
	memset(stacks, 0, sizeof(stacks));
	nstacks = 0;
}

static const char *stack_status_name(const cfn_stack *s)
{
	return s->status == ST_REVIEW ? "REVIEW_IN_PROGRESS" : s->status == ST_CREATE_COMPLETE ? "CREATE_COMPLETE"
	                                                                                        : "DELETE_COMPLETE";
}

/* By name (live stacks only, as AWS) or by stack id / ARN (deleted ones too). */
static cfn_stack *stack_find(const char *name_or_id)
{
	if (!name_or_id)
		return NULL;
	for (int i = nstacks - 1; i >= 0; i--) {
		cfn_stack *s = &stacks[i];
		if (strcmp(s->id, name_or_id) == 0 || (strcmp(s->name, name_or_id) == 0 && s->status != ST_DELETE_COMPLETE))
			return s;
	}
	return NULL;
}

static void cfn_missing(response *r, const char *name)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "Stack with id %.200s does not exist", name ? name : "");
	query_error(r, CFN_NS, 400, "ValidationError", msg);
}

/* The quoted string ending just before `end` (backwards), copied into out. */
static int quoted_before(const char *start, const char *end, char *out, size_t outlen)
{
	const char *close = end, *open;
	while (close > start && *close != '"')
		close--;
	for (open = close - 1; open > start && *open != '"'; open--)
		;
	if (close <= start || *open != '"' || (size_t)(close - open - 1) >= outlen)
		return -1;
	memcpy(out, open + 1, (size_t)(close - open - 1));
	out[close - open - 1] = '\0';
	return 0;
}

/* Resources of a JSON template: every "Type": "AWS::..." names its resource
 * type; the key of the object around it is the logical id. */
static int template_resources(cfn_resource *out, int max, const char *body)
{
	const char *p = body;
	int n = 0;
	while (body && n < max && (p = strstr(p, "\"Type\"")) != NULL) {
		const char *v = p + 6, *brace = p;
		p = v;
		while (*v == ' ' || *v == ':' || *v == '\n' || *v == '\t' || *v == '\r')
			v++;
		if (strncmp(v, "\"AWS::", 6) != 0)
			continue;
		while (brace > body && *brace != '{')
			brace--;
		if (quoted_before(body, brace, out[n].logical, sizeof(out[n].logical)) != 0)
			continue;
		{
			const char *q = strchr(v + 1, '"');
			size_t len = q ? (size_t)(q - v - 1) : 0;
			if (!q || len >= sizeof(out[n].type))
				continue;
			memcpy(out[n].type, v + 1, len);
			out[n].type[len] = '\0';
		}
		n++;
	}
	return n;
}

static void uuid_like(char out[40], unsigned long seed)
{
	unsigned long a = seed * 2654435761UL + 0x9e3779b9UL;
	snprintf(out, 40, "%08lx-%04lx-4%03lx-a%03lx-%012lx", a & 0xffffffffUL, (a >> 32) & 0xffff, seed & 0xfff,
	         (a >> 12) & 0xfff, (a ^ (seed << 20)) & 0xffffffffffffUL);
}

static cfn_stack *stack_create(response *r, const params *p, int via_change_set)
{
	const char *name = param(p, "StackName"), *body = param(p, "TemplateBody");
	cfn_stack *s;
	char uuid[40];
	if (!name || !*name) {
		query_error(r, CFN_NS, 400, "ValidationError", "1 validation error detected: StackName must not be null");
		return NULL;
	}
	if (stack_find(name)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "Stack [%.128s] already exists", name);
		query_error(r, CFN_NS, 400, "AlreadyExistsException", msg);
		return NULL;
	}
	if (nstacks == MAX_STACKS) {
		query_error(r, CFN_NS, 400, "LimitExceededException", "the stub holds 32 stacks; reset it");
		return NULL;
	}
	s = &stacks[nstacks++];
	memset(s, 0, sizeof(*s));
	s->serial = ++stack_serial;
	snprintf(s->name, sizeof(s->name), "%s", name);
	uuid_like(uuid, (unsigned long)s->serial);
	snprintf(s->id, sizeof(s->id), "arn:aws:cloudformation:" REGION ":" ACCOUNT ":stack/%s/%s", name, uuid);
	s->res = calloc(MAX_RESOURCES, sizeof(*s->res));
	s->nres = template_resources(s->res, MAX_RESOURCES, body);
	s->via_change_set = via_change_set;
	/* the stack settles at once: its events end now */
	s->created = (long)time(NULL) - (via_change_set + 2 + 3 * s->nres);
	s->status = via_change_set ? ST_REVIEW : ST_CREATE_COMPLETE;
	return s;
}

/* Events, oldest first: [REVIEW_IN_PROGRESS], the stack's CREATE_IN_PROGRESS, three
 * per resource (IN_PROGRESS, IN_PROGRESS "Resource creation Initiated", COMPLETE)
 * and the stack's CREATE_COMPLETE. A stack under review has only the first. */
static int event_count(const cfn_stack *s)
{
	if (s->status == ST_REVIEW)
		return 1;
	return s->via_change_set + 2 + 3 * s->nres;
}

static void physical_id(char *out, size_t n, const cfn_stack *s, int res)
{
	snprintf(out, n, "%s-%s-%08X", s->name, s->res[res].logical, (unsigned)(s->serial * 7919 + res * 104729));
}

static void event_item(buf *b, const cfn_stack *s, int i)
{
	char when[32], id[320], phys[256];
	const char *logical = s->name, *type = "AWS::CloudFormation::Stack", *status, *reason = NULL, *props = NULL;
	int k = i - s->via_change_set, total = event_count(s);
	iso_time(when, s->created + i);
	snprintf(phys, sizeof(phys), "%s", s->id);
	if (s->via_change_set && i == 0) {
		status = "REVIEW_IN_PROGRESS";
		reason = "User Initiated";
	} else if (k == 0) {
		status = "CREATE_IN_PROGRESS";
		reason = "User Initiated";
	} else if (i == total - 1) {
		status = "CREATE_COMPLETE";
	} else {
		int res = (k - 1) / 3, step = (k - 1) % 3;
		logical = s->res[res].logical;
		type = s->res[res].type;
		status = step < 2 ? "CREATE_IN_PROGRESS" : "CREATE_COMPLETE";
		if (step == 0)
			phys[0] = '\0';
		else
			physical_id(phys, sizeof(phys), s, res);
		if (step == 1)
			reason = "Resource creation Initiated";
		if (step < 2)
			props = "{&quot;DisplayName&quot;:&quot;ciha bench&quot;}";
	}
	if (strcmp(type, "AWS::CloudFormation::Stack") == 0) {
		char uuid[40];
		uuid_like(uuid, (unsigned long)(s->serial * 100000 + i));
		snprintf(id, sizeof(id), "%s", uuid);
	} else {
		snprintf(id, sizeof(id), "%s-%s-%s", logical, status, when);
	}
	buf_printf(b, "      <member>\n        <EventId>%s</EventId>\n        <StackName>%s</StackName>\n"
	           "        <StackId>%s</StackId>\n        <LogicalResourceId>%s</LogicalResourceId>\n"
	           "        <PhysicalResourceId>%s</PhysicalResourceId>\n        <ResourceType>%s</ResourceType>\n"
	           "        <Timestamp>%s</Timestamp>\n        <ResourceStatus>%s</ResourceStatus>\n",
	           id, s->name, s->id, logical, phys, type, when, status);
	if (reason)
		buf_printf(b, "        <ResourceStatusReason>%s</ResourceStatusReason>\n", reason);
	if (props)
		buf_printf(b, "        <ResourceProperties>%s</ResourceProperties>\n", props);
	buf_str(b, "      </member>\n");
}

static void stack_item(buf *b, const cfn_stack *s)
{
	char created[32];
	iso_time(created, s->created);
	buf_printf(b, "      <member>\n        <StackId>%s</StackId>\n        <StackName>%s</StackName>\n", s->id, s->name);
	if (s->via_change_set)
		buf_printf(b, "        <ChangeSetId>%s</ChangeSetId>\n", s->change_set_id);
	buf_printf(b, "        <Description>libciha benchmark stack</Description>\n        <Parameters/>\n"
	           "        <CreationTime>%s</CreationTime>\n        <RollbackConfiguration/>\n"
	           "        <StackStatus>%s</StackStatus>\n        <DisableRollback>false</DisableRollback>\n"
	           "        <NotificationARNs/>\n        <Outputs>\n          <member>\n"
	           "            <OutputKey>Resources</OutputKey>\n            <OutputValue>%d</OutputValue>\n"
	           "          </member>\n        </Outputs>\n        <Tags/>\n"
	           "        <EnableTerminationProtection>false</EnableTerminationProtection>\n"
	           "        <DriftInformation>\n          <StackDriftStatus>NOT_CHECKED</StackDriftStatus>\n"
	           "        </DriftInformation>\n      </member>\n",
	           created, stack_status_name(s), s->nres);
}

static void describe_stacks(response *r, const params *p)
{
	const char *name = param(p, "StackName");
	cfn_stack *s = name ? stack_find(name) : NULL;
	ctr.cfn++;
	if (name && !s)
		return cfn_missing(r, name);
	query_open(r, CFN_NS, "DescribeStacks");
	buf_str(&r->body, "    <Stacks>\n");
	for (int i = 0; i < nstacks; i++)
		if (s ? &stacks[i] == s : stacks[i].status != ST_DELETE_COMPLETE)
			stack_item(&r->body, &stacks[i]);
	buf_str(&r->body, "    </Stacks>\n");
	query_close(r, "DescribeStacks");
}

static void next_token(buf *b, long pos, long total)
{
	if (pos < total) {
		char token[64];
		token_make(token, pos);
		buf_printf(b, "    <NextToken>%s</NextToken>\n", token);
	}
}

static void describe_stack_events(response *r, const params *p)
{
	cfn_stack *s = stack_find(param(p, "StackName"));
	long pos = token_parse(param(p, "NextToken")), total, end;
	ctr.cfn++;
	ctr.stack_events_pages++;
	if (!s)
		return cfn_missing(r, param(p, "StackName"));
	if (pos < 0)
		return query_error(r, CFN_NS, 400, "ValidationError", "Invalid NextToken");
	total = event_count(s);
	end = pos + EVENTS_PAGE < total ? pos + EVENTS_PAGE : total;
	query_open(r, CFN_NS, "DescribeStackEvents");
	buf_str(&r->body, "    <StackEvents>\n");
	for (long k = pos; k < end; k++)
		event_item(&r->body, s, (int)(total - 1 - k));
	buf_str(&r->body, "    </StackEvents>\n");
	next_token(&r->body, end, total);
	query_close(r, "DescribeStackEvents");
}

/* DescribeStackResources (all at once, as AWS up to 100) or ListStackResources (pages). */
static void stack_resources(response *r, const params *p, int list)
{
	const char *action = list ? "ListStackResources" : "DescribeStackResources";
	cfn_stack *s = stack_find(param(p, "StackName"));
	long pos = list ? token_parse(param(p, "NextToken")) : 0, end;
	char when[32];
	ctr.cfn++;
	if (!s)
		return cfn_missing(r, param(p, "StackName"));
	if (pos < 0)
		return query_error(r, CFN_NS, 400, "ValidationError", "Invalid NextToken");
	end = s->status == ST_REVIEW ? 0 : s->nres;
	if (list && end > pos + RESOURCES_PAGE)
		end = pos + RESOURCES_PAGE;
	query_open(r, CFN_NS, action);
	buf_str(&r->body, list ? "    <StackResourceSummaries>\n" : "    <StackResources>\n");
	for (long i = pos; i < end; i++) {
		char phys[256];
		physical_id(phys, sizeof(phys), s, (int)i);
		iso_time(when, s->created + s->via_change_set + 3 + 3 * i);
		buf_printf(&r->body, "      <member>\n");
		if (!list)
			buf_printf(&r->body, "        <StackName>%s</StackName>\n        <StackId>%s</StackId>\n", s->name, s->id);
		buf_printf(&r->body, "        <LogicalResourceId>%s</LogicalResourceId>\n"
		           "        <PhysicalResourceId>%s</PhysicalResourceId>\n        <ResourceType>%s</ResourceType>\n"
		           "        <%s>%s</%s>\n        <ResourceStatus>CREATE_COMPLETE</ResourceStatus>\n"
		           "        <DriftInformation>\n          <StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus>\n"
		           "        </DriftInformation>\n      </member>\n",
		           s->res[i].logical, phys, s->res[i].type, list ? "LastUpdatedTimestamp" : "Timestamp", when,
		           list ? "LastUpdatedTimestamp" : "Timestamp");
	}
	buf_str(&r->body, list ? "    </StackResourceSummaries>\n" : "    </StackResources>\n");
	if (list)
		next_token(&r->body, end, s->status == ST_REVIEW ? 0 : s->nres);
	query_close(r, action);
}

static void create_stack(response *r, const params *p)
{
	cfn_stack *s;
	ctr.cfn++;
	if (!(s = stack_create(r, p, 0)))
		return;
	query_open(r, CFN_NS, "CreateStack");
	buf_printf(&r->body, "    <StackId>%s</StackId>\n", s->id);
	query_close(r, "CreateStack");
}

/* A change set is named by its ARN, or by its name with StackName. */
static cfn_stack *change_set_find(const params *p)
{
	const char *cs = param(p, "ChangeSetName"), *stack = param(p, "StackName");
	for (int i = nstacks - 1; cs && i >= 0; i--) {
		cfn_stack *s = &stacks[i];
		if (s->via_change_set && (strcmp(s->change_set_id, cs) == 0 ||
		                          (strcmp(s->change_set, cs) == 0 && stack &&
		                           (strcmp(s->name, stack) == 0 || strcmp(s->id, stack) == 0))))
			return s;
	}
	return NULL;
}

static void change_set_missing(response *r, const params *p)
{
	char msg[300];
	snprintf(msg, sizeof(msg), "ChangeSet [%.200s] does not exist", param(p, "ChangeSetName") ? param(p, "ChangeSetName") : "");
	query_error(r, CFN_NS, 404, "ChangeSetNotFound", msg);
}

static void create_change_set(response *r, const params *p)
{
	const char *type = param(p, "ChangeSetType"), *cs = param(p, "ChangeSetName");
	cfn_stack *s;
	char uuid[40];
	ctr.cfn++;
	if (!type || strcmp(type, "CREATE") != 0)
		return query_error(r, CFN_NS, 400, "ValidationError", "the stub creates stacks only (ChangeSetType CREATE)");
	if (!cs || !*cs)
		return query_error(r, CFN_NS, 400, "ValidationError", "ChangeSetName is required");
	if (!(s = stack_create(r, p, 1)))
		return;
	snprintf(s->change_set, sizeof(s->change_set), "%s", cs);
	uuid_like(uuid, (unsigned long)s->serial * 31 + 7);
	snprintf(s->change_set_id, sizeof(s->change_set_id), "arn:aws:cloudformation:" REGION ":" ACCOUNT
	         ":changeSet/%s/%s", cs, uuid);
	query_open(r, CFN_NS, "CreateChangeSet");
	buf_printf(&r->body, "    <Id>%s</Id>\n    <StackId>%s</StackId>\n", s->change_set_id, s->id);
	query_close(r, "CreateChangeSet");
}

static void describe_change_set(response *r, const params *p)
{
	cfn_stack *s = change_set_find(p);
	char created[32];
	ctr.cfn++;
	if (!s)
		return change_set_missing(r, p);
	iso_time(created, s->created);
	query_open(r, CFN_NS, "DescribeChangeSet");
	buf_printf(&r->body, "    <ChangeSetName>%s</ChangeSetName>\n    <ChangeSetId>%s</ChangeSetId>\n"
	           "    <StackId>%s</StackId>\n    <StackName>%s</StackName>\n    <Parameters/>\n"
	           "    <CreationTime>%s</CreationTime>\n    <ExecutionStatus>%s</ExecutionStatus>\n"
	           "    <Status>CREATE_COMPLETE</Status>\n    <NotificationARNs/>\n    <Capabilities/>\n    <Tags/>\n"
	           "    <IncludeNestedStacks>false</IncludeNestedStacks>\n    <Changes>\n",
	           s->change_set, s->change_set_id, s->id, s->name, created,
	           s->executed ? "EXECUTE_COMPLETE" : "AVAILABLE");
	for (int i = 0; i < s->nres; i++)
		buf_printf(&r->body, "      <member>\n        <Type>Resource</Type>\n        <ResourceChange>\n"
		           "          <Action>Add</Action>\n          <LogicalResourceId>%s</LogicalResourceId>\n"
		           "          <ResourceType>%s</ResourceType>\n          <Scope/>\n          <Details/>\n"
		           "        </ResourceChange>\n      </member>\n", s->res[i].logical, s->res[i].type);
	buf_str(&r->body, "    </Changes>\n");
	query_close(r, "DescribeChangeSet");
}

static void execute_change_set(response *r, const params *p)
{
	cfn_stack *s = change_set_find(p);
	ctr.cfn++;
	if (!s)
		return change_set_missing(r, p);
	if (s->executed)
		return query_error(r, CFN_NS, 400, "InvalidChangeSetStatus", "ChangeSet is in EXECUTE_COMPLETE state");
	s->executed = 1;
	s->status = ST_CREATE_COMPLETE;
	query_open(r, CFN_NS, "ExecuteChangeSet");   /* an empty output shape still has its Result element */
	query_close(r, "ExecuteChangeSet");
}

static void delete_stack(response *r, const params *p)
{
	cfn_stack *s = stack_find(param(p, "StackName"));
	ctr.cfn++;
	if (s)
		s->status = ST_DELETE_COMPLETE;
	query_empty(r, CFN_NS, "DeleteStack");
}

/* ---- CloudWatch alarms ---- */

#define CW_NS "http://monitoring.amazonaws.com/doc/2010-08-01/"
#define MAX_ALARMS 4096
#define ALARMS_PAGE_MAX 100

typedef struct {
	char name[256], metric[128], ns[128], statistic[32], comparison[64], threshold[32], period[16], evals[16];
	char description[256], action[256], dim_name[64], dim_value[128], treat_missing[32];
	long updated;
} cw_alarm;

static cw_alarm *alarms;
static int nalarms;

static const char *param_or(const params *p, const char *name, const char *dflt)
{
	const char *v = param(p, name);
	return v ? v : dflt;
}

/* Each text member of an alarm: the request parameter that sets it and its default. */
#define ALARM_FIELD(member, name, dflt) { offsetof(cw_alarm, member), sizeof(((cw_alarm *)0)->member), name, dflt }
static const struct {
	size_t at, size;
	const char *param, *dflt;
} alarm_fields[] = {
	ALARM_FIELD(name, "AlarmName", ""), ALARM_FIELD(metric, "MetricName", "CPUUtilization"),
	ALARM_FIELD(ns, "Namespace", "AWS/EC2"), ALARM_FIELD(statistic, "Statistic", "Average"),
	ALARM_FIELD(comparison, "ComparisonOperator", "GreaterThanThreshold"), ALARM_FIELD(threshold, "Threshold", "80"),
	ALARM_FIELD(period, "Period", "300"), ALARM_FIELD(evals, "EvaluationPeriods", "1"),
	ALARM_FIELD(description, "AlarmDescription", ""), ALARM_FIELD(action, "AlarmActions.member.1", ""),
	ALARM_FIELD(dim_name, "Dimensions.member.1.Name", ""), ALARM_FIELD(dim_value, "Dimensions.member.1.Value", ""),
	ALARM_FIELD(treat_missing, "TreatMissingData", "missing"),
};

static void alarm_set(cw_alarm *a, const params *p)
{
	for (size_t i = 0; i < sizeof(alarm_fields) / sizeof(alarm_fields[0]); i++)
		snprintf((char *)a + alarm_fields[i].at, alarm_fields[i].size, "%s",
		         param_or(p, alarm_fields[i].param, alarm_fields[i].dflt));
	a->updated = (long)time(NULL);
}

static void alarms_reset(int n)
{
	free(alarms);
	alarms = calloc(MAX_ALARMS, sizeof(*alarms));
	nalarms = 0;
	for (int i = 0; i < n && i < MAX_ALARMS; i++) {
		char name[64], value[32], *pairs[] = { "AlarmName", name, "Dimensions.member.1.Name", "InstanceId",
		                                       "Dimensions.member.1.Value", value,
		                                       "AlarmActions.member.1", "arn:aws:sns:" REGION ":" ACCOUNT ":ciha-pages" };
		params p = { .n = 4 };
		snprintf(name, sizeof(name), "ciha-bench-cpu-%04d", i);
		snprintf(value, sizeof(value), "i-0%016x", 0x3c4d0000u + (unsigned)i);
		for (int k = 0; k < 4; k++) {
			p.name[k] = pairs[2 * k];
			p.value[k] = pairs[2 * k + 1];
		}
		alarm_set(&alarms[nalarms++], &p);
	}
}

static void alarm_item(buf *b, const cw_alarm *a)
{
	char updated[32];
	iso_time(updated, a->updated);
	buf_str(b, "      <member>\n        <AlarmName>");
	buf_xml(b, a->name);
	buf_printf(b, "</AlarmName>\n        <AlarmArn>arn:aws:cloudwatch:" REGION ":" ACCOUNT ":alarm:");
	buf_xml(b, a->name);
	buf_str(b, "</AlarmArn>\n        <AlarmDescription>");
	buf_xml(b, a->description);
	buf_printf(b, "</AlarmDescription>\n        <AlarmConfigurationUpdatedTimestamp>%s</AlarmConfigurationUpdatedTimestamp>\n"
	           "        <ActionsEnabled>true</ActionsEnabled>\n        <OKActions/>\n        <AlarmActions>\n"
	           "          <member>", updated);
	buf_xml(b, a->action);
	buf_printf(b, "</member>\n        </AlarmActions>\n        <InsufficientDataActions/>\n"
	           "        <StateValue>OK</StateValue>\n"
	           "        <StateReason>Threshold Crossed: 1 datapoint [2.0 (%s)] was not greater than the threshold (%s).</StateReason>\n"
	           "        <StateUpdatedTimestamp>%s</StateUpdatedTimestamp>\n        <MetricName>%s</MetricName>\n"
	           "        <Namespace>%s</Namespace>\n        <Statistic>%s</Statistic>\n        <Dimensions>\n"
	           "          <member>\n            <Name>%s</Name>\n            <Value>",
	           updated, a->threshold, updated, a->metric, a->ns, a->statistic, a->dim_name);
	buf_xml(b, a->dim_value);
	buf_printf(b, "</Value>\n          </member>\n        </Dimensions>\n        <Period>%s</Period>\n"
	           "        <EvaluationPeriods>%s</EvaluationPeriods>\n        <Threshold>%s</Threshold>\n"
	           "        <ComparisonOperator>%s</ComparisonOperator>\n        <TreatMissingData>%s</TreatMissingData>\n"
	           "      </member>\n", a->period, a->evals, a->threshold, a->comparison, a->treat_missing);
}

static int alarm_wanted(const cw_alarm *a, const params *p)
{
	const char *prefix = param(p, "AlarmNamePrefix"), *state = param(p, "StateValue");
	int named = 0, match = 0;
	for (int i = 0; i < p->n; i++)
		if (strncmp(p->name[i], "AlarmNames.member.", 18) == 0) {
			named = 1;
			match |= strcmp(p->value[i], a->name) == 0;
		}
	if (named && !match)
		return 0;
	if (prefix && strncmp(a->name, prefix, strlen(prefix)) != 0)
		return 0;
	return !state || strcmp(state, "OK") == 0;
}

static void describe_alarms(response *r, const params *p)
{
	long pos = token_parse(param(p, "NextToken")), max = param_long(p, "MaxRecords", 50), emitted = 0;
	ctr.cw++;
	if (pos < 0 || max < 1 || max > ALARMS_PAGE_MAX)
		return query_error(r, CW_NS, 400, "InvalidParameterValue", "Invalid NextToken or MaxRecords (1-100)");
	query_open(r, CW_NS, "DescribeAlarms");
	buf_str(&r->body, "    <MetricAlarms>\n");
	for (; pos < nalarms && emitted < max; pos++)
		if (alarm_wanted(&alarms[pos], p)) {
			alarm_item(&r->body, &alarms[pos]);
			emitted++;
		}
	buf_str(&r->body, "    </MetricAlarms>\n    <CompositeAlarms/>\n");
	next_token(&r->body, pos, nalarms);
	query_close(r, "DescribeAlarms");
}

static void put_metric_alarm(response *r, const params *p)
{
	const char *name = param(p, "AlarmName");
	int i;
	ctr.cw++;
	if (!name || !*name)
		return query_error(r, CW_NS, 400, "MissingParameter", "The parameter AlarmName is required.");
	for (i = 0; i < nalarms && strcmp(alarms[i].name, name) != 0; i++)
		;
	if (i == MAX_ALARMS)
		return query_error(r, CW_NS, 400, "LimitExceeded", "the stub holds 4096 alarms; reset it");
	alarm_set(&alarms[i], p);
	if (i == nalarms)
		nalarms++;
	query_empty(r, CW_NS, "PutMetricAlarm");
}

/* ---- control ---- */

/* The ids keep-N would delete now, one a line: all but the newest N left of each volume. */
static void expired_ids(response *r, int keep)
{
	for (int v = 0; v < st.volumes; v++) {
		int seen = 0;
		for (int k = st.per_volume - 1; k >= 0; k--) {
			long idx = (long)v * st.per_volume + k;
			char id[32];
			if (st.snap_deleted[idx] || seen++ < keep)
				continue;
			snap_id(id, idx);
			buf_printf(&r->body, "%s\n", id);
		}
	}
}

/* "ok" when each of the first `upto` volumes has exactly its newest `keep`
 * snapshots left and the others have all of theirs. */
static void check_kept(response *r, int keep, int upto)
{
	for (int v = 0; v < st.volumes; v++)
		for (int k = 0; k < st.per_volume; k++) {
			int should_remain = v >= upto || k >= st.per_volume - keep;
			if (st.snap_deleted[(long)v * st.per_volume + k] == should_remain) {
				buf_printf(&r->body, "bad: volume %d snapshot %d %s\n", v, k, should_remain ? "deleted" : "left");
				return;
			}
		}
	buf_str(&r->body, "ok\n");
}

/* ---- dispatch ---- */

static int stacks_complete(void)
{
	int n = 0;
	for (int i = 0; i < nstacks; i++)
		n += stacks[i].status == ST_CREATE_COMPLETE;
	return n;
}

typedef void (*handler)(response *r, const params *p);

static void list_stack_resources(response *r, const params *p)
{
	stack_resources(r, p, 1);
}

static void describe_stack_resources(response *r, const params *p)
{
	stack_resources(r, p, 0);
}

static const struct {
	const char *action;
	handler fn;
} query_actions[] = {
	{ "CreateStack", create_stack }, { "DescribeStacks", describe_stacks },
	{ "DescribeStackEvents", describe_stack_events }, { "DescribeStackResources", describe_stack_resources },
	{ "ListStackResources", list_stack_resources }, { "CreateChangeSet", create_change_set },
	{ "DescribeChangeSet", describe_change_set }, { "ExecuteChangeSet", execute_change_set },
	{ "DeleteStack", delete_stack }, { "DescribeAlarms", describe_alarms }, { "PutMetricAlarm", put_metric_alarm },
};

static void control(response *r, const char *path, char *query)
{
	params p = { .n = 0 };
	r->status = 200;
	if (query)
		params_parse(&p, query);
	if (strcmp(path, "/_reset") == 0) {
		state_reset((int)param_long(&p, "volumes", 200), (int)param_long(&p, "snapshots", 50),
		            (int)param_long(&p, "dbs", 0), (int)param_long(&p, "dbsnapshots", 0),
		            param(&p, "policy") ? param(&p, "policy") : "bench");
		stacks_reset();
		alarms_reset((int)param_long(&p, "alarms", 0));
		buf_printf(&r->body, "reset volumes %d snapshots %d dbs %d dbsnapshots %d policy %s alarms %d\n", st.volumes,
		           st.per_volume, st.dbs, st.per_db, st.policy, nalarms);
		return;
	}
	if (strcmp(path, "/_stats") == 0) {
		long left = 0;
		for (long i = 0; i < (long)st.volumes * st.per_volume; i++)
			left += !st.snap_deleted[i];
		buf_printf(&r->body,
		           "requests %ld\nconnections %ld\nbytes_out %ld\nerrors %ld\nDescribeVolumes %ld\n"
		           "DescribeSnapshots %ld\nDeleteSnapshot %ld\ndeleted %ld\ndelete_missing %ld\n"
		           "DescribeDBInstances %ld\nDescribeDBSnapshots %ld\nDeleteDBSnapshot %ld\nother %ld\n"
		           "snapshots_left %ld\ncloudformation %ld\nstack_event_pages %ld\ncloudwatch %ld\nstacks %d\n"
		           "stacks_complete %d\nalarms %d\n",
		           ctr.requests, ctr.connections, ctr.bytes_out, ctr.errors, ctr.describe_volumes,
		           ctr.describe_snapshots, ctr.delete_snapshot, ctr.delete_ok, ctr.delete_missing, ctr.describe_dbs,
		           ctr.describe_db_snapshots, ctr.delete_db_snapshot, ctr.other, left, ctr.cfn, ctr.stack_events_pages,
		           ctr.cw, nstacks, stacks_complete(), nalarms);
		return;
	}
	if (strcmp(path, "/_expired") == 0)
		return expired_ids(r, (int)param_long(&p, "keep", 7));
	if (strcmp(path, "/_check") == 0)
		return check_kept(r, (int)param_long(&p, "keep", 7), (int)param_long(&p, "upto", st.volumes));
	r->status = 404;
	buf_str(&r->body, "not found\n");
}

static void api(response *r, params *p)
{
	const char *action = param(p, "Action");
	ctr.requests++;
	if (!action)
		return ec2_error(r, 400, "MissingAction", "The request must contain the parameter Action");
	if (strcmp(action, "DescribeVolumes") == 0)
		return describe_volumes(r, p);
	if (strcmp(action, "DescribeSnapshots") == 0)
		return describe_snapshots(r, p);
	if (strcmp(action, "DeleteSnapshot") == 0)
		return delete_snapshot(r, p);
	if (strcmp(action, "DescribeDBInstances") == 0)
		return describe_db_instances(r, p);
	if (strcmp(action, "DescribeDBSnapshots") == 0)
		return describe_db_snapshots(r, p);
	if (strcmp(action, "DeleteDBSnapshot") == 0)
		return delete_db_snapshot(r, p);
	for (size_t i = 0; i < sizeof(query_actions) / sizeof(query_actions[0]); i++)
		if (strcmp(action, query_actions[i].action) == 0)
			return query_actions[i].fn(r, p);
	ctr.other++;
	if (strcmp(action, "DescribeDBClusters") == 0)
		return rds_empty(r, action, "DBClusters");
	if (strcmp(action, "DescribeDBClusterSnapshots") == 0)
		return rds_empty(r, action, "DBClusterSnapshots");
	ec2_error(r, 400, "InvalidAction", "The action is not valid for this web service.");
}

/* ---- HTTP ---- */

typedef struct {
	int fd;
	buf in, out;
	int want_write, sent_continue, closing;
} conn;

static const char *reason_phrase(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	default: return "Error";
	}
}

static const char *http_date(void)
{
	static char cached[64];
	static time_t at;
	time_t now = time(NULL);
	if (now != at) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		at = now;
	}
	return cached;
}

static void respond(conn *c, const response *r, const char *content_type)
{
	char rid[40];
	request_id(rid);
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nx-amzn-RequestId: %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	           "Date: %s\r\nServer: AmazonEC2\r\n%s\r\n",
	           r->status, reason_phrase(r->status), rid, content_type, r->body.len, http_date(),
	           c->closing ? "Connection: close\r\n" : "");
	buf_add(&c->out, r->body.data ? r->body.data : "", r->body.len);
}

/* A header's value (case-insensitive name) within the header block, copied into out. */
static int header(const char *head, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = memchr(head, '\n', len), *end = head + len;
	while (p && p + 1 < end) {
		p++;
		if ((size_t)(end - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *eol;
			size_t n;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			eol = memchr(v, '\r', (size_t)(end - v));
			n = eol ? (size_t)(eol - v) : (size_t)(end - v);
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 1;
		}
		p = memchr(p, '\n', (size_t)(end - p));
	}
	return 0;
}

static void http_error(conn *c, int status)
{
	response r = { status, { 0 } };
	buf_printf(&r.body, "%s\n", reason_phrase(status));
	c->closing = 1;
	respond(c, &r, "text/plain");
	free(r.body.data);
}

/* Handles one complete request at the front of c->in; returns bytes used, 0 when incomplete. */
static size_t handle_one(conn *c)
{
	char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4), value[64], method[16], target[1024], version[16];
	size_t head_len, body_len = 0, total;
	response r = { 0, { 0 } };
	params p = { .n = 0 };
	char *body, *query;
	if (!end)
		return c->in.len > 65536 ? (http_error(c, 413), c->in.len) : 0;
	head_len = (size_t)(end - c->in.data) + 4;
	if (sscanf(c->in.data, "%15s %1023s %15s", method, target, version) != 3) {
		http_error(c, 400);
		return c->in.len;
	}
	if (header(c->in.data, head_len, "Transfer-Encoding", value, sizeof(value))) {
		http_error(c, 411);
		return c->in.len;
	}
	if (header(c->in.data, head_len, "Content-Length", value, sizeof(value)))
		body_len = strtoul(value, NULL, 10);
	if (body_len > MAX_REQUEST) {
		http_error(c, 413);
		return c->in.len;
	}
	total = head_len + body_len;
	if (c->in.len < total) {
		if (!c->sent_continue && header(c->in.data, head_len, "Expect", value, sizeof(value)) &&
		    strcasecmp(value, "100-continue") == 0) {
			buf_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
			c->sent_continue = 1;
		}
		return 0;
	}
	c->sent_continue = 0;
	if (strcmp(version, "HTTP/1.0") == 0 ||
	    (header(c->in.data, head_len, "Connection", value, sizeof(value)) && strcasecmp(value, "close") == 0))
		c->closing = 1;
	/* Body and query string are parsed from NUL-terminated copies inside the buffer. */
	body = malloc(body_len + 1);
	memcpy(body, c->in.data + head_len, body_len);
	body[body_len] = '\0';
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	if (strncmp(target, "/_", 2) == 0) {
		control(&r, target, query);
		respond(c, &r, "text/plain");
	} else {
		if (query)
			params_parse(&p, query);
		params_parse(&p, body);
		api(&r, &p);
		respond(c, &r, "text/xml;charset=UTF-8");
	}
	free(body);
	free(r.body.data);
	return total;
}

static int epfd;

static void conn_close(conn *c)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in.data);
	free(c->out.data);
	free(c);
}

static void watch(conn *c, int want_write)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c };
	if (c->want_write != want_write) {
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_write = want_write;
	}
}

/* Returns -1 when the connection is to be closed. */
static int flush_out(conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -1;
		}
		ctr.bytes_out += n;
		buf_consume(&c->out, (size_t)n);
	}
	watch(c, c->out.len > 0);
	return c->out.len == 0 && c->closing ? -1 : 0;
}

static void on_readable(conn *c)
{
	for (;;) {
		ssize_t n;
		size_t used;
		buf_reserve(&c->in, 65536);
		n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			conn_close(c);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		c->in.len += (size_t)n;
		c->in.data[c->in.len] = '\0';
		while (!c->closing && c->in.len && (used = handle_one(c)) > 0)
			buf_consume(&c->in, used);
		if (c->closing)
			break;
	}
	if (flush_out(c) < 0)
		conn_close(c);
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		conn *c;
		struct epoll_event ev;
		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		c->fd = fd;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
		ctr.connections++;
	}
}

static int listen_on(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		perror("stub: listen");
		exit(1);
	}
	printf("port %d\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	static int listener_tag;
	int lfd = listen_on(argc > 1 ? atoi(argv[1]) : 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener_tag }, events[256];
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	state_reset(200, 50, 0, 0, "bench");
	alarms_reset(0);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	while (!stopping) {
		int n = epoll_wait(epfd, events, 256, 500);
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == &listener_tag) {
				on_accept(lfd);
				continue;
			}
			conn *c = events[i].data.ptr;
			if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN))
				conn_close(c);
			else if (events[i].events & EPOLLIN)
				on_readable(c);
			else if (flush_out(c) < 0)
				conn_close(c);
		}
	}
	close(lfd);
	close(epfd);
	free(st.snap_deleted);
	free(st.dbsnap_deleted);
	stacks_reset();
	free(alarms);
	return 0;
}
