#!/usr/bin/env bash
# fuzz/build.sh: build the libFuzzer targets fuzz/fuzz_*.c with clang, ASan and
# UBSan straight from the library sources (no configure needed).
#
#   fuzz/build.sh [OUTDIR]        (default: ./fuzz-build; CC=clang; JOBS=2)
#
# Objects are rebuilt when their source or any header is newer. The binaries
# land in OUTDIR/bin/fuzz_<name>.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-fuzz-build}" && cd "${1:-fuzz-build}" && pwd)"
cc="${CC:-clang}"
jobs="${JOBS:-2}"
case "$cc" in
*clang*) ;;
*) cc=clang ;; # libFuzzer needs clang whatever configure chose
esac
command -v "$cc" >/dev/null || { echo "fuzz/build.sh: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

deps="libcurl libcrypto jansson expat yaml-0.1"
dep_cflags="$(pkg-config --cflags $deps)"
dep_libs="$(pkg-config --libs $deps)"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c99 -g -O1 -Wall -Wextra -Wno-unused-parameter -fno-omit-frame-pointer $san -DCIHA_TESTING
	-I$src/libciha/include -I$out/include -I$src/libciha/src -I$src/fuzz $dep_cflags"

# version.h, as configure would write it.
version="$(sed -n 's/^AC_INIT(\[libciha\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")"
IFS=. read -r major minor patch <<<"$version"
mkdir -p "$out/include/ciha" "$out/obj" "$out/bin"
sed -e "s/@CIHA_VERSION_MAJOR@/$major/" -e "s/@CIHA_VERSION_MINOR@/$minor/" \
	-e "s/@CIHA_VERSION_PATCH@/$patch/" -e "s/@PACKAGE_VERSION@/$version/" \
	"$src/libciha/include/ciha/version.h.in" >"$out/include/ciha/version.h.new"
cmp -s "$out/include/ciha/version.h.new" "$out/include/ciha/version.h" 2>/dev/null ||
	mv "$out/include/ciha/version.h.new" "$out/include/ciha/version.h"
rm -f "$out/include/ciha/version.h.new"

newest_header="$(ls -t "$src"/libciha/src/*.h "$src"/libciha/include/ciha/*.h "$src"/fuzz/*.h | head -n 1)"

# Compile $1 (a .c file) to $2 unless $2 is newer than it and every header.
compile() {
	if [ "$2" -nt "$1" ] && [ "$2" -nt "$newest_header" ]; then
		return 0
	fi
	# shellcheck disable=SC2086
	$cc $cflags $3 -c "$1" -o "$2"
}
export -f compile
export cc cflags newest_header

for f in "$src"/libciha/src/*.c; do
	printf '%s\n' "$f"
done | xargs -P "$jobs" -I{} bash -c 'compile "$1" "$2/obj/$(basename "${1%.c}").o" -fsanitize=fuzzer-no-link' _ {} "$out"
rm -f "$out/libciha-fuzz.a"
ar rcs "$out/libciha-fuzz.a" "$out"/obj/*.o

for f in "$src"/fuzz/fuzz_*.c; do
	name="$(basename "${f%.c}")"
	compile "$f" "$out/obj/$name.fuzz.o" -fsanitize=fuzzer-no-link
	# shellcheck disable=SC2086
	$cc $san -fsanitize=fuzzer "$out/obj/$name.fuzz.o" "$out/libciha-fuzz.a" $dep_libs -lpthread -o "$out/bin/$name"
done
echo "fuzz/build.sh: $(ls "$out/bin" | wc -l) targets in $out/bin"
