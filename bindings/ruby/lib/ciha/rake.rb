# frozen_string_literal: true

require "rake"
require "ciha"

module Ciha
  # Rake tasks from a small declarative description of a CI environment.
  #
  #   require "ciha/rake"
  #   Ciha::Rake.define(namespace: :ci) do |env|
  #     env.client region: "eu-west-1"
  #     env.stack :network, template: "templates/network.yaml", parameters: { "Env" => "ci" }
  #     env.stack :master, template: "templates/master.yaml", capabilities: ["CAPABILITY_IAM"], protect: true,
  #                        parameters: { "SubnetId" => env.ref(:network, "SubnetA") }
  #     env.snapshot_policy :daily, keep: 7, tags: { "Backup" => "daily" }
  #     env.alarms file: "alarms.json"
  #     env.recover :db, stack: :database, snapshot_param: "DBSnapshotIdentifier", from: "rds:ci-db"
  #   end
  #
  # defines ci:stack:deploy[name] (every stack, in order, without a name), ci:stack:status[name],
  # ci:stack:delete[name], ci:snapshot:run[policy], ci:snapshot:rotate[policy], ci:snapshot:list[policy],
  # ci:alarms:plan, ci:alarms:apply, ci:alarms:list, ci:recover[name] and ci:whoami (see `rake -T`).
  module Rake
    # Define the tasks; returns the Environment.
    def self.define(namespace: :ci, output: $stdout, &block)
      env = Environment.new(namespace.to_s, output)
      block&.call(env)
      TaskSet.new(env).define
      env
    end

    # A parameter value read when a task runs: an output of another stack of the environment, or
    # the physical id of one of its resources when the stack has no such output.
    Ref = Struct.new(:stack, :key, :resource) do
      def resolve(env)
        stack = env.describe(self.stack)
        return stack.outputs[key] if stack.outputs.key?(key)

        found = stack.resources.find { |r| r["logical_id"] == resource }
        found&.fetch("physical_id") or
          raise Errors.build("CIHA_ENOTFOUND", "stack #{stack.name} has no output or resource #{key}")
      end
    end

    StackDef = Struct.new(:name, :stack_name, :options)
    PolicyDef = Struct.new(:name, :policy, :targets)
    RecoverDef = Struct.new(:name, :stack, :snapshot_parameters)
    AlarmsDef = Struct.new(:source, :topic)

    # What Ciha::Rake.define yields: the description, and what the tasks use to act on it.
    class Environment
      attr_reader :namespace, :stacks, :policies, :recoveries, :alarm_sets, :output

      def initialize(namespace, output)
        @namespace = namespace
        @output = output
        @client_options = {}
        @prefix = namespace
        @stacks = {}
        @policies = {}
        @recoveries = {}
        @alarm_sets = []
        @base_dir = Dir.pwd
      end

      # Options for Ciha::Client.new (region:, endpoint_url:, profile:, credentials:, ...).
      def client(**options)
        @client_options = options
        @client = nil
      end

      # Stack names are "<prefix>-<name>"; the prefix defaults to the namespace.
      def prefix(value = nil)
        value.nil? ? @prefix : (@prefix = value.to_s)
      end

      # Paths in the description are relative to this directory (default: where rake runs).
      def base_dir(dir = nil)
        dir.nil? ? @base_dir : (@base_dir = File.expand_path(dir))
      end

      # A stack: template: (a path), and any keyword of Ciha::Stacks#deploy (parameters:, tags:,
      # capabilities:, protect:, policy:, allow_replace:, ...). Parameter values may be Refs (or
      # Arrays of them, joined with commas for List<> parameters).
      def stack(name, template:, stack_name: nil, **options)
        @stacks[name.to_sym] = StackDef.new(name.to_sym, stack_name || "#{@prefix}-#{name}",
                                            options.merge(template_file: path(template)))
      end

      # A snapshot policy and what it covers. tags: selects the volumes and DB instances carrying
      # those tags; volumes: and dbs: name them. snapshot_tags: go on the snapshots; every other
      # keyword is a Ciha::SnapshotPolicy option (keep:, keep_days:, daily:, min:, copy_to:, ...).
      def snapshot_policy(name, tags: {}, volumes: [], dbs: [], clusters: [], snapshot_tags: nil, **policy)
        @policies[name.to_sym] = PolicyDef.new(
          name.to_sym, SnapshotPolicy.new("#{@prefix}-#{name}", tags: snapshot_tags, **policy),
          { tags: tags, volumes: volumes, dbs: dbs, clusters: clusters }
        )
      end

      # An alarm set: file: (JSON in the alarms file format) or set: (a Hash or AlarmSet); topic: an
      # SNS topic name created if missing (default "<prefix>-alarms" unless the set names a topic_arn).
      def alarms(file: nil, set: nil, topic: nil)
        raise ArgumentError, "alarms needs file: or set:" unless file || set

        @alarm_sets << AlarmsDef.new(file ? path(file) : set, topic)
      end

      # A recovery: redeploy stack: with snapshot_param: set to the newest snapshot of from:
      # ("rds:DB-ID" or "ebs:VOLUME-ID"; several as a Hash { param => from }).
      def recover(name, stack:, snapshot_param: nil, from: nil, params: nil)
        pairs = params || { snapshot_param => from }
        resolved = pairs.to_h do |param, source|
          kind, id = source.to_s.split(":", 2)
          raise ArgumentError, "recover #{name}: from: is rds:ID or ebs:ID, not #{source.inspect}" unless id

          [param.to_s, [kind, id]]
        end
        @recoveries[name.to_sym] = RecoverDef.new(name.to_sym, stack.to_sym, resolved)
      end

      # A Ref to another stack's output key (or, without that output, its resource of that logical id).
      def ref(stack, key, resource: key)
        Ref.new(stack.to_sym, key.to_s, resource.to_s)
      end

      # ---- used by the tasks -------------------------------------------------

      def ciha
        @ciha ||= Client.new(**@client_options)
      end

      def stack_def(name)
        @stacks.fetch(name.to_sym) { raise ArgumentError, "no stack #{name} (one of #{@stacks.keys.join(', ')})" }
      end

      def describe(name)
        ciha.stacks.describe(stack_def(name).stack_name)
      end

      def deploy(name, extra_snapshot_parameters = {})
        defn = stack_def(name)
        options = defn.options.merge(parameters: resolve(defn.options.fetch(:parameters, {})))
        options[:snapshot_parameters] = options.fetch(:snapshot_parameters, {}).merge(extra_snapshot_parameters)
        options[:policy] = Stacks.generate_policy(File.read(options[:template_file])) if options[:policy] == :generate
        say "#{defn.stack_name}: deploying #{File.basename(options[:template_file])}"
        ciha.stacks.deploy(defn.stack_name, **options) do |ev|
          say "  #{ev.logical_id} #{ev.status}#{ev.reason ? " (#{ev.reason})" : ''}"
        end
      end

      # value with every Ref, and every { "stack" => name, "resource" | "output" => key } Hash (the
      # env spec's reference), replaced by what it names now.
      def resolve_refs(value)
        case value
        when Ref then value.resolve(self)
        when Array then value.map { |v| resolve_refs(v) }
        when Hash then reference(value) || value.to_h { |k, v| [k, resolve_refs(v)] }
        else value
        end
      end

      def say(line)
        @output.puts(line)
      end

      private

      def reference(hash)
        keys = hash.keys.map(&:to_s).sort
        return nil unless [%w[resource stack], %w[output stack]].include?(keys)

        h = hash.transform_keys(&:to_s)
        key = h["output"] || h["resource"]
        Ref.new(h["stack"].to_sym, key, h["resource"] || key).resolve(self)
      end

      def resolve(parameters)
        parameters.to_h do |key, value|
          value = resolve_refs(value)
          [key.to_s, value.is_a?(Array) ? value.join(",") : value.to_s]
        end
      end

      def path(file)
        File.expand_path(file.to_s, @base_dir)
      end
    end

    # The Rake tasks of an Environment.
    class TaskSet
      include ::Rake::DSL

      def initialize(env)
        @env = env
      end

      def define
        namespace(@env.namespace) do
          define_whoami
          namespace(:stack) { define_stack_tasks }
          namespace(:snapshot) { define_snapshot_tasks }
          namespace(:alarms) { define_alarm_tasks }
          define_recover
        end
        self
      end

      private

      def env
        @env
      end

      # A task taking one argument that can run again in the same rake invocation with another
      # one (rake ci:stack:deploy[network] ci:stack:deploy[master]).
      def rerunnable_task(name, arg, &action)
        task(name, [arg]) do |t, args|
          t.reenable
          action.call(args[arg])
        end
      end

      def names_of(hash)
        hash.keys.join(", ")
      end

      def define_whoami
        desc "Show the AWS identity the #{env.namespace} tasks use"
        task(:whoami) { env.say env.ciha.whoami.to_h.map { |k, v| "#{k}: #{v}" }.join("\n") }
      end

      def define_stack_tasks
        desc "Deploy a stack (#{names_of(env.stacks)}), or all of them in order"
        rerunnable_task(:deploy, :name) do |only|
          (only ? [only] : env.stacks.keys).each do |name|
            d = env.deploy(name)
            env.say "#{env.stack_def(name).stack_name}: #{d.action} #{d.status}"
          end
        end

        desc "Show a stack's status, outputs and parameters (#{names_of(env.stacks)})"
        rerunnable_task(:status, :name) do |only|
          (only ? [only] : env.stacks.keys).each { |name| show_status(name) }
        end

        desc "Delete a stack, after final snapshots of its volumes and databases"
        rerunnable_task(:delete, :name) do |name|
          defn = env.stack_def(name || raise(ArgumentError, "stack:delete needs a stack name"))
          env.ciha.stacks.delete(defn.stack_name, final_snapshots: true) { |ev| env.say "  #{ev.logical_id} #{ev.status}" }
          env.say "#{defn.stack_name}: deleted"
        end
      end

      def show_status(name)
        stack = env.describe(name)
        env.say "#{stack.name}: #{stack.status}#{stack.protected? ? ' (protected)' : ''}"
        stack.outputs.each { |k, v| env.say "  output #{k} = #{v}" }
        stack.parameters.each { |k, v| env.say "  parameter #{k} = #{v}" }
      rescue NotFoundError
        env.say "#{env.stack_def(name).stack_name}: not deployed"
      end

      def define_snapshot_tasks
        { run: "Snapshot and rotate", rotate: "Delete the snapshots no longer kept by",
          list: "List the snapshots of" }.each do |op, text|
          desc "#{text} a snapshot policy (#{names_of(env.policies)}), or all of them"
          rerunnable_task(op, :policy) do |name|
            each_policy(name) { |defn| report(op, defn) }
          end
        end
      end

      def each_policy(name, &block)
        defs = name ? [env.policies.fetch(name.to_sym) { raise ArgumentError, "no snapshot policy #{name}" }] : env.policies.values
        defs.each(&block)
      end

      def report(op, defn)
        dry_run = ENV["DRY_RUN"].to_s =~ /\A(1|true|yes)\z/i ? true : false
        options = op == :list ? {} : { dry_run: dry_run }
        targets = env.resolve_refs(defn.targets)
        report = env.ciha.snapshots.public_send(op, policy: defn.policy, **targets, **options)
        report.each { |item| env.say "  #{item.action} #{item.kind} #{item.target} #{item.snapshot_id}#{item.ok? ? '' : " FAILED #{item.message}"}" }
        env.say "snapshot #{op} #{defn.name}: #{report.size} items, #{report.failures} failures"
        raise report.error || Errors.build("CIHA_ERROR", "#{report.failures} snapshot operations failed") unless report.ok?
      end

      def define_alarm_tasks
        desc "Show what alarms:apply would change"
        task(:plan) { env.alarm_sets.each { |defn| apply_alarms(defn, dry_run: true) } }

        desc "Create, update and delete CloudWatch alarms to match the description"
        task(:apply) { env.alarm_sets.each { |defn| apply_alarms(defn, dry_run: false) } }

        desc "List the alarms under the environment's prefix with their state"
        task(:list) do
          env.ciha.alarms.list("#{env.prefix}-").each { |a| env.say "#{a['name']} #{a['state']}" }
        end
      end

      def apply_alarms(defn, dry_run:)
        source = defn.source
        source = JSON.parse(File.read(source)) if source.is_a?(String)
        source = { "prefix" => "#{env.prefix}-" }.merge(env.resolve_refs(source)) if source.is_a?(Hash)
        set = AlarmSet.coerce(source)
        topic = defn.topic || "#{env.prefix}-alarms"
        plan = env.ciha.alarms.apply(set, topic_arn: env.ciha.alarms.topic(topic), dry_run: dry_run)
        plan.each { |item| env.say "  #{item.action} #{item.name}#{item.ok? ? '' : " FAILED #{item.error}"}" }
        env.say "alarms: #{plan.changes.size} changes#{dry_run ? ' planned' : ''}, #{plan.failures.size} failures"
        raise Errors.build("CIHA_ERROR", "#{plan.failures.size} alarms failed") unless plan.failures.empty?
      end

      def define_recover
        desc "Redeploy a stack from the newest snapshot (#{names_of(env.recoveries)})"
        rerunnable_task(:recover, :name) do |name|
          name || raise(ArgumentError, "recover needs a name (#{names_of(env.recoveries)})")
          defn = env.recoveries.fetch(name.to_sym) { raise ArgumentError, "no recovery #{name}" }
          d = env.deploy(defn.stack, defn.snapshot_parameters)
          env.say "#{env.stack_def(defn.stack).stack_name}: recovered (#{d.action} #{d.status})"
        end
      end
    end
  end
end
