#!/usr/bin/env bash
# The `fuzz` suite's bounded run: builds every libFuzzer target with clang
# (ASan+UBSan) in its own build directory and runs each for SECONDS on a
# scratch copy of its committed corpus. A crash fails the test and leaves
# its input in the scratch directory (printed); add it to the corpus as a
# regression seed. Without clang's libFuzzer runtime the test is skipped
# (exit 77): apt-get install clang libclang-rt-14-dev.
#   run_fuzzers.sh SOURCE_ROOT FUZZ_BUILD_DIR [SECONDS]
# STRATA_FUZZ_SECONDS overrides SECONDS (e.g. 600 for a long run).
set -uo pipefail
src=$1
build=$2
seconds=${STRATA_FUZZ_SECONDS:-${3:-20}}
targets=(wal_reader_fuzz block_reader_fuzz bloom_filter_fuzz table_file_fuzz manifest_fuzz write_batch_fuzz
         resp_parser_fuzz)
declare -A corpus=([wal_reader_fuzz]=wal [block_reader_fuzz]=block [bloom_filter_fuzz]=bloom
                   [table_file_fuzz]=table [manifest_fuzz]=manifest [write_batch_fuzz]=batch
                   [resp_parser_fuzz]=resp)

if ! command -v clang++ >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "skipped: clang++ with libFuzzer (libclang-rt-14-dev) is not installed"
  exit 77
fi
if [[ ! -f $build/build.ninja ]]; then
  CXX=clang++ CC=clang meson setup "$build" "$src" -Dfuzz=true -Dtests=false -Dexamples=false -Dperf=false \
    -Dcomparators=disabled -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
fi
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >/dev/null || { echo "building the fuzz targets failed"; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz-XXXXXX")
status=0
for t in "${targets[@]}"; do
  work=$scratch/$t
  mkdir -p "$work/corpus"
  log=$work/log
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
    "$build/tests/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work/corpus" "$src/tests/fuzz/corpus/${corpus[$t]}" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  if [[ $rc -ne 0 ]]; then
    echo "$t: FAILED (exit $rc) after ${execs:-?} executions; input and log in $work"
    tail -30 "$log"
    status=1
  else
    echo "$t: ${execs:-?} executions in ${seconds}s, no crash"
  fi
done
[[ $status -eq 0 ]] && rm -rf "$scratch"
exit $status
