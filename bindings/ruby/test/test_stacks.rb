# frozen_string_literal: true

require_relative "helper"

# Stacks: deploy, describe, outputs, events (block and Enumerator, follow), wait, delete, policies.
class TestStacks < Minitest::Test
  include CihaTest

  def test_deploy_describe_events_and_delete
    c = client
    name = unique("rb-stack")
    env = unique("env")
    seen = []
    d = c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => env }, tags: { "team" => "ci" }, poll: 0.1) do |ev|
      seen << ev
    end
    assert_kind_of Ciha::Deployment, d
    assert_equal "create", d.action
    assert d.executed?
    assert_equal "CREATE_COMPLETE", d.status
    refute_nil d.stack_id
    assert_equal ["Topic"], d.changes.map(&:logical_id)
    assert_equal "Add", d.changes.first.action
    assert_equal "create", d.to_h["action"]
    refute_empty seen
    assert_kind_of Ciha::StackEvent, seen.first
    assert_equal "CREATE_COMPLETE", seen.last.status

    stack = c.stacks.describe(name)
    assert_equal "CREATE_COMPLETE", stack.status
    assert_equal name, stack.name
    assert_equal({ "Env" => env }, stack.parameters)
    assert_kind_of Hash, stack.outputs
    assert_equal "ci", stack.tags["team"]
    assert stack.settled?

    events = c.stacks.events(name)
    assert_kind_of Enumerator, events
    all = events.to_a
    assert_equal name, all.first.stack_name
    assert_equal "CREATE_COMPLETE", all.last.status
    followed = []
    c.stacks.events(name, follow: true, poll: 0.05) { |ev| followed << ev }
    assert_equal all, followed
    assert_equal "CREATE_COMPLETE", c.stacks.wait(name, :create, poll: 0.05)

    again = c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => env }, tags: { "team" => "ci" }, poll: 0.1)
    assert_equal "none", again.action
    refute again.changed?
    assert(c.stacks.list.any? { |s| s[:name] == name })

    c.stacks.delete(name, poll: 0.1)
    refute c.stacks.exists?(name)
    assert_raises(Ciha::NotFoundError) { c.stacks.describe(name) }
  end

  def test_template_file_review_and_update
    c = client
    name = unique("rb-file")
    path = File.join(SRCDIR, "examples/templates/network.yaml")
    env = "r#{SecureRandom.hex(3)}"
    review = c.stacks.deploy(name, template_file: path, parameters: { "Env" => env }, review: true, poll: 0.1)
    refute review.executed?
    assert_includes review.changes.map(&:logical_id), "Vpc"
    d = c.stacks.deploy(name, template_file: path, parameters: { "Env" => env }, poll: 0.1)
    assert_equal "CREATE_COMPLETE", d.status
    subnet = c.stacks.describe(name).resources.find { |r| r["logical_id"] == "SubnetA" }
    assert subnet["physical_id"].start_with?("subnet-")
  ensure
    c&.stacks&.delete(name, poll: 0.1)
  end

  def test_stack_policy_round_trip
    c = client
    name = unique("rb-pol")
    policy = { "Statement" => [{ "Effect" => "Allow", "Action" => "Update:*", "Principal" => "*", "Resource" => "*" }] }
    c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => unique("e") }, poll: 0.1)
    c.stacks.set_policy(name, policy)
    assert_equal policy, c.stacks.policy(name)
  ensure
    c.stacks.delete(name, poll: 0.1)
  end

  def test_exception_in_the_event_block_comes_back_unchanged
    c = client
    name = unique("rb-ev")
    marker = ArgumentError.new("from the event block")
    caught = assert_raises(ArgumentError) do
      c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => unique("e") }, poll: 0.1) { raise marker }
    end
    assert_same marker, caught
    c.stacks.wait(name, :any, poll: 0.05)
  ensure
    c.stacks.delete(name, poll: 0.1)
  end

  def test_break_out_of_following_events
    c = client
    name = unique("rb-brk")
    c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => unique("e") }, poll: 0.1)
    first = c.stacks.events(name, follow: true, poll: 0.05) { |ev| break ev }
    assert_kind_of Ciha::StackEvent, first
  ensure
    c.stacks.delete(name, poll: 0.1)
  end

  def test_missing_stack_and_template_checks
    c = client
    assert_raises(Ciha::NotFoundError) { c.stacks.describe(unique("rb-none")) }
    assert_equal [], c.stacks.events(unique("rb-none")).to_a
    template = "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties: {Engine: postgres}\n"
    problems = c.stacks.check_template(template)
    assert_equal "Db", problems.first.logical_id
    assert Ciha::Stacks.generate_policy(template).key?("Statement")
  end

  def test_agents_schedule_and_scale
    c = client
    group = unique("rb-asg")
    lc = unique("rb-lc")
    c.call("autoscaling", "CreateLaunchConfiguration", LaunchConfigurationName: lc, ImageId: "ami-12345678",
                                                       InstanceType: "t3.micro")
    c.call("autoscaling", "CreateAutoScalingGroup", AutoScalingGroupName: group, LaunchConfigurationName: lc,
                                                    MinSize: 0, MaxSize: 2, AvailabilityZones: ["us-east-1a"])
    c.agents.schedule(group, stop: "0 20 * * 1-5", start: "0 7 * * 1-5", time_zone: "Europe/Berlin", day: [1, 2, 2])
    names = c.agents.schedules(group).map { |s| s["name"] || s["ScheduledActionName"] }
    assert_equal %w[ciha-start ciha-stop], names.sort
    c.agents.scale(group, 1)
    c.agents.unschedule(group)
    assert_empty c.agents.schedules(group)
  end
end
