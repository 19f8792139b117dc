# frozen_string_literal: true

require_relative "helper"
require "open3"
require "rbconfig"
require "tmpdir"
require "fileutils"

# gem build bindings/ruby/ciha.gemspec, gem install --local into a fresh GEM_HOME (the extension
# compiled against libciha found with pkg-config), then a call through the installed gem.
class TestGem < Minitest::Test
  include CihaTest

  BUILDDIR = ENV.fetch("CIHA_BUILDDIR", nil)

  def run_cmd(env, *cmd, chdir:)
    out, status = Open3.capture2e(env, *cmd, chdir: chdir)
    assert status.success?, "#{cmd.join(' ')} failed:\n#{out}"
    out
  end

  # A libciha.pc for the build tree: pkg-config finds the library as if it were installed.
  def write_pc(dir)
    File.write(File.join(dir, "libciha.pc"), <<~PC)
      Name: libciha
      Description: libciha from the build tree
      Version: #{Ciha::VERSION}
      Requires.private: jansson
      Cflags: -I#{SRCDIR}/libciha/include -I#{BUILDDIR}/libciha/include
      Libs: -L#{BUILDDIR}/libciha/.libs -lciha
    PC
  end

  def test_gem_build_install_and_use
    skip "CIHA_BUILDDIR is not set" unless BUILDDIR
    Dir.mktmpdir("ciha-gem") do |tmp|
      pc_dir = ENV["CIHA_GEM_PKG_CONFIG_PATH"] || (write_pc(tmp) && tmp)
      env = { "PKG_CONFIG_PATH" => pc_dir, "GEM_HOME" => File.join(tmp, "gems"), "GEM_PATH" => File.join(tmp, "gems"),
              "RUBYLIB" => nil, "HOME" => tmp }
      gem = File.join(tmp, "ciha.gem")
      run_cmd(env, RbConfig.ruby, "-S", "gem", "build", File.join(SRCDIR, "bindings/ruby/ciha.gemspec"), "--output", gem,
              chdir: tmp)
      run_cmd(env, RbConfig.ruby, "-S", "gem", "install", "--local", "--no-document", gem, chdir: tmp)
      installed = Dir[File.join(tmp, "gems/gems/ciha-#{Ciha::VERSION}")]
      assert_equal 1, installed.size
      script = <<~RUBY
        require "ciha"
        c = Ciha::Client.new(region: "us-east-1", endpoint_url: ENV.fetch("CIHA_TEST_ENDPOINT"), credentials: %w[AKIDGEM secret])
        v = c.call("ec2", "CreateVolume", AvailabilityZone: "us-east-1a", Size: 1)["volumeId"]
        puts [Ciha::VERSION, c.whoami.account, v, $LOADED_FEATURES.grep(/native\\.so/).first].join(" ")
      RUBY
      out = run_cmd(env, RbConfig.ruby, "-e", script, chdir: tmp)
      assert_match(/\A#{Regexp.escape(Ciha::VERSION)} 123456789012 vol-\S+ \S+/, out)
      assert_includes out, File.join(tmp, "gems")
    end
  end
end
