// src/cli/demo_main.cpp — `simulacra-demo demo`: the same demo as
// `simulacra demo` (demo.cpp), in an executable that links the light core
// only (no transformer, no model files), so that a first scripts/demo.sh
// compiles a fraction of the library. Exit status and Ctrl-C: run.hpp.
#include "commands.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  using namespace simulacra::cli;
  return run(argc, argv, "simulacra-demo", {{&kDemo, run_demo}});
}
