# frozen_string_literal: true

module Ciha
  # A stack event: event_id, stack_name, logical_id, physical_id, resource_type, status, reason,
  # timestamp (Unix seconds), time (ISO 8601 text, when known).
  class StackEvent < Record
    fields :event_id, :stack_name, :logical_id, :physical_id, :resource_type, :status, :reason, :timestamp, :time

    def initialize(fields = {})
      fields = fields.transform_keys(&:to_sym)
      fields[:resource_type] ||= fields.delete(:type)
      super(fields)
    end

    def failed?
      status.to_s.end_with?("_FAILED")
    end
  end

  # A change of a change set: action ("Add", "Modify", "Remove"), logical_id, type, replacement, dangerous?.
  class Change < Record
    fields :action, :logical_id, :type, :replacement
    flags :dangerous
  end

  # What a deploy did: action ("create", "update", "none"), executed?, status, change_set, stack_id, changes.
  class Deployment
    attr_reader :action, :status, :change_set, :stack_id, :changes

    def initialize(handle, status: nil)
      @handle = handle
      @action = Native.ciha_stack_deployment_action(handle)
      @executed = Native.ciha_stack_deployment_executed(handle) != 0
      @status = status || Native.ciha_stack_deployment_status(handle)
      @change_set = Native.ciha_stack_deployment_change_set(handle)
      @stack_id = Native.ciha_stack_deployment_stack_id(handle)
      @changes = Array.new(Native.ciha_stack_deployment_change_count(handle)) { |i| change(i) }.freeze
    end

    def executed?
      @executed
    end

    def changed?
      action != "none"
    end

    def to_h
      JSON.parse(Native.ciha_stack_deployment_json(@handle)).merge("status" => status)
    end

    def to_json(*args)
      to_h.to_json(*args)
    end

    def inspect
      "#<Ciha::Deployment #{action} #{status}, #{changes.size} changes>"
    end

    private

    def change(i)
      Change.new(action: Native.ciha_stack_deployment_change_action(@handle, i),
                 logical_id: Native.ciha_stack_deployment_change_logical_id(@handle, i),
                 type: Native.ciha_stack_deployment_change_type(@handle, i),
                 replacement: Native.ciha_stack_deployment_change_replacement(@handle, i),
                 dangerous: Native.ciha_stack_deployment_change_dangerous(@handle, i) != 0)
    end
  end

  # A stack's description: name, id, status, reason, outputs and parameters and tags (Hashes),
  # resources (Hashes), protected?.
  class Stack
    attr_reader :name, :id, :status, :reason, :outputs, :parameters, :tags, :resources

    def initialize(handle)
      @hash = JSON.parse(Native.ciha_stack_json(handle)).freeze
      @name = Native.ciha_stack_name(handle)
      @id = Native.ciha_stack_id(handle)
      @status = Native.ciha_stack_status(handle)
      @reason = Native.ciha_stack_status_reason(handle)
      @protected = Native.ciha_stack_termination_protection(handle) != 0
      @outputs = Array.new(Native.ciha_stack_outputs_count(handle)) do |i|
        [Native.ciha_stack_output_key_at(handle, i), Native.ciha_stack_output_value_at(handle, i)]
      end.to_h.freeze
      @parameters = (@hash["parameters"] || {}).freeze
      @tags = (@hash["tags"] || {}).freeze
      @resources = (@hash["resources"] || []).freeze
    end

    def protected?
      @protected
    end

    def settled?
      !status.end_with?("_IN_PROGRESS")
    end

    def output(key, default = nil)
      outputs.fetch(key.to_s, default)
    end

    def to_h
      @hash.dup
    end

    def to_json(*args)
      @hash.to_json(*args)
    end

    def inspect
      "#<Ciha::Stack #{name} #{status}>"
    end
  end

  # client.stacks: CloudFormation stacks deployed through change sets, described, watched, deleted,
  # checked for drift and repaired. Waits run in Ruby (sleep between polls), so Ctrl-C stops them.
  class Stacks
    # (success, failure) statuses per wait kind, as the AWS waiters have them.
    WAITERS = {
      create: [%w[CREATE_COMPLETE], %w[CREATE_FAILED DELETE_COMPLETE DELETE_FAILED ROLLBACK_FAILED ROLLBACK_COMPLETE]],
      update: [%w[UPDATE_COMPLETE], %w[UPDATE_FAILED UPDATE_ROLLBACK_FAILED UPDATE_ROLLBACK_COMPLETE]],
      delete: [%w[DELETE_COMPLETE], %w[DELETE_FAILED CREATE_FAILED ROLLBACK_FAILED]]
    }.freeze
    DEFAULT_POLL = 5.0

    def initialize(client)
      @client = client
    end

    # Create or update name through a change set, then wait for it (yielding each new StackEvent);
    # returns a Deployment.
    #
    # snapshot_parameters: { "DBSnapshot" => ["rds", "db-id"] } resolves parameters to the newest
    # snapshot. protect: sets termination protection, policy: the stack policy (Hash or JSON text).
    # review: true creates the change set and stops. A refused deploy (a stateful replacement without
    # allow_replace: true) raises StateError whose result is the Deployment listing the changes.
    def deploy(name, template: nil, template_file: nil, parameters: {}, use_previous: [], snapshot_parameters: {},
               tags: {}, capabilities: [], notification_arns: [], role_arn: nil, timeout_minutes: nil,
               on_failure: nil, protect: nil, policy: nil, allow_replace: false, review: false, wait: true,
               timeout: 3600, poll: DEFAULT_POLL, &on_event)
      spec = Native.ciha_stack_spec_new(name.to_s)
      Native.ciha_stack_spec_set_template_body(spec, template) if template
      Native.ciha_stack_spec_set_template_file(spec, template_file.to_s) if template_file
      parameters.each { |key, value| Native.ciha_stack_spec_add_parameter(spec, key.to_s, value.to_s) }
      use_previous.each { |key| Native.ciha_stack_spec_use_previous(spec, key.to_s) }
      snapshot_parameters.each do |key, (kind, source)|
        Native.ciha_stack_spec_add_snapshot_parameter(spec, key.to_s, kind.to_s, source.to_s)
      end
      tags.each { |key, value| Native.ciha_stack_spec_add_tag(spec, key.to_s, value.to_s) }
      capabilities.each { |capability| Native.ciha_stack_spec_add_capability(spec, capability.to_s) }
      notification_arns.each { |arn| Native.ciha_stack_spec_add_notification_arn(spec, arn) }
      Native.ciha_stack_spec_set_role_arn(spec, role_arn) if role_arn
      Native.ciha_stack_spec_set_timeout_minutes(spec, timeout_minutes) if timeout_minutes
      Native.ciha_stack_spec_set_on_failure(spec, on_failure.to_s) if on_failure
      Native.ciha_stack_spec_set_termination_protection(spec, Util.flag(protect)) unless protect.nil?
      Native.ciha_stack_spec_set_policy_body(spec, Util.json_text(policy)) if policy
      run_deploy(name.to_s, spec, review, allow_replace, wait, timeout, poll, on_event)
    end

    # The stack as a Stack; NotFoundError when it does not exist.
    def describe(name)
      Stack.new(Native.ciha_stack_describe(@client.native, name.to_s))
    end

    def exists?(name)
      describe(name)
      true
    rescue NotFoundError
      false
    end

    def outputs(name)
      describe(name).outputs
    end

    # [Record(name, id, status, updated)]; include_deleted: true adds deleted stacks.
    def list(include_deleted: false)
      JSON.parse(Native.ciha_stack_list(@client.native, Util.flag(include_deleted))).map { |s| Record.new(s) }
    end

    # Yields the stack's events oldest first (without a block: an Enumerator). With follow: true
    # it keeps polling (sleep, so Ctrl-C stops it) until the stack settles or disappears, yielding
    # each new event once.
    def events(name, follow: false, poll: DEFAULT_POLL, limit: 0, seen: nil, &block)
      return enum_for(:events, name, follow: follow, poll: poll, limit: limit, seen: seen) unless block

      seen ||= {}
      loop do
        batch = fetch_events(name, limit)
        break if batch.nil?

        batch.reverse_each do |ev|
          key = ev["event_id"] || ev.to_a.sort.to_s
          next if seen[key]

          seen[key] = true
          block.call(StackEvent.new(ev))
        end
        break if !follow || settled?(name)

        sleep poll
      end
      nil
    end

    # Wait until the stack settles (yielding new events); returns the final status.
    #
    # kind: :create, :update, :delete or :any. StateError on a failure state (the message names the
    # failed resources), TimeoutError after timeout seconds.
    def wait(name, kind = :any, timeout: 3600, poll: DEFAULT_POLL, seen: nil, &on_event)
      kind = kind.to_sym
      raise ArgumentError, "kind must be one of :create, :update, :delete, :any" unless kind == :any || WAITERS.key?(kind)

      deadline = monotonic + timeout
      seen ||= {}
      failed = []
      loop do
        events(name, seen: seen) do |ev|
          failed << ev if ev.failed?
          on_event&.call(ev)
        end
        status = status_for_wait(name, kind)
        case verdict(kind, status)
        when true then return status
        when false then raise Errors.build("CIHA_ESTATE", failure_message(name, status, failed))
        end
        raise Errors.build("CIHA_ETIMEOUT", "stack #{name} still #{status} after #{timeout}s") if monotonic + poll > deadline

        sleep poll
      end
    end

    # Delete the stack (refused with StateError while protected), optionally after final snapshots
    # of its volumes and DB instances; waits in Ruby for DELETE_COMPLETE, yielding events.
    def delete(name, wait: true, final_snapshots: false, snapshot_policy: nil, timeout: 3600, poll: DEFAULT_POLL,
               &on_event)
      seen = wait ? seen_events(name) : nil
      Native.ciha_glue_stack_delete(@client.native, name.to_s, 0, Util.flag(final_snapshots), snapshot_policy,
                                    timeout.to_i, Util.ms(poll), Util.event_callback(StackEvent, nil))
      wait ? wait(name, :delete, timeout: timeout, poll: poll, seen: seen, &on_event) : nil
    end

    # Termination protection on (default) or off.
    def protect(name, on = true)
      Native.ciha_stack_set_termination_protection(@client.native, name.to_s, Util.flag(on))
      on
    end

    # The stack policy as a Hash, or nil.
    def policy(name)
      Util.parse(Native.ciha_stack_policy_get(@client.native, name.to_s))
    end

    def set_policy(name, policy)
      Native.ciha_stack_policy_set(@client.native, name.to_s, Util.json_text(policy))
    end

    # A stack policy forbidding replacement or deletion of the template's stateful resources.
    def self.generate_policy(template)
      JSON.parse(Native.ciha_stack_policy_generate(template))
    end

    # Stateful resources lacking a Snapshot/Retain deletion policy: [Record(logical_id, type, problem, ...)].
    def self.check_template(template)
      JSON.parse(Native.ciha_stack_template_check(template)).map { |problem| Record.new(problem) }
    end

    def generate_policy(template)
      self.class.generate_policy(template)
    end

    def check_template(template)
      self.class.check_template(template)
    end

    # { "status" => "DRIFTED" | "IN_SYNC", "resources" => [...] }.
    def drift(name, timeout: 0)
      JSON.parse(Native.ciha_stack_drift(@client.native, name.to_s, timeout.to_i))
    end

    # { "status", "problem", "action", "holds_data", "resources_to_skip" }.
    def diagnose(name, stale_after: 0)
      JSON.parse(Native.ciha_stack_diagnose(@client.native, name.to_s, stale_after.to_i))
    end

    # Apply the safe action diagnose names.
    def fix(name, force: false)
      Native.ciha_stack_fix(@client.native, name.to_s, Util.flag(force))
    end

    private

    def run_deploy(name, spec, review, allow_replace, wait, timeout, poll, on_event)
      seen = wait && !review ? seen_events(name) : nil
      handle = Native.ciha_glue_stack_deploy(@client.native, spec, Util.flag(review), Util.flag(allow_replace), 0,
                                             timeout.to_i, Util.ms(poll), Util.event_callback(StackEvent, nil))
      deployment = Deployment.new(handle)
      return deployment unless seen && deployment.executed?

      kind = deployment.action == "create" ? :create : :update
      Deployment.new(handle, status: wait(name, kind, timeout: timeout, poll: poll, seen: seen, &on_event))
    rescue Error => e
      e.result = Deployment.new(e.result) if e.result.is_a?(Native::Ciha_stack_deployment)
      raise
    end

    # The ids of the events a stack has now (none when it does not exist).
    def seen_events(name)
      (fetch_events(name, 0) || []).to_h { |ev| [ev["event_id"] || ev.to_a.sort.to_s, true] }
    end

    def fetch_events(name, limit)
      JSON.parse(Native.ciha_stack_events(@client.native, name.to_s, limit.to_i))
    rescue NotFoundError
      nil
    end

    def settled?(name)
      describe(name).settled?
    rescue NotFoundError
      true
    end

    def status_for_wait(name, kind)
      describe(name).status
    rescue NotFoundError
      raise unless %i[delete any].include?(kind)

      "DELETE_COMPLETE"
    end

    def verdict(kind, status)
      return (status.end_with?("_IN_PROGRESS") ? nil : !status.end_with?("_FAILED")) if kind == :any

      success, failure = WAITERS.fetch(kind)
      return true if success.include?(status)

      failure.include?(status) ? false : nil
    end

    def failure_message(name, status, failed)
      causes = failed.last(5).map { |f| "#{f.logical_id} #{f.status}: #{f.reason}" }.join("; ")
      "stack #{name} ended in #{status}#{causes.empty? ? '' : ": #{causes}"}"
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end

  # client.agents: CI agents in an Auto Scaling group, scaled on a schedule.
  class Agents
    def initialize(client)
      @client = client
    end

    # Scheduled actions ciha-stop / ciha-start (cron recurrences); day: and night: are [min, max, desired].
    def schedule(group, stop:, start:, time_zone: "UTC", day: [1, 1, 1], night: [0, 0, 0])
      Native.ciha_glue_agents_schedule_set(@client.native, group, stop, start, time_zone, *day.map(&:to_i),
                                           *night.map(&:to_i))
    end

    def schedules(group)
      JSON.parse(Native.ciha_agents_schedule_list(@client.native, group))
    end

    def unschedule(group)
      Native.ciha_agents_schedule_remove(@client.native, group)
    end

    def scale(group, desired)
      Native.ciha_agents_scale(@client.native, group, desired.to_i)
    end
  end
end
