#!/usr/bin/env bash
# fuzz/smoke.sh: build the fuzz targets (fuzz/build.sh) and run each for
# FUZZ_SECONDS (default 5) over its seed corpus and its regression inputs.
# Fails when any target crashes, leaks, hangs or trips a sanitizer.
#
#   fuzz/smoke.sh [OUTDIR]        (default: ./fuzz-build)
#   FUZZ_SECONDS=60 fuzz/smoke.sh (what `make fuzz FUZZ_SECONDS=60` runs)
#
# New inputs go to OUTDIR/work/<target>, crashes to OUTDIR/artifacts/; the
# repository's corpus is read, never written.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-fuzz-build}"
seconds="${FUZZ_SECONDS:-5}"

"$here/build.sh" "$out" || exit 1
out="$(cd "$out" && pwd)"
mkdir -p "$out/artifacts"
failed=0
total=0
start=$SECONDS
for bin in "$out"/bin/fuzz_*; do
	target="$(basename "$bin")"
	name="${target#fuzz_}"
	dirs=("$here/corpus/$name")
	[ -d "$here/regressions/$name" ] && dirs+=("$here/regressions/$name")
	rm -rf "${out:?}/work/$name"
	mkdir -p "$out/work/$name"
	log="$out/work/$name.log"
	ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
		"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" "$out/work/$name" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
	cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)"
	total=$((total + 1))
	if [ "$rc" -eq 0 ]; then
		printf 'PASS: fuzz/%s (%s runs, %s)\n' "$name" "${runs:-?}" "${cov:-cov: ?}"
	else
		failed=$((failed + 1))
		printf 'FAIL: fuzz/%s (exit %d; log %s)\n' "$name" "$rc" "$log"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 10
		grep -E '^    #[0-9]+ ' "$log" | head -n 15
	fi
done
echo "fuzz_smoke: $((total - failed)) passed, $failed failed ($seconds s each, $((SECONDS - start)) s)"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ]
