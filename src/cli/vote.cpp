// src/cli/vote.cpp — `simulacra vote`: a multiple-choice question answered by each mask and by the pile.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "inspect_view.hpp"

namespace simulacra::cli {

const Command kVote{
    "vote", "MODEL --prompt TEXT --option TEXT...",
    "Ask a multiple-choice question: each mask's answer, and the pile's in superposition.",
    "Each option is scored as the continuation of the prompt (read from a document start, no boundary\n"
    "between them): by each persona alone, and by the mixture after its weights have read the prompt.\n"
    "Probabilities are normalised over the options; '*' marks each column's choice. The pile answers in\n"
    "three readings: 'mixture', the linear pool (with no switching, sum_k w_k p_k(option)); 'per byte',\n"
    "the same with each option's log-probability divided by its length; 'plurality', the weight of the\n"
    "masks whose own answer ('*' in their column) the option is. The last column is the mixture's\n"
    "natural-log probability of the option, and the last row the weights after the prompt.",
    {{"--prompt", "", "TEXT", "", "the question; required (may be empty)"},
     {"--option", "", "TEXT", "", "one answer (non-empty); give at least one", true},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor},
    1, 1};

int run_vote(const Args& args) {
  const bool color = color_of(args);
  if (!args.has("--prompt")) throw UsageError("vote needs --prompt TEXT");
  const std::vector<std::string> options = args.all("--option");
  if (options.empty()) throw UsageError("vote needs at least one --option TEXT");
  for (const std::string& o : options)
    if (o.empty()) Args::bad("--option", o, "a non-empty answer");
  const Mixture mix = load(args.positional[0]);
  const Steering steering = steering_of(args, mix);
  const std::string prompt = args.get("--prompt");
  const Vote v = vote(mix, prompt, options, steering);
  fmt::print("prompt: \"{}\"\n", shown_text(prompt));
  print_vote(v, options, mix.names(), color);
  return 0;
}

}  // namespace simulacra::cli
