# frozen_string_literal: true

require_relative "helper"

# Client, calls, pages, whoami, error mapping and keyword arguments against moto.
class TestClient < Minitest::Test
  include CihaTest

  def test_call_returns_a_hash_and_paginate_yields_pages
    c = client
    ids = Array.new(3) { volume(c) }
    seen = []
    c.paginate("ec2", "DescribeVolumes", MaxResults: 5) { |page| seen.concat(page.fetch("volumeSet", []).map { |v| v["volumeId"] }) }
    assert_empty ids - seen
    merged = c.call_all("ec2", "DescribeVolumes", MaxResults: 5)
    assert_empty ids - merged["volumeSet"].map { |v| v["volumeId"] }
    one = c.call("ec2", "DescribeVolumes", VolumeId: [ids.first])
    assert_kind_of Hash, one
    assert_equal [ids.first], one["volumeSet"].map { |v| v["volumeId"] }
  end

  def test_paginate_without_a_block_is_a_lazy_enumerator
    prefix = unique("lc")
    c = client
    5.times do |i|
      c.call("autoscaling", "CreateLaunchConfiguration", LaunchConfigurationName: "#{prefix}-#{i}",
                                                         ImageId: "ami-12345678", InstanceType: "t3.micro")
    end
    pages = c.paginate("autoscaling", "DescribeLaunchConfigurations", MaxRecords: 2)
    assert_kind_of Enumerator, pages
    first = pages.next
    assert_equal 2, first["LaunchConfigurations"].size
    assert first.key?("NextToken")
    all = pages.to_a
    assert_operator all.size, :>=, 3
    refute all.last.key?("NextToken")
    names = all.flat_map { |p| p["LaunchConfigurations"].map { |lc| lc["LaunchConfigurationName"] } }
    assert_empty Array.new(5) { |i| "#{prefix}-#{i}" } - names
  end

  def test_whoami_has_readers_and_to_h
    me = client.whoami
    assert_kind_of Ciha::Identity, me
    assert_equal "123456789012", me.account
    assert me.arn.start_with?("arn:aws:sts::")
    assert_equal "static", me.provider
    assert_equal "us-east-1", me.region
    assert_equal me.endpoint, me.to_h[:endpoint]
    assert_equal Encoding::UTF_8, me.arn.encoding
  end

  def test_missing_volume_is_not_found_with_aws_detail
    e = assert_raises(Ciha::NotFoundError) { client.call("ec2", "DeleteVolume", VolumeId: "vol-0123456789abcdef0") }
    assert_kind_of Ciha::Error, e
    assert_kind_of StandardError, e
    assert_equal "CIHA_ENOTFOUND", e.code
    assert_equal "InvalidVolume.NotFound", e.aws_code
    refute_nil e.request_id
    refute_empty e.request_id
    assert_equal 400, e.http_status
    assert_equal "ec2", e.service
    refute e.retryable?
    assert_includes e.message, "vol-0123456789abcdef0"
  end

  def test_bad_service_is_invalid_argument
    e = assert_raises(Ciha::InvalidArgument) { client.call("nosuchservice", "Anything") }
    assert_equal "CIHA_EINVAL", e.code
    assert_nil e.aws_code
    assert_equal 0, e.http_status
  end

  def test_duplicate_is_already_exists
    c = client
    name = unique("sg")
    c.call("ec2", "CreateSecurityGroup", GroupName: name, GroupDescription: "ruby test")
    e = assert_raises(Ciha::AlreadyExistsError) do
      c.call("ec2", "CreateSecurityGroup", GroupName: name, GroupDescription: "ruby test")
    end
    assert_equal "InvalidGroup.Duplicate", e.aws_code
    assert_equal "CIHA_EEXISTS", e.to_h[:code]
  end

  def test_unreachable_endpoint_is_a_network_error_and_retryable
    c = Ciha::Client.new(region: "us-east-1", endpoint_url: "http://127.0.0.1:9", credentials: %w[AKID SECRET],
                         max_attempts: 1)
    e = assert_raises(Ciha::NetworkError) { c.whoami }
    assert_equal "CIHA_ENETWORK", e.code
    assert e.retryable?
  end

  def test_glue_errors_keep_their_own_message
    e = assert_raises(Ciha::InvalidArgument) { Ciha::SnapshotPolicy.from_json("{not json", "p.json") }
    assert_includes e.message, "p.json"
  end

  def test_hierarchy_is_generated_from_code_names
    %w[NotFoundError AlreadyExistsError AuthError ThrottledError TimeoutError StateError AwsError
       InvalidArgument NetworkError UserAbort].each do |name|
      cls = Ciha.const_get(name)
      assert_operator cls, :<, Ciha::Error
      assert cls.code.start_with?("CIHA_E"), name
    end
    assert_equal "CIHA_ENOTFOUND", Ciha::NotFoundError.code
    assert_operator Ciha::Error, :<, StandardError
  end

  def test_unknown_keyword_is_an_argument_error
    assert_raises(ArgumentError) { Ciha::Client.new(regoin: "us-east-1") }
    assert_raises(ArgumentError) { Ciha::SnapshotPolicy.new("p", keep_lats: 3) }
    assert_raises(ArgumentError) { client.stacks.deploy("x", templat: "y") }
    assert_raises(ArgumentError) { client.snapshots.run(policy: Ciha::SnapshotPolicy.new("p", keep: 1), volumess: []) }
    assert_raises(ArgumentError) { Ciha::Client.new(log_level: :loud) }
  end

  def test_encode_shows_the_body_without_sending
    body = Ciha::Client.encode("ec2", "DescribeVolumes", VolumeId: %w[vol-1 vol-2])
    assert_includes body, "Action=DescribeVolumes"
    assert_includes body, "VolumeId.2=vol-2"
  end

  def test_closed_client_refuses_calls_and_native_is_private
    c = client
    c.close
    c.close
    assert c.closed?
    assert_raises(IOError) { c.whoami }
    assert_raises(NameError) { Ciha::Native }
    assert_equal Ciha::VERSION, Ciha::VERSION[/\A\d+\.\d+\.\d+\z/]
  end
end
