#!/usr/bin/env python3
"""awsstub.py: a loopback EC2 + RDS fixture for what moto cannot do.

Answers EC2 (ec2 protocol) and RDS (query protocol) form POSTs like AWS, routed
by the form field Action and the service of the Authorization credential scope:
  ec2  DescribeVolumes, DescribeSnapshots (MaxResults/NextToken), CreateSnapshot,
       DeleteSnapshot, CreateTags
  rds  DescribeDBInstances, DescribeDBSnapshots (MaxRecords/Marker),
       CreateDBSnapshot, DeleteDBSnapshot, DescribeAccountAttributes
Snapshots created through the API stay pending for `pending_polls` describes of
them, then end in `final_states[target]` (default completed / available).

Control (JSON):
  POST /__stub/state   merge into the state: volumes [{id, az, tags{}}], dbs [{id, tags{}}],
                       snapshots [{id, volume, time, state, tags{}}],
                       db_snapshots [{id, db, time, status, type, tags{}}],
                       pending_polls N, final_states {target: state}, in_use [ids],
                       fail_delete {id: http status}, quota {name: {max, used}},
                       page_size N (cap on page size)
  POST /__stub/reset   forget everything
  GET  /__stub/state   the state (snapshots and DB snapshots)
  GET  /__stub/log     every API request so far: {service, action, form, status}
Prints "PORT n" then "PID n" on stdout. Stops on SIGTERM or after --max-seconds.
"""
import argparse
import copy
import datetime
import json
import os
import re
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EC2_NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
RDS_NS = "http://rds.amazonaws.com/doc/2014-10-31/"
ACCOUNT = "123456789012"


def empty_state():
    return {"volumes": [], "dbs": [], "snapshots": [], "db_snapshots": [], "pending_polls": 0,
            "final_states": {}, "in_use": [], "fail_delete": {}, "quota": {}, "page_size": 1000}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.data = empty_state()
        self.log = []
        self.counter = 0

    def next_id(self, prefix):
        self.counter += 1
        return "%s%017x" % (prefix, 0xC1A0000 + self.counter)


STATE = State()


class StubError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def esc(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def iso(epoch):
    when = datetime.datetime.fromtimestamp(float(epoch), datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


def now():
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def service_of(authorization):
    """The service of the SigV4 credential scope: Credential=AK/date/region/SERVICE/aws4_request."""
    match = re.search(r"Credential=[^/,]+/[^/]+/[^/]+/([^/]+)/aws4_request", authorization or "")
    return match.group(1) if match else None


def indexed(form, pattern):
    """Values of keys matching `pattern` (a regex with one (\\d+) group), ordered by that index."""
    found = []
    for key, value in form.items():
        match = re.fullmatch(pattern, key)
        if match:
            found.append((int(match.group(1)), value))
    return [v for _, v in sorted(found)]


def ec2_filters(form):
    """Filter.N.Name / Filter.N.Value.M -> {name: [values]}."""
    filters = {}
    for key, name in form.items():
        match = re.fullmatch(r"Filter\.(\d+)\.Name", key)
        if match:
            filters[name] = indexed(form, r"Filter\.%s\.Value\.(\d+)" % match.group(1))
    return filters


def tags_from(form, prefix):
    """Key/Value pairs under prefix: Tags.Tag.N.Key (RDS) or TagSpecification.1.Tag.N.Key (EC2)."""
    keys = {}
    for key, value in form.items():
        match = re.fullmatch(re.escape(prefix) + r"\.(?:member\.|Tag\.)?(\d+)\.(Key|Value)", key)
        if match:
            keys.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return {kv.get("Key", ""): kv.get("Value", "") for _, kv in sorted(keys.items())}


def tag_xml(tags, item, key, value):
    return "".join("<%s><%s>%s</%s><%s>%s</%s></%s>" % (item, key, esc(k), key, value, esc(v), value, item)
                   for k, v in tags.items())


def page(items, start, size):
    start = int(start or 0)
    size = max(1, min(int(size or 1000), int(STATE.data["page_size"])))
    rest = items[start:start + size]
    token = str(start + size) if start + size < len(items) else None
    return rest, token


# ---- EC2 ---------------------------------------------------------------------

def advance(snapshot, key, ok_state):
    """One describe of a pending snapshot: count down, then reach its final state."""
    if snapshot.get("polls_left", 0) > 0:
        snapshot["polls_left"] -= 1
        total = snapshot.get("polls_total", 1) or 1
        snapshot["progress"] = int(100 * (total - snapshot["polls_left"]) / (total + 1))
        if snapshot["polls_left"] == 0:
            snapshot[key] = snapshot.get("final", ok_state)
            snapshot["progress"] = 100 if snapshot[key] == ok_state else snapshot["progress"]


def ebs_snapshot_xml(s):
    return ("<item><snapshotId>%s</snapshotId><volumeId>%s</volumeId><status>%s</status><startTime>%s</startTime>"
            "<progress>%s%%</progress><ownerId>%s</ownerId><volumeSize>8</volumeSize><description>%s</description>"
            "<encrypted>false</encrypted><tagSet>%s</tagSet></item>") % (
        s["id"], s["volume"], s.get("state", "completed"), iso(s["time"]), s.get("progress", 100), ACCOUNT,
        esc(s.get("description", "")), tag_xml(s.get("tags", {}), "item", "key", "value"))


def ec2_describe_snapshots(form):
    data = STATE.data
    ids = indexed(form, r"SnapshotId\.(\d+)")
    filters = ec2_filters(form)
    chosen = []
    for s in data["snapshots"]:
        if ids and s["id"] not in ids:
            continue
        if "volume-id" in filters and s["volume"] not in filters["volume-id"]:
            continue
        if any(name.startswith("tag:") and s.get("tags", {}).get(name[4:]) not in values
               for name, values in filters.items()):
            continue
        chosen.append(s)
    missing = [i for i in ids if i not in {s["id"] for s in chosen}]
    if missing:
        raise StubError(400, "InvalidSnapshot.NotFound", "The snapshot '%s' does not exist." % missing[0])
    chosen.sort(key=lambda s: s["id"])
    items, token = page(chosen, form.get("NextToken"), form.get("MaxResults"))
    for s in items:
        advance(s, "state", "completed")
    body = "<snapshotSet>%s</snapshotSet>" % "".join(ebs_snapshot_xml(s) for s in items)
    return body + ("<nextToken>%s</nextToken>" % token if token else "")


def ec2_describe_volumes(form):
    ids = indexed(form, r"VolumeId\.(\d+)")
    filters = ec2_filters(form)
    chosen = []
    for v in STATE.data["volumes"]:
        if ids and v["id"] not in ids:
            continue
        if any(name.startswith("tag:") and v.get("tags", {}).get(name[4:]) not in values
               for name, values in filters.items()):
            continue
        chosen.append(v)
    missing = [i for i in ids if i not in {v["id"] for v in chosen}]
    if missing:
        raise StubError(400, "InvalidVolume.NotFound", "The volume '%s' does not exist." % missing[0])
    items, token = page(chosen, form.get("NextToken"), form.get("MaxResults"))
    body = "<volumeSet>%s</volumeSet>" % "".join(
        "<item><volumeId>%s</volumeId><size>8</size><availabilityZone>%s</availabilityZone><status>available</status>"
        "<tagSet>%s</tagSet></item>" % (v["id"], v.get("az", "us-east-1a"),
                                         tag_xml(v.get("tags", {}), "item", "key", "value")) for v in items)
    return body + ("<nextToken>%s</nextToken>" % token if token else "")


def ec2_create_snapshot(form):
    data = STATE.data
    volume = form.get("VolumeId")
    if volume not in {v["id"] for v in data["volumes"]}:
        raise StubError(400, "InvalidVolume.NotFound", "The volume '%s' does not exist." % volume)
    polls = int(data["pending_polls"])
    s = {"id": STATE.next_id("snap-"), "volume": volume, "time": now(), "state": "pending" if polls else "completed",
         "progress": 0 if polls else 100, "polls_left": polls, "polls_total": polls,
         "final": data["final_states"].get(volume, "completed"), "description": form.get("Description", ""),
         "tags": tags_from(form, "TagSpecification.1.Tag")}
    if not polls:
        s["state"] = s["final"]
    data["snapshots"].append(s)
    return ebs_snapshot_xml(s)[len("<item>"):-len("</item>")]


def delete_fault(snapshot_id):
    status = STATE.data["fail_delete"].get(snapshot_id)
    if status:
        raise StubError(int(status), "InternalError", "stub: scripted failure deleting %s" % snapshot_id)


def ec2_delete_snapshot(form):
    snapshot_id = form.get("SnapshotId")
    delete_fault(snapshot_id)
    if snapshot_id in STATE.data["in_use"]:
        raise StubError(400, "InvalidSnapshot.InUse",
                        "The snapshot %s is currently in use by ami-0123456789abcdef0" % snapshot_id)
    before = len(STATE.data["snapshots"])
    STATE.data["snapshots"] = [s for s in STATE.data["snapshots"] if s["id"] != snapshot_id]
    if len(STATE.data["snapshots"]) == before:
        raise StubError(400, "InvalidSnapshot.NotFound", "The snapshot '%s' does not exist." % snapshot_id)
    return "<return>true</return>"


def ec2_create_tags(form):
    tags = tags_from(form, "Tag")
    for resource in indexed(form, r"ResourceId\.(\d+)"):
        for s in STATE.data["snapshots"]:
            if s["id"] == resource:
                s.setdefault("tags", {}).update(tags)
    return "<return>true</return>"


EC2_ACTIONS = {"DescribeSnapshots": ec2_describe_snapshots, "DescribeVolumes": ec2_describe_volumes,
               "CreateSnapshot": ec2_create_snapshot, "DeleteSnapshot": ec2_delete_snapshot,
               "CreateTags": ec2_create_tags}

# ---- RDS ---------------------------------------------------------------------


def db_snapshot_xml(s):
    return ("<DBSnapshot><DBSnapshotIdentifier>%s</DBSnapshotIdentifier><DBInstanceIdentifier>%s"
            "</DBInstanceIdentifier><SnapshotCreateTime>%s</SnapshotCreateTime><Engine>postgres</Engine>"
            "<Status>%s</Status><PercentProgress>%s</PercentProgress><SnapshotType>%s</SnapshotType>"
            "<Encrypted>false</Encrypted><DBSnapshotArn>arn:aws:rds:us-east-1:%s:snapshot:%s</DBSnapshotArn>"
            "<TagList>%s</TagList></DBSnapshot>") % (
        esc(s["id"]), esc(s["db"]), iso(s["time"]), s.get("status", "available"), s.get("progress", 100),
        s.get("type", "manual"), ACCOUNT, esc(s["id"]), tag_xml(s.get("tags", {}), "Tag", "Key", "Value"))


def rds_describe_db_snapshots(form):
    wanted, db = form.get("DBSnapshotIdentifier"), form.get("DBInstanceIdentifier")
    chosen = [s for s in STATE.data["db_snapshots"]
              if (not wanted or s["id"] == wanted) and (not db or s["db"] == db)]
    if wanted and not chosen:
        raise StubError(404, "DBSnapshotNotFound", "DBSnapshot %s not found." % wanted)
    chosen.sort(key=lambda s: s["id"])
    items, token = page(chosen, form.get("Marker"), form.get("MaxRecords"))
    for s in items:
        advance(s, "status", "available")
    body = "<DBSnapshots>%s</DBSnapshots>" % "".join(db_snapshot_xml(s) for s in items)
    return body + ("<Marker>%s</Marker>" % token if token else "")


def rds_describe_db_instances(form):
    wanted = form.get("DBInstanceIdentifier")
    chosen = [d for d in STATE.data["dbs"] if not wanted or d["id"] == wanted]
    if wanted and not chosen:
        raise StubError(404, "DBInstanceNotFound", "DBInstance %s not found." % wanted)
    items, token = page(chosen, form.get("Marker"), form.get("MaxRecords"))
    body = "<DBInstances>%s</DBInstances>" % "".join(
        "<DBInstance><DBInstanceIdentifier>%s</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>"
        "<Engine>postgres</Engine><TagList>%s</TagList></DBInstance>" % (
            esc(d["id"]), tag_xml(d.get("tags", {}), "Tag", "Key", "Value")) for d in items)
    return body + ("<Marker>%s</Marker>" % token if token else "")


def quota_numbers(name):
    q = STATE.data["quota"].get(name, {})
    used = q.get("used")
    if used is None:
        used = sum(1 for s in STATE.data["db_snapshots"] if s.get("type", "manual") == "manual")
    return used, q.get("max", 100)


def rds_describe_account_attributes(form):
    rows = []
    for name in ("ManualSnapshots", "ManualClusterSnapshots", "DBInstances"):
        used, most = quota_numbers(name)
        rows.append("<AccountQuota><AccountQuotaName>%s</AccountQuotaName><Used>%d</Used><Max>%d</Max>"
                    "</AccountQuota>" % (name, used, most))
    return "<AccountQuotas>%s</AccountQuotas>" % "".join(rows)


def rds_create_db_snapshot(form):
    data = STATE.data
    db, wanted = form.get("DBInstanceIdentifier"), form.get("DBSnapshotIdentifier")
    if db not in {d["id"] for d in data["dbs"]}:
        raise StubError(404, "DBInstanceNotFound", "DBInstance %s not found." % db)
    if any(s["id"] == wanted for s in data["db_snapshots"]):
        raise StubError(400, "DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the "
                        "identifier %s already exists." % wanted)
    used, most = quota_numbers("ManualSnapshots")
    if used >= most:
        raise StubError(400, "SnapshotQuotaExceeded", "The request cannot be processed because it would exceed "
                        "the maximum number of snapshots.")
    polls = int(data["pending_polls"])
    s = {"id": wanted, "db": db, "time": now(), "type": "manual", "polls_left": polls, "polls_total": polls,
         "final": data["final_states"].get(db, "available"), "tags": tags_from(form, "Tags"),
         "progress": 0 if polls else 100}
    s["status"] = "creating" if polls else s["final"]
    data["db_snapshots"].append(s)
    return "<DBSnapshot>%s</DBSnapshot>" % db_snapshot_xml(s)[len("<DBSnapshot>"):-len("</DBSnapshot>")]


def rds_delete_db_snapshot(form):
    wanted = form.get("DBSnapshotIdentifier")
    delete_fault(wanted)
    if wanted in STATE.data["in_use"]:
        raise StubError(400, "InvalidDBSnapshotState", "DB snapshot %s is being copied" % wanted)
    found = [s for s in STATE.data["db_snapshots"] if s["id"] == wanted]
    if not found:
        raise StubError(404, "DBSnapshotNotFound", "DBSnapshot %s not found." % wanted)
    STATE.data["db_snapshots"].remove(found[0])
    found[0]["status"] = "deleted"
    return db_snapshot_xml(found[0])


RDS_ACTIONS = {"DescribeDBSnapshots": rds_describe_db_snapshots, "DescribeDBInstances": rds_describe_db_instances,
               "DescribeAccountAttributes": rds_describe_account_attributes,
               "CreateDBSnapshot": rds_create_db_snapshot, "DeleteDBSnapshot": rds_delete_db_snapshot}

# ---- HTTP --------------------------------------------------------------------


def ec2_response(action, inner, number):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s"><requestId>stub-%d</requestId>%s'
            "</%sResponse>") % (action, EC2_NS, number, inner, action)


def rds_response(action, inner, number):
    return ('<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>stub-%d</RequestId>'
            "</ResponseMetadata></%sResponse>") % (action, RDS_NS, action, inner, action, number, action)


def error_body(service, err, number):
    if service == "ec2":
        return ("<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>"
                "<RequestID>stub-%d</RequestID></Response>") % (err.code, esc(err.message), number)
    return ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
            "<RequestId>stub-%d</RequestId></ErrorResponse>") % (RDS_NS, err.code, esc(err.message), number)


def merge_state(update):
    data = STATE.data
    for key, value in update.items():
        if key not in data:
            raise StubError(400, "UnknownStateKey", "unknown state key %s" % key)
        if isinstance(data[key], list) and key != "in_use":
            data[key].extend(copy.deepcopy(value))
        elif isinstance(data[key], dict) and key != "quota":
            data[key].update(value)
        else:
            data[key] = copy.deepcopy(value)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # headers and body go out without a delayed-ACK stall

    def log_message(self, fmt, *args):  # quiet
        pass

    def _answer(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "stub")
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        path = self.path.split("?", 1)[0]
        with STATE.lock:
            if path.startswith("/__stub/"):
                return self._control(path, body)
            return self._api(body)

    do_GET = do_POST = _dispatch

    def _control(self, path, body):
        try:
            if path == "/__stub/log":
                return self._answer(200, json.dumps(STATE.log), "application/json")
            if path == "/__stub/reset":
                STATE.reset()
                return self._answer(200, "{}", "application/json")
            if path == "/__stub/state" and self.command == "POST":
                merge_state(json.loads(body or "{}"))
                return self._answer(200, "{}", "application/json")
            if path == "/__stub/state":
                return self._answer(200, json.dumps(STATE.data), "application/json")
        except (ValueError, StubError) as exc:
            return self._answer(400, json.dumps({"error": str(exc)}), "application/json")
        return self._answer(404, "{}", "application/json")

    def _api(self, body):
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        service = service_of(self.headers.get("Authorization"))
        action = form.get("Action", "")
        entry = {"service": service, "action": action, "form": form}
        STATE.log.append(entry)
        number = len(STATE.log)
        table = EC2_ACTIONS if service == "ec2" else RDS_ACTIONS if service == "rds" else {}
        try:
            if action not in table:
                raise StubError(400, "InvalidAction", "stub: %s %s is not implemented" % (service, action))
            inner = table[action](form)
            entry["status"] = 200
            wrap = ec2_response if service == "ec2" else rds_response
            return self._answer(200, wrap(action, inner, number))
        except StubError as err:
            entry["status"] = err.status
            entry["code"] = err.code
            return self._answer(err.status, error_body(service, err, number))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    print("PORT %d" % server.server_address[1], flush=True)
    print("PID %d" % os.getpid(), flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
