#!/usr/bin/env bash
# The main job: set up, build the command-line tool in build/ (the tree that
# scripts/test.sh also uses), and run the demo on the embedded corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
scripts/setup.sh
configure_tree
build_tree simulacra_cli
step "run the demo: $tree/simulacra demo $*"
"$tree/simulacra" demo "$@"
