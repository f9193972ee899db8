// src/cli/demo.cpp — `simulacra demo`: the whole story on the built-in corpus: evaluation on
// held-out documents, a traced mask swap, and samples from every mask.
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "table.hpp"
#include "trace_view.hpp"

namespace simulacra::cli {

const Command kDemo{"demo", "", "The pile of masks in a few seconds, on the built-in corpus.",
                    "Trains on 80% of each persona's documents, measures attribution and bits per byte on\n"
                    "the other 20%, traces a text whose mask swaps midway, and samples from every mask.",
                    {{"--order", "", "N", "5", "n-gram order of every persona"},
                     {"--seed", "", "S", "0", "seed of the split and of the samples"},
                     kColor},
                    0, 0};

namespace {

// A section title, bold in colour.
void section(const std::string& title, bool color) {
  fmt::print("\n{}\n", paint(color, fmt::emphasis::bold, "== " + title + " =="));
}

// `preferred` if `names` has it and it is not `other`, else the first name
// that is not `other` ("" if none).
std::string pick(const std::vector<std::string>& names, const std::string& preferred,
                        const std::string& other) {
  if (preferred != other && std::count(names.begin(), names.end(), preferred)) return preferred;
  for (const auto& n : names)
    if (n != other) return n;
  return "";
}

// The split per persona, the held-out attribution accuracy, and held-out
// bits per byte of the mixture against an oracle that knows each author.
void demo_evaluate(const Mixture& mix, const Corpus& train_part, const Corpus& heldout, bool color) {
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("train docs");
  t.column("held-out docs");
  t.column("train bytes");
  for (int k = 0; k < mix.size(); ++k) {
    const std::string& name = mix.names()[std::size_t(k)];
    std::size_t bytes = 0, held = 0;
    for (const auto& s : train_part.texts_of(name)) bytes += s.size();
    for (const auto& d : heldout.documents()) held += d.persona == name;
    t.row({Cell(name, persona_style(k)), fmt::format("{}", train_part.texts_of(name).size()), fmt::format("{}", held),
           fmt::format("{}", bytes)});
  }
  print_table(t, color);
  const double accuracy = attribution_accuracy(mix, heldout);
  fmt::print("\nheld-out attribution accuracy: {:.1f}% ({} of {} documents attributed to their own persona; "
             "chance {:.1f}%)\n",
             100 * accuracy, std::lround(accuracy * double(heldout.size())), heldout.size(), 100.0 / mix.size());
  double mixture_nats = 0, own_bits = 0;
  std::size_t bytes = 0;
  for (const Document& d : heldout.documents()) {
    if (d.text.empty()) continue;
    mixture_nats -= mix.score(d.text);
    own_bits += mix.persona_bits_per_byte(d.text)[mix.index_of(d.persona)] * double(d.text.size());
    bytes += d.text.size();
  }
  fmt::print("held-out bits per byte: mixture {:.3f}; each document's own persona alone (an oracle) {:.3f}\n",
             mixture_nats / (std::log(2.0) * double(bytes)), own_bits / double(bytes));
}

// Mean weight of each persona over trace rows [begin, end), as percentages.
std::vector<Cell> mean_weights(const Trace& trace, std::size_t begin, std::size_t end) {
  const Eigen::MatrixXd w = trace.log_weights.middleRows(Eigen::Index(begin), Eigen::Index(end - begin)).array().exp();
  std::vector<Cell> cells;
  for (Eigen::Index k = 0; k < w.cols(); ++k) cells.emplace_back(fmt::format("{:.1f}%", 100 * w.col(k).mean()));
  return cells;
}

// A held-out paragraph of one persona followed by one of another, traced as
// one document: the text by mask, the weights around the swap, and the mean
// weights on each side of it.
void demo_swap(const Mixture& mix, const Corpus& heldout, bool color) {
  const std::vector<std::string> present = heldout.personas();
  const std::string a = pick(present, "assistant", ""), b = pick(present, "trickster", a);
  if (b.empty()) {
    fmt::print("(the held-out part has a single persona: no swap to show)\n");
    return;
  }
  const std::string first = heldout.texts_of(a)[0], second = heldout.texts_of(b)[0];
  const std::string text = first + "\n\n" + second;
  const std::size_t swap = first.size() + 2;
  fmt::print("A held-out '{}' paragraph, then a held-out '{}' one from byte {} on, read as one document:\n\n", a, b,
             swap);
  const std::vector<Token> tokens = encode_document(text);
  const Trace trace = mix.trace(tokens);
  print_legend(mix.names(), color);
  const std::vector<int> owner = owners_after(trace, text.size());
  print_owned_text(text, owner, color);

  std::vector<std::size_t> rows = every_rows(tokens.size(), std::max<std::size_t>(1, tokens.size() / 8));
  for (std::size_t d : {0, 1, 2, 4, 8, 16, 32, 64})
    if (swap + d < tokens.size()) rows.push_back(swap + d);
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  fmt::print("\nweights before each token, denser after the swap:\n");
  print_weights_table(trace, tokens, mix.names(), rows, color, {{swap, fmt::format("swap: {} -> {}", a, b)}});

  Table means;
  means.column("mean weight over", Table::Align::kLeft);
  for (int k = 0; k < mix.size(); ++k)
    means.column(mix.names()[std::size_t(k)], Table::Align::kRight, persona_style(k));
  std::vector<Cell> before = mean_weights(trace, 0, swap), after = mean_weights(trace, swap, tokens.size());
  before.insert(before.begin(), Cell(fmt::format("the {} part", a)));
  after.insert(after.begin(), Cell(fmt::format("the {} part", b)));
  means.row(std::move(before));
  means.row(std::move(after));
  fmt::print("\n");
  print_table(means, color);
  const auto it = std::find(owner.begin() + std::ptrdiff_t(swap), owner.end(), mix.index_of(b));
  if (it != owner.end()) {
    const std::size_t n = std::size_t(it - owner.begin()) - swap + 1;
    fmt::print("'{}' first dominates after {} byte{} of its text: \"{}\"\n", b, n, n == 1 ? "" : "s",
               text.substr(swap, n));
  }
}

// 200 tokens from the whole pile and from each mask alone (clamped), each
// with its own seed; document ends become line breaks.
void demo_samples(const Mixture& mix, std::uint64_t seed, bool color) {
  GenerateConfig cfg;
  cfg.max_tokens = 200;
  cfg.stop_at_boundary = false;
  cfg.sampler.temperature = 0.8;
  for (int k = -1; k < mix.size(); ++k) {
    cfg.steering.clamp = k;
    cfg.sampler.seed = seed + std::uint64_t(k + 1);
    const std::string label = fmt::format("-- {}, seed {} --", k < 0 ? "the mixture (no clamp)"
                                                                      : "clamped to " + mix.names()[std::size_t(k)],
                                          cfg.sampler.seed);
    fmt::print("\n{}\n{}\n", paint(color, k < 0 ? fmt::emphasis::bold : persona_style(k), label),
               decode(generate(mix, "", cfg).tokens));
  }
}

}  // namespace

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
