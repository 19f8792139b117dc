# frozen_string_literal: true

# Builds Ciha::Native (ciha/native.so) from the shipped SWIG wrapper against an installed libciha
# found with pkg-config (set PKG_CONFIG_PATH for a libciha under another prefix). SWIG is not needed.
require "mkmf"

wrapper_dir = File.expand_path("..", __dir__)
unless File.exist?(File.join(wrapper_dir, "ciha_wrap.c"))
  abort "ciha_wrap.c is missing next to ext/: build the gem from a libciha source tree after `make` or from a release"
end

abort "libciha not found: install it (with its .pc file) or set PKG_CONFIG_PATH" unless pkg_config("libciha")
abort "jansson not found with pkg-config (libjansson-dev)" unless pkg_config("jansson")
abort "ciha.h not usable with the flags pkg-config gave" unless have_header("ciha.h")
abort "libciha cannot be linked" unless have_func("ciha_version", "ciha.h")

# A libciha outside the linker's default directories is found again at run time.
libdir = pkg_config("libciha", "variable=libdir").to_s
unless libdir.empty? || %w[/usr/lib /usr/lib64 /lib /lib64].include?(libdir) || libdir.start_with?("/usr/lib/#{RbConfig::CONFIG['arch']}")
  $LDFLAGS << " -Wl,-rpath,#{libdir}"
end
$CFLAGS << " -fno-strict-aliasing"
$srcs = ["ciha_wrap.c"]
$VPATH << wrapper_dir
create_makefile("ciha/native")
