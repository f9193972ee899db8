// src/cli/generate.cpp — `simulacra generate`: sampling a continuation from the mixture or steered masks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "input.hpp"
#include "table.hpp"

namespace simulacra::cli {

const Command kGenerate{
    "generate", "MODEL", "Sample a continuation of a prompt from the mixture, or from steered masks.",
    "The sampler chain is top-k, top-p, min-p on the model's distribution, then temperature. Its defaults are\n"
    "the library's (llama.cpp's: temperature 0.8, top-p 0.95, min-p 0.05), the same as Python's generate():\n"
    "they keep a pile from emitting bytes it never saw through its smoothing. --top-p 1 --min-p 0 turn the\n"
    "truncations off. --num-samples N draws N continuations of the same prompt, sample i (from 0) with seed\n"
    "S + i, each after a line '--- sample i, seed S + i' (one sample prints no such line).",
    {{"--prompt", "", "TEXT", "empty, a document start", "the text to continue"},
     {"--prompt-file", "", "PATH", "", "read the prompt from PATH (\"-\" for stdin) instead of --prompt"},
     {"--num-samples", "", "N", "1", "continuations to draw, 1 to 100000 (seeds S, S + 1, ...)"},
     {"--max-tokens", "", "N", "200", "tokens (bytes) to generate at most; stops early at a document end"},
     {"--temperature", "", "T", fmt::format("{}", SamplerConfig{}.temperature), "sampling temperature (>= 0; 0 is greedy)"},
     {"--top-k", "", "K", fmt::format("{}, off", SamplerConfig{}.top_k), "keep the K most likely tokens"},
     {"--top-p", "", "P", fmt::format("{}", SamplerConfig{}.top_p),
      "keep the smallest set of tokens reaching probability P, in (0, 1] (1: off)"},
     {"--min-p", "", "P", fmt::format("{}", SamplerConfig{}.min_p),
      "keep tokens at least P times as likely as the best, in [0, 1] (0: off)"},
     {"--seed", "", "S", fmt::format("{}", SamplerConfig{}.seed), "seed of the sampler (same seed, same text)"},
     kClamp,
     kExclude,
     kBias,
     kExpert,
     kAntiExpert,
     kLambda,
     {"--mode", "", "MODE", "mixture", "mixture: sample from the mixture; persona: draw a mask, then its token"},
     {"--show-weights", "", "", "", "print the weights after the prompt and at the end"},
     kColor,
     kMaxInput},
    1, 1};

namespace {

// The library's defaults (SamplerConfig{}) where a flag is not given.
SamplerConfig sampler_config(const Args& args) {
  SamplerConfig s;
  s.temperature = args.real("--temperature", s.temperature, Range{0, INFINITY});
  s.top_k = int(args.integer("--top-k", s.top_k, 0, kVocab));
  s.top_p = args.real("--top-p", s.top_p, Range{0, 1, true});
  s.min_p = args.real("--min-p", s.min_p, Range{0, 1});
  s.seed = args.seed("--seed", s.seed);
  return s;
}

// Prior, weights after the prompt and after the whole text (steered), and
// the unsteered filter's final weights when steering is on.
void print_generation_weights(const Mixture& mix, const GenerateConfig& cfg, const std::string& prompt,
                              const Generation& gen, bool color) {
  std::vector<Token> all = encode(prompt);
  all.insert(all.end(), gen.tokens.begin(), gen.tokens.end());
  MixtureState steered = mix.begin(cfg.steering), free = mix.begin();
  steered.step(all);
  free.step(all);
  const bool steering = cfg.steering.clamp >= 0 || !cfg.steering.exclude.empty() || cfg.steering.prior_bias.size() > 0;
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("prior");
  t.column("after prompt");
  t.column("final");
  if (steering) t.column("unsteered");
  if (cfg.mode == GenerateMode::kPersona) t.column("spoke");
  const auto pct = [](double log_w) { return fmt::format("{:.1f}%", 100 * std::exp(log_w)); };
  for (int k = 0; k < mix.size(); ++k) {
    std::vector<Cell> row = {Cell(mix.names()[std::size_t(k)], persona_style(k)), pct(std::log(mix.prior()[k])),
                             pct(gen.tokens.empty() ? steered.log_weights()[k] : gen.log_weights(0, k)),
                             pct(steered.log_weights()[k])};
    if (steering) row.emplace_back(pct(free.log_weights()[k]));
    if (cfg.mode == GenerateMode::kPersona)
      row.emplace_back(fmt::format("{}", std::count(gen.personas.begin(), gen.personas.end(), k)));
    t.row(std::move(row));
  }
  fmt::print("\nweights ({} tokens generated{}):\n", gen.tokens.size(),
             !gen.tokens.empty() && gen.tokens.back() == kBoundary ? ", ended at a document boundary" : "");
  print_table(t, color);
}

}  // namespace

int run_generate(const Args& args) {
  const bool color = color_of(args);
  GenerateConfig cfg;
  cfg.max_tokens = int(args.integer("--max-tokens", 200, 0, 100'000'000));
  cfg.sampler = sampler_config(args);
  cfg.mode = generate_mode_from_name(args.choice("--mode", "mixture", {"mixture", "persona"}));
  const long long samples = args.integer("--num-samples", 1, 1, 100'000);
  if (args.has("--prompt") && args.has("--prompt-file")) throw UsageError("give either --prompt or --prompt-file, not both");
  const std::string prompt =
      args.has("--prompt-file") ? read_input(args.get("--prompt-file"), max_input(args)) : args.get("--prompt");
  const Mixture mix = load_model(args);
  cfg.steering = steering_of(args, mix);
  const std::uint64_t seed = cfg.sampler.seed;
  for (long long i = 0; i < samples; ++i) {
    cfg.sampler.seed = seed + std::uint64_t(i);
    if (samples > 1) fmt::print("{}--- sample {}, seed {}\n", i == 0 ? "" : "\n", i, cfg.sampler.seed);
    const Generation gen = generate(mix, prompt, cfg);
    fmt::print("{}{}\n", paint(color, fmt::emphasis::bold, prompt), gen.text);
    if (args.has("--show-weights")) print_generation_weights(mix, cfg, prompt, gen, color);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace simulacra::cli
