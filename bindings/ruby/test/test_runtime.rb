# frozen_string_literal: true

require_relative "helper"

# Garbage collection of clients, reports, stacks and callbacks; repeated failures.
class TestRuntime < Minitest::Test
  include CihaTest

  def test_many_clients_reports_and_callbacks_are_collected_without_crashes
    c = client
    vol = volume(c)
    policy = Ciha::SnapshotPolicy.new(unique("gc"), keep: 50)
    30.times do |i|
      tmp = client(logger: ->(*_) {}, log_level: :debug, credentials: -> { ["AKIDGC#{i}", SECRET] })
      tmp.whoami
      c.snapshots.list(volumes: [vol], policy: policy).to_a
      c.paginate("ec2", "DescribeVolumes", MaxResults: 5).first
      Ciha::SnapshotPolicy.new("gc#{i}", keep: 1)
      begin
        tmp.call("ec2", "DeleteVolume", VolumeId: "vol-0123456789abcdef0")
      rescue Ciha::NotFoundError
        nil
      end
      GC.start if (i % 5).zero?
    end
    GC.start
    GC.compact if GC.respond_to?(:compact)
    assert_equal "123456789012", client(logger: ->(*_) {}, log_level: :debug).whoami.account
  end

  def test_callbacks_survive_a_compacting_gc_while_their_client_lives
    lines = []
    c = client(logger: ->(_l, s, _m) { lines << s }, log_level: :debug, credentials: -> { ["AKIDCOMPACT", SECRET] })
    10.times { Array.new(1000) { |i| "garbage #{i}" } }
    GC.start
    GC.compact if GC.respond_to?(:compact)
    assert_equal "delegate", c.whoami.provider
    assert_includes lines, "http"
  end

  def test_pages_keep_their_client_alive
    pages = client.paginate("ec2", "DescribeVolumes", MaxResults: 5)
    GC.start
    assert_kind_of Hash, pages.next
  end

  def test_interrupt_stops_following_events
    c = client
    name = unique("rb-int")
    c.stacks.deploy(name, template: TEMPLATE, parameters: { "Env" => unique("e") }, poll: 0.1)
    Thread.new do
      sleep 0.3
      Process.kill("INT", Process.pid) # what Ctrl-C sends
    end
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(Interrupt) { c.stacks.wait(name, :delete, poll: 0.05, timeout: 30) }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 5
  ensure
    c.stacks.delete(name, poll: 0.1)
  end
end
