#!/usr/bin/env bash
# Every test: set up, build everything (benchmarks included, not run) with
# warnings as errors, run the GoogleTest suite
# (ctest), build an example against the installed package (find_package),
# then the Python suite (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --python

echo "== C++: build and ctest"
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Release -DSIMULACRA_BUILD_TESTS=ON \
  -DSIMULACRA_BUILD_EXAMPLES=ON -DSIMULACRA_BUILD_BENCH=ON -DCMAKE_CXX_FLAGS="-Werror" -DCMAKE_INSTALL_PREFIX="$PWD/build/install" >/dev/null
cmake --build build/test
ctest --test-dir build/test --output-on-failure -j2

echo "== C++: find_package(simulacra) from an installed tree"
cmake --install build/test >/dev/null
cmake -S examples/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer
build/consumer/consumer

echo "== Python: pytest"
.venv/bin/python -m pytest tests/python -q
