# frozen_string_literal: true

module Ciha
  # A retention policy.
  #
  #   Ciha::SnapshotPolicy.new("daily", keep: 7, tags: { "Backup" => "daily" })
  #
  # keep: the newest N; keep_days:; daily:/weekly:/monthly: (grandfather-father-son); min: never fewer;
  # interval_hours: take no new snapshot before that; copy_to: a region or
  # { region:, keep:, kms_key_id: }.
  class SnapshotPolicy
    def initialize(name, keep: nil, keep_days: nil, daily: nil, weekly: nil, monthly: nil, min: nil,
                   interval_hours: nil, tags: nil, copy_to: nil)
      @handle = Native.ciha_snapshot_policy_new(name.to_s)
      Native.ciha_snapshot_policy_set_keep_last(@handle, keep) if keep
      Native.ciha_snapshot_policy_set_keep_days(@handle, keep_days) if keep_days
      Native.ciha_snapshot_policy_set_keep_gfs(@handle, daily || 0, weekly || 0, monthly || 0) if daily || weekly || monthly
      Native.ciha_snapshot_policy_set_min(@handle, min) if min
      Native.ciha_snapshot_policy_set_interval(@handle, (interval_hours * 3600).to_i) if interval_hours
      (tags || {}).each { |key, value| Native.ciha_snapshot_policy_add_tag(@handle, key.to_s, value.to_s) }
      set_copy(copy_to) if copy_to
    end

    # from_json(text, source), from_file(path), coerce(policy | Hash | JSON text | path): the CLI's
    # policy file format.
    extend JsonDocument

    def self.native_from_json(text, source)
      Native.ciha_snapshot_policy_from_json(text, source)
    end

    def name
      Native.ciha_snapshot_policy_name(@handle)
    end

    def to_h
      JSON.parse(to_json)
    end

    def to_json(*_args)
      Native.ciha_snapshot_policy_to_json(@handle)
    end

    def inspect
      "#<Ciha::SnapshotPolicy #{to_json}>"
    end

    # The native handle (private to the Ciha classes).
    def native
      @handle
    end

    private

    def set_copy(copy_to)
      copy = copy_to.is_a?(Hash) ? copy_to.transform_keys(&:to_sym) : { region: copy_to.to_s }
      Native.ciha_snapshot_policy_set_copy(@handle, copy.fetch(:region), copy.fetch(:keep, 0), copy[:kms_key_id])
    end
  end

  # Progress while waiting: kind, target, snapshot_id, state, progress (-1 when unknown).
  class SnapshotEvent < Record
    fields :kind, :target, :snapshot_id, :state, :progress
  end

  # One decision of a run: action, kind, target, snapshot_id, reason, ok?, planned?, error (a code
  # name or nil), message, created.
  class ReportItem < Record
    fields :action, :kind, :target, :snapshot_id, :reason, :error, :message, :created
    flags :ok, :planned
  end

  # The plan or outcome of a snapshot operation: an Enumerable of ReportItem.
  #
  # failures (count), failed (the failed items), ok?, error (the exception of a partial failure,
  # or nil), to_h, to_json.
  class Report
    include ItemList

    KINDS = { 1 => "ebs", 2 => "rds", 3 => "rds-cluster" }.freeze

    attr_reader :error

    def initialize(handle, error = nil)
      @handle = handle
      @error = error
      @items = Array.new(Native.ciha_snapshot_report_count(handle)) { |i| item(i) }.freeze
    end

    def failures
      Native.ciha_snapshot_report_failures(@handle)
    end

    def failed
      reject(&:ok?)
    end

    def ok?
      failures.zero? && error.nil?
    end

    def by_action(action)
      select { |item| item.action == action.to_s }
    end

    def to_json(*_args)
      Native.ciha_snapshot_report_json(@handle)
    end

    def inspect
      "#<Ciha::Report #{size} items, #{failures} failures>"
    end

    private

    def item(i)
      outcome = Native.ciha_snapshot_report_outcome(@handle, i)
      settled = [0, Native::CIHA_EAGAIN].include?(outcome)
      ReportItem.new(action: Native.ciha_snapshot_report_action(@handle, i),
                     kind: KINDS.fetch(Native.ciha_snapshot_report_kind(@handle, i), "unknown"),
                     target: Native.ciha_snapshot_report_target(@handle, i),
                     snapshot_id: Native.ciha_snapshot_report_snapshot_id(@handle, i),
                     reason: Native.ciha_snapshot_report_reason(@handle, i),
                     ok: settled, planned: outcome == Native::CIHA_EAGAIN,
                     error: settled ? nil : Native.ciha_code_name(outcome),
                     message: Native.ciha_snapshot_report_message(@handle, i),
                     created: Native.ciha_snapshot_report_created(@handle, i))
    end
  end

  # client.snapshots: every operation takes volumes:, dbs:, clusters:, tags: and policy:, and yields
  # SnapshotEvent progress to its block while it waits.
  class Snapshots
    TAG_KINDS = { "ebs" => 1 << 1, "rds" => 1 << 2, "rds-cluster" => 1 << 3 }.freeze

    def initialize(client)
      @client = client
    end

    # Snapshot each target unless its newest snapshot is younger than the policy's interval.
    def take(**options, &progress)
      operate("take", **options, &progress)
    end

    # Delete what the policy no longer keeps (only snapshots libciha took under it).
    def rotate(**options, &progress)
      operate("rotate", **options, &progress)
    end

    # Take, then rotate.
    def run(**options, &progress)
      operate("run", **options, &progress)
    end

    # Copy the newest snapshots to the policy's copy region and rotate the copies there.
    def copy(**options, &progress)
      operate("copy", **options, &progress)
    end

    # The targets' snapshots (managed or not) as a Report of "list" items.
    def list(policy:, volumes: nil, dbs: nil, clusters: nil, tags: nil, tag_kinds: nil)
      operate("list", policy: policy, volumes: volumes, dbs: dbs, clusters: clusters, tags: tags,
                      tag_kinds: tag_kinds)
    end

    # A new volume from a snapshot id (or a volume id: its newest snapshot); returns the volume id.
    def restore_volume(source, availability_zone, wait_timeout: 0, poll: nil, &progress)
      restore("volume", source, availability_zone, wait_timeout, poll, progress)
    end

    # A new DB instance from a manual snapshot (or a DB id: its newest); returns the DB id.
    def restore_db(source, new_db_id, wait_timeout: 0, poll: nil, &progress)
      restore("db", source, new_db_id, wait_timeout, poll, progress)
    end

    # Seconds since the newest completed snapshot of target (published as a metric with publish: true).
    def age(target, publish: false)
      Native.ciha_probe_snapshot_age(@client.native, target, Util.flag(publish))
    end

    private

    def operate(op, policy:, volumes: nil, dbs: nil, clusters: nil, tags: nil, tag_kinds: nil, dry_run: false,
                wait: false, wait_timeout: 0, poll: nil, now: 0, concurrency: 0, pre_hook: nil, post_hook: nil,
                &progress)
      selector = selector(volumes, dbs, clusters, tags, tag_kinds)
      callback = Util.event_callback(SnapshotEvent, progress)
      handle = Native.ciha_glue_snapshot(op, @client.native, selector, SnapshotPolicy.coerce(policy).native,
                                         Util.flag(dry_run), Util.flag(wait), wait_timeout.to_i, Util.ms(poll),
                                         now.to_i, concurrency.to_i, pre_hook, post_hook, callback)
      Report.new(handle)
    rescue Error => e
      raise if e.result.nil?

      Report.new(e.result, e) # a partial failure: the items tell which
    end

    def restore(kind, source, where, wait_timeout, poll, progress)
      Native.ciha_glue_snapshot_restore(kind, @client.native, source, where, wait_timeout.to_i, Util.ms(poll),
                                        Util.event_callback(SnapshotEvent, progress))
    end

    def selector(volumes, dbs, clusters, tags, tag_kinds)
      sel = Native.ciha_snapshot_selector_new
      Util.listed(volumes).each { |id| Native.ciha_snapshot_selector_add_volume(sel, id) }
      Util.listed(dbs).each { |id| Native.ciha_snapshot_selector_add_db(sel, id) }
      Util.listed(clusters).each { |id| Native.ciha_snapshot_selector_add_cluster(sel, id) }
      mask = Util.listed(tag_kinds).sum { |kind| TAG_KINDS.fetch(kind.to_s) }
      (tags || {}).each { |key, value| Native.ciha_snapshot_selector_add_tag(sel, key.to_s, value.to_s, mask) }
      sel
    end
  end
end
