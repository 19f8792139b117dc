#!/bin/sh
# bindings/ruby/test/run.sh: `make check` entry for the Ruby gem.
# Runs the minitest suite with the configured ruby against lib/ of the source
# tree and the native module built in the build tree (bindings/ruby/.libs,
# staged as ciha/native.so in a temporary directory), the in-tree libciha and
# the moto server of CIHA_TEST_ENDPOINT. Prints "test_ruby: N passed, N failed".
srcdir="${CIHA_SRCDIR:?CIHA_SRCDIR is not set (run through make check)}"
builddir="${CIHA_BUILDDIR:?CIHA_BUILDDIR is not set (run through make check)}"
ruby="${CIHA_RUBY_BIN:-ruby}"

if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "test_ruby: SKIPPED: CIHA_TEST_ENDPOINT is not set; run tests/run, which starts moto" >&2
	exit 77
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/ciha-ruby.XXXXXX") || exit 1
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/ciha" && cp "$builddir/bindings/ruby/.libs/native.so" "$stage/ciha/native.so" || exit 1

# A sanitizer build of libciha needs its runtimes loaded first into ruby (which has none);
# ruby's own allocations are not ours to report, and ruby manages its own signal stacks.
sanitizers=$(ldd "$builddir/libciha/.libs/libciha.so" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { print $3 }' | tr '\n' ' ')
if [ -n "$sanitizers" ]; then
	LD_PRELOAD="$sanitizers${LD_PRELOAD:+ $LD_PRELOAD}"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:use_sigaltstack=0"  # the interpreter is not ours to leak-check; later options win
	export LD_PRELOAD ASAN_OPTIONS
fi

RUBYLIB="$stage:$srcdir/bindings/ruby/lib${RUBYLIB:+:$RUBYLIB}"
LD_LIBRARY_PATH="$builddir/libciha/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CIHA_RUBY_STAGE="$stage"
export RUBYLIB LD_LIBRARY_PATH CIHA_RUBY_STAGE
"$ruby" -W1 "$srcdir/bindings/ruby/test/runner.rb" "$srcdir/bindings/ruby/test"
