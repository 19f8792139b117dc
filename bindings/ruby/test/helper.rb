# frozen_string_literal: true

# Shared pieces of the Ruby suite: the moto endpoint, clients, unique names, a PagerDuty receiver.
require "minitest"
require "securerandom"
require "json"
require "net/http"
require "ciha"

module CihaTest
  SECRET = "moto-secret-DO-NOT-LOG-0123456789"
  ENDPOINT = ENV.fetch("CIHA_TEST_ENDPOINT", "")
  SRCDIR = ENV.fetch("CIHA_SRCDIR") { File.expand_path("../../..", __dir__) }
  TEMPLATE = <<~YAML
    Parameters:
      Env: {Type: String}
    Resources:
      Topic:
        Type: AWS::SNS::Topic
        Properties:
          TopicName: !Sub '${Env}-builds'
    Outputs:
      TopicArn: {Value: !Ref Topic}
  YAML

  module_function

  def client(**options)
    Ciha::Client.new(region: "us-east-1", endpoint_url: ENDPOINT, credentials: ["AKIDRUBYTEST", SECRET], **options)
  end

  def unique(prefix)
    "#{prefix}-#{SecureRandom.hex(4)}"
  end

  def volume(client, size: 1)
    client.call("ec2", "CreateVolume", AvailabilityZone: "us-east-1a", Size: size)["volumeId"]
  end

  # tests/tools/pdreceiver.py on a free port, stopped after the block.
  def with_pdreceiver
    io = IO.popen(["python3", File.join(SRCDIR, "tests/tools/pdreceiver.py"), "--max-seconds", "120"])
    port = io.gets.to_s[/PORT (\d+)/, 1] or raise "pdreceiver.py did not start"
    io.gets # "PID n"
    yield "http://127.0.0.1:#{port}"
  ensure
    if io
      Process.kill("TERM", io.pid)
      io.close
    end
  end

  def get_json(url)
    JSON.parse(Net::HTTP.get(URI(url)))
  end
end
