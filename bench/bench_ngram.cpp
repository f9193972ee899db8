// bench_ngram: the n-gram persona and the mixture on tinyshakespeare, order 6,
// one thread, each figure beside a straightforward reference in the same run.
//
// References (written here, deliberately plain):
//   training  counting every n-gram of orders 1..N in std::unordered_map<std::string, count>
//             (counting alone: no adjusted counts, no discounts, so it is a lower bound);
//   scoring   the same model's values in std::unordered_map<std::string, {disc, gamma}>,
//             one hash lookup per order per token (the probing-table way);
//   full distribution  kVocab separate reference queries per context;
//   mixture   the sum of the 8 personas' own scoring times (target: trace <= 1.1x that), in 7
//             pairs alternating which side runs first: the median ratio and its range.
//
// Timings are the best of 3 runs (5 for scoring; this machine's neighbours
// make single runs vary by up to 2x).
//
// Usage: bench_ngram [path/to/tinyshakespeare.txt] [order] [mixture]
// ("mixture": the mixture overhead alone, e.g. under valgrind --tool=callgrind,
// where Mixture::trace's inclusive count over half of NGramPersona::token_logprobs's
// is the ratio in instructions.)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <simulacra/simulacra.hpp>

#include "bench_util.hpp"

using namespace simulacra;
using simulacra::bench::read_file;
using simulacra::bench::seconds_best_of;

namespace {

// The reference model: every n-gram's values in a hash map keyed by its bytes
// (the start boundary as byte 0xff prefix marker '\x01' + "S"), exported from the trie.
struct HashModel {
  struct Entry {
    double disc = 0.0;
    double gamma = 1.0;
  };
  int order = 0;
  std::unordered_map<std::string, Entry> table;

  static std::string sym(int t) { return t == NGramPersona::kStart ? std::string("\x01S") : t == kBoundary ? std::string("\x01E") : std::string(1, char(t)); }

  explicit HashModel(const NGramPersona& lm) : order(lm.order()) {
    std::function<void(int, std::uint32_t, const std::string&)> walk = [&](int n, std::uint32_t i, const std::string& key) {
      const auto& node = lm.levels()[std::size_t(n)].node[i];
      table[key] = {node.disc, node.gamma};
      if (n == order) return;
      const auto& next = lm.levels()[std::size_t(n) + 1];
      for (std::uint32_t c = node.child_begin; c < node.child_end; ++c) walk(n + 1, c, key + sym(next.node[c].token));
    };
    walk(0, 0, "");
  }
  // log p(w | history), history = symbol strings oldest first (at most order-1 used).
  double logprob(const std::vector<std::string>& history, int w) const {
    double p = 1.0 / kVocab;
    std::string ctx;
    const std::size_t use = std::min(history.size(), std::size_t(order - 1));
    // contexts from short to long: "", h[-1], h[-2..-1], ...
    for (std::size_t n = 0; n <= use; ++n) {
      if (n > 0) ctx = history[history.size() - n] + ctx;
      auto c = table.find(ctx);
      if (c == table.end()) break;
      auto e = table.find(ctx + sym(w));
      p = c->second.gamma * p + (e == table.end() ? 0.0 : e->second.disc);
    }
    return std::log(p);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : std::string(SIMULACRA_SHARED_DATA) + "/tinyshakespeare.txt";
  const int order = argc > 2 ? std::atoi(argv[2]) : 6;
  const bool mixture_only = argc > 3 && std::string(argv[3]) == "mixture";
  const std::string text = read_file(path);
  const double mb = double(text.size()) / 1e6;
  const std::vector<Token> tokens = encode_document(text);
  double sink = 0.0, ref_sum = 0.0;
  if (!mixture_only) {  // everything but the mixture overhead
  fmt::print("bench_ngram: {} ({:.2f} MB), order {}, one thread, best of 3 or 5 runs\n\n", path, mb, order);
  fmt::print("{:<34} {:>14} {:>14} {:>8}\n", "figure", "simulacra", "reference", "ratio");

  // Training.
  NGramPersona lm;
  const double t_train = seconds_best_of(3, [&] { lm = NGramPersona::fit({text}, order); });
  const double t_ref_train = seconds_best_of(3, [&] {
    std::unordered_map<std::string, std::uint32_t> counts;
    const std::string doc = "\x02" + text + "\x03";
    for (std::size_t i = 0; i < doc.size(); ++i)
      for (int n = 1; n <= order && i + std::size_t(n) <= doc.size(); ++n) ++counts[doc.substr(i, std::size_t(n))];
  });
  fmt::print("{:<34} {:>11.2f} MB/s {:>9.2f} MB/s {:>7.1f}x   (target >= 2 MB/s)\n", "training throughput", mb / t_train,
             mb / t_ref_train, t_ref_train / t_train);

  // Sequence scoring.
  std::vector<double> out(tokens.size());
  const double t_score = seconds_best_of(5, [&] { lm.token_logprobs(tokens.data(), tokens.size(), out.data()); });
  const HashModel ref(lm);
  const std::size_t ref_n = std::min<std::size_t>(tokens.size(), 300000);
  double max_diff = 0.0;
  const double t_ref_score = seconds_best_of(1, [&] {
    std::vector<std::string> hist{HashModel::sym(NGramPersona::kStart)};
    for (std::size_t t = 0; t < ref_n; ++t) {
      const double l = ref.logprob(hist, tokens[t]);
      ref_sum += l;
      max_diff = std::max(max_diff, std::abs(l - out[t]));
      hist.push_back(HashModel::sym(tokens[t]));
      if (hist.size() > std::size_t(order)) hist.erase(hist.begin());
    }
  }) * double(tokens.size()) / double(ref_n);
  fmt::print("{:<34} {:>11.2f} MB/s {:>9.2f} MB/s {:>7.1f}x   (target >= 5 MB/s; max |diff| {:.1e})\n",
             "sequence scoring", mb / t_score, mb / t_ref_score, t_ref_score / t_score, max_diff);

  // Full next-token distribution (log-probs), over the contexts of the text.
  const std::size_t n_ctx = std::min<std::size_t>(tokens.size(), 200000);
  Eigen::VectorXd dist(kVocab);
  const double t_dist = seconds_best_of(3, [&] {
    NGramPersona::Cursor cursor(lm);
    for (std::size_t t = 0; t < n_ctx; ++t) {
      lm.next_probs(cursor.context(), dist);
      dist = dist.array().log();
      sink += dist[tokens[t]];
      cursor.advance(tokens[t]);
    }
  });
  const std::size_t ref_ctx = 2000;
  const double t_ref_dist = seconds_best_of(1, [&] {
    std::vector<std::string> hist{HashModel::sym(NGramPersona::kStart)};
    for (std::size_t t = 0; t < ref_ctx; ++t) {
      for (int v = 0; v < kVocab; ++v) sink += ref.logprob(hist, v);
      hist.push_back(HashModel::sym(tokens[t]));
      if (hist.size() > std::size_t(order)) hist.erase(hist.begin());
    }
  });
  fmt::print("{:<34} {:>9.0f} ctx/s {:>8.0f} ctx/s {:>7.1f}x   (target >= 300k contexts/s)\n",
             "full next-token distribution", double(n_ctx) / t_dist, double(ref_ctx) / t_ref_dist,
             (t_ref_dist / double(ref_ctx)) / (t_dist / double(n_ctx)));

  // Memory.
  std::size_t ref_bytes = ref.table.bucket_count() * sizeof(void*);
  for (const auto& kv : ref.table)
    ref_bytes += sizeof(kv) + sizeof(void*) + (kv.first.size() > 15 ? kv.first.size() + 1 : 0);
  const double per = double(lm.memory_bytes()) / double(lm.num_ngrams());
  const double ref_per = double(ref_bytes) / double(ref.table.size());
  fmt::print("{:<34} {:>9.1f} B/ngram {:>6.1f} B/ngram {:>6.1f}x   (target <= 64; {} n-grams)\n",
             "memory per stored n-gram", per, ref_per, ref_per / per, lm.num_ngrams());

  }

  // Mixture overhead: K = 8 personas, each trained on one eighth of the text.
  const int K = 8;
  std::vector<std::shared_ptr<const Persona>> personas;
  std::vector<std::string> names;
  for (int k = 0; k < K; ++k) {
    const std::size_t b = text.size() * std::size_t(k) / K, e = text.size() * std::size_t(k + 1) / K;
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit({text.substr(b, e - b)}, order)));
    names.push_back(fmt::format("part{}", k));
  }
  MixtureConfig mc;
  mc.switching = Switching::kFixedShare;
  mc.alpha = 1e-3;
  const Mixture mix(personas, names, Eigen::VectorXd::Ones(K), mc);
  const std::vector<Token> head(tokens.begin(), tokens.begin() + std::ptrdiff_t(std::min<std::size_t>(tokens.size(), 500000)));
  double check = 0.0, total = 0.0;
  // Paired runs, the two sides alternating which goes first: the ratio of
  // each pair (both sides under the same load), then the median and range.
  std::vector<double> ratios, t_sums, t_traces;
  for (int rep = 0; rep < 7; ++rep) {
    double t_sum = 0.0, t_trace = 0.0;
    for (int side = 0; side < 2; ++side) {
      if ((side == 0) == (rep % 2 == 0)) {
        t_sum = seconds_best_of(1, [&] {  // each persona's own scoring, as a user calls it
          for (int k = 0; k < K; ++k) check += personas[std::size_t(k)]->token_logprobs(head).back();
        });
      } else {
        t_trace = seconds_best_of(1, [&] { total = mix.trace(head).total_logprob(); });
      }
    }
    t_sums.push_back(t_sum);
    t_traces.push_back(t_trace);
    ratios.push_back(t_trace / t_sum);
  }
  std::sort(ratios.begin(), ratios.end());
  fmt::print("{:<34} {:>11.3f} s {:>11.3f} s {:>7.2f}x   (target <= 1.1x; K = 8, {} tokens; 7 pairs, ratio range {:.2f}-{:.2f})\n",
             "mixture trace vs 8 persona scores", *std::min_element(t_traces.begin(), t_traces.end()),
             *std::min_element(t_sums.begin(), t_sums.end()), ratios[ratios.size() / 2], head.size(), ratios.front(),
             ratios.back());
  fmt::print("\n(checksum {:.3f} {:.3f} {:.3f} {:.3f})\n", sink, ref_sum, total, check);
  return 0;
}
