#!/usr/bin/env bash
# Every test, in one build tree (build/): set up; build the library, the
# command-line tool, the Python extension, the tests, the examples and the
# benchmarks (not run) with warnings as errors; run the GoogleTest suite
# (ctest); build an example against the `dev` install component
# (find_package), and the header-only example against the same; install the
# Python package from the same tree into .venv; run the Python suite (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
scripts/setup.sh --python

python=$PWD/.venv/bin/python
tree_defines+=(SIMULACRA_BUILD_TESTS=ON SIMULACRA_BUILD_EXAMPLES=ON SIMULACRA_BUILD_BENCH=ON
               SIMULACRA_BUILD_CLI=ON SIMULACRA_BUILD_PYTHON=ON "Python_EXECUTABLE=$python"
               "pybind11_DIR=$("$python" -m pybind11 --cmakedir)")
configure_tree
build_tree

step "C++: ctest"
ctest --test-dir "$tree" --output-on-failure -j2

step "C++: find_package(simulacra) from the dev component installed in $tree/install (the library, and the light core header-only)"
cmake --install "$tree" --component dev --prefix "$tree/install"
cmake -S examples/consumer -B "$tree/consumer" -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$tree/install"
cmake --build "$tree/consumer"
"$tree/consumer/consumer"
cmake -S examples/header_only -B "$tree/header_only" -G Ninja -DCMAKE_PREFIX_PATH="$PWD/$tree/install"
cmake --build "$tree/header_only"
"$tree/header_only/header_only"

step "Python: pip install the package into .venv from $tree/ (nothing left to compile)"
config=(-Cbuild-dir="$tree")
for d in "${tree_defines[@]}"; do config+=(-Ccmake.define."$d"); done
"$python" -m pip install --no-build-isolation "${config[@]}" .

step "Python: pytest"
"$python" -m pytest tests/python -q
