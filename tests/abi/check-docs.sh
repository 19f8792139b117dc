#!/usr/bin/env bash
# check-docs.sh: the reference covers the whole API and the whole command.
# - every CIHA_EXTERN function of the headers ciha.h includes has a doc comment
#   with a description and a "Since 0.x" line (doc/gen-man3.py --check);
# - the build generated a man(3) page for each of them, one per module and
#   libciha(3), and no stale page; every page and ciha(1) render without
#   warnings and have a NAME line whatis can read;
# - every command `ciha --help` lists, every subcommand its `ciha CMD --help`
#   shows and every option either prints appears in ciha(1).
# Builds nothing. Needs CIHA_BUILDDIR and CIHA_SRCDIR (set by `make check`).
set -euo pipefail

srcdir="${CIHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
builddir="${CIHA_BUILDDIR:-$srcdir}"
man3="$builddir/doc/man3"
man1="$builddir/doc/ciha.1"
ciha="$builddir/cli/ciha"
gen="$srcdir/doc/gen-man3.py"

# shellcheck source=tests/abi/report.sh
. "$srcdir/tests/abi/report.sh"

# The headers in the umbrella's order.
headers=()
while read -r h; do
	headers+=("$srcdir/libciha/include/$h")
done < <(sed -n 's/^#include "\(ciha\/[a-z0-9_]*\.h\)"$/\1/p' "$srcdir/libciha/include/ciha.h")
[ ${#headers[@]} -gt 0 ] || { echo "check-docs: no headers found in ciha.h" >&2; exit 1; }

# Read independently of the generator: every `CIHA_EXTERN(type) name(`.
functions=$(sed -n 's/^CIHA_EXTERN([^)]*)[[:space:]]*\([a-z_0-9]*\)[[:space:]]*(.*/\1/p' "${headers[@]}" | sort)
[ -n "$functions" ] || { echo "check-docs: no CIHA_EXTERN functions found" >&2; exit 1; }

# ---- doc comments --------------------------------------------------------------
expect_none "public functions whose doc comment lacks a description or a Since line" \
	"$(python3 "$gen" --check "${headers[@]}" || true)"

# ---- man(3) pages --------------------------------------------------------------
if [ ! -d "$man3" ]; then
	fail "no generated man(3) pages in $man3 (was python3 missing when the package was built?)"
else
	expect_none "public functions without a man(3) page" \
		"$(for f in $functions; do [ -s "$man3/$f.3" ] || echo "$f"; done)"
	pages=$(python3 "$gen" --list "${headers[@]}" | sort)
	expect_none "pages the generator names but the build did not make" \
		"$(for p in $pages; do [ -s "$man3/$p.3" ] || echo "$p.3"; done)"
	expect_none "stale pages in $man3 (not from the current headers)" \
		"$(comm -13 <(printf '%s\n' "$pages") <(find "$man3" -name '*.3' -printf '%f\n' | sed 's/\.3$//' | sort))"
	for m in libciha ciha_snapshot ciha_stack ciha_alarm ciha_env ciha_client; do
		if [ -s "$man3/$m.3" ]; then pass; else fail "no overview page $m(3)"; fi
	done
	expect_none "man(3) pages lacking a section" \
		"$(for p in "$man3"/ciha_*.3; do
			for s in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do
				grep -q "^\.SH $s\$" "$p" || echo "${p##*/}: $s"
			done
		done)"
	expect_none "function pages without RETURN VALUE or SINCE" \
		"$(for f in $functions; do
			for s in 'RETURN VALUE' SINCE; do
				grep -q "^\.SH $s\$" "$man3/$f.3" 2>/dev/null || echo "$f.3: $s"
			done
			grep -q '^libciha [0-9]' "$man3/$f.3" 2>/dev/null || echo "$f.3: no version under SINCE"
		done)"
	expect_none "function pages whose SYNOPSIS misses the include, the prototype or pkg-config" \
		"$(for f in $functions; do
			p="$man3/$f.3"
			grep -q '^\.B #include <ciha.h>$' "$p" && grep -q 'pkg\\-config \\-\\-cflags \\-\\-libs libciha' "$p" &&
				grep -q "^\\\\fB.*${f//_/\\_}(" "$p" || echo "$f"
		done 2>/dev/null)"
fi

# ---- ciha(1) -------------------------------------------------------------------
if [ ! -s "$man1" ]; then
	fail "no ciha(1) page at $man1"
fi

# ---- every page renders cleanly ------------------------------------------------
if command -v groff > /dev/null; then
	expect_none "pages groff warns about" \
		"$(for p in "$man3"/*.3 "$man1"; do
			[ -f "$p" ] || continue
			w=$(groff -man -Tascii -ww -z "$p" 2>&1) || w="groff failed"
			[ -z "$w" ] || echo "${p##*/}: $w"
		done)"
else
	echo "check-docs: groff not installed, rendering not checked" >&2
fi
if command -v lexgrog > /dev/null; then
	expect_none "pages whose NAME line whatis cannot read" \
		"$(for p in "$man3"/*.3 "$man1"; do
			[ -f "$p" ] || continue
			lexgrog "$p" > /dev/null 2>&1 || echo "${p##*/}"
		done)"
fi

# ---- ciha(1) names every command, subcommand and option --------------------------
if [ -s "$man1" ] && [ -x "$ciha" ] && command -v groff > /dev/null; then
	text=$(groff -man -Tascii -P-cbou "$man1" 2> /dev/null | tr -s '[:space:]' ' ')
	mentions() { [[ "$text" == *"$1"* ]]; }
	help=$("$ciha" --help)
	commands=$(printf '%s\n' "$help" | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
	[ -n "$commands" ] || fail "ciha --help lists no commands"
	expect_none "commands of ciha --help missing from ciha(1)" \
		"$(for c in $commands; do mentions "ciha $c" || echo "$c"; done)"
	missing=""
	for c in $commands; do
		usage=$("$ciha" "$c" --help 2>&1 || true)
		[ "$usage" = "$help" ] && continue
		for v in $(printf '%s\n' "$usage" | grep -o "ciha $c [a-z][a-z0-9|-]*" | sed "s/^ciha $c //" | tr '|' '\n' | sort -u); do
			# "ciha stack status", or a line naming several: "ciha pagerduty ack|resolve"
			[[ "$text" =~ ciha\ $c\ ([a-z-]+\|)*$v([| ]|$) ]] || missing+="ciha $c $v"$'\n'
		done
		for o in $(printf '%s\n' "$usage" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
			mentions "$o" || missing+="ciha $c: $o"$'\n'
		done
	done
	for o in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		mentions "$o" || missing+="global option $o"$'\n'
	done
	expect_none "subcommands and options of ciha ... --help missing from ciha(1)" "${missing%$'\n'}"
	for s in 'EXIT STATUS' 'ENVIRONMENT' 'SEE ALSO'; do
		if mentions "$s"; then pass; else fail "ciha(1) has no $s section"; fi
	done
elif [ ! -x "$ciha" ]; then
	fail "$ciha not built: cannot compare ciha(1) with ciha --help"
fi

echo "check-docs: $(printf '%s\n' "$functions" | wc -l) functions," \
	"$(find "$man3" -name '*.3' 2> /dev/null | wc -l) man(3) pages;" \
	"$passed passed, $failed failed"
[ "$failed" -eq 0 ]
