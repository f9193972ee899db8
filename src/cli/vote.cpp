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
    "natural-log probability of the option, and the last row the weights after the prompt. --json prints\n"
    "every one of these figures as one JSON document (docs/cli.md).",
    {{"--prompt", "", "TEXT", "", "the question; required (may be empty)"},
     {"--option", "", "TEXT", "", "one answer (non-empty); give at least one", true},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kJson, kColor},
    1, 1};

int run_vote(const Args& args) {
  const bool color = color_of(args);
  if (!args.has("--prompt")) throw UsageError("vote needs --prompt TEXT");
  const std::vector<std::string> options = args.all("--option");
  if (options.empty()) throw UsageError("vote needs at least one --option TEXT");
  for (const std::string& o : options)
    if (o.empty()) Args::bad("--option", o, "a non-empty answer");
  const Mixture mix = load_model(args);
  const Steering steering = steering_of(args, mix);
  const std::string prompt = args.get("--prompt");
  const Vote v = vote(mix, prompt, options, steering);
  if (args.has("--json")) {
    const std::vector<std::string>& names = mix.names();
    json::Object logprobs, choice, answers;
    for (std::size_t k = 0; k < names.size(); ++k) {
      logprobs.emplace_back(names[k], json_array(v.persona_logprobs.row(Eigen::Index(k)).transpose()));
      choice.emplace_back(names[k], json_array(v.persona_choice.row(Eigen::Index(k)).transpose()));
      answers.emplace_back(names[k], options[std::size_t(v.persona_answers[k])]);
    }
    const auto best = [&](const Eigen::VectorXd& reading) {
      Eigen::Index m = 0;
      reading.maxCoeff(&m);
      return options[std::size_t(m)];
    };
    print_json(json::Object{{"model", model_label(args)},
                            {"prompt", prompt},
                            {"options", json::Array(options.begin(), options.end())},
                            {"personas", json::Array(names.begin(), names.end())},
                            {"prompt_weights", json_by_persona(names, v.prompt_weights)},
                            {"persona_logprobs", std::move(logprobs)},
                            {"persona_choice", std::move(choice)},
                            {"persona_answers", std::move(answers)},
                            {"mixture_logprobs", json_array(v.mixture_logprobs)},
                            {"mixture_choice", json_array(v.mixture_choice)},
                            {"per_byte_logprobs", json_array(v.per_byte_logprobs)},
                            {"per_byte_choice", json_array(v.per_byte_choice)},
                            {"plurality", json_array(v.plurality)},
                            {"choice", json::Object{{"mixture", best(v.mixture_choice)},
                                                    {"per_byte", best(v.per_byte_choice)},
                                                    {"plurality", best(v.plurality)}}}});
    return 0;
  }
  fmt::print("prompt: \"{}\"\n", shown_text(prompt));
  print_vote(v, options, mix.names(), color);
  return 0;
}

}  // namespace simulacra::cli
