// N-gram personas fitted on weighted documents (ngram_weighted.hpp).
#include "simulacra/ngram_weighted.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>

#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

// P(a = 0..4) and P(a >= 5) of a count that is a sum of independent Bernoulli variables.
using CountLaw = std::array<double, 6>;

// The law of a + b for b ~ Bernoulli(p), b independent of a.
void add_bernoulli(CountLaw& law, double p) {
  const double q = 1.0 - p;
  law[5] += law[4] * p;
  for (int r = 4; r >= 1; --r) law[std::size_t(r)] = law[std::size_t(r)] * q + law[std::size_t(r) - 1] * p;
  law[0] *= q;
}

}  // namespace

std::string weighted_smoothing_name(WeightedSmoothing s) {
  return s == WeightedSmoothing::kDirichlet ? "dirichlet" : "expected_kneser_ney";
}

WeightedSmoothing weighted_smoothing_from_name(const std::string& name) {
  if (name == "dirichlet") return WeightedSmoothing::kDirichlet;
  if (name == "expected_kneser_ney" || name == "ekn" || name == "kneser_ney") return WeightedSmoothing::kExpectedKneserNey;
  throw InvalidArgument(fmt::format(
      "smoothing must be 'dirichlet' or 'expected_kneser_ney' (also 'ekn', 'kneser_ney'), got '{}'", name));
}

void check_weighted_config(const WeightedFitConfig& config, const char* what) {
  SIMULACRA_CHECK(std::isfinite(config.mu) && config.mu > 0.0, InvalidArgument,
                  "{}: the Dirichlet concentration mu must be finite and > 0, got {}", what, config.mu);
}

DocumentNGrams::DocumentNGrams(const std::vector<std::string>& documents, int order) : order_(order) {
  NGramPersona::check_order(order, "DocumentNGrams");
  SIMULACRA_CHECK(!documents.empty(), InvalidArgument, "DocumentNGrams: no documents to count");
  detail::NGramSkeleton sk = detail::build_skeleton(documents, order, "DocumentNGrams");
  const std::size_t N = std::size_t(order);
  levels_ = std::move(sk.levels);
  first_start_ = std::move(sk.first_start);
  level_begin_.assign(N + 2, 0);
  for (std::size_t n = 0; n <= N; ++n) level_begin_[n + 1] = level_begin_[n] + std::uint32_t(levels_[n].node.size());
  parent_.assign(num_nodes(), 0);
  suffix_.assign(num_nodes(), 0);
  for (std::size_t n = 1; n <= N; ++n) {
    for (std::size_t j = 0; j < levels_[n - 1].node.size(); ++j) {
      const NGramPersona::Node& c = levels_[n - 1].node[j];
      for (std::uint32_t i = c.child_begin; i < c.child_end; ++i)
        parent_[level_begin_[n] + i] = level_begin_[n - 1] + std::uint32_t(j);
    }
    if (n >= 2)
      for (std::size_t i = 0; i < sk.suffix[n].size(); ++i)
        suffix_[level_begin_[n] + i] = level_begin_[n - 1] + sk.suffix[n][i];
  }

  // The predictive n-gram of every token: a walk down the trie.
  auto child = [&](std::size_t level, std::uint32_t local, Token w) {
    const NGramPersona::Node& c = levels_[level].node[local];
    const NGramPersona::Node* kids = levels_[level + 1].node.data();
    const NGramPersona::Node* it =
        std::lower_bound(kids + c.child_begin, kids + c.child_end, w,
                         [](const NGramPersona::Node& x, Token t) { return int(x.token) < t; });
    assert(it != kids + c.child_end && it->token == w);
    return std::uint32_t(it - kids);
  };
  doc_begin_.reserve(documents.size() + 1);
  doc_begin_.push_back(0);
  std::vector<std::uint32_t> seen;
  InterruptPoller poll(64);
  for (const std::string& doc : documents) {
    poll.tick();
    seen.clear();
    std::size_t level = N == 1 ? 0 : 1;
    std::uint32_t local = N == 1 ? 0 : NGramPersona::kStart;
    for (std::size_t t = 0; t <= doc.size(); ++t) {
      const Token w = t < doc.size() ? Token(static_cast<unsigned char>(doc[t])) : kBoundary;
      const std::uint32_t g_local = child(level, local, w);
      const std::uint32_t g = level_begin_[level + 1] + g_local;
      seen.push_back(g);
      if (level + 1 < N) {
        level = level + 1, local = g_local;
      } else {
        const std::uint32_t s = suffix_[g];  // level N - 1 (the root when N = 1)
        local = s - level_begin_[level];
      }
    }
    std::sort(seen.begin(), seen.end());
    for (std::size_t i = 0; i < seen.size();) {
      std::size_t j = i;
      while (j < seen.size() && seen[j] == seen[i]) ++j;
      doc_node_.push_back(seen[i]);
      doc_count_.push_back(std::uint32_t(j - i));
      i = j;
    }
    doc_begin_.push_back(doc_node_.size());
  }
}

void DocumentNGrams::check_weights(const std::vector<double>& weights, bool at_most_one) const {
  SIMULACRA_CHECK(weights.size() == num_documents(), InvalidArgument,
                  "weighted n-gram fit: {} weights for {} documents", weights.size(), num_documents());
  for (std::size_t d = 0; d < weights.size(); ++d) {
    SIMULACRA_CHECK(std::isfinite(weights[d]) && weights[d] >= 0.0, InvalidArgument,
                    "weighted n-gram fit: the weight of document {} must be finite and >= 0, got {}", d, weights[d]);
    SIMULACRA_CHECK(!at_most_one || weights[d] <= 1.0, InvalidArgument,
                    "weighted n-gram fit: expected Kneser-Ney reads weights as probabilities; the weight of document "
                    "{} is {} > 1",
                    d, weights[d]);
  }
}

NGramPersona DocumentNGrams::fit(const std::vector<double>& weights, const WeightedFitConfig& config) const {
  check_weighted_config(config, "weighted n-gram fit");
  const bool ekn = config.smoothing == WeightedSmoothing::kExpectedKneserNey;
  check_weights(weights, ekn);
  return ekn ? fit_expected_kn(weights) : fit_dirichlet(weights, config.mu);
}

NGramPersona DocumentNGrams::fit_dirichlet(const std::vector<double>& weights, double mu) const {
  // Expected raw counts: each token's predictive n-gram, then down the suffix links
  // (an occurrence of s ends where its predictive n-gram, or a longer one with suffix s, ends).
  std::vector<double> c(num_nodes(), 0.0);
  for (std::size_t d = 0; d < num_documents(); ++d) {
    const double w = weights[d];
    if (w == 0.0) continue;
    for (std::size_t i = doc_begin_[d]; i < doc_begin_[d + 1]; ++i) c[doc_node_[i]] += w * double(doc_count_[i]);
  }
  poll_interrupt();
  for (std::size_t g = num_nodes(); g-- > lowest_with_suffix();) c[suffix_[g]] += c[g];
  std::vector<NGramPersona::Level> levels = levels_;
  for (std::size_t n = 0; n < std::size_t(order_); ++n) {
    poll_interrupt();
    NGramPersona::Level& child = levels[n + 1];
    for (NGramPersona::Node& ctx : levels[n].node) {
      double total = 0.0;
      for (std::uint32_t i = ctx.child_begin; i < ctx.child_end; ++i)
        if (n > 0 || child.node[i].token != NGramPersona::kStart) total += c[level_begin_[n + 1] + i];
      ctx.gamma = mu / (total + mu);
      for (std::uint32_t i = ctx.child_begin; i < ctx.child_end; ++i)
        if (n > 0 || child.node[i].token != NGramPersona::kStart) child.node[i].disc = c[level_begin_[n + 1] + i] / (total + mu);
    }
  }
  std::vector<Discounts> discounts(std::size_t(order_), Discounts{0.0, 0.0, 0.0, false});
  return NGramPersona::from_levels(order_, std::move(levels), std::move(discounts));
}

NGramPersona DocumentNGrams::fit_expected_kn(const std::vector<double>& weights) const {
  const std::size_t N = std::size_t(order_);
  // The law and the expectation of every adjusted count. Raw ones (the
  // predictive n-grams: the top order and those beginning with the start
  // boundary) from their occurrences; z[g] = P(raw count of g = 0) for all.
  std::vector<CountLaw> law(num_nodes(), CountLaw{1.0, 0.0, 0.0, 0.0, 0.0, 0.0});
  std::vector<double> mean(num_nodes(), 0.0);
  for (std::size_t d = 0; d < num_documents(); ++d) {
    const double w = weights[d];
    if (w == 0.0) continue;
    for (std::size_t i = doc_begin_[d]; i < doc_begin_[d + 1]; ++i) {
      CountLaw& l = law[doc_node_[i]];
      for (std::uint32_t r = 0; r < doc_count_[i]; ++r) add_bernoulli(l, w);
      mean[doc_node_[i]] += w * double(doc_count_[i]);
    }
  }
  poll_interrupt();
  std::vector<double> z(num_nodes());
  for (std::size_t g = 0; g < num_nodes(); ++g) z[g] = law[g][0];
  // An occurrence of a shorter n-gram is one of a left extension: the
  // extensions' occurrences are disjoint, so the zero probabilities multiply.
  for (std::size_t g = num_nodes(); g-- > lowest_with_suffix();) z[suffix_[g]] *= z[g];
  // Continuation counts: one Bernoulli(1 - z) per left extension.
  if (N >= 2)
    for (std::size_t g = level_begin_[2]; g < num_nodes(); ++g) {
      const double present = 1.0 - z[g];
      add_bernoulli(law[suffix_[g]], present);
      mean[suffix_[g]] += present;
    }
  poll_interrupt();

  std::vector<Discounts> discounts(N);
  for (std::size_t n = 1; n <= N; ++n) {
    std::array<double, 5> t{};
    for (std::uint32_t g = level_begin_[n]; g < level_begin_[n + 1]; ++g) {
      if (n == 1 && g - level_begin_[1] == NGramPersona::kStart) continue;
      for (std::size_t r = 1; r <= 4; ++r) t[r] += law[g][r];
    }
    discounts[n - 1] = detail::estimate_discounts(t);
  }
  std::vector<NGramPersona::Level> levels = levels_;
  for (std::size_t n = 0; n < N; ++n) {
    poll_interrupt();
    const Discounts& D = discounts[n];
    NGramPersona::Level& child = levels[n + 1];
    auto expected_discount = [&](const CountLaw& l) { return D.d1 * l[1] + D.d2 * l[2] + D.d3 * (l[3] + l[4] + l[5]); };
    for (NGramPersona::Node& ctx : levels[n].node) {
      double total = 0.0, mass = 0.0;
      for (std::uint32_t i = ctx.child_begin; i < ctx.child_end; ++i) {
        if (n == 0 && child.node[i].token == NGramPersona::kStart) continue;
        const std::uint32_t g = level_begin_[n + 1] + i;
        total += mean[g];
        mass += expected_discount(law[g]);
      }
      if (total == 0.0) continue;  // unseen context: pass through
      ctx.gamma = mass / total;
      for (std::uint32_t i = ctx.child_begin; i < ctx.child_end; ++i) {
        if (n == 0 && child.node[i].token == NGramPersona::kStart) continue;
        const std::uint32_t g = level_begin_[n + 1] + i;
        child.node[i].disc = std::max(mean[g] - expected_discount(law[g]), 0.0) / total;
      }
    }
  }
  return NGramPersona::from_levels(order_, std::move(levels), std::move(discounts));
}

std::vector<double> DocumentNGrams::node_probabilities(const NGramPersona& lm) const {
  SIMULACRA_CHECK(lm.order() == order_, InvalidArgument, "node_probabilities: the model has order {}, the counts {}",
                  lm.order(), order_);
  for (int n = 1; n <= order_; ++n)
    SIMULACRA_CHECK(lm.num_ngrams(n) == levels_[std::size_t(n)].node.size(), InvalidArgument,
                    "node_probabilities: the model was not fitted on these counts (order {}: {} n-grams, the counts {})",
                    n, lm.num_ngrams(n), levels_[std::size_t(n)].node.size());
  std::vector<double> p(num_nodes(), 0.0);
  const auto& L = lm.levels();
  const double base = L[0].node[0].gamma * (1.0 / kVocab);  // the walk's order of operations
  for (std::uint32_t i = 0; i < L[1].node.size(); ++i) p[level_begin_[1] + i] = base + L[1].node[i].disc;
  for (std::size_t n = 2; n <= std::size_t(order_); ++n)
    for (std::uint32_t i = 0; i < L[n].node.size(); ++i) {
      const std::uint32_t g = level_begin_[n] + i;
      const std::uint32_t par = parent_[g];
      p[g] = L[n - 1].node[par - level_begin_[n - 1]].gamma * p[suffix_[g]] + L[n].node[i].disc;
    }
  return p;
}

NGramPersona fit_weighted(const std::vector<std::string>& documents, const std::vector<double>& weights, int order,
                          const WeightedFitConfig& config) {
  check_weighted_config(config, "fit_weighted");
  SIMULACRA_CHECK(weights.size() == documents.size(), InvalidArgument, "fit_weighted: {} weights for {} documents",
                  weights.size(), documents.size());
  return DocumentNGrams(documents, order).fit(weights, config);
}

}  // namespace simulacra
