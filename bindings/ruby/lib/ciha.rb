# frozen_string_literal: true

# libciha for Ruby: AWS calls, snapshots, stacks, alarms and PagerDuty for CI high availability.
#
#   require "ciha"
#   client = Ciha::Client.new(region: "eu-west-1")
#   puts client.whoami.arn
#   client.paginate("ec2", "DescribeVolumes") { |page| ... }
#
# Ciha::Native (the SWIG module) is private; everything public is defined here.

require "json"
require "pathname"
require "ciha/native"

module Ciha
  VERSION = Native.ciha_version.freeze

  # Once per process and never undone: clients may still be freed while Ruby exits.
  Native.ciha_global_init(Native::CIHA_GLOBAL_DEFAULT)
end

require "ciha/record"
require "ciha/errors"
require "ciha/snapshots"
require "ciha/stacks"
require "ciha/alarms"
require "ciha/client"

module Ciha
  private_constant :Native
end
