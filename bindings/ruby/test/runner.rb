# frozen_string_literal: true

# Runs every test/test_*.rb with minitest and prints "test_ruby: N passed, N failed" last.
require "minitest"

module Minitest
  # The one-line summary the project's test command adds up.
  class CihaSummary < AbstractReporter
    def initialize(io)
      super()
      @io = io
      @passed = 0
      @failed = 0
      @skipped = 0
    end

    def record(result)
      if result.skipped?
        @skipped += 1
      elsif result.passed?
        @passed += 1
      else
        @failed += 1
      end
    end

    def report
      skipped = @skipped.zero? ? "" : " (#{@skipped} skipped)"
      @io.puts "test_ruby: #{@passed} passed, #{@failed + @skipped} failed#{skipped}"
    end

    def passed?
      @failed.zero? && @skipped.zero?
    end
  end

  def self.plugin_ciha_summary_init(options)
    reporter << CihaSummary.new(options[:io])
  end
end
Minitest.extensions << "ciha_summary"

dir = ARGV.shift || __dir__
$LOAD_PATH.unshift(dir)
Dir[File.join(dir, "test_*.rb")].sort.each { |file| require file }
exit(Minitest.run(ARGV) ? 0 : 1)
