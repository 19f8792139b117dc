#!/usr/bin/env python3
"""The boto3 side of bench/run's jobs, each written the way a boto3 user would:

    boto3_jobs.py --endpoint-url URL describe-volumes [--volume-id ID]
        one DescribeVolumes call (the cold-process job: import, client, call)
    boto3_jobs.py --endpoint-url URL list-snapshots
        every snapshot of the account through the paginator (PageSize 1000)
    boto3_jobs.py --endpoint-url URL stack NAME TEMPLATE_FILE
        create_stack, the stack_create_complete waiter, describe_stacks, every
        page of describe_stack_events, describe_stack_resources; the events go
        to stdout one a line, oldest first

Prints a one-line summary on stderr ("N items").
"""
import argparse
import sys

import boto3
from botocore.config import Config


def client(args, service):
    return boto3.client(service, region_name=args.region, endpoint_url=args.endpoint_url,
                        config=Config(retries={"mode": "standard"}))


def describe_volumes(args):
    ids = {"VolumeIds": [args.volume_id]} if args.volume_id else {}
    volumes = client(args, "ec2").describe_volumes(**ids)["Volumes"]
    print(len(volumes))
    return len(volumes)


def list_snapshots(args):
    pages = client(args, "ec2").get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], PaginationConfig={"PageSize": 1000})
    snapshots = [s for page in pages for s in page["Snapshots"]]
    for s in snapshots:
        print(s["SnapshotId"], s["VolumeId"], s["StartTime"].isoformat(), s["State"])
    return len(snapshots)


def stack(args):
    cfn = client(args, "cloudformation")
    with open(args.template) as f:
        body = f.read()
    cfn.create_stack(StackName=args.name, TemplateBody=body)
    cfn.get_waiter("stack_create_complete").wait(StackName=args.name, WaiterConfig={"Delay": 1, "MaxAttempts": 600})
    description = cfn.describe_stacks(StackName=args.name)["Stacks"][0]
    events = [e for page in cfn.get_paginator("describe_stack_events").paginate(StackName=args.name)
              for e in page["StackEvents"]]
    resources = cfn.describe_stack_resources(StackName=args.name)["StackResources"]
    for e in reversed(events):
        print(e["Timestamp"].isoformat(), e["LogicalResourceId"], e["ResourceType"], e["ResourceStatus"],
              e.get("ResourceStatusReason", ""))
    print(description["StackName"], description["StackStatus"], len(resources), "resources")
    return len(events)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--region", default="us-east-1")
    sub = ap.add_subparsers(dest="job", required=True)
    sub.add_parser("describe-volumes").add_argument("--volume-id")
    sub.add_parser("list-snapshots")
    s = sub.add_parser("stack")
    s.add_argument("name")
    s.add_argument("template")
    args = ap.parse_args()
    n = {"describe-volumes": describe_volumes, "list-snapshots": list_snapshots, "stack": stack}[args.job](args)
    print("%d items" % n, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
