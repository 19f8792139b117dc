#!/usr/bin/env python3
"""Keep the newest N libciha snapshots of every volume tagged KEY=VALUE: the
same job as `ciha snapshot rotate --tag Backup=daily --policy bench --keep 7`,
written the way a careful boto3 user would: paginators, standard retries,
only snapshots tagged as ours under the policy, only completed ones counted,
"not found" taken as already gone and "in use" kept.

    boto3_rotate.py --endpoint-url URL [--threads 16] [--keep 7] [--tag Backup=daily] [--policy bench]

--threads 1 deletes one after another; more uses a thread pool sharing one
client (boto3 clients are thread-safe) with that many pooled connections.
"""
import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint-url", required=True)
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--keep", type=int, default=7)
    ap.add_argument("--tag", default="Backup=daily")
    ap.add_argument("--policy", default="bench")
    return ap.parse_args()


def ec2_client(args):
    config = Config(retries={"mode": "standard"}, max_pool_connections=max(10, args.threads))
    return boto3.client("ec2", region_name=args.region, endpoint_url=args.endpoint_url, config=config)


def tagged_volumes(ec2, tag):
    key, value = tag.split("=", 1)
    pages = ec2.get_paginator("describe_volumes").paginate(
        Filters=[{"Name": "tag:" + key, "Values": [value]}], PaginationConfig={"PageSize": 500})
    return [v["VolumeId"] for page in pages for v in page["Volumes"]]


def ours(snapshot, policy):
    tags = {t["Key"]: t["Value"] for t in snapshot.get("Tags", [])}
    return tags.get("ciha:managed-by") == "libciha" and tags.get("ciha:policy") == policy


def expired(ec2, volume_id, policy, keep):
    pages = ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": "volume-id", "Values": [volume_id]}],
        PaginationConfig={"PageSize": 1000})
    mine = [s for page in pages for s in page["Snapshots"] if ours(s, policy)]
    completed = sorted((s for s in mine if s["State"] == "completed"), key=lambda s: s["StartTime"], reverse=True)
    return [s["SnapshotId"] for s in completed[keep:]]


def delete(ec2, snapshot_id):
    try:
        ec2.delete_snapshot(SnapshotId=snapshot_id)
        return "deleted"
    except ClientError as e:
        code = e.response["Error"]["Code"]
        if code == "InvalidSnapshot.NotFound":
            return "gone"
        if code == "InvalidSnapshot.InUse":
            return "in use"
        return "failed: " + code


def main():
    args = parse_args()
    ec2 = ec2_client(args)
    doomed = []
    for volume_id in tagged_volumes(ec2, args.tag):
        doomed += expired(ec2, volume_id, args.policy, args.keep)
    if args.threads <= 1:
        outcomes = [delete(ec2, s) for s in doomed]
    else:
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            outcomes = list(pool.map(lambda s: delete(ec2, s), doomed))
    failed = [o for o in outcomes if o.startswith("failed")]
    print("%d to delete, %d deleted, %d failed" % (len(doomed), outcomes.count("deleted"), len(failed)),
          file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
