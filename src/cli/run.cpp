// src/cli/run.cpp — what every simulacra executable's main does (run.hpp):
// parse the command line for one of its commands, Ctrl-C, the exit status.
#include "run.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "simulacra/interrupt.hpp"
#include "simulacra/json.hpp"
#include "simulacra/model_file.hpp"

#ifndef SIMULACRA_VERSION_STRING
#error "SIMULACRA_VERSION_STRING (project(VERSION)) is set by CMakeLists.txt"
#endif

namespace simulacra::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) { g_interrupted.store(true); }

bool interrupted() { return g_interrupted.load(); }

// SIGINT sets the flag (without SA_RESTART, so a blocked read returns and
// the reader polls); the library's interrupt check reads it.
void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  set_interrupt_check(interrupted);
}

// `program --version` / `program version [--json]`: the project's version and
// the newest model-file format version this build reads and writes.
int print_version(const std::string& program, int argc, char** argv) {
  const bool json = argc == 3 && std::string(argv[2]) == "--json";
  if (argc > 3 || (argc == 3 && !json))
    throw UsageError(fmt::format("unexpected argument '{}' for 'version' (it takes only --json)", argv[argc - 1]));
  if (json) {
    const json::Value v(json::Object{{"program", program},
                                     {"version", SIMULACRA_VERSION_STRING},
                                     {"format_version", kFormatVersion},
                                     {"format_versions_read", json::Array{1, kFormatVersion}}});
    fmt::print("{}\n", json::dump(v));
  } else {
    fmt::print("{} {}\nmodel file format version {} (reads versions 1 to {})\n", program, SIMULACRA_VERSION_STRING,
               kFormatVersion, kFormatVersion);
  }
  return 0;
}

void print_overview(const std::string& program, const std::vector<Entry>& commands) {
  fmt::print(
      "simulacra: a language model that is an explicit, weighted mixture of persona sub-models (masks)\n\n"
      "usage: {} <command> [options]\n\ncommands:\n", program);
  for (const Entry& e : commands) fmt::print("  {:<9} {}\n", e.command->name, e.command->summary);
  fmt::print("  {:<9} {}\n", "version", "Print the version and the model-file format version (also --version).");
  fmt::print("\nA MODEL or FILE given as '-' is read from stdin.\n"
             "Run '{} <command> --help' for the options of a command.\n", program);
}

const Entry* find_command(const std::vector<Entry>& commands, const std::string& name) {
  for (const Entry& e : commands)
    if (e.command->name == name) return &e;
  throw UsageError(fmt::format("unknown command '{}'", name));
}

}  // namespace

int run(int argc, char** argv, const std::string& program, const std::vector<Entry>& commands) {
  install_interrupt_handler();
  std::string hint = program + " --help";
  try {
    const std::string first = argc > 1 ? argv[1] : "";
    if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
      print_overview(program, commands);
      return 0;
    }
    if (first == "--version" || first == "version") return print_version(program, argc, argv);
    if (first == "help" && std::string(argv[2]) == "version") {
      fmt::print("usage: {} version [--json]   (or {} --version)\n\n"
                 "Print the version and the newest model-file format version this build reads and writes.\n",
                 program, program);
      return 0;
    }
    if (first == "help") {
      print_help(*find_command(commands, argv[2])->command);
      return 0;
    }
    if (first.empty()) throw UsageError("no command given");
    const Entry* entry = find_command(commands, first);
    hint = fmt::format("{} {} --help", program, first);
    const Args args = parse(*entry->command, argc - 2, argv + 2);
    if (args.help()) {
      print_help(*entry->command);
      return 0;
    }
    return entry->run(args);
  } catch (const simulacra::Interrupted&) {
    std::fflush(stdout);
    fmt::print(stderr, "\n{}: interrupted\n", program);
    return 130;
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {} (see '{}')\n", program, e.what(), hint);
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return 1;
  }
}

}  // namespace simulacra::cli
