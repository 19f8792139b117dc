# frozen_string_literal: true

require_relative "helper"

# Snapshots: run, take, rotate, list, dry runs, progress blocks, restore.
class TestSnapshots < Minitest::Test
  include CihaTest

  def test_run_returns_a_report_of_items
    c = client
    vol = volume(c)
    policy = Ciha::SnapshotPolicy.new(unique("rb"), keep: 2, tags: { "team" => "ci" })
    report = c.snapshots.run(volumes: [vol], policy: policy, wait: true, poll: 0.1)
    assert_kind_of Ciha::Report, report
    assert report.ok?
    assert_equal 0, report.failures
    assert_kind_of Enumerable, report
    created = report.by_action("create")
    assert_equal 1, created.size
    item = created.first
    assert_equal "ebs", item.kind
    assert_equal vol, item.target
    assert item.snapshot_id.start_with?("snap-")
    assert item.ok?
    refute item.planned?
    assert_equal vol, item.to_h[:target]
    assert_equal JSON.parse(report.to_json), report.to_h
    assert_equal 0, report.to_h["failures"]
    tags = c.call("ec2", "DescribeSnapshots", SnapshotId: [item.snapshot_id])["snapshotSet"][0]["tagSet"]
    assert_includes tags, { "key" => "team", "value" => "ci" }
  end

  def test_rotate_keeps_the_newest_and_list_shows_them
    c = client
    vol = volume(c)
    policy = Ciha::SnapshotPolicy.new(unique("rot"), keep: 1)
    3.times { |day| c.snapshots.take(volumes: vol, policy: policy, now: 1_700_000_000 + day * 86_400) }
    assert_equal 3, c.snapshots.list(volumes: [vol], policy: policy).by_action("list").size
    plan = c.snapshots.rotate(volumes: [vol], policy: policy, dry_run: true)
    assert_equal 2, plan.by_action("delete").size
    assert plan.by_action("delete").all?(&:planned?)
    done = c.snapshots.rotate(volumes: [vol], policy: policy)
    assert_equal 2, done.by_action("delete").size
    assert_equal 1, done.by_action("keep").size
    assert done.ok?
    assert_equal 1, c.snapshots.list(volumes: [vol], policy: policy).count
  end

  def test_policy_round_trips_and_refuses_bad_values
    policy = Ciha::SnapshotPolicy.new("gfs", daily: 7, weekly: 4, monthly: 6, min: 2, interval_hours: 12,
                                             copy_to: { region: "eu-west-1", keep: 3 })
    h = policy.to_h
    assert_equal "gfs", h["name"]
    assert_equal 7, h["keep_daily"]
    assert_equal "eu-west-1", h["copy_to"]["region"]
    assert_equal h, Ciha::SnapshotPolicy.from_json(JSON.generate(h)).to_h
    assert_raises(Ciha::InvalidArgument) { Ciha::SnapshotPolicy.new("bad name!", keep: 1) }
    e = assert_raises(Ciha::InvalidArgument) { Ciha::SnapshotPolicy.from_json('{"name": "x", "keep": "many"}', "policy.json") }
    assert_includes e.message, "policy.json"
  end

  def test_missing_volume_fails_as_an_item_of_the_report
    report = client.snapshots.take(volumes: ["vol-0000000000000dead"], policy: Ciha::SnapshotPolicy.new("miss", keep: 1))
    assert_equal 1, report.failures
    refute report.ok?
    assert_kind_of Ciha::Error, report.error
    refute_nil report.failed.first.error
    refute_nil report.failed.first.message
  end

  def test_progress_block_sees_events_and_its_exception_comes_back_unchanged
    c = client
    vol = volume(c)
    c.snapshots.take(volumes: [vol], policy: Ciha::SnapshotPolicy.new(unique("prog"), keep: 3), wait: true, poll: 0.05)
    events = []
    new_volume = c.snapshots.restore_volume(vol, "us-east-1b", poll: 0.05) { |ev| events << ev }
    assert new_volume.start_with?("vol-")
    refute_equal vol, new_volume
    refute_empty events
    assert_kind_of Ciha::SnapshotEvent, events.last
    refute_nil events.last.state
    stop = RuntimeError.new("stop waiting")
    assert_same stop, assert_raises(RuntimeError) { c.snapshots.restore_volume(vol, "us-east-1a", poll: 0.05) { raise stop } }
  end

  def test_restore_db_from_its_newest_snapshot
    c = client
    db = unique("rbdb")
    c.call("rds", "CreateDBInstance", DBInstanceIdentifier: db, DBInstanceClass: "db.t3.micro", Engine: "postgres",
                                      AllocatedStorage: 20, MasterUsername: "ci", MasterUserPassword: "secret-password")
    report = c.snapshots.run(dbs: [db], policy: Ciha::SnapshotPolicy.new(unique("dbp"), keep: 2), wait: true, poll: 0.05)
    assert report.ok?
    assert_equal "rds", report.by_action("create").first.kind
    restored = c.snapshots.restore_db(db, "#{db}-restored", poll: 0.05)
    assert_equal "#{db}-restored", restored
    found = c.call("rds", "DescribeDBInstances", DBInstanceIdentifier: restored)
    assert_equal restored, found["DBInstances"][0]["DBInstanceIdentifier"]
  end
end
