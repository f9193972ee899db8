// src/cli/discover.cpp — `simulacra discover`: masks found by EM in unlabelled documents, optionally saved.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "commands.hpp"
#include "common.hpp"
#include "table.hpp"

namespace simulacra::cli {

const Command kDiscover{
    "discover", "", "Find K masks in unlabelled documents by EM (labels, if any, only score the result).",
    "Give one corpus option (--builtin when none is given). Its persona labels are not used to fit: each\n"
    "document is attributed to one of K n-gram masks by EM over documents, from k-means++ starts on TF-IDF\n"
    "byte 3..5-gram profiles; the start with the best held-out likelihood is kept. With labels, the masks\n"
    "against the labels and their scores (NMI, adjusted Rand, purity, matched accuracy) are printed.\n"
    "Each mask is named by its most characteristic byte n-grams and a short sample of its own.\n"
    "--k LO..HI chooses K on the held-out documents.",
    {kBuiltin, kDir, kJsonl, kPlay, kTopSpeakers, kFortunes,
     {"--k", "", "K|LO..HI", "2", "the number of masks, or a range from which the best held-out K is chosen"},
     {"--order", "", "N", "2", "n-gram order of every mask (2: the best clustering of the real corpora measured)"},
     {"--smoothing", "", "S", "dirichlet", "dirichlet (EM's objective never falls) or expected_kneser_ney"},
     {"--mu", "", "X", "2", "Dirichlet concentration (> 0)"},
     {"--iterations", "", "N", "40", "EM iterations per start (the first half annealing)"},
     {"--restarts", "", "N", "3", "k-means++ starts"},
     {"--hard", "", "", "", "classification EM: each document wholly to its best mask"},
     {"--beta", "", "X", "1", "E-step tempering (> 0); 1 keeps EM's guarantee"},
     {"--anneal", "", "X", "0.1", "first E-step's tempering as a share of beta, rising to beta over half the iterations; 1: none"},
     {"--heldout", "", "F", "0.1", "share of the documents held out to choose the start and K, in [0, 1)"},
     {"--seed", "", "S", "0", "seed of the held-out split and of the starts"},
     {"--output", "-o", "MODEL", "", "write the discovered pile here (a .safetensors file)"},
     kColor},
    0, 0};

namespace {

std::vector<int> k_values_of(const Args& args) {
  const std::string v = args.get("--k", "2");
  const auto dots = v.find("..");
  if (dots == std::string::npos) return {int(args.integer("--k", 2, 1, 1 << 20))};
  auto bound = [&](const std::string& s) {
    char* end = nullptr;
    const long x = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || x < 1 || x > (1 << 20)) Args::bad("--k", v, "K or LO..HI with 1 <= LO <= HI");
    return int(x);
  };
  const int lo = bound(v.substr(0, dots)), hi = bound(v.substr(dots + 2));
  if (lo > hi) Args::bad("--k", v, "K or LO..HI with 1 <= LO <= HI");
  std::vector<int> out;
  for (int k = lo; k <= hi; ++k) out.push_back(k);
  return out;
}

}  // namespace

int run_discover(const Args& args) {
  const bool color = color_of(args);
  auto [corpus, source] = load_corpus(args);
  std::vector<std::string> texts;
  for (const Document& d : corpus.documents()) texts.push_back(d.text);
  fmt::print("corpus: {} ({} documents, {} bytes; labels used only to score)\n", source, corpus.size(), corpus.bytes());
  DiscoveryConfig cfg;
  cfg.order = int(args.integer("--order", 2, 1, NGramPersona::kMaxOrder));
  cfg.smoothing.smoothing =
      weighted_smoothing_from_name(args.choice("--smoothing", "dirichlet", {"dirichlet", "expected_kneser_ney"}));
  cfg.smoothing.mu = args.real("--mu", 2.0, Range{0, INFINITY, true});
  cfg.iterations = int(args.integer("--iterations", 40, 1, 1 << 20));
  cfg.restarts = int(args.integer("--restarts", 3, 1, 1 << 20));
  cfg.hard = args.has("--hard");
  cfg.beta = args.real("--beta", 1.0, Range{0, INFINITY, true});
  cfg.anneal = args.real("--anneal", 0.1, Range{0, 1, true});
  cfg.heldout_fraction = args.real("--heldout", 0.1, Range{0, 1, false, true});
  cfg.seed = args.seed("--seed", 0);
  const std::vector<int> ks = k_values_of(args);
  const bool tty = isatty(fileno(stderr));
  cfg.on_progress = [tty](const DiscoveryProgress& p) {
    if (!tty) return;
    fmt::print(stderr, "\r\x1b[Kk {} start {} iteration {}: log-likelihood {:.1f}", p.k, p.restart + 1, p.iteration,
               p.log_likelihood);
    std::fflush(stderr);
  };
  const Discovery found = ks.size() == 1 ? discover(texts, ks[0], cfg) : discover(texts, ks, cfg);
  if (tty) fmt::print(stderr, "\r\x1b[K");

  if (ks.size() > 1) {
    Table t;
    t.column("k");
    t.column("held-out log-likelihood");
    t.column("", Table::Align::kLeft);
    for (std::size_t i = 0; i < found.k_values.size(); ++i)
      t.row({fmt::format("{}", found.k_values[i]), fmt::format("{:.1f}", found.heldout_by_k[i]),
             found.k_values[i] == found.k ? "<- chosen" : ""});
    print_table(t, false);
  }
  fmt::print("k = {}: start {} of {} kept{} ({} held-out documents{}), {} iterations in {:.2f} s\n", found.k,
             found.restart + 1, found.restart_scores.size(),
             cfg.anneal < 1.0 ? (found.annealed ? ", its annealed run" : ", its plain run") : "",
             found.heldout.size(),
             found.heldout.empty() ? "" : fmt::format(", log-likelihood {:.1f}", found.heldout_log_likelihood),
             found.log_likelihoods.size(), found.seconds);
  {
    Table t;
    t.column("iteration");
    t.column("log-likelihood");
    t.column("objective");
    for (std::size_t i = 0; i < found.log_likelihoods.size(); ++i)
      t.row({fmt::format("{}", i + 1), fmt::format("{:.2f}", found.log_likelihoods[i]),
             fmt::format("{:.2f}", found.objective[i])});
    print_table(t, false);
  }

  // The masks, and against the labels when there are several.
  const std::vector<std::string> labels = corpus.personas();
  std::vector<std::map<std::string, std::size_t>> by_label(std::size_t(found.k));
  std::vector<std::size_t> docs(std::size_t(found.k), 0), bytes(std::size_t(found.k), 0);
  for (std::size_t d = 0; d < corpus.size(); ++d) {
    const auto k = std::size_t(found.assignments[d]);
    ++docs[k];
    bytes[k] += corpus[d].text.size();
    ++by_label[k][corpus[d].persona];
  }
  Table t;
  t.column("mask", Table::Align::kLeft);
  t.column("prior");
  t.column("documents");
  t.column("bytes");
  if (labels.size() > 1) t.column("most of its documents", Table::Align::kLeft);
  for (int k = 0; k < found.k; ++k) {
    const auto& m = by_label[std::size_t(k)];
    std::vector<Cell> row = {Cell(found.mixture.names()[std::size_t(k)], persona_style(k)), fmt::format("{:.3f}", found.mixture.prior()[k]),
                                    fmt::format("{}", docs[std::size_t(k)]), fmt::format("{}", bytes[std::size_t(k)])};
    if (labels.size() > 1) {
      const auto top = std::max_element(m.begin(), m.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
      if (top == m.end()) {
        row.push_back("");
      } else {
        row.push_back(fmt::format("{} ({:.0f}%)", top->first, 100.0 * double(top->second) / double(docs[std::size_t(k)])));
      }
    }
    t.row(row);
  }
  print_table(t, color);
  if (labels.size() > 1) {
    std::vector<int> truth;
    for (const Document& d : corpus.documents())
      truth.push_back(int(std::lower_bound(labels.begin(), labels.end(), d.persona) - labels.begin()));
    const PersonaMatch match = match_personas(found.assignments, truth);
    fmt::print("against the {} labels: NMI {:.3f}, adjusted Rand {:.3f}, purity {:.3f}, matched accuracy {:.3f} "
               "(cluster_metrics.hpp)\n",
               labels.size(), normalized_mutual_info(found.assignments, truth),
               adjusted_rand_index(found.assignments, truth), purity(found.assignments, truth), match.accuracy);
  }
  // What each mask is: its characteristic n-grams (mask_names.hpp) and a sample of its own.
  DescribeConfig dc;
  dc.seed = args.seed("--seed", 0);
  fmt::print("\nwhat each mask is: its most characteristic {}-grams (lift over the pile, weighted count >= {:g}) "
             "and a sample of its own\n", dc.n, dc.min_count);
  for (const MaskDescription& m : describe_masks(found.mixture, texts, found.responsibilities, dc)) {
    std::string grams;
    for (const CharacteristicNGram& g : m.ngrams) grams += (grams.empty() ? "\"" : "  \"") + escaped_bytes(encode(g.ngram)) + "\"";
    fmt::print("  {}: {}\n    \"{}\"\n", m.name, grams.empty() ? "(too little text)" : grams, escaped_bytes(encode(m.sample)));
  }
  if (args.has("--output")) {
    save(found.mixture, args.get("--output"));
    print_written(args.get("--output"));
  }
  return 0;
}

}  // namespace simulacra::cli
