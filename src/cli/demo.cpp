// src/cli/demo.cpp — `simulacra demo`: the whole story on the built-in corpus.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "demo.hpp"

namespace simulacra::cli {

const Command kDemo{"demo", "", "The pile of masks in a few seconds, on the built-in corpus.",
                    "Trains on 80% of each persona's documents, measures attribution and bits per byte on\n"
                    "the other 20%, traces a text whose mask swaps midway, and samples from every mask.",
                    {{"--order", "", "N", "5", "n-gram order of every persona"},
                     {"--seed", "", "S", "0", "seed of the split and of the samples"},
                     kColor},
                    0, 0};

int run_demo(const Args& args) {
  const bool color = color_of(args);
  TrainConfig cfg;
  cfg.order = int(args.integer("--order", 5, 1, 1000));
  cfg.seed = args.seed("--seed", 0);
  const auto start = Clock::now();
  const Corpus corpus = Corpus::builtin();
  if (corpus.empty()) throw FileError("this build embeds no corpus (data/personas/*.txt was empty)");
  const auto [train_part, heldout] = corpus.split(0.2, cfg.seed);

  section("1. Train on 80% of each persona's documents, test on the other 20%", color);
  fmt::print("built-in corpus: {} documents, {} bytes; order-{} Kneser-Ney masks, fixed-share switching\n",
             corpus.size(), corpus.bytes(), cfg.order);
  TrainReport report;
  const Mixture mix = train(train_part, cfg, &report);
  fmt::print("alpha = {} (fitted on {} documents held out of the training part)\n\n", report.alpha,
             report.heldout_documents);
  demo_evaluate(mix, train_part, heldout, color);

  section("2. The model used below", color);
  fmt::print("The 80% model is kept, so the texts traced below were never seen in training.\n");

  section("3. A mask swap, traced", color);
  demo_swap(mix, heldout, color);

  section("4. Samples: each mask alone, then the whole pile", color);
  fmt::print("200 tokens each at temperature 0.8; a document end shows as a line break.\n");
  demo_samples(mix, cfg.seed, color);

  section("Next", color);
  fmt::print("Save a model:  simulacra train --builtin --order {} -o personas.safetensors\n", cfg.order);
  fmt::print("then try:      simulacra trace personas.safetensors --text \"Arr, certainly! Here are a few steps.\"\n");
  fmt::print("demo finished in {:.2f} s\n", seconds_since(start));
  return 0;
}

}  // namespace simulacra::cli
