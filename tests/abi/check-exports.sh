#!/usr/bin/env bash
# check-exports.sh: the built libciha.so exports exactly the public API.
# - only ciha_* symbols (and the version node CIHA_0.1) are exported, all at CIHA_0.1;
# - every CIHA_EXTERN function of the public headers is exported, and nothing else;
# - the uninstalled libciha.pc names its dependencies and they resolve.
# Builds nothing. Needs CIHA_BUILDDIR and CIHA_SRCDIR (set by `make check`).
set -euo pipefail

srcdir="${CIHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
builddir="${CIHA_BUILDDIR:-$srcdir}"
lib="$builddir/libciha/.libs/libciha.so"
pcdir="$builddir/libciha"
version_node="CIHA_0.1"

passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	printf 'not ok: %s\n' "$1" >&2
	shift
	if [ $# -gt 0 ]; then
		printf '    %s\n' "$@" >&2
	fi
}

# Pass when the named list (one item per line) is empty; else print it as the offenders.
expect_none() {
	local what="$1" offenders="$2"
	if [ -z "$offenders" ]; then
		pass
	else
		# shellcheck disable=SC2086
		fail "$what" $offenders
	fi
}

if [ ! -f "$lib" ]; then
	echo "check-exports: $lib not found (build the library first; CIHA_BUILDDIR=$builddir)" >&2
	exit 99
fi

# name@@VERSION (or name@VERSION) per exported symbol, the version node alone.
exported_raw="$(nm -D --defined-only "$lib" | awk '{ print $NF }' | sort -u)"
exported="$(printf '%s\n' "$exported_raw" | sed 's/@.*//' | grep -vx "$version_node" | sort -u)"
declared="$(cat "$srcdir"/libciha/include/ciha.h "$srcdir"/libciha/include/ciha/*.h |
	tr '\n' ' ' | grep -o 'CIHA_EXTERN([^)]*)[[:space:]]*ciha_[a-z0-9_]*' |
	sed 's/.*)[[:space:]]*//' | sort -u)"

if [ -z "$declared" ]; then
	echo "check-exports: no CIHA_EXTERN declarations found under $srcdir/libciha/include" >&2
	exit 99
fi

expect_none "symbols exported outside the ciha_ namespace" \
	"$(printf '%s\n' "$exported" | grep -v '^ciha_[a-z0-9]' || true)"
expect_none "public functions declared in the headers but not exported" \
	"$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))"
expect_none "exported symbols declared in no public header (internal or forgotten)" \
	"$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))"
expect_none "exported symbols not bound to version node $version_node" \
	"$(printf '%s\n' "$exported_raw" | grep -vx "$version_node" | grep -v "@@$version_node\$" || true)"

# Requires.private must name the libraries libciha links privately (more may follow).
requires_private="$(PKG_CONFIG_PATH="$pcdir" pkg-config --print-requires-private libciha | awk '{ print $1 }' | sort | tr '\n' ' ')"
missing_private=""
for dep in libcurl libcrypto expat; do
	case " $requires_private" in
	*" $dep "*) ;;
	*) missing_private="$missing_private $dep" ;;
	esac
done
if [ -z "$missing_private" ] && PKG_CONFIG_PATH="$pcdir" pkg-config --exists --static libciha; then
	pass
else
	fail "libciha.pc Requires.private is [$requires_private]: missing [$missing_private] or not resolvable"
fi

requires="$(PKG_CONFIG_PATH="$pcdir" pkg-config --print-requires libciha | awk '{ print $1 }' | tr '\n' ' ')"
libs="$(PKG_CONFIG_PATH="$pcdir" pkg-config --libs-only-l libciha)"
if [ "$requires" = "jansson " ] && printf '%s\n' "$libs" | grep -q -- '-lciha'; then
	pass
else
	fail "libciha.pc: Requires is [$requires] (expected jansson), libs [$libs] (expected -lciha)"
fi

echo "check-exports: $(printf '%s\n' "$exported" | wc -l) symbols exported, $(printf '%s\n' "$declared" | wc -l) declared"
echo "check-exports: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
