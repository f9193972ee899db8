#!/usr/bin/env bash
# The main job: set up, build the demo in build/ (the tree that scripts/test.sh
# also uses) and run it on the embedded corpus. The demo is `simulacra demo`
# in an executable of its own, simulacra-demo, linked against the light core
# only: a first run compiles no transformer and no model-file code.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
scripts/setup.sh
configure_tree
build_tree simulacra_demo
step "run the demo: $tree/simulacra-demo demo $*"
"$tree/simulacra-demo" demo "$@"
