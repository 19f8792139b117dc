#!/usr/bin/env python3
"""Nightly backup: snapshot the CI volumes and databases, rotate old snapshots, page on failure.

    nightly_backup.py --volume vol-0123 --db nexus-db --keep 7
    nightly_backup.py --tag Backup=nightly --policy-file policy.json

Credentials and region come from the usual places (AWS_* variables, profiles, instance
role). CIHA_ENDPOINT_URL points every service elsewhere (moto in tests). With
PAGERDUTY_ROUTING_KEY set, a failed run triggers the incident "ciha:nightly-backup"
and a good run resolves it. Exit status: 0 all good, 1 some target failed, 2 the run
could not start.
"""
import argparse
import os
import sys

import ciha

JOB = "nightly-backup"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--volume", action="append", default=[], help="EBS volume id (repeatable)")
    p.add_argument("--db", action="append", default=[], help="RDS DB instance identifier (repeatable)")
    p.add_argument("--tag", action="append", default=[], help="KEY=VALUE: every volume and DB so tagged")
    p.add_argument("--policy", default="nightly", help="policy name (default nightly)")
    p.add_argument("--keep", type=int, default=7, help="snapshots kept per target (default 7)")
    p.add_argument("--policy-file", help="a JSON policy file instead of --policy/--keep")
    p.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    p.add_argument("--verbose", action="store_true", help="log libciha at INFO to stderr")
    return p.parse_args()


def log_to_stderr(level, subsystem, message):
    print("%s %s: %s" % (level, subsystem, message), file=sys.stderr)


def show(report):
    for item in report:
        state = "ok" if item.ok else "FAILED (%s)" % item.message
        print("%-6s %-22s %-24s %s  %s" % (item.action, item.target, item.snapshot_id or "-", item.reason, state))


def page(summary, failed):
    key = os.environ.get("PAGERDUTY_ROUTING_KEY")
    if not key:
        return
    try:
        ciha.PagerDuty(key, endpoint_url=os.environ.get("PAGERDUTY_URL")).report_job(JOB, failed=failed,
                                                                                    summary=summary)
    except ciha.Error as e:
        print("could not reach PagerDuty: %s" % e, file=sys.stderr)


def main():
    args = parse_args()
    if args.policy_file:
        policy = ciha.SnapshotPolicy.from_file(args.policy_file)
    else:
        policy = ciha.SnapshotPolicy(args.policy, keep=args.keep)
    tags = dict(t.split("=", 1) for t in args.tag)
    try:
        with ciha.Client(endpoint_url=os.environ.get("CIHA_ENDPOINT_URL"),
                         log=log_to_stderr if args.verbose else None) as client:
            report = client.snapshots.run(volumes=args.volume, dbs=args.db, tags=tags, policy=policy,
                                          dry_run=args.dry_run, wait=True, poll=5)
    except ciha.Error as e:
        print("nightly backup could not run: %s" % e, file=sys.stderr)
        page("nightly backup could not run: %s" % e, failed=True)
        return 2
    show(report)
    if report.failures:
        names = ", ".join(sorted({item.target for item in report.failed}))
        page("nightly backup: %d failed (%s)" % (report.failures, names), failed=True)
        return 1
    if not args.dry_run:
        page("nightly backup: %d snapshots taken" % len(report.by_action("create")), failed=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
