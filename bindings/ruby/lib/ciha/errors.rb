# frozen_string_literal: true

module Ciha
  # A libciha failure.
  #
  # code ("CIHA_ENOTFOUND"), message, aws_code ("InvalidVolume.NotFound"), request_id,
  # http_status (0 when there was no response), service ("ec2"), retryable? and result
  # (a partial result such as a Report or a refused Deployment, or nil).
  #
  # The subclasses are generated from the library's code names (ciha_code_name) when
  # "ciha" is loaded. Ruby has single inheritance, so every one of them, InvalidArgument
  # included, is a Ciha::Error (and a StandardError), not an ArgumentError.
  class Error < StandardError
    attr_reader :aws_code, :request_id, :http_status, :service
    attr_accessor :result

    class << self
      # The code name this class stands for.
      def code
        @code || "CIHA_ERROR"
      end
    end

    def initialize(message = nil, code: nil, aws_code: nil, request_id: nil, http_status: 0, service: nil,
                   retryable: false, result: nil)
      super(message)
      @code = code
      @aws_code = aws_code
      @request_id = request_id
      @http_status = http_status
      @service = service
      @retryable = retryable ? true : false
      @result = result
    end

    def code
      @code || self.class.code
    end

    def retryable?
      @retryable
    end

    def to_h
      { code: code, message: message, aws_code: aws_code, request_id: request_id, http_status: http_status,
        service: service, retryable: retryable? }
    end
  end

  # Ruby names of the code names; a code the library adds later still gets a class
  # (CIHA_EFOO -> FooError) without a release of this gem.
  RUBY_ERROR_NAMES = {
    "CIHA_ENOMEM" => "OutOfMemoryError",
    "CIHA_EINVAL" => "InvalidArgument",
    "CIHA_ENOTFOUND" => "NotFoundError",
    "CIHA_EEXISTS" => "AlreadyExistsError",
    "CIHA_EAUTH" => "AuthError",
    "CIHA_ETHROTTLED" => "ThrottledError",
    "CIHA_ETIMEOUT" => "TimeoutError",
    "CIHA_ENETWORK" => "NetworkError",
    "CIHA_ESTATE" => "StateError",
    "CIHA_EAWS" => "AwsError",
    "CIHA_EUSER" => "UserAbort",
    "CIHA_EUNSUPPORTED" => "UnsupportedError",
    "CIHA_EAGAIN" => "NotReadyError"
  }.freeze
  private_constant :RUBY_ERROR_NAMES

  # Exception classes by numeric code and by code name.
  module Errors
    BY_CODE = {}
    BY_NAME = {}
    NOT_ERRORS = %w[CIHA_OK CIHA_ITEROVER].freeze

    class << self
      def class_name(code_name)
        RUBY_ERROR_NAMES.fetch(code_name) do
          "#{code_name.sub(/\ACIHA_E/, '').downcase.capitalize}Error"
        end
      end

      def codes
        return enum_for(:codes) unless block_given?

        code = -1
        while (name = Native.ciha_code_name(code))
          yield code, name
          code -= 1
        end
      end

      def define_all
        codes do |code, name|
          next if NOT_ERRORS.include?(name)

          cls = name == "CIHA_ERROR" ? Error : define(name, code)
          BY_CODE[code] = cls
          BY_NAME[name] = cls
        end
        BY_CODE.freeze
        BY_NAME.freeze
      end

      # Called by the native module to build the exception for a failed call.
      def from_native(code, name, message, aws_code, request_id, service, http_status, retryable, partial)
        BY_CODE.fetch(code, Error).new(message, code: name, aws_code: aws_code, request_id: request_id,
                                                service: service, http_status: http_status,
                                                retryable: retryable, result: partial)
      end

      # An exception of the class for code_name raised by the Ruby layer itself.
      def build(code_name, message, **fields)
        BY_NAME.fetch(code_name, Error).new(message, code: code_name, **fields)
      end

      private

      def define(name, code)
        cls = Class.new(Error)
        cls.instance_variable_set(:@code, name)
        cls.instance_variable_set(:@description, Native.ciha_strerror(code))
        cls.define_singleton_method(:description) { @description }
        Ciha.const_set(class_name(name), cls)
      end
    end
  end

  Errors.define_all
  Native.ciha_set_error_factory(Errors.method(:from_native))
end
