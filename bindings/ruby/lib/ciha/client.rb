# frozen_string_literal: true

module Ciha
  # Who the credentials are: account, arn, user_id, provider, region, endpoint.
  class Identity < Record
    fields :account, :arn, :user_id, :provider, :region, :endpoint
  end

  # A client for AWS calls. Not thread-safe: use one per thread.
  #
  #   client = Ciha::Client.new(region: "eu-west-1", endpoint_url: "http://127.0.0.1:5000",
  #                             credentials: ["AKID", "SECRET"], logger: ->(level, sub, msg) { warn msg })
  #
  # credentials: [access_key_id, secret_access_key, session_token] or a callable returning such
  # an array (or a Hash with :access_key_id, :secret_access_key, :session_token, :expiration),
  # asked each time keys are needed. logger is called as logger.call(level, subsystem, message);
  # messages never hold secrets.
  class Client
    attr_reader :snapshots, :stacks, :agents, :alarms, :probes

    def initialize(region: nil, profile: nil, endpoint_url: nil, credentials: nil, max_attempts: 0, timeout: nil,
                   connect_timeout: nil, retry_mode: nil, user_agent_suffix: nil, ca_bundle: nil, config_file: nil,
                   credentials_file: nil, logger: nil, log_level: :info)
      provider, @credentials_cb = credentials_provider(credentials)
      @logger_cb = Util.callback(logger)
      @handle = Native.ciha_glue_client_new(region, profile, endpoint_url, provider, max_attempts.to_i,
                                            Util.ms(timeout), Util.ms(connect_timeout), retry_mode,
                                            user_agent_suffix, ca_bundle, config_file, credentials_file,
                                            @logger_cb, Util.log_level(log_level))
      @snapshots = Snapshots.new(self)
      @stacks = Stacks.new(self)
      @agents = Agents.new(self)
      @alarms = Alarms.new(self)
      @probes = Probes.new(self)
    end

    # Free the native client now instead of at garbage collection. Safe to call twice.
    def close
      @handle = nil
      nil
    end

    def closed?
      @handle.nil?
    end

    # The native handle (private to the Ciha classes).
    def native
      @handle or raise IOError, "the client is closed"
    end

    def region
      Native.ciha_client_region(native)
    end

    # The endpoint URL used for service ("ec2", "sts", ...).
    def endpoint(service)
      Native.ciha_client_endpoint(native, service.to_s)
    end

    def last_request_id
      Native.ciha_client_last_request_id(native)
    end

    def last_attempts
      Native.ciha_client_last_attempts(native)
    end

    # Call any action by name; params use the wire names (VolumeId: ..., Filters: [...]). Returns a Hash.
    def call(service, action, **params)
      Util.parse(Native.ciha_glue_call("call", native, service.to_s, action.to_s, Util.dump(params)))
    end

    # Every page of an action merged into one Hash (lists concatenated, tokens removed).
    def call_all(service, action, **params)
      Util.parse(Native.ciha_glue_call("all", native, service.to_s, action.to_s, Util.dump(params)))
    end

    # Yields each result page (NextToken / Marker / NextMarker followed lazily); without a block
    # returns an Enumerator.
    def paginate(service, action, **params)
      return enum_for(:paginate, service, action, **params) unless block_given?

      handle = native # the pager borrows the client: keep it alive while paging
      pager = Native.ciha_glue_pager_new(handle, service.to_s, action.to_s, Util.dump(params))
      while (page = Native.ciha_glue_pager_next(pager))
        yield JSON.parse(page)
      end
      nil
    end

    # The request body a call would send (nothing is sent).
    def self.encode(service, action, **params)
      Util.parse(Native.ciha_glue_call("encode", nil, service.to_s, action.to_s, Util.dump(params)))
    end

    # STS GetCallerIdentity plus where the keys came from, as an Identity.
    def whoami
      id = Native.ciha_client_whoami(native)
      Identity.new(account: Native.ciha_identity_account(id), arn: Native.ciha_identity_arn(id),
                   user_id: Native.ciha_identity_user_id(id), provider: Native.ciha_identity_provider(id),
                   region: Native.ciha_identity_region(id), endpoint: Native.ciha_identity_endpoint(id))
    end

    def inspect
      "#<Ciha::Client #{closed? ? 'closed' : region}>"
    end

    private

    KEY_NAMES = %i[access_key_id secret_access_key session_token expiration].freeze
    private_constant :KEY_NAMES

    # [provider, the native callback kept alive with the client] for a credentials: argument.
    def credentials_provider(credentials)
      return [nil, nil] if credentials.nil?
      return static_provider(credentials) unless credentials.respond_to?(:call)

      cb = Util.callback(lambda do |_kind, _a, _b|
        keys = credentials.call
        fields = keys.is_a?(Hash) ? keys.transform_keys(&:to_sym) : KEY_NAMES.zip(Array(keys)).to_h
        JSON.generate(fields.slice(*KEY_NAMES).compact)
      end)
      [Native.ciha_callback_credentials_provider(cb), cb]
    end

    def static_provider(keys)
      akid, secret, token = Array(keys)
      [Native.ciha_credentials_provider_new_static(akid, secret, token), nil]
    end
  end
end
