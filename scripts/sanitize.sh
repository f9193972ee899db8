#!/usr/bin/env bash
# The C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer, then the
# libFuzzer harnesses of fuzz/ for FUZZ_SECONDS each (default 15; 0 skips
# them), in one clang build tree: build/sanitize (-O1, assertions on).
#   scripts/sanitize.sh [FUZZ_SECONDS]
# Each harness starts from its seeds in fuzz/corpus/<harness>/ and keeps what
# it finds in build/sanitize/fuzz-corpus/; a crash is written to
# build/sanitize/fuzz-crashes/ and makes the script fail.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
fuzz_seconds=${1:-15}
scripts/setup.sh
apt_install clang libclang-rt-14-dev libomp-dev

tree=build/sanitize
# Warnings are errors in build/ (GCC); clang's own extra warnings stay warnings here.
# No precompiled header for the library and the tool here: each of their sources must then include what it
# uses. The tests keep theirs (GoogleTest and Eigen are most of a test's parse: 35-45% of its compile time).
tree_defines=(CMAKE_CXX_COMPILER=clang++ CMAKE_BUILD_TYPE=RelWithDebInfo SIMULACRA_LIBRARY_PCH=OFF CMAKE_DISABLE_PRECOMPILE_HEADERS=OFF
              "CMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only"
              SIMULACRA_SANITIZE=address,undefined SIMULACRA_BUILD_FUZZERS=ON SIMULACRA_BUILD_TESTS=ON
              SIMULACRA_WERROR=OFF)
configure_tree
build_tree

export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
step "C++: ctest under ASan + UBSan"
# Two end-to-end trainings on real text are left to scripts/test.sh: the demo on a play (2 minutes under
# ASan) and the attribution accuracy of a full Mixture.fit of the embedded corpus (1 minute); the code they
# run is exercised here by the smaller training, calibration and CLI tests.
ctest --test-dir "$tree" --output-on-failure -j2 \
      -E '^(CliTest\.DemoShowsThePileOnAPlay|TrainTest\.BuiltinCorpusAttributionAccuracy)$'

((fuzz_seconds > 0)) || exit 0
failed=()
for seeds in fuzz/corpus/*/; do
  harness=$(basename "$seeds")
  step "fuzz: $harness for ${fuzz_seconds} s (seeds: $seeds)"
  mkdir -p "$tree/fuzz-corpus/$harness" "$tree/fuzz-crashes"
  # Bounded: 10 s per input, 2 GB of memory, 1 GB in one allocation.
  if "$tree/fuzz/$harness" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
       -print_final_stats=1 -artifact_prefix="$tree/fuzz-crashes/$harness-" \
       "$tree/fuzz-corpus/$harness" "$seeds" 2> "$tree/fuzz-$harness.log"; then
    grep -E "^stat::(number_of_executed_units|new_units_added)" "$tree/fuzz-$harness.log" || true
  else
    tail -n 40 "$tree/fuzz-$harness.log"
    failed+=("$harness")
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: crashes in ${failed[*]} (inputs in $tree/fuzz-crashes/)"
  exit 1
fi
echo "fuzz: no crash in $(ls -d fuzz/corpus/*/ | wc -l) harnesses"
