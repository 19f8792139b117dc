# frozen_string_literal: true

# The ciha gem: lib/ (the Ruby API) and the SWIG wrapper built by ext/extconf.rb against an
# installed libciha. The version is the library's: AC_INIT in the source tree's configure.ac,
# else what pkg-config says of the installed libciha.
here = __dir__
# RubyGems 3.3 reads s.files from the current directory: `gem build bindings/ruby/ciha.gemspec`
# works from anywhere and writes ciha-VERSION.gem next to this file (or to --output PATH).
Dir.chdir(here) unless File.identical?(Dir.pwd, here)

unless File.exist?("ciha_wrap.c")
  raise "bindings/ruby/ciha_wrap.c is missing: run `make` in a build directory (it writes the wrapper here) first"
end

version = begin
  File.read(File.join(here, "../../configure.ac"))[/AC_INIT\(\[libciha\],\s*\[([^\]]+)\]/, 1]
rescue SystemCallError
  nil
end
version ||= IO.popen(%w[pkg-config --modversion libciha], &:read).strip

Gem::Specification.new do |s|
  s.name = "ciha"
  s.version = version
  s.summary = "libciha for Ruby: AWS calls, snapshots, stacks, alarms and PagerDuty for CI high availability"
  s.description = "Ruby bindings of libciha (signed, retried AWS query/EC2 calls; EBS and RDS snapshots under " \
                  "retention policies; CloudFormation deploys through change sets; CloudWatch alarms to " \
                  "PagerDuty) with Rake tasks. Builds against an installed libciha found with pkg-config."
  s.authors = ["libciha authors"]
  s.license = "MIT"
  s.homepage = "https://example.invalid/libciha"
  s.required_ruby_version = ">= 2.7"
  s.files = Dir["lib/**/*.rb", "ext/extconf.rb", "ciha_wrap.c", "README.md"]
  s.extensions = ["ext/extconf.rb"]
  s.require_paths = ["lib"]
end
