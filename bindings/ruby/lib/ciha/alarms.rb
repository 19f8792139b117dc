# frozen_string_literal: true

module Ciha
  # Alarms under a name prefix sending ALARM and OK to one topic.
  #
  #   Ciha::AlarmSet.new("ci-", topic_arn: arn, alarms: [{ name: "nexus-down", preset: "elb-no-healthy-host",
  #                                                        load_balancer: "nexus" }])
  #
  # Each alarm is a Hash in the alarms file format: a preset with its arguments, or namespace, metric,
  # dimensions, statistic, comparison, threshold, period, periods, datapoints, missing_data,
  # description, unit.
  class AlarmSet
    def initialize(prefix, topic_arn: nil, alarms: [])
      doc = { "prefix" => prefix, "alarms" => alarms.to_a }
      doc["topic_arn"] = topic_arn if topic_arn
      @handle = Native.ciha_alarm_set_from_json(JSON.generate(doc), "<AlarmSet>")
    end

    extend JsonDocument

    def self.native_from_json(text, source)
      Native.ciha_alarm_set_from_json(text, source)
    end

    def topic_arn=(arn)
      Native.ciha_alarm_set_set_topic(@handle, arn)
    end

    # The native handle (private to the Ciha classes).
    def native
      @handle
    end
  end

  # One alarm of a reconcile: action ("create", "update", "delete", "unchanged"), name, diff, ok?,
  # planned?, error (a code name or nil).
  class PlanItem < Record
    fields :action, :name, :diff, :error
    flags :ok, :planned
  end

  # The result of a reconcile: an Enumerable of PlanItem; changes, failures, to_h, to_json.
  class Plan
    include ItemList

    def initialize(handle)
      @handle = handle
      @items = Array.new(Native.ciha_alarm_plan_count(handle)) { |i| item(i) }.freeze
    end

    def changes
      reject { |item| item.action == "unchanged" }
    end

    def failures
      reject(&:ok?)
    end

    def to_json(*_args)
      Native.ciha_alarm_plan_json(@handle)
    end

    def inspect
      "#<Ciha::Plan #{size} alarms, #{changes.size} changes>"
    end

    private

    def item(i)
      outcome = Native.ciha_alarm_plan_outcome(@handle, i)
      settled = [0, Native::CIHA_EAGAIN].include?(outcome)
      PlanItem.new(action: Native.ciha_alarm_plan_action(@handle, i), name: Native.ciha_alarm_plan_name(@handle, i),
                   diff: Native.ciha_alarm_plan_diff(@handle, i), ok: settled,
                   planned: outcome == Native::CIHA_EAGAIN, error: settled ? nil : Native.ciha_code_name(outcome))
    end
  end

  # client.alarms: CloudWatch alarms reconciled as desired state, the SNS topic and its PagerDuty
  # subscription, and fire drills.
  class Alarms
    def initialize(client)
      @client = client
    end

    # Reconcile the set (AlarmSet, Hash, JSON text or file path); returns a Plan.
    def apply(alarm_set, topic_arn: nil, dry_run: false)
      alarm_set = AlarmSet.coerce(alarm_set)
      alarm_set.topic_arn = topic_arn if topic_arn
      Plan.new(Native.ciha_alarm_apply(@client.native, alarm_set.native, Util.flag(dry_run)))
    end

    # Alarms under prefix with state and actions, as an Array of Hashes.
    def list(prefix = "")
      found = JSON.parse(Native.ciha_alarm_list(@client.native, prefix))
      found.is_a?(Hash) ? found.fetch("alarms", found) : found
    end

    # Create the SNS topic if missing; returns its ARN.
    def topic(name)
      Native.ciha_alarm_topic_ensure(@client.native, name)
    end

    # Subscribe a PagerDuty CloudWatch integration URL once; returns the subscription ARN.
    def subscribe(topic_arn, endpoint_url, allow_http: false)
      Native.ciha_alarm_subscribe(@client.native, topic_arn, endpoint_url, Util.flag(allow_http))
    end

    # :confirmed, :pending or nil (not subscribed).
    def subscription_status(topic_arn, endpoint_url)
      { 1 => :confirmed, 0 => :pending }[Native.ciha_alarm_subscription_status(@client.native, topic_arn, endpoint_url)]
    rescue NotFoundError
      nil
    end

    def confirmed?(topic_arn, endpoint_url)
      subscription_status(topic_arn, endpoint_url) == :confirmed
    end

    # Fire drill: checks, then ALARM and OK through the topic; returns [Record(step, ok, detail)].
    def drill(alarm_set, endpoint_url, resolve_after: 0)
      steps = Native.ciha_alarm_drill(@client.native, AlarmSet.coerce(alarm_set).native, endpoint_url,
                                      Util.ms(resolve_after))
      JSON.parse(steps).map { |step| Record.new(step) }
    end
  end

  # client.probes: checks run on CI hosts that publish CIHA metrics for the alarms.
  class Probes
    def initialize(client)
      @client = client
    end

    # Check mount points (and their expected sources) and publish VolumeMounted; StateError when one
    # is missing. Returns the probe's Hash.
    def mounts(host, mount_points, expected: nil, mountinfo: nil, publish: true)
      JSON.parse(Native.ciha_glue_probe_mounts(@client.native, host, JSON.generate(mount_points.to_a),
                                               expected && JSON.generate(expected.to_a), mountinfo,
                                               Util.flag(publish)))
    end

    # Age in seconds of the newest snapshot of target, published as SnapshotAgeSeconds.
    def snapshot_age(target, publish: true)
      Native.ciha_probe_snapshot_age(@client.native, target, Util.flag(publish))
    end
  end

  # PagerDuty Events API v2. The routing key is never logged or put in an error message.
  #
  #   pd = Ciha::PagerDuty.new(ENV.fetch("PD_ROUTING_KEY"))
  #   key = pd.trigger("nightly backup failed", source: "ci-master")
  #   pd.resolve(key)
  class PagerDuty
    def initialize(routing_key, endpoint_url: nil, client: nil)
      @client = client # borrowed by the native handle for its whole life
      @handle = Native.ciha_pagerduty_new(routing_key, endpoint_url, client&.native)
    end

    # Open (or add to) an incident; returns its dedup key.
    def trigger(summary, source:, severity: "error", dedup_key: nil, details: nil)
      Native.ciha_pagerduty_trigger(@handle, dedup_key, summary, source, severity.to_s, details && JSON.generate(details))
    end

    def acknowledge(dedup_key)
      Native.ciha_pagerduty_acknowledge(@handle, dedup_key)
    end

    def resolve(dedup_key)
      Native.ciha_pagerduty_resolve(@handle, dedup_key)
    end

    # Page for a failed job (dedup key "ciha:<job>"), or resolve that incident when it succeeded.
    def report_job(job, failed:, summary: nil)
      Native.ciha_pagerduty_report_job(@handle, job, Util.flag(failed), summary)
    end

    def inspect
      "#<Ciha::PagerDuty>"
    end
  end
end
