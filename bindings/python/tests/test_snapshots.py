"""Snapshots through the Python layer: take, rotate, list, dry runs, progress callbacks."""
import json

import ciha
from helpers import client, raises, unique, volume


def test_take_returns_a_report_of_items():
    with client() as c:
        vol = volume(c)
        policy = ciha.SnapshotPolicy(unique("py"), keep=2, tags={"team": "ci"})
        report = c.snapshots.take(volumes=[vol], policy=policy, wait=True, poll=0.1)
        assert isinstance(report, ciha.Report) and report.ok and report.failures == 0
        (item,) = list(report)
        assert item.action == "create" and item.kind == "ebs" and item.target == vol
        assert item.snapshot_id.startswith("snap-") and item.ok and not item.planned
        assert item.as_dict()["target"] == vol
        as_json = json.loads(report.to_json())
        assert as_json == report.as_dict() and as_json["failures"] == 0
        tags = c.call("ec2", "DescribeSnapshots", SnapshotId=[item.snapshot_id])["snapshotSet"][0]["tagSet"]
        assert {"key": "team", "value": "ci"} in tags


def test_rotate_keeps_the_newest_and_list_shows_them():
    with client() as c:
        vol = volume(c)
        name = unique("rot")
        policy = ciha.SnapshotPolicy(name, keep=1)
        for day in range(3):
            c.snapshots.take(volumes=vol, policy=policy, now=1700000000 + day * 86400)
        listed = c.snapshots.list(volumes=[vol], policy=policy)
        assert len(listed.by_action("list")) == 3
        plan = c.snapshots.rotate(volumes=[vol], policy=policy, dry_run=True)
        assert len(plan.by_action("delete")) == 2 and all(i.planned for i in plan.by_action("delete"))
        done = c.snapshots.rotate(volumes=[vol], policy=policy)
        assert len(done.by_action("delete")) == 2 and len(done.by_action("keep")) == 1 and done.ok
        assert len(c.snapshots.list(volumes=[vol], policy=policy)) == 1


def test_policy_round_trips_and_refuses_bad_values():
    policy = ciha.SnapshotPolicy("gfs", daily=7, weekly=4, monthly=6, min=2, interval_hours=12,
                                 copy_to={"region": "eu-west-1", "keep": 3})
    d = policy.as_dict()
    assert d["name"] == "gfs" and d["keep_daily"] == 7 and d["copy_to"]["region"] == "eu-west-1"
    assert ciha.SnapshotPolicy.from_json(json.dumps(d)).as_dict() == d
    with raises(ciha.InvalidArgument):
        ciha.SnapshotPolicy("bad name!", keep=1)
    with raises(ciha.InvalidArgument) as caught:
        ciha.SnapshotPolicy.from_json('{"name": "x", "keep": "many"}', "policy.json")
    assert "policy.json" in str(caught.value)


def test_missing_volume_fails_as_an_item_of_the_report():
    with client() as c:
        report = c.snapshots.take(volumes=["vol-0000000000000dead"], policy=ciha.SnapshotPolicy("miss", keep=1))
        assert report.failures == 1 and not report.ok
        assert isinstance(report.error, ciha.Error)
        assert report.failed[0].error is not None and report.failed[0].message


def test_progress_callback_sees_events_and_its_exception_comes_back_unchanged():
    with client() as c:
        vol = volume(c)
        c.snapshots.take(volumes=[vol], policy=ciha.SnapshotPolicy(unique("prog"), keep=3), wait=True, poll=0.05)
        events = []
        c.snapshots.restore_volume(vol, "us-east-1a", poll=0.05, progress=events.append)
        assert events and isinstance(events[-1], ciha.SnapshotEvent) and events[-1].state
        stop = RuntimeError("stop waiting")

        def progress(event):
            raise stop
        with raises(RuntimeError) as caught:
            c.snapshots.restore_volume(vol, "us-east-1a", poll=0.05, progress=progress)
        assert caught.value is stop


def test_restore_volume_from_its_newest_snapshot():
    with client() as c:
        vol = volume(c)
        c.snapshots.take(volumes=[vol], policy=ciha.SnapshotPolicy(unique("rest"), keep=1), wait=True, poll=0.05)
        new = c.snapshots.restore_volume(vol, "us-east-1b", poll=0.05)
        assert new.startswith("vol-") and new != vol
