#!/bin/sh
# bindings/python/tests/run.sh: `make check` entry for the Python package.
# Runs the suite with the configured interpreter against the package staged in
# the build tree (bindings/python/stage) and the in-tree libciha, with pytest
# when that interpreter has it, else with tests/runner.py. Prints
# "test_python: N passed, N failed".
srcdir="${CIHA_SRCDIR:?CIHA_SRCDIR is not set (run through make check)}"
builddir="${CIHA_BUILDDIR:?CIHA_BUILDDIR is not set (run through make check)}"
py="${CIHA_PYTHON_BIN:-python3}"

if [ -z "${CIHA_TEST_ENDPOINT:-}" ] && [ -z "${CIHA_TEST_LIVE:-}" ]; then
	echo "test_python: SKIPPED: CIHA_TEST_ENDPOINT is not set; run tests/run, which starts moto" >&2
	exit 77
fi

PYTHONPATH="$builddir/bindings/python/stage${PYTHONPATH:+:$PYTHONPATH}"
LD_LIBRARY_PATH="$builddir/libciha/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PYTHONDONTWRITEBYTECODE=1
CIHA_EXAMPLES="$srcdir/examples/python"
export PYTHONPATH LD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE CIHA_EXAMPLES
# A sanitizer build: the interpreter is not instrumented, so the runtimes must be
# loaded first; Python's own allocations at exit are not ours to report.
san=$(ldd "$builddir/libciha/.libs/libciha.so" 2>/dev/null | awk '/lib(asan|ubsan)\.so/ { print $3 }' | tr '\n' ' ')
if [ -n "$san" ]; then
	LD_PRELOAD="$san${LD_PRELOAD:+ $LD_PRELOAD}"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"  # the interpreter and its children are not ours to leak-check; later options win
	export LD_PRELOAD ASAN_OPTIONS
fi
exec "$py" "$srcdir/bindings/python/tests/runner.py" "$srcdir/bindings/python/tests"
