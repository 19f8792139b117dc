#!/usr/bin/env python3
"""Write libciha's own SigV4 vectors (aws-c-auth layout) next to this script.

The expected values come from botocore's SigV4Auth.add_auth (the signer the
AWS CLI uses), not from libciha, and each signature is re-derived by hand with
hmac/hashlib as a cross-check. Run: python3 tests/vectors/sigv4/generate.py
"""
import datetime
import hashlib
import hmac
import json
import os
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

HERE = os.path.dirname(os.path.abspath(__file__))
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FORM = "application/x-www-form-urlencoded; charset=utf-8"

CASES = [
    {
        "name": "query-post-session-token",
        "method": "POST", "target": "/",
        "headers": [("Content-Type", FORM), ("Host", "cloudformation.us-east-1.amazonaws.com")],
        "body": "Action=DescribeStacks&StackName=ci-42&Version=2010-05-15",
        "region": "us-east-1", "service": "cloudformation",
        "token": "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDEXAMPLE+token/value==",
        "when": "2024-02-29T23:59:59Z",
    },
    {
        "name": "ec2-describe-instances",
        "method": "POST", "target": "/",
        "headers": [("Content-Type", FORM), ("Host", "ec2.eu-west-1.amazonaws.com")],
        "body": "Action=DescribeInstances&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"
                "&Filter.2.Name=tag%3Aci&Filter.2.Value.1=true&MaxResults=50&Version=2016-11-15",
        "region": "eu-west-1", "service": "ec2",
        "token": None,
        "when": "2025-06-15T08:30:05Z",
    },
    {
        "name": "form-body-encoded-characters",
        "method": "POST", "target": "/",
        "headers": [("Content-Type", FORM), ("Host", "monitoring.us-west-2.amazonaws.com")],
        "body": "Action=PutMetricData&MetricData.member.1.MetricName=build%20time"
                "&MetricData.member.1.Dimensions.member.1.Name=Job"
                "&MetricData.member.1.Dimensions.member.1.Value=a%2Bb%2Fc~d%E2%9C%93%20%C3%A9"
                "&MetricData.member.1.Value=12.5&Namespace=CI%2FBuilds&Version=2010-08-01",
        "region": "us-west-2", "service": "monitoring",
        "token": None,
        "when": "2023-12-31T23:59:59Z",
    },
    {
        "name": "sns-ap-southeast-2",
        "method": "POST", "target": "/",
        "headers": [("Content-Type", FORM), ("Host", "sns.ap-southeast-2.amazonaws.com")],
        "body": "Action=Publish&Message=deploy%20finished&Subject=CI&"
                "TopicArn=arn%3Aaws%3Asns%3Aap-southeast-2%3A123456789012%3Aci-events&Version=2010-03-31",
        "region": "ap-southeast-2", "service": "sns",
        "token": "FwoGZXIvYXdzEXAMPLEsessiontoken",
        "when": "2026-01-02T03:04:05Z",
    },
    {
        "name": "get-query-encoded-characters",
        "method": "GET",
        "target": "/?Version=2011-06-15&Action=GetCallerIdentity&Tag=a%20b%2Bc%2F~%E1%88%B4&Empty=",
        "headers": [("Host", "sts.eu-central-1.amazonaws.com")],
        "body": "",
        "region": "eu-central-1", "service": "sts",
        "token": None,
        "when": "2019-07-04T12:00:00Z",
    },
]


def parse_when(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def botocore_sign(case):
    """Sign with SigV4Auth.add_auth, recording its canonical request,
    string-to-sign and signature as it computes them."""
    host = dict(case["headers"]).get("Host")
    request = AWSRequest(method=case["method"], url="https://" + host + case["target"],
                         data=case["body"].encode("utf-8"), headers=dict(case["headers"]))
    auth = SigV4Auth(Credentials(AKID, SECRET, case["token"]), case["service"], case["region"])
    seen = {}

    def recording(name):
        original = getattr(auth, name)

        def wrapper(*args):
            seen[name] = original(*args)
            return seen[name]
        setattr(auth, name, wrapper)

    for name in ("canonical_request", "string_to_sign", "signature"):
        recording(name)
    with mock.patch("botocore.auth.get_current_datetime", return_value=parse_when(case["when"])):
        auth.add_auth(request)
    assert request.headers["Authorization"].endswith("Signature=" + seen["signature"])
    return seen["canonical_request"], seen["string_to_sign"], seen["signature"], list(request.headers.items())


def hand_signature(case, sts):
    def mac(key, msg):
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()
    date = parse_when(case["when"]).strftime("%Y%m%d")
    key = mac(mac(mac(mac(("AWS4" + SECRET).encode("utf-8"), date), case["region"]), case["service"]),
              "aws4_request")
    return hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def main():
    for case in CASES:
        creq, sts, signature, signed_headers = botocore_sign(case)
        assert hand_signature(case, sts) == signature, case["name"]
        assert sts.endswith(hashlib.sha256(creq.encode("utf-8")).hexdigest())
        folder = os.path.join(HERE, case["name"])
        os.makedirs(folder, exist_ok=True)
        credentials = {"access_key_id": AKID, "secret_access_key": SECRET}
        if case["token"]:
            credentials["token"] = case["token"]
        context = {"credentials": credentials, "expiration_in_seconds": 3600, "normalize": True,
                   "region": case["region"], "service": case["service"], "sign_body": False,
                   "timestamp": case["when"]}
        write(os.path.join(folder, "context.json"), json.dumps(context, indent=4) + "\n")
        head = "%s %s HTTP/1.1\n" % (case["method"], case["target"])
        head += "".join("%s:%s\n" % kv for kv in case["headers"])
        write(os.path.join(folder, "request.txt"), head + "\n" + case["body"])
        write(os.path.join(folder, "header-canonical-request.txt"), creq)
        write(os.path.join(folder, "header-string-to-sign.txt"), sts)
        write(os.path.join(folder, "header-signature.txt"), signature)
        signed = "%s %s HTTP/1.1\n" % (case["method"], case["target"])
        signed += "".join("%s:%s\n" % kv for kv in signed_headers)
        write(os.path.join(folder, "header-signed-request.txt"), signed + "\n" + case["body"])
        print(case["name"], signature)


if __name__ == "__main__":
    main()
