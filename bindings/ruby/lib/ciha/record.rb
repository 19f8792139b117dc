# frozen_string_literal: true

require "json"

module Ciha
  # A read-only value whose readers are the keys of a Hash; to_h gives the Hash back.
  #
  # Subclasses name their fields (`fields :account, :arn`) and get a reader for
  # each, plus a `name?` reader for boolean fields declared with `flags`.
  class Record
    class << self
      def fields(*names)
        @fields = (@fields || []) + names
        names.each { |name| define_method(name) { @fields[name] } }
      end

      def flags(*names)
        fields(*names)
        names.each { |name| define_method(:"#{name}?") { @fields[name] ? true : false } }
      end

      def field_names
        @fields || []
      end
    end

    def initialize(fields = {})
      @fields = fields.transform_keys(&:to_sym).freeze
    end

    def [](key)
      @fields[key.to_sym]
    end

    def to_h
      @fields.dup
    end

    def to_json(*args)
      @fields.to_json(*args)
    end

    # A record of undeclared fields (Record.new(hash)) reads each key as a method too.
    def method_missing(name, *args)
      return super unless args.empty? && @fields.key?(name)

      @fields[name]
    end

    def respond_to_missing?(name, include_private = false)
      @fields.key?(name) || super
    end

    def ==(other)
      other.instance_of?(self.class) && other.to_h == to_h
    end
    alias eql? ==

    def hash
      [self.class, @fields].hash
    end

    def inspect
      inner = @fields.map { |k, v| "#{k}=#{v.inspect}" }.join(", ")
      "#<#{self.class.name} #{inner}>"
    end
    alias to_s inspect
  end

  # Class methods of a value held as a native handle made from a JSON document (its file format):
  # from_json, from_file and coerce. The class defines native_from_json(text, source).
  module JsonDocument
    def from_json(text, source = "<json>")
      allocate.tap { |value| value.instance_variable_set(:@handle, native_from_json(text, source)) }
    end

    def from_file(path)
      from_json(File.read(path), path.to_s)
    end

    # A value from one of its own, a Hash in the file format, JSON text or (Pathname, or a String
    # not starting with "{") a file path.
    def coerce(value)
      case value
      when self then value
      when Hash then from_json(JSON.generate(value), "<hash>")
      when Pathname then from_file(value)
      when String then value.lstrip.start_with?("{") ? from_json(value) : from_file(value)
      else raise TypeError, "#{name} takes a #{name}, a Hash, JSON text or a path, not #{value.class}"
      end
    end
  end

  # The items of a native result (Report, Plan) as an Enumerable, and the result as JSON.
  # The class sets @items and defines to_json.
  module ItemList
    include Enumerable

    def each(&block)
      return enum_for(:each) { size } unless block

      @items.each(&block)
      self
    end

    def size
      @items.size
    end
    alias length size

    def [](index)
      @items[index]
    end

    def to_h
      JSON.parse(to_json)
    end
  end

  # Small helpers shared by the Ciha classes (not part of the API).
  module Util
    LOG_LEVELS = { "none" => 0, "error" => 1, "warn" => 2, "warning" => 2, "info" => 3, "debug" => 4,
                   "trace" => 5 }.freeze

    module_function

    def parse(text)
      text.nil? ? nil : JSON.parse(text)
    end

    def dump(value)
      value.nil? ? nil : JSON.generate(value)
    end

    # A native callback around a callable taking (a, b, c), or nil.
    def callback(callable)
      callable && Native.ciha_callback_new(callable)
    end

    # A native callback for JSON events: the block gets wrap.from(hash). Without a block
    # the callback still runs at every event or poll, so that Ctrl-C stops a wait there.
    def event_callback(wrap, block)
      return callback(->(_kind, _text, _unused) { false }) unless block

      callback(lambda do |_kind, text, _unused|
        block.call(wrap.new(JSON.parse(text)))
        false
      end)
    end

    # Seconds (nil: the library default) as the milliseconds the C API takes.
    def ms(seconds)
      seconds.nil? ? 0 : (seconds * 1000).to_i
    end

    def flag(value)
      value ? 1 : 0
    end

    def log_level(level)
      return level if level.is_a?(Integer)

      LOG_LEVELS.fetch(level.to_s.downcase) do
        raise ArgumentError, "unknown log level #{level.inspect} (one of #{LOG_LEVELS.keys.join(', ')})"
      end
    end

    def listed(value)
      return [] if value.nil?

      value.is_a?(String) ? [value] : Array(value)
    end

    def json_text(value)
      value.is_a?(String) ? value : JSON.generate(value)
    end
  end
  private_constant :Util
end
