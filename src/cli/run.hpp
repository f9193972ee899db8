// src/cli/run.hpp — the main of a simulacra executable: `simulacra` (every
// command, main.cpp) and `simulacra-demo` (the demo alone, demo_main.cpp,
// linked against the light core only so that scripts/demo.sh compiles a
// fraction of the library).
//
// Exit status: 0 on success, 1 when the library reports an error (a missing
// file, a damaged model, an input over the --max-input-bytes limit), 2 for a
// mistake in the command line, 130 when interrupted by SIGINT (Ctrl-C): the
// handler sets a flag that the library's long calls and the input reader
// poll (simulacra/interrupt.hpp), and the command stops with a message.
#pragma once

#include <string>
#include <vector>

#include "args.hpp"

namespace simulacra::cli {

// A command and the function that runs it.
struct Entry {
  const Command* command;
  int (*run)(const Args&);
};

// Runs `program <command> [options]` for one of `commands` (argv[1] names
// it; --help and `help <command>` print the overview or its options) and
// returns the exit status above.
int run(int argc, char** argv, const std::string& program, const std::vector<Entry>& commands);

}  // namespace simulacra::cli
