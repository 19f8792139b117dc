# frozen_string_literal: true

require_relative "helper"

# Alarms (apply, list, topic, subscribe, drill) and PagerDuty against tests/tools/pdreceiver.py.
class TestAlarms < Minitest::Test
  include CihaTest

  KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32"

  def alarm_set(prefix, topic)
    { "prefix" => prefix, "topic_arn" => topic, "alarms" => [
      { "name" => "asg-low", "preset" => "asg-below-min", "group" => "ci-agents", "min" => 1 },
      { "name" => "cpu", "namespace" => "AWS/EC2", "metric" => "CPUUtilization", "dimensions" => { "InstanceId" => "i-1" },
        "statistic" => "Average", "comparison" => "GreaterThanThreshold", "threshold" => 90, "period" => 60,
        "periods" => 5, "datapoints" => 3, "missing_data" => "notBreaching" }
    ] }
  end

  def test_apply_plans_creates_then_is_unchanged_and_list_shows_them
    c = client
    prefix = "#{unique('rb')}-"
    topic = c.alarms.topic(unique("alarms"))
    assert topic.start_with?("arn:aws:sns:")
    dry = c.alarms.apply(alarm_set(prefix, topic), dry_run: true)
    assert_kind_of Ciha::Plan, dry
    assert_equal %w[create create], dry.map(&:action)
    assert dry.all?(&:planned?)
    done = c.alarms.apply(alarm_set(prefix, topic))
    assert_equal ["#{prefix}asg-low", "#{prefix}cpu"].sort, done.map(&:name).sort
    assert_empty done.failures
    again = c.alarms.apply(Ciha::AlarmSet.new(prefix, topic_arn: topic, alarms: alarm_set(prefix, topic)["alarms"]))
    assert_empty again.changes
    refute_empty again.to_h
    assert_equal 2, c.alarms.list(prefix).size
  end

  def test_bad_alarm_set_is_invalid_argument_naming_the_path
    e = assert_raises(Ciha::InvalidArgument) do
      client.alarms.apply({ "prefix" => "x-", "alarms" => [{ "name" => "a", "preset" => "no-such-preset" }] })
    end
    assert_includes e.message, "alarms"
  end

  def test_pagerduty_trigger_acknowledge_resolve_and_report_job
    with_pdreceiver do |base|
      pd = Ciha::PagerDuty.new(KEY, endpoint_url: "#{base}/v2/enqueue")
      key = pd.trigger("backup failed", source: "ci", severity: :critical, dedup_key: "nightly", details: { failed: 2 })
      assert_equal "nightly", key
      pd.acknowledge(key)
      pd.resolve(key)
      pd.report_job("nightly-backup", failed: true, summary: "2 volumes failed")
      incidents = get_json("#{base}/__pd/incidents")
      assert_equal %w[trigger acknowledge resolve], incidents["nightly"]["events"]
      assert_equal "resolved", incidents["nightly"]["status"]
      assert_equal({ "failed" => 2 }, incidents["nightly"]["custom_details"])
      assert_equal "triggered", incidents["ciha:nightly-backup"]["status"]
      pd.report_job("nightly-backup", failed: false)
      assert_equal "resolved", get_json("#{base}/__pd/incidents")["ciha:nightly-backup"]["status"]
    end
  end

  def test_pagerduty_refusals_are_errors_without_the_key
    with_pdreceiver do |base|
      bad = Ciha::PagerDuty.new(KEY, endpoint_url: "#{base}/v2/enqueue")
      e = assert_raises(Ciha::Error) { bad.trigger("x", source: "ci", severity: "apocalyptic") }
      refute_includes e.message, KEY
    end
    down = Ciha::PagerDuty.new(KEY, endpoint_url: "http://127.0.0.1:9/v2/enqueue")
    e = assert_raises(Ciha::Error) { down.trigger("x", source: "ci") }
    refute_includes e.message, KEY
  end

  def test_subscription_to_the_receiver_and_a_drill
    with_pdreceiver do |base|
      c = client
      prefix = "#{unique('drill')}-"
      topic = c.alarms.topic(unique("drill"))
      url = "#{base}/integration/#{KEY}/enqueue"
      c.alarms.subscribe(topic, url, allow_http: true)
      refute_nil c.alarms.subscription_status(topic, url)
      set = alarm_set(prefix, topic)
      c.alarms.apply(set)
      steps = c.alarms.drill(set, url)
      refute_empty steps
      assert_kind_of Ciha::Record, steps.first
    end
  end
end
