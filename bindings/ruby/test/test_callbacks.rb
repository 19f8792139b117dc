# frozen_string_literal: true

require_relative "helper"

# Blocks and callables called from C: the logger, credentials, and what they raise or jump with.
class TestCallbacks < Minitest::Test
  include CihaTest

  def test_logger_gets_lines_without_secrets
    lines = []
    c = client(logger: ->(level, subsystem, message) { lines << [level, subsystem, message] }, log_level: :trace)
    c.whoami
    assert(lines.any? { |_, s, _| s == "http" })
    assert_empty(lines.map(&:first).uniq - %w[ERROR WARN INFO DEBUG TRACE])
    lines.each { |_, _, m| refute_includes m, SECRET }
    signed = lines.map(&:last).grep(/Signature=/)
    refute_empty signed
    signed.each { |m| assert_includes m, "Signature=[redacted]" }
  end

  def test_exception_raised_in_the_logger_comes_back_unchanged
    boom = KeyError.new("from the logger")
    c = client(logger: ->(_level, subsystem, _message) { raise boom if subsystem == "http" }, log_level: :debug)
    caught = assert_raises(KeyError) { c.whoami }
    assert_same boom, caught
    assert_match(/test_callbacks\.rb/, caught.backtrace.first)
    quiet = client
    assert_equal "123456789012", quiet.whoami.account # nothing left pending for the next call
  end

  def test_credentials_callable_supplies_keys_and_its_exception_comes_back
    calls = 0
    c = client(credentials: lambda {
      calls += 1
      ["AKIDFROMCALLABLE", SECRET, nil]
    })
    assert_equal "delegate", c.whoami.provider
    assert_operator calls, :>=, 1
    hashed = client(credentials: -> { { access_key_id: "AKIDHASH", secret_access_key: SECRET } })
    assert_equal "delegate", hashed.whoami.provider

    vault_down = Class.new(StandardError)
    down = vault_down.new("vault unreachable")
    failing = client(credentials: -> { raise down })
    assert_same down, assert_raises(vault_down) { failing.whoami }
  end

  def test_throw_and_return_leave_through_the_c_call
    c = client(credentials: -> { throw :no_keys, :thrown })
    assert_equal :thrown, catch(:no_keys) { c.whoami }
    assert_equal :returned, returning_from_the_logger
  end

  def test_a_credentials_callable_returning_nonsense_is_an_auth_error
    c = client(credentials: -> { 42 })
    assert_raises(Ciha::AuthError) { c.whoami }
  end

  private

  def returning_from_the_logger
    c = client(logger: proc { |*_| return :returned }, log_level: :debug)
    c.whoami
    :not_returned
  end
end
