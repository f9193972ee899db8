// tests/ngram_weighted_test.cpp — n-gram personas on weighted documents
// (ngram_weighted.hpp) against independent references.
//
// References written here: the Dirichlet recursion from std::map counts of
// weighted occurrences; expected Kneser-Ney by enumerating every subset of
// kept token positions (probability prod w / (1 - w)) and averaging the
// integer adjusted counts and count-of-counts of each subset; with weights 0
// and 1, NGramPersona::fit of the documents of weight 1.
#include "simulacra/ngram_weighted.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/model_file.hpp"

namespace {

using simulacra::InvalidArgument;
using simulacra::DocumentNGrams;
using simulacra::NGramPersona;
using simulacra::WeightedFitConfig;
using simulacra::WeightedSmoothing;
using Seq = std::vector<int>;

constexpr int kV = simulacra::kVocab;
constexpr int kS = NGramPersona::kStart;  // the start boundary in the reference's sequences

// [<s>, bytes..., <b>]
Seq sequence(const std::string& doc) {
  Seq s{kS};
  for (unsigned char c : doc) s.push_back(c);
  s.push_back(simulacra::kBoundary);
  return s;
}

// The Dirichlet recursion of the header, from weighted n-gram counts in a map.
class DirichletReference {
 public:
  DirichletReference(const std::vector<std::string>& docs, const std::vector<double>& w, int order, double mu)
      : order_(order), mu_(mu) {
    for (std::size_t d = 0; d < docs.size(); ++d) {
      const Seq s = sequence(docs[d]);
      for (std::size_t t = 1; t < s.size(); ++t)
        for (std::size_t n = 1; n <= std::size_t(order) && n <= t + 1; ++n) {
          const Seq g(s.begin() + std::ptrdiff_t(t + 1 - n), s.begin() + std::ptrdiff_t(t + 1));
          count_[g] += w[d];
          context_[Seq(g.begin(), g.end() - 1)] += w[d];
        }
    }
  }
  double prob(const Seq& h, int w) const {
    if (h.empty()) return (get(count_, {w}) + mu_ / kV) / (get(context_, {}) + mu_);
    Seq hw = h;
    hw.push_back(w);
    return (get(count_, hw) + mu_ * prob(Seq(h.begin() + 1, h.end()), w)) / (get(context_, h) + mu_);
  }
  double score(const std::string& doc) const {
    const Seq s = sequence(doc);
    double total = 0.0;
    for (std::size_t t = 1; t < s.size(); ++t) {
      const std::size_t m = std::min<std::size_t>(std::size_t(order_) - 1, t);
      total += std::log(prob(Seq(s.begin() + std::ptrdiff_t(t - m), s.begin() + std::ptrdiff_t(t)), s[t]));
    }
    return total;
  }

 private:
  static double get(const std::map<Seq, double>& m, const Seq& k) {
    const auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  }
  int order_;
  double mu_;
  std::map<Seq, double> count_, context_;  // c(g); c(h.) = sum_x c(hx)
};

// Expected Kneser-Ney by enumeration of the kept positions (each token
// position of document d kept with probability w_d; every n-gram ending
// there is kept with it).
class ExpectedKnReference {
 public:
  ExpectedKnReference(const std::vector<std::string>& docs, const std::vector<double>& w, int order) : order_(order) {
    std::vector<Seq> seqs;
    std::vector<std::pair<std::size_t, std::size_t>> pos;  // (doc, t)
    for (std::size_t d = 0; d < docs.size(); ++d) {
      seqs.push_back(sequence(docs[d]));
      for (std::size_t t = 1; t < seqs.back().size(); ++t) pos.emplace_back(d, t);
    }
    const std::size_t P = pos.size();
    tr_.assign(std::size_t(order) + 1, std::vector<double>(5, 0.0));
    for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << P); ++mask) {
      double prob = 1.0;
      for (std::size_t i = 0; i < P; ++i) prob *= (mask >> i & 1) ? w[pos[i].first] : 1.0 - w[pos[i].first];
      if (prob == 0.0) continue;
      std::map<Seq, double> raw;                // raw counts of kept occurrences
      std::map<Seq, std::map<int, int>> left;   // s -> distinct left tokens of kept occurrences
      for (std::size_t i = 0; i < P; ++i) {
        if (!(mask >> i & 1)) continue;
        const Seq& s = seqs[pos[i].first];
        const std::size_t t = pos[i].second;
        for (std::size_t n = 1; n <= std::size_t(order) && n <= t + 1; ++n) {
          const Seq g(s.begin() + std::ptrdiff_t(t + 1 - n), s.begin() + std::ptrdiff_t(t + 1));
          raw[g] += 1;
          if (t + 1 - n >= 1) left[g][s[t - n]] = 1;
        }
      }
      std::map<Seq, double> a;
      for (const auto& [g, c] : raw) a[g] = adjusted_is_raw(g) ? c : double(left[g].size());
      for (const auto& [g, c] : a) {
        if (g.size() == 1 && g[0] == kS) continue;
        mean_[g] += prob * c;
        if (c >= 1 && c <= 4) tr_[g.size()][std::size_t(c)] += prob;
        law_[g][c >= 3 ? 3 : int(c)] += prob;
      }
    }
    for (int n = 1; n <= order; ++n) {
      const auto& t = tr_[std::size_t(n)];
      std::array<double, 3> d{0.5, 1.0, 1.5};
      if (t[1] > 0 && t[2] > 0 && t[3] > 0) {
        const double y = t[1] / (t[1] + 2 * t[2]);
        const std::array<double, 3> e{1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3]};
        if (e[0] >= 0 && e[0] <= 1 && e[1] >= 0 && e[1] <= 2 && e[2] >= 0 && e[2] <= 3) d = e;
      }
      d_.push_back(d);
    }
  }
  double prob(const Seq& h, int w) const {
    const double lower = h.empty() ? 1.0 / kV : prob(Seq(h.begin() + 1, h.end()), w);
    double total = 0.0, mass = 0.0;
    for (int x = 0; x < kV; ++x) {
      Seq hx = h;
      hx.push_back(x);
      total += get(mean_, hx);
      mass += discount(hx);
    }
    if (total == 0.0) return lower;
    Seq hw = h;
    hw.push_back(w);
    return (get(mean_, hw) - discount(hw)) / total + mass / total * lower;
  }
  double score(const std::string& doc) const {
    const Seq s = sequence(doc);
    double total = 0.0;
    for (std::size_t t = 1; t < s.size(); ++t) {
      const std::size_t m = std::min<std::size_t>(std::size_t(order_) - 1, t);
      total += std::log(prob(Seq(s.begin() + std::ptrdiff_t(t - m), s.begin() + std::ptrdiff_t(t)), s[t]));
    }
    return total;
  }
  std::array<double, 3> discounts(int n) const { return d_[std::size_t(n) - 1]; }

 private:
  bool adjusted_is_raw(const Seq& g) const { return int(g.size()) == order_ || g[0] == kS; }
  double discount(const Seq& g) const {
    const auto it = law_.find(g);
    if (it == law_.end()) return 0.0;
    const auto& d = d_[g.size() - 1];
    auto at = [&](int r) { const auto j = it->second.find(r); return j == it->second.end() ? 0.0 : j->second; };
    return d[0] * at(1) + d[1] * at(2) + d[2] * at(3);
  }
  static double get(const std::map<Seq, double>& m, const Seq& k) {
    const auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  }
  int order_;
  std::map<Seq, double> mean_;                // E[a(s)]
  std::map<Seq, std::map<int, double>> law_;  // P(a(s) = 0, 1, 2, >= 3)
  std::vector<std::vector<double>> tr_;       // E[t_r] per order
  std::vector<std::array<double, 3>> d_;
};

std::vector<std::string> random_corpus(std::mt19937_64& rng, int docs, int max_len, int alphabet) {
  std::vector<std::string> out;
  std::uniform_int_distribution<int> len(0, max_len), ch(0, alphabet - 1);
  for (int d = 0; d < docs; ++d) {
    std::string s;
    const int n = len(rng);
    for (int i = 0; i < n; ++i) s.push_back(char('a' + ch(rng)));
    out.push_back(s);
  }
  return out;
}

const std::vector<std::string> kProbes = {"", "a", "ab", "ba", "abcab", "zz", "cabbage", "aaaa"};

TEST(NGramWeightedTest, DirichletMatchesTheRecursionOnWeightedCounts) {
  std::mt19937_64 rng(7);
  double worst = 0.0;
  for (int order = 1; order <= 4; ++order)
    for (double mu : {0.5, 2.0, 10.0}) {
      const auto docs = random_corpus(rng, 6, 12, 3);
      std::vector<double> w;
      std::uniform_real_distribution<double> u(0.0, 2.5);
      for (std::size_t d = 0; d < docs.size(); ++d) w.push_back(d == 0 ? 0.0 : u(rng));
      const NGramPersona lm = simulacra::fit_weighted(docs, w, order, {WeightedSmoothing::kDirichlet, mu});
      const DirichletReference ref(docs, w, order, mu);
      EXPECT_EQ(lm.kind(), "ngram");
      for (const auto& texts : {docs, kProbes})
        for (const std::string& t : texts) {
          const double diff = std::abs(lm.score_document(t) - ref.score(t));
          worst = std::max(worst, diff);
          EXPECT_LT(diff, 1e-11) << "order " << order << " mu " << mu << " text '" << t << "'";
        }
      // The next-token distribution sums to 1 (every context, seen or not).
      for (const std::string& c : kProbes) EXPECT_NEAR(lm.next_logprobs(c).array().exp().sum(), 1.0, 1e-12);
    }
  std::printf("[ dirichlet ] max |difference| of document log-probabilities vs the recursion: %.3g\n", worst);
}

TEST(NGramWeightedTest, ExpectedKneserNeyMatchesEnumerationOfKeptPositions) {
  std::mt19937_64 rng(11);
  double worst = 0.0;
  for (int order = 1; order <= 3; ++order)
    for (int rep = 0; rep < 3; ++rep) {
      // At most 16 token positions: 2^16 subsets.
      std::vector<std::string> docs;
      for (const auto& d : random_corpus(rng, 3, 3, 2)) docs.push_back(d);
      std::uniform_real_distribution<double> u(0.05, 0.95);
      std::vector<double> w;
      for (std::size_t d = 0; d < docs.size(); ++d) w.push_back(rep == 2 && d == 1 ? 1.0 : u(rng));
      const NGramPersona lm = simulacra::fit_weighted(docs, w, order, {WeightedSmoothing::kExpectedKneserNey});
      const ExpectedKnReference ref(docs, w, order);
      for (int n = 1; n <= order; ++n) {
        const auto d = ref.discounts(n);
        EXPECT_NEAR(lm.discounts(n).d1, d[0], 1e-12) << "order " << order << " level " << n;
        EXPECT_NEAR(lm.discounts(n).d2, d[1], 1e-12);
        EXPECT_NEAR(lm.discounts(n).d3, d[2], 1e-12);
      }
      for (const auto& texts : {docs, kProbes})
        for (const std::string& t : texts) {
          const double diff = std::abs(lm.score_document(t) - ref.score(t));
          worst = std::max(worst, diff);
          EXPECT_LT(diff, 1e-11) << "order " << order << " text '" << t << "'";
        }
    }
  std::printf("[ expected KN ] max |difference| vs enumeration of kept positions: %.3g\n", worst);
}

TEST(NGramWeightedTest, ExpectedKneserNeyWithWeightsZeroAndOneIsTheIntegerFit) {
  std::mt19937_64 rng(3);
  double worst = 0.0;
  for (int order = 1; order <= 5; ++order) {
    const auto docs = random_corpus(rng, 40, 30, 4);
    std::vector<double> w;
    std::vector<std::string> kept;
    for (std::size_t d = 0; d < docs.size(); ++d) {
      w.push_back(d % 3 == 1 ? 0.0 : 1.0);
      if (w.back() == 1.0) kept.push_back(docs[d]);
    }
    const DocumentNGrams counts(docs, order);
    const NGramPersona all = counts.fit(std::vector<double>(docs.size(), 1.0), {WeightedSmoothing::kExpectedKneserNey});
    const NGramPersona some = counts.fit(w, {WeightedSmoothing::kExpectedKneserNey});
    const NGramPersona ref_all = NGramPersona::fit(docs, order), ref_some = NGramPersona::fit(kept, order);
    for (int n = 1; n <= order; ++n) {
      EXPECT_EQ(all.discounts(n).d1, ref_all.discounts(n).d1);
      EXPECT_EQ(all.discounts(n).d3, ref_all.discounts(n).d3);
      EXPECT_EQ(all.discounts(n).fallback, ref_all.discounts(n).fallback);
      EXPECT_EQ(some.discounts(n).d2, ref_some.discounts(n).d2);
    }
    for (const auto& texts : {docs, kProbes})
      for (const std::string& t : texts) {
        worst = std::max({worst, std::abs(all.score_document(t) - ref_all.score_document(t)),
                          std::abs(some.score_document(t) - ref_some.score_document(t))});
        EXPECT_NEAR(all.score_document(t), ref_all.score_document(t), 1e-12) << "order " << order << " '" << t << "'";
        EXPECT_NEAR(some.score_document(t), ref_some.score_document(t), 1e-12) << "order " << order << " '" << t << "'";
      }
  }
  std::printf("[ expected KN ] max |difference| vs NGramPersona::fit at weights 0/1: %.3g\n", worst);
}

TEST(NGramWeightedTest, NodeProbabilitiesAreTheWalksProbabilities) {
  std::mt19937_64 rng(5);
  const auto docs = random_corpus(rng, 20, 25, 5);
  std::vector<double> w;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::size_t d = 0; d < docs.size(); ++d) w.push_back(u(rng));
  for (int order = 1; order <= 4; ++order) {
    const DocumentNGrams counts(docs, order);
    for (auto s : {WeightedSmoothing::kDirichlet, WeightedSmoothing::kExpectedKneserNey}) {
      const NGramPersona lm = counts.fit(w, {s, 1.5});
      const std::vector<double> p = counts.node_probabilities(lm);
      for (std::size_t d = 0; d < docs.size(); ++d) {
        double total = 0.0;
        for (std::size_t i = counts.doc_begin(d); i < counts.doc_begin(d + 1); ++i)
          total += counts.count(i) * std::log(p[counts.node(i)]);
        EXPECT_NEAR(total, lm.score_document(docs[d]), 1e-12) << "order " << order << " doc " << d;
      }
    }
  }
}

TEST(NGramWeightedTest, AWeightedModelSavesAndLoadsAsAnNGramModel) {
  const std::vector<std::string> docs = {"arr matey", "ahoy there", "a poem of the sea"};
  auto lm = std::make_shared<NGramPersona>(simulacra::fit_weighted(docs, {0.3, 1.0, 0.7}, 3, {}));
  const simulacra::Mixture mix({lm}, {"pirate"}, Eigen::VectorXd::Ones(1));
  const simulacra::Mixture back = simulacra::load_from_bytes(simulacra::save_to_bytes(mix), "memory");
  EXPECT_EQ(back.persona(0).kind(), "ngram");
  EXPECT_EQ(back.score("arr there"), mix.score("arr there"));
}

TEST(NGramWeightedTest, BadArgumentsAreNamed) {
  const std::vector<std::string> docs = {"ab", "ba"};
  auto expect_error = [&](const std::vector<double>& w, WeightedFitConfig c, const std::string& part) {
    try {
      simulacra::fit_weighted(docs, w, 2, c);
      ADD_FAILURE() << "no error for " << part;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_error({1.0}, {}, "1 weights for 2 documents");
  expect_error({1.0, NAN}, {}, "document 1");
  expect_error({1.0, INFINITY}, {}, "document 1");
  expect_error({-0.5, 1.0}, {}, "document 0");
  expect_error({1.0, 1.5}, {WeightedSmoothing::kExpectedKneserNey, 2.0}, "probabilities");
  expect_error({1.0, 1.0}, {WeightedSmoothing::kDirichlet, 0.0}, "mu");
  expect_error({1.0, 1.0}, {WeightedSmoothing::kDirichlet, NAN}, "mu");
  EXPECT_THROW(simulacra::fit_weighted({}, {}, 2, {}), InvalidArgument);
  EXPECT_THROW(simulacra::fit_weighted(docs, {1, 1}, 0, {}), InvalidArgument);
  EXPECT_THROW(simulacra::weighted_smoothing_from_name("laplace"), InvalidArgument);
  EXPECT_EQ(simulacra::weighted_smoothing_from_name("ekn"), WeightedSmoothing::kExpectedKneserNey);
  // All weights 0: the uniform model.
  const NGramPersona none = simulacra::fit_weighted(docs, {0.0, 0.0}, 2, {});
  EXPECT_NEAR(none.score_document("ab"), 3 * std::log(1.0 / kV), 1e-12);
}

}  // namespace
