#!/usr/bin/env bash
# The main job: set up, build, and run the demo on the embedded corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release --target simulacra_cli
build/release/simulacra demo "$@"
