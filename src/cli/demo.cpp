// src/cli/demo.cpp — `simulacra demo`: the whole story on the built-in corpus: evaluation on
// held-out documents, a traced mask swap, and samples from every mask.
#include <algorithm>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <map>
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

namespace {
// Where scripts/demo.sh runs from (the repository root), the shared data sits beside it.
constexpr const char* kDefaultPlay = "../shared/data/tinyshakespeare.txt";
}  // namespace

const Command kDemo{"demo", "", "The pile of masks in a few seconds, on the built-in corpus, then on real text.",
                    "Trains on 80% of each persona's documents, measures attribution and bits per byte on\n"
                    "the other 20%, traces a text whose mask swaps midway, and samples from every mask.\n"
                    "Then the same on real text nobody wrote for it: eight of Shakespeare's speakers in\n"
                    "a play file (the speakers ranked 9 to 16 by bytes of speech, the end of each one's\n"
                    "text held out), trained with every default of `simulacra train`.",
                    {{"--order", "", "N", "5", "n-gram order of every persona of the built-in corpus"},
                     {"--seed", "", "S", "0", "seed of the split and of the samples"},
                     {"--play", "", "PATH", std::string(kDefaultPlay),
                      "speaker-tagged play for the real-text part (skipped when the default is missing)"},
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

// The speakers ranked `first`..`last` (1-based) by bytes of speech, most first (ties by name).
std::vector<std::string> ranked_speakers(const Corpus& play, std::size_t first, std::size_t last) {
  std::map<std::string, std::size_t> bytes;
  for (const Document& d : play.documents()) bytes[d.persona] += d.text.size();
  std::vector<std::pair<std::string, std::size_t>> order(bytes.begin(), bytes.end());
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> out;
  for (std::size_t r = first; r <= last && r <= order.size(); ++r) out.push_back(order[r - 1].first);
  return out;
}

// Each persona's held-out documents joined by line breaks.
std::map<std::string, std::string> streams_of(const Corpus& heldout) {
  std::map<std::string, std::string> out;
  for (const Document& d : heldout.documents()) {
    std::string& s = out[d.persona];
    s += (s.empty() ? "" : "\n") + d.text;
  }
  return out;
}

// Attribution of consecutive `length`-byte windows of every stream: accuracy,
// and the mean probability given to the answer at the fitted tempering and at
// beta = 1 (the exact posterior). A calibrated posterior's mean confidence is
// its accuracy.
void demo_real_attribution(const Mixture& mix, const std::map<std::string, std::string>& streams,
                           std::size_t length, Table& table) {
  std::size_t n = 0, right = 0;
  double fitted = 0, exact = 0;
  for (const auto& [persona, text] : streams) {
    const int truth = mix.index_of(persona);
    for (std::size_t start = 0; start + length <= text.size(); start += length) {
      const std::string window = text.substr(start, length);
      const Eigen::VectorXd post = mix.attribute(window), post1 = mix.attribute(window, 1.0);
      Eigen::Index top = 0;
      fitted += std::exp(post.maxCoeff(&top));  // attribute() gives log posteriors
      exact += std::exp(post1.maxCoeff());
      right += top == truth;
      ++n;
    }
  }
  if (n == 0) return;
  table.row({fmt::format("{} bytes", length), fmt::format("{}", n),
             fmt::format("{:.1f}%", 100.0 * double(right) / double(n)), fmt::format("{:.1f}%", 100 * fitted / double(n)),
             fmt::format("{:.1f}%", 100 * exact / double(n))});
}

// One character per `block` bytes: the persona key that owns most of them.
std::string owner_strip(const std::vector<int>& owner, std::size_t block) {
  std::string out;
  for (std::size_t i = 0; i < owner.size(); i += block) {
    std::map<int, std::size_t> votes;
    for (std::size_t j = i; j < std::min(owner.size(), i + block); ++j) ++votes[owner[j]];
    out += persona_key(std::max_element(votes.begin(), votes.end(), [](const auto& a, const auto& b) {
                         return a.second < b.second;
                       })->first);
  }
  return out;
}

// The pile on real text: eight of a play's speakers, every training default.
void demo_real_text(const std::string& path, std::uint64_t seed, bool color) {
  const Corpus play = Corpus::from_play(path);
  const std::vector<std::string> speakers = ranked_speakers(play, 9, 16);
  if (speakers.size() < 2) {
    fmt::print("{} has {} speakers ranked 9 or below: no real-text part\n", path, speakers.size());
    return;
  }
  Corpus chosen;
  for (const Document& d : play.documents())
    if (std::count(speakers.begin(), speakers.end(), d.persona)) chosen.add(d.text, d.persona);
  const auto [train_part, heldout] = chosen.split_tail(0.2);
  fmt::print("{}: the {} speakers ranked 9 to 16 by bytes of speech, {} speeches, {} bytes; the last 20% of each\n"
             "speaker's text held out (it comes after all of its training text in the play).\n",
             path, speakers.size(), chosen.size(), chosen.bytes());
  TrainConfig cfg;  // every default: order "auto", the shared background, calibration, the segmentation fit
  cfg.seed = seed;
  TrainReport report;
  const Mixture mix = train(train_part, cfg, &report);
  const auto [lo, hi] = std::minmax_element(report.background_weights.begin(), report.background_weights.end());
  fmt::print("trained in {:.1f} s: order {} (the best held-out bits per byte of orders {}-{}); each mask is\n"
             "its speaker's own model mixed with a background model of all {} speakers, with {:.0f}-{:.0f}% weight\n"
             "on its own; attribution tempering beta = {:.3f} at 300 bytes; segmentation rate {:.4f} per byte\n\n",
             report.train_seconds, report.order, report.orders.empty() ? report.order : report.orders.front(),
             report.orders.empty() ? report.order : report.orders.back(), speakers.size(), 100 * *lo, 100 * *hi,
             report.attribution_beta, report.alpha_segmentation);
  print_legend(mix.names(), false);

  const std::map<std::string, std::string> streams = streams_of(heldout);
  Table attribution;
  attribution.column("held-out windows", Table::Align::kLeft);
  attribution.column("count");
  attribution.column("right");
  attribution.column("mean confidence");
  attribution.column("exact posterior's");
  for (std::size_t length : {300, 1000}) demo_real_attribution(mix, streams, length, attribution);
  fmt::print("\nWho wrote a window of held-out text? (chance {:.1f}%; a calibrated posterior's mean confidence\n"
             "is its accuracy, and the exact Bayesian posterior, beta = 1, is far more sure than it is right)\n",
             100.0 / double(speakers.size()));
  print_table(attribution, color);

  // Every stream cut into 500-byte segments, interleaved round by round.
  std::string stream;
  for (std::size_t start = 0;; start += 500) {
    bool any = false;
    for (const auto& [persona, text] : streams)
      if (start < text.size()) {
        stream += text.substr(start, 500);
        any = true;
      }
    if (!any) break;
  }
  const std::vector<Token> tokens = encode_document(stream);
  std::vector<std::string> all_text;
  for (const Document& d : train_part.documents()) all_text.push_back(d.text);
  const NGramPersona pooled = NGramPersona::fit(all_text, report.order);
  const double bytes = double(tokens.size());
  const std::vector<double> pooled_logprobs = pooled.token_logprobs(tokens);
  double pooled_nats = 0;
  for (double lp : pooled_logprobs) pooled_nats -= lp;
  fmt::print("\nBits per byte on the held-out text, every speaker's in 500-byte turns ({} bytes): the pile {:.4f};\n"
             "one pooled order-{} model of all the training text {:.4f}\n",
             stream.size(), -mix.trace(tokens).total_logprob() / (std::log(2.0) * bytes), report.order,
             pooled_nats / (std::log(2.0) * bytes));

  // A swap: 600 held-out bytes of one speaker, then 600 of another.
  const std::string& a = speakers[0];
  const std::string& b = speakers[1];
  const std::string first = streams.at(a).substr(0, 600), second = streams.at(b).substr(0, 600);
  const std::string text = first + second;
  const std::vector<Token> swap_tokens = encode_document(text);
  std::vector<int> truth(text.size(), mix.index_of(a));
  std::fill(truth.begin() + std::ptrdiff_t(first.size()), truth.end(), mix.index_of(b));
  const std::vector<int> filtered = owners_after(mix.trace(swap_tokens), text.size());
  const Smoothed smoothed = smooth(mix, swap_tokens);
  const std::vector<int> smooth_owner(smoothed.dominant.begin(), smoothed.dominant.begin() + std::ptrdiff_t(text.size()));
  auto right = [&](const std::vector<int>& owner) {
    std::size_t r = 0;
    for (std::size_t i = 0; i < owner.size(); ++i) r += owner[i] == truth[i];
    return fmt::format("{:5.1f}% of bytes right", 100.0 * double(r) / double(owner.size()));
  };
  fmt::print("\n{} held-out bytes of {}, then {} of {}, read as one text; who leads, a key per 15 bytes:\n",
             first.size(), a, second.size(), b);
  fmt::print("  truth     {}\n", owner_strip(truth, 15));
  fmt::print("  filtered  {}  {}  (the trace: what the text so far says)\n", owner_strip(filtered, 15), right(filtered));
  fmt::print("  smoothed  {}  {}  (forward-backward: the whole text)\n", owner_strip(smooth_owner, 15),
             right(smooth_owner));
  std::map<int, std::size_t> second_owner;  // who the smoothed view gives the second part to
  for (std::size_t i = first.size(); i < text.size(); ++i) ++second_owner[smooth_owner[i]];
  const int lead = std::max_element(second_owner.begin(), second_owner.end(), [](const auto& x, const auto& y) {
                     return x.second < y.second;
                   })->first;
  fmt::print("The smoothed view gives most of the second part to {}{}. Speakers this close differ by\n"
             "little per byte: a few hundred bytes of one are often taken for another (see the table), so\n"
             "who is speaking is told over hundreds of bytes, and not always right. bench/bench_real_text.py\n"
             "measures all of this against scikit-learn baselines (docs/real-text.md).\n",
             mix.names()[std::size_t(lead)], lead == mix.index_of(b) ? " (right)" : fmt::format(" (it was {})", b));
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

  const std::string play = args.get("--play", kDefaultPlay);
  section("5. On real text: Shakespeare's speakers", color);
  std::error_code ec;
  if (!args.has("--play") && !std::filesystem::is_regular_file(play, ec))
    fmt::print("(no play at {}: pass --play PATH to see the pile on real text)\n", play);
  else
    demo_real_text(play, cfg.seed, color);

  section("Next", color);
  fmt::print("Save a model:  simulacra train --builtin --order {} -o personas.safetensors\n", cfg.order);
  fmt::print("then try:      simulacra trace personas.safetensors --text \"Arr, certainly! Here are a few steps.\"\n");
  fmt::print("demo finished in {:.2f} s\n", seconds_since(start));
  return 0;
}

}  // namespace simulacra::cli
