#!/usr/bin/env python3
"""botocore's per-request cost of the steps bench/micro.c counts for libciha, in
CPU time (time.process_time), printed as "sign US", "encode US", "decode MS":

    botocore_micro.py PAGE_XML [N]

sign:   SigV4Auth.add_auth on a new DeleteSnapshot AWSRequest (us per request)
encode: the EC2 serializer on a DeleteSnapshot and a DescribeSnapshots with a
        volume-id and two tag filters (us per pair, as micro.c encode)
decode: the EC2 parser on PAGE_XML, a 1,000-item DescribeSnapshots page (ms)
"""
import sys
import time

import botocore.session
from botocore import parsers, serialize
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

BODY = "Action=DeleteSnapshot&SnapshotId=snap-01a2b3c0000000123&Version=2016-11-15"
LIST = {"OwnerIds": ["self"], "MaxResults": 1000,
        "Filters": [{"Name": "volume-id", "Values": ["vol-00f1e2d0000000007"]},
                    {"Name": "tag:ciha:managed-by", "Values": ["libciha"]},
                    {"Name": "tag:ciha:policy", "Values": ["bench"]}]}


def per_call(fn, n):
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n


def main():
    page = open(sys.argv[1], "rb").read()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    model = botocore.session.get_session().get_service_model("ec2")
    creds = Credentials("AKIDEXAMPLEBENCH0000", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ser, parser = serialize.create_serializer("ec2"), parsers.create_parser("ec2")
    delete, describe = model.operation_model("DeleteSnapshot"), model.operation_model("DescribeSnapshots")

    def sign():
        req = AWSRequest(method="POST", url="http://127.0.0.1:8080/", data=BODY,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(creds, "ec2", "us-east-1").add_auth(req)

    def encode():
        ser.serialize_to_request({"SnapshotId": "snap-01a2b3c0000000123"}, delete)
        ser.serialize_to_request(LIST, describe)

    def decode():
        parser.parse({"body": page, "headers": {}, "status_code": 200}, describe.output_shape)

    print("sign %.1f" % (per_call(sign, n) * 1e6))
    print("encode %.1f" % (per_call(encode, n) * 1e6))
    print("decode %.1f" % (per_call(decode, 3) * 1e3))


if __name__ == "__main__":
    main()
