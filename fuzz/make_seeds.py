#!/usr/bin/env python3
"""fuzz/make_seeds.py: write the seed corpora fuzz/corpus/<target>/ from the
repository's own protocol vectors, example templates and hand-written cases.
Run from anywhere; it rewrites the seed_* files and leaves others alone."""
import glob
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VECTORS = os.path.join(ROOT, "tests", "vectors", "protocols")


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def vector_groups(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


XML_EXTRA = {
    "ec2_items": '<?xml version="1.0"?><DescribeVolumesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
    "<requestId>r-1</requestId><volumeSet><item><volumeId>vol-1</volumeId><tagSet><item><key>Name</key>"
    "<value>a</value></item></tagSet></item><item><volumeId>vol-2</volumeId><tagSet/></item></volumeSet>"
    "<nextToken/></DescribeVolumesResponse>",
    "query_map": "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>Policy</key>"
    "<value>{&quot;a&quot;:1}</value></entry><entry><key>Owner</key><value>123</value></entry></Attributes>"
    "</GetTopicAttributesResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
    "</GetTopicAttributesResponse>",
    "rds_named": "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
    "<DBSnapshotIdentifier>s1</DBSnapshotIdentifier><TagList><Tag><Key>k</Key><Value>v</Value></Tag></TagList>"
    "</DBSnapshot></DBSnapshots><Marker>m</Marker></DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>",
    "repeated": "<R><GetResult><A>1</A><A>2</A><B><C/><C>x</C></B><Policies><Policy>p</Policy></Policies>"
    "</GetResult></R>",
    "namespaces": '<a:R xmlns:a="urn:a" xmlns:b="urn:b"><b:GetResult><b:Name>n</b:Name><c:Undeclared>u'
    "</c:Undeclared></b:GetResult></a:R>",
    "entities": "<R><GetResult><Name>&lt;&amp;&gt;&#233;&#x1F600;<![CDATA[<raw>]]></Name></GetResult></R>",
    "doctype": '<!DOCTYPE r [<!ENTITY e "boom">]><r>&e;</r>',
    "truncated": "<ErrorResponse><Error><Code>Throttl",
    "deep": "<a>" * 300 + "</a>" * 300,
}

MODEL_XML = {
    "all_members": "<GetResponse><GetResult><Name>n</Name><Count>-12</Count><Enabled>true</Enabled>"
    "<Ratio>NaN</Ratio><When>2026-12-03T12:46:18.317295Z</When><Data>aGVsbG8=</Data>"
    "<Items><member><Name>i</Name><Count>1</Count></member></Items><namedSet><item>a</item><item>b</item>"
    "</namedSet><Flat>1</Flat><Flat>2</Flat><Old>o</Old><Attributes><entry><Name>t</Name>"
    "<Value>1700000000</Value></entry></Attributes><Attr><key>k</key><value><Name>v</Name></value></Attr>"
    "<Child><Child><Name>deep</Name></Child></Child></GetResult></GetResponse>",
    "bad_scalars": "<GetResponse><GetResult><Count>1x</Count><Enabled>yes</Enabled></GetResult></GetResponse>",
    "bad_blob": "<GetResponse><GetResult><Data>!!!</Data><When>Tue, 29 Apr 2014 18:30:38 GMT</When>"
    "</GetResult></GetResponse>",
    "broken_shape": "<GetResponse><GetResult><Broken>x</Broken><Ratio>-Infinity</Ratio></GetResult></GetResponse>",
}

INI = {
    "basic": "# comment\n; another\n[default]\nregion = eu-west-1\n  \n[profile dev]   # trailing\n"
    "region=us-east-2\nkey = a = b\n[profile    spaced]\nx = 1\r\n",
    "credentials": "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG\n"
    "aws_session_token = FQoGZXIvYXdzE\n[ci]\naws_access_key_id=AKID2\naws_secret_access_key=s2\n",
    "subsection": "[profile dev]\nservices = local\ns3 =\n  endpoint_url = http://localhost:4566\n"
    "  addressing_style = path\nregion = us-west-2\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:5000\n",
    "role": "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = default\n"
    "external_id = x\nduration_seconds = 3600\nrole_session_name = ci\n",
    "bad_line": "[default]\nregion\n",
    "bad_section": "[default\nregion = x\n",
    "key_before_section": "region = x\n[default]\n",
    "empty_values": "[default]\nregion =\n\n[x]\n=v\n",
    "web_identity": "[profile wi]\nweb_identity_token_file = /tmp/t\nrole_arn = arn:aws:iam::1:role/r\n",
}

POLICIES = {
    "full": '{"name": "ci", "keep": 7, "keep_days": 14, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12,'
    ' "min": 3, "interval_hours": 1.5, "tags": {"Team": "ci", "Cost": "backup"},'
    ' "copy_to": {"region": "eu-west-1", "keep": 2, "kms_key_id": "alias/dr"}}',
    "small": '{"name":"n","keep":1}',
    "bad_value": '{"name": "ci",\n "keep": }',
    "duplicate": '{"name": "a", "name": "b"}',
    "no_name": '{"keep": 1}',
    "types": '{"name": "x", "keep": "7", "tags": [1], "copy_to": {"keep": -1}, "interval_hours": 1e400}',
    "unknown": '{"name": "x", "keep_forever": true}',
    "gfs": '{"name": "gfs", "keep_daily": 7, "keep_weekly": 5, "keep_monthly": 24, "min": 1}',
}

ALARMS = {
    "full": '{"prefix": "ci-", "topic_arn": "arn:aws:sns:us-east-1:123456789012:ci", "alarms": ['
    '{"name": "nexus-elb", "preset": "elb-no-healthy-host", "load_balancer": "nexus-lb"},'
    '{"name": "bamboo-alb", "preset": "alb-no-healthy-host", "load_balancer": "app/b/1", "target_group": "targetgroup/t/2"},'
    '{"name": "artifacts", "preset": "volume-not-mounted", "host": "bamboo-1", "mount_point": "/srv/artifacts", "period": 60},'
    '{"name": "agents", "preset": "asg-below-min", "group": "agents-asg", "min": 2},'
    '{"name": "db", "preset": "rds-free-storage-low", "db_id": "bamboo-db", "bytes": 5e9, "threshold": 6e9},'
    '{"name": "host", "preset": "status-check-failed", "instance_id": "i-1"},'
    '{"name": "backup", "preset": "snapshot-too-old", "target": "vol-1", "max_age_s": 90000},'
    '{"name": "queue", "namespace": "CIHA", "metric": "QueueDepth", "dimensions": {"Plan": "CI", "Agent": "any"},'
    ' "statistic": "Maximum", "comparison": "GreaterThanThreshold", "threshold": 50, "period": 300, "periods": 3,'
    ' "missing_data": "notBreaching", "description": "queue too deep", "unit": "Count"}]}',
    "empty": '{"prefix": "ci-", "alarms": []}',
    "bad_dimension": '{"prefix": "ci-", "alarms": [{"name": "q", "namespace": "N", "metric": "M", '
    '"comparison": "LessThanThreshold", "threshold": 1, "missing_data": "ignore", "dimensions": {"Host": 3}}]}',
    "bad_period": '{"prefix": "ci-", "alarms": [{"name": "q", "namespace": "N", "metric": "M", '
    '"comparison": "LessThanThreshold", "threshold": 1, "missing_data": "ignore", "period": 45}]}',
    "datapoints": '{"prefix": "ci-", "alarms": [{"name": "q", "namespace": "N", "metric": "M", '
    '"comparison": "LessThanThreshold", "threshold": 1, "missing_data": "ignore", "periods": 2, "datapoints": 3}]}',
    "duplicate_alarm": '{"prefix": "ci-", "alarms": [{"name": "a", "preset": "status-check-failed", "instance_id": '
    '"i-1"}, {"name": "a", "preset": "status-check-failed", "instance_id": "i-2"}]}',
    "duplicate_key": '{"prefix": "ci-", "prefix": "x", "alarms": []}',
    "not_json": "nope",
}

TEMPLATES_EXTRA = {
    "json": '{"AWSTemplateFormatVersion": "2010-09-09", "Parameters": {"Size": {"Type": "Number"}},'
    ' "Resources": {"Vol": {"Type": "AWS::EC2::Volume", "Properties": {"Size": {"Ref": "Size"},'
    ' "AvailabilityZone": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}}}}',
    "short_tags": "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    DeletionPolicy: Snapshot\n"
    "    Properties:\n      DBName: !Sub '${AWS::StackName}-db'\n      Subnets: !Split [',', !Ref Subnets]\n"
    "      Arn: !GetAtt Topic.Arn\n      Zone: !Select [0, !GetAZs '']\n      B64: !Base64 x\n"
    "      Cond: !If [IsProd, !Ref 'AWS::NoValue', 1]\n      J: !Join ['', [a, !ImportValue b]]\n",
    "anchors": "base: &b {Type: 'AWS::SNS::Topic'}\nResources:\n  T: *b\n  U: {<<: *b}\n",
    "bad_yaml": "Resources:\n  - a\n b: [\n",
    "bad_json": '{"Resources": {"A": }',
    "flow": "{Resources: {Q: {Type: AWS::SQS::Queue, Properties: {DelaySeconds: 0x10, Flag: yes, N: ~}}}}\n",
}

SIGV4 = {
    # flags byte, METHOD, TARGET, headers, empty line, body
    "get_vanilla": b"\x01GET\n/\nHost:example.amazonaws.com\n",
    "get_query_order": b"\x01GET\n/?Param2=value2&Param1=value1\nHost:example.amazonaws.com\n",
    "get_unreserved": b"\x01GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nHost:example.amazonaws.com\n",
    "get_utf8": "\x01GET\n/ሴ\nHost:example.amazonaws.com\n".encode(),
    "get_space": b"\x01GET\n/example space/\nHost:example.amazonaws.com\n",
    "relative_path": b"\x01GET\n/example1/example2/../..\nHost:example.amazonaws.com\n",
    "slashes": b"\x01GET\n//example//\nHost:example.amazonaws.com\n",
    "slashes_s3": b"\x00GET\n//example//\nHost:example.amazonaws.com\n",
    "header_multiline": b"\x01GET\n/\nHost:example.amazonaws.com\nMy-Header1:    value1   \nMy-Header1:value2\nMy-Header2:\"a   b   c\"\n",
    "header_dup_order": b"\x01GET\n/\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\n",
    "post_form": b"\x03POST\n/\nHost:example.amazonaws.com\nContent-Type:application/x-www-form-urlencoded\n\nAction=DescribeRegions&Version=2016-11-15",
    "post_token": b"\x05POST\n/\nHost:sts.amazonaws.com\nContent-Type:application/x-www-form-urlencoded; charset=utf-8\n\nAction=GetCallerIdentity&Version=2011-06-15",
    "post_omit_token": b"\x0dPOST\n/\nHost:example.amazonaws.com\n\nParam1=value1",
    "presign": b"\x11GET\n/?X-Amz-Expires=60&a=%20b\nHost:example.amazonaws.com\n",
    "presign_token": b"\x15GET\n/path/?b=&a=1&a=0\nHost:example.amazonaws.com\n",
    "query_encoded": b"\x01GET\n/?%41=%zz&b+c=d%2Fe&=&&\nHost:example.amazonaws.com\n",
    "amz_date_given": b"\x01GET\n/\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n",
    "no_host": b"\x01PUT\n/a/b/./c/%2e%2e/d\n\n\x00\xff body",
    "empty_method": b"\x01\n/\n",
}

ENV = {
    "small": '{"name": "ci", "region": "eu-central-1", "stacks": [{"name": "${name}-data", "template": "t.yaml",'
    ' "parameters": {"Size": "8"}, "tags": {"team": "ci"}, "capabilities": ["CAPABILITY_IAM"], "protect": true,'
    ' "policy": "generate", "allow_replace": false}, {"name": "${name}-more", "template": "t.yaml",'
    ' "parameters": {"Size": {"stack": "${name}-data", "output": "VolumeId"}, "Ids": [{"stack": "${name}-data",'
    ' "resource": "Vol"}, "x"], "Snap": {"snapshot": "ebs:vol-1"}}, "policy": "p.json"}],'
    ' "snapshots": [{"policy": {"name": "${name}-data", "keep_daily": 7, "min": 2},'
    ' "targets": {"volumes": [{"stack": "${name}-data", "resource": "Vol"}], "dbs": ["db-1"], "tags": {"a": "b"}}}],'
    ' "alarms": {"prefix": "${name}-", "topic": "${name}-alarms", "pagerduty": {"url":'
    ' "https://events.pagerduty.com/integration/KEY/enqueue", "allow_http": false}, "alarms": [{"name": "host",'
    ' "preset": "status-check-failed", "instance_id": {"stack": "${name}-data", "resource": "Vol"}}]},'
    ' "schedules": [{"group": "agents", "stop": "0 20 * * 1-5", "start": "0 7 * * 1-5", "time_zone": "Europe/Berlin",'
    ' "day_size": 2, "night_size": 0, "max_size": 8}], "audit": {"security_groups": {"master": "sg-1"},'
    ' "public_allowed": ["sg-2"], "max_snapshot_age_hours": 26}}',
    "yaml": "name: dev\nstacks:\n  - name: ${name}-data\n    template: t.yaml\n    parameters: {Size: '1'}\n"
    "schedules:\n  - {group: g, stop: '0 20 * * *', start: '0 7 * * *', day_size: 1, night_size: 0}\n",
    "bad_reference": '{"name": "ci", "stacks": [{"name": "a", "template": "t.yaml", "parameters":'
    ' {"Size": {"stack": "later", "output": "X"}}}, {"name": "later", "template": "t.yaml"}]}',
    "missing_template": '{"name": "ci", "stacks": [{"name": "a", "template": "nope.yaml"}]}',
    "bad_cron": '{"name": "ci", "schedules": [{"group": "g", "stop": "61 25 * * 8", "start": "x"}]}',
    "types": '{"name": 5, "stacks": {}, "alarms": [], "audit": {"max_snapshot_age_hours": -1}}',
}

QUERY_EXTRA = {
    "model_all": b'\x02{"Name": "n", "Count": 3, "Enabled": false, "Ratio": "Infinity", "When": 1700000000.5,'
    b' "WhenUnix": "2026-01-01T00:00:00Z", "Data": "hello", "Ids": ["a", "b"], "Flat": ["x"],'
    b' "Tags": {"k": "v"}, "FlatTags": {"a": 1}, "Filters": [{"Name": "f", "Values": ["1", "2"]}],'
    b' "Renamed": "r", "Nested": {"Nested": {"Count": -1, "Ids": []}}}',
    "model_ec2": b'\x03{"Renamed": "r", "Ids": ["a"], "Filters": [{"Name": "tag:Name", "Values": ["x y"]}],'
    b' "Token": "t", "Tags": {"k": "v"}}',
    "model_bad_type": b'\x02{"Count": "three", "Enabled": "yes", "When": [], "Unknown": 1}',
    "model_bad_float": b'\x02{"Ratio": "fast", "Data": 5}',
    "schemaless_nested": b'\x00{"A": {"B": {"C": [1, 2.5, true, null, {"D": "e"}]}}, "x.y": "dotted"}',
    "schemaless_ec2": b'\x01{"Filter": [{"Name": "volume-id", "Value": ["vol-1", "vol-2"]}], "MaxResults": 5}',
    "schemaless_rds": b'\x04{"Filters": [{"Name": "db-instance-id", "Values": ["a"]}], "Tags": [{"Key": "k", "Value": "v"}],'
    b' "VpcSecurityGroupIds": ["sg-1"]}',
    "not_object": b"\x00[1, 2]",
    "unicode": '\x00{"Name": "é😀\\u0000x", "Empty": "", "List": []}'.encode(),
}


def main():
    for path in sorted(glob.glob(os.path.join(VECTORS, "responses", "*.xml"))):
        with open(path, "rb") as f:
            body = f.read()
        name = os.path.basename(path)[:-4]
        write("xml", name, body)
        write("decode_model", name, body)
    for name, body in XML_EXTRA.items():
        write("xml", name, body)
    for name, body in MODEL_XML.items():
        write("decode_model", name, body)
    statuses = [200, 301, 400, 401, 403, 404, 409, 412, 429, 500, 502, 503, 504, 599, 0]
    for group in vector_groups("error-bodies.json"):
        for case in group["cases"]:
            resp = case["response"]
            status = resp.get("status_code", 400)
            idx = statuses.index(status) if status in statuses else 2
            body = resp.get("body", "")
            write("awserror", case["id"], bytes([idx]) + body.encode())
            write("xml", "error_" + case["id"], body)
    for name, text in INI.items():
        write("ini", name, text)
    for name, text in POLICIES.items():
        write("snapshot_policy", name, text)
    for name, text in ALARMS.items():
        write("alarm_set", name, text)
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "templates", "*.yaml"))):
        with open(path, "rb") as f:
            write("template", os.path.basename(path), f.read())
    for name, text in TEMPLATES_EXTRA.items():
        write("template", name, text)
    for name, data in SIGV4.items():
        write("sigv4", name, data)
    for group in vector_groups("schemaless.json") + vector_groups("service-models.json"):
        proto = 1 if group["metadata"].get("protocol") == "ec2" else 0
        rds = 4 if group["metadata"].get("service") == "rds" else 0
        for case in group.get("cases", []):
            if "params" in case:
                write("query", case["id"], bytes([proto | rds]) + json.dumps(case["params"]).encode())
    for name, text in ENV.items():
        write("env", name, text)
    with open(os.path.join(ROOT, "examples", "env", "ci.json"), "rb") as f:
        write("env", "example_ci.json", f.read().replace(b"../templates/", b"").replace(
            b"network.yaml", b"t.yaml").replace(b"database.yaml", b"t.yaml").replace(
            b"master.yaml", b"t.yaml").replace(b"agents.yaml", b"t.yaml").replace(b"nexus.yaml", b"t.yaml"))
    for name, data in QUERY_EXTRA.items():
        write("query", name, data)


if __name__ == "__main__":
    main()
