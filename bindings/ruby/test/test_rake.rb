# frozen_string_literal: true

require_relative "helper"
require "open3"
require "rbconfig"
require "tmpdir"

# examples/ruby/Rakefile run as a user runs it (rake -f ...) against moto, and the DSL's errors.
class TestRake < Minitest::Test
  include CihaTest

  RAKEFILE = File.join(SRCDIR, "examples/ruby/Rakefile")
  EMPTY = File.join(Dir.mktmpdir("ciha-rake"), "empty").tap { |path| File.write(path, "") }

  def rake(env_name, *tasks)
    env = { "CIHA_ENDPOINT_URL" => ENDPOINT, "CIHA_REGION" => "us-east-1", "CIHA_ENV" => env_name,
            "AWS_ACCESS_KEY_ID" => "AKIDRAKE", "AWS_SECRET_ACCESS_KEY" => SECRET, "AWS_EC2_METADATA_DISABLED" => "true",
            "AWS_CONFIG_FILE" => EMPTY, "AWS_SHARED_CREDENTIALS_FILE" => EMPTY }
    rake_bin = Gem.bin_path("rake", "rake")
    out, status = Open3.capture2e(env, RbConfig.ruby, rake_bin, "-f", RAKEFILE, *tasks)
    [out, status]
  end

  def test_rake_lists_the_namespaced_tasks
    out, status = rake("rkl", "-T")
    assert status.success?, out
    ["ci:stack:deploy[name]", "ci:stack:status[name]", "ci:snapshot:run[policy]", "ci:snapshot:rotate[policy]",
     "ci:alarms:apply", "ci:recover[name]"].each { |task| assert_includes out, "rake #{task}" }
  end

  def test_the_example_scenario_end_to_end
    name = "rk#{SecureRandom.hex(3)}"
    out, status = rake(name, "ci:stack:deploy[network]", "ci:stack:deploy[database]", "ci:stack:deploy[master]",
                       "ci:stack:deploy[agents]", "ci:stack:deploy[nexus]")
    assert status.success?, out
    %w[network database master agents nexus].each { |s| assert_includes out, "#{name}-#{s}: create CREATE_COMPLETE" }

    out, status = rake(name, "ci:snapshot:run[daily]", "ci:snapshot:rotate[daily]", "ci:alarms:apply")
    assert status.success?, out
    assert_match(/snapshot run daily: \d+ items, 0 failures/, out)
    assert_equal 3, out.scan(/^  create (ebs|rds) /).size # two data volumes and the database
    assert_match(/alarms: 5 changes, 0 failures/, out)
    out, status = rake(name, "ci:alarms:apply")
    assert status.success?, out
    assert_match(/alarms: 0 changes, 0 failures/, out)

    c = client
    master = c.stacks.describe("#{name}-master")
    refute_nil c.stacks.policy(master.name)
    volume = master.resources.find { |r| r["logical_id"] == "DataVolume" }["physical_id"]
    snaps = c.call("ec2", "DescribeSnapshots", Filter: [{ Name: "volume-id", Value: [volume] }])["snapshotSet"]
    assert_equal 1, snaps.size

    out, status = rake(name, "ci:stack:delete[database]", "ci:recover[db]", "ci:stack:status[database]")
    assert status.success?, out
    assert_includes out, "#{name}-database: deleted"
    assert_includes out, "#{name}-database: recovered (create CREATE_COMPLETE)"
    restored_from = c.stacks.describe("#{name}-database").parameters["DBSnapshotIdentifier"]
    assert restored_from.start_with?("ciha-final-#{name}-db"), restored_from
  end

  def test_unknown_names_fail_with_a_message
    out, status = rake("rkx", "ci:stack:deploy[nosuch]")
    refute status.success?
    assert_includes out, "no stack nosuch"
    out, status = rake("rkx", "ci:recover")
    refute status.success?
    assert_includes out, "recover needs a name"
  end

  def test_dsl_in_process
    require "ciha/rake"
    app = Rake::Application.new
    Rake.application = app
    out = StringIO.new
    env = Ciha::Rake.define(namespace: :t, output: out) do |e|
      e.client region: "us-east-1", endpoint_url: ENDPOINT, credentials: ["AKIDDSL", SECRET]
      e.prefix unique("dsl")
      e.stack :topic, template: File.join(SRCDIR, "examples/templates/network.yaml"),
                      parameters: { "Env" => "d#{SecureRandom.hex(3)}" }
      e.snapshot_policy :daily, keep: 7, tags: { "Backup" => "daily" }
    end
    assert app.lookup("t:stack:deploy")
    assert app.lookup("t:snapshot:run")
    app["t:stack:deploy"].invoke("topic")
    assert_includes out.string, "create CREATE_COMPLETE"
    app["t:stack:status"].invoke("topic")
    assert_includes out.string, "CREATE_COMPLETE"
    assert_raises(ArgumentError) { env.stack(:x, templat: "y") }
  ensure
    env&.ciha&.stacks&.delete(env.stack_def(:topic).stack_name, poll: 0.1)
  end
end
