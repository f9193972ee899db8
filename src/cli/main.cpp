// src/cli/main.cpp — the `simulacra` command-line tool: dispatch to the
// subcommands (commands.hpp, one file each), Ctrl-C, and the exit status.
//
//   simulacra train    [corpus options] -o MODEL     train a pile of masks, save it
//   simulacra score    MODEL [FILE ...|--text TEXT]   bits per byte and attribution
//   simulacra trace    MODEL [FILE|--text TEXT]       the text coloured by mask, weights
//   simulacra generate MODEL [--prompt TEXT]          sample a continuation
//   simulacra inspect  MODEL [FILE|--text TEXT]       every mask's next tokens, side by side
//   simulacra vote     MODEL --prompt P --option O... each mask's answer and the pile's
//   simulacra switch   MODEL --from A --to B ...      how fast a mask swap happens, both ways
//   simulacra demo                                    the whole story on the built-in corpus
//
// Exit status: 0 on success, 1 when the library reports an error (a missing
// file, a damaged model, an input over the --max-input-bytes limit), 2 for a
// mistake in the command line, 130 when interrupted by SIGINT (Ctrl-C): the
// handler sets a flag that the library's long calls and the input reader
// poll (simulacra/interrupt.hpp), and the command stops with a message.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "commands.hpp"
#include "simulacra/interrupt.hpp"

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

struct Entry {
  const Command* command;
  int (*run)(const Args&);
};

const std::vector<Entry> kCommands = {
    {&kTrain, run_train},     {&kScore, run_score}, {&kTrace, run_trace},   {&kGenerate, run_generate},
    {&kInspect, run_inspect}, {&kVote, run_vote},   {&kSwitch, run_switch}, {&kDemo, run_demo}};

void print_overview() {
  fmt::print(
      "simulacra: a language model that is an explicit, weighted mixture of persona sub-models (masks)\n\n"
      "usage: simulacra <command> [options]\n\ncommands:\n");
  for (const Entry& e : kCommands) fmt::print("  {:<9} {}\n", e.command->name, e.command->summary);
  fmt::print("\nRun 'simulacra <command> --help' for the options of a command.\n");
}

const Entry* find_command(const std::string& name) {
  for (const Entry& e : kCommands)
    if (e.command->name == name) return &e;
  throw UsageError(fmt::format("unknown command '{}'", name));
}

}  // namespace
}  // namespace simulacra::cli

int main(int argc, char** argv) {
  using namespace simulacra::cli;
  install_interrupt_handler();
  std::string hint = "simulacra --help";
  try {
    const std::string first = argc > 1 ? argv[1] : "";
    if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
      print_overview();
      return 0;
    }
    if (first == "help") {
      print_help(*find_command(argv[2])->command);
      return 0;
    }
    if (first.empty()) throw UsageError("no command given");
    const Entry* entry = find_command(first);
    hint = fmt::format("simulacra {} --help", first);
    const Args args = parse(*entry->command, argc - 2, argv + 2);
    if (args.help()) {
      print_help(*entry->command);
      return 0;
    }
    return entry->run(args);
  } catch (const simulacra::Interrupted&) {
    std::fflush(stdout);
    fmt::print(stderr, "\nsimulacra: interrupted\n");
    return 130;
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "simulacra: error: {} (see '{}')\n", e.what(), hint);
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "simulacra: error: {}\n", e.what());
    return 1;
  }
}
