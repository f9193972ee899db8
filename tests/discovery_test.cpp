// tests/discovery_test.cpp — EM over documents (discovery.hpp).
//
// References written here: EM on two documents, two personas, order 1,
// iterated by hand from the formulas (unigram Dirichlet personas, mean
// responsibilities, Bayes' rule); at order 3, one M-step against the
// Dirichlet formulas evaluated from std::map counts; the monotonicity of the
// objective over random corpora and seeds; recovery of well-separated
// synthetic personas; the returned mixture against the responsibilities.
#include "simulacra/discovery.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

namespace {

using simulacra::DiscoveryConfig;
using simulacra::InvalidArgument;
using Seq = std::vector<int>;
constexpr int kV = simulacra::kVocab;
constexpr int kS = simulacra::NGramPersona::kStart;

double lse(const std::vector<double>& a) {
  double m = -INFINITY;
  for (double x : a) m = std::max(m, x);
  double s = 0.0;
  for (double x : a) s += std::exp(x - m);
  return m + std::log(s);
}

// Documents from `sources` word lists, labels out.
std::vector<std::string> synthetic(int n, const std::vector<std::vector<std::string>>& sources, int words,
                                   std::mt19937_64& rng, std::vector<int>* labels) {
  std::vector<std::string> docs;
  labels->clear();
  for (int i = 0; i < n; ++i) {
    const auto& src = sources[std::size_t(i) % sources.size()];
    std::string d;
    for (int j = 0; j < words; ++j) d += src[rng() % src.size()];
    docs.push_back(d);
    labels->push_back(i % int(sources.size()));
  }
  return docs;
}

const std::vector<std::vector<std::string>> kSources = {{"arr ", "matey ", "ahoy ", "ye ", "booty "},
                                                        {"thou ", "doth ", "hath ", "thee ", "wherefore "},
                                                        {"lol ", "omg ", "btw ", "idk ", "tbh "}};

// Every found cluster holds one label, and every label one cluster.
void expect_recovered(const std::vector<int>& found, const std::vector<int>& labels) {
  std::map<int, std::set<int>> a, b;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    a[found[i]].insert(labels[i]);
    b[labels[i]].insert(found[i]);
  }
  for (const auto& [f, l] : a) EXPECT_EQ(l.size(), 1u) << "cluster " << f;
  for (const auto& [l, f] : b) EXPECT_EQ(f.size(), 1u) << "label " << l;
}

TEST(DiscoveryTest, OrderOneEmWorkedByHand) {
  // Two documents, two personas, unigram Dirichlet personas (the base is uniform at order 1), four iterations.
  // Two cases: in the first the start's plain run wins, in the second its annealed run.
  struct Case {
    std::vector<std::string> docs;
    double n[2][3];  // counts of a, b, <b>
    double R0[2][2];
  };
  const Case cases[2] = {{{"ab", "bb"}, {{1, 1, 1}, {0, 2, 1}}, {{0.9, 0.1}, {0.2, 0.8}}},
                         {{"aab", "b"}, {{2, 1, 1}, {0, 1, 1}}, {{0.7, 0.3}, {0.06, 0.94}}}};
  const double mu = 1.0;
  struct Hand {
    std::vector<double> L, F;
    double R[2][2];
  };
  // By hand: the E-step after iteration it tempered by tempering[it].
  const auto by_hand = [mu](const Case& c, const double (&tempering)[4]) {
    Hand h{{}, {}, {{c.R0[0][0], c.R0[0][1]}, {c.R0[1][0], c.R0[1][1]}}};
    for (int it = 0; it < 4; ++it) {
      double pi[2], logtheta[2][3], prior = 0.0;
      for (int k = 0; k < 2; ++k) {
        pi[k] = (h.R[0][k] + h.R[1][k]) / 2;
        double C[3], total = 0.0;
        for (int w = 0; w < 3; ++w) total += C[w] = h.R[0][k] * c.n[0][w] + h.R[1][k] * c.n[1][w];
        for (int w = 0; w < 3; ++w) {
          logtheta[k][w] = std::log((C[w] + mu / kV) / (total + mu));
          prior += mu / kV * logtheta[k][w];
        }
        prior += mu * (1.0 - 3.0 / kV) * std::log(mu / (total + mu));  // the 254 unseen tokens share gamma / kV each
      }
      double L = 0.0, next[2][2];
      for (int d = 0; d < 2; ++d) {
        std::vector<double> a(2), tempered(2);
        for (int k = 0; k < 2; ++k) {
          double ll = 0.0;
          for (int w = 0; w < 3; ++w) ll += c.n[d][w] * logtheta[k][w];
          a[std::size_t(k)] = std::log(pi[k]) + ll;
          tempered[std::size_t(k)] = std::log(pi[k]) + tempering[it] * ll;
        }
        L += lse(a);
        const double z = lse(tempered);
        for (int k = 0; k < 2; ++k) next[d][k] = std::exp(tempered[std::size_t(k)] - z);
      }
      h.L.push_back(L);
      h.F.push_back(L + prior);
      for (int d = 0; d < 2; ++d)
        for (int k = 0; k < 2; ++k) h.R[d][k] = next[d][k];
    }
    return h;
  };
  const auto expect_run = [](const simulacra::Discovery& found, const Hand& h) {
    ASSERT_EQ(found.log_likelihoods.size(), 4u);
    for (std::size_t it = 0; it < 4; ++it) {
      EXPECT_NEAR(found.log_likelihoods[it], h.L[it], 1e-12) << "iteration " << it;
      EXPECT_NEAR(found.objective[it], h.F[it], 1e-12) << "iteration " << it;
    }
    for (int d = 0; d < 2; ++d)
      for (int k = 0; k < 2; ++k) EXPECT_NEAR(found.responsibilities(d, k), h.R[d][k], 1e-12);
  };
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    DiscoveryConfig cfg;
    cfg.order = 1;
    cfg.smoothing.mu = mu;
    cfg.heldout_fraction = 0.0;
    cfg.iterations = 4;
    cfg.tolerance = 0.0;
    cfg.initial_responsibilities = (Eigen::MatrixXd(2, 2) << c.R0[0][0], c.R0[0][1], c.R0[1][0], c.R0[1][1]).finished();
    // The default anneal 0.1 over the first 4 / 2 iterations: 0.1, 0.1^(1/2), then 1; the plain run beside it.
    const Hand annealed = by_hand(c, {0.1, std::sqrt(0.1), 1.0, 1.0}), plain = by_hand(c, {1.0, 1.0, 1.0, 1.0});
    const simulacra::Discovery found = simulacra::discover(c.docs, 2, cfg);
    // Without held-out documents the start keeps the run of the higher final objective.
    EXPECT_EQ(annealed.F.back() > plain.F.back(), i == 1);
    EXPECT_EQ(found.annealed, i == 1);
    expect_run(found, i == 1 ? annealed : plain);
    EXPECT_EQ(found.restart_scores, std::vector<double>{found.objective.back()});
    EXPECT_EQ(found.mixture.names(), (std::vector<std::string>{"mask0", "mask1"}));
    cfg.anneal = 1.0;
    const simulacra::Discovery unannealed = simulacra::discover(c.docs, 2, cfg);
    EXPECT_FALSE(unannealed.annealed);
    expect_run(unannealed, plain);
  }
}

// The Dirichlet persona of discovery.hpp from map counts: background B the
// recursion on all documents with weight 1; persona k at the deepest context h,
// (C_k(hw) + mu B(w | h')) / (C_k(h.) + mu).
struct PersonaReference {
  PersonaReference(const std::vector<std::string>& docs, const Eigen::MatrixXd& R, int order, double mu)
      : order(order), mu(mu), K(int(R.cols())) {
    per.resize(std::size_t(K));
    perctx.resize(std::size_t(K));
    for (std::size_t d = 0; d < docs.size(); ++d) {
      Seq s{kS};
      for (unsigned char c : docs[d]) s.push_back(c);
      s.push_back(simulacra::kBoundary);
      for (std::size_t t = 1; t < s.size(); ++t)
        for (std::size_t m = 0; m < std::size_t(order) && m <= t; ++m) {
          const Seq h(s.begin() + std::ptrdiff_t(t - m), s.begin() + std::ptrdiff_t(t));
          Seq hw = h;
          hw.push_back(s[t]);
          bg[hw] += 1;
          bgctx[h] += 1;
          const bool deepest = m == std::min<std::size_t>(std::size_t(order) - 1, t);
          if (deepest)
            for (int k = 0; k < K; ++k) {
              per[std::size_t(k)][hw] += R(Eigen::Index(d), k);
              perctx[std::size_t(k)][h] += R(Eigen::Index(d), k);
            }
        }
    }
  }
  double background(const Seq& h, int w) const {
    const double lower = h.empty() ? 1.0 / kV : background(Seq(h.begin() + 1, h.end()), w);
    Seq hw = h;
    hw.push_back(w);
    return (get(bg, hw) + mu * lower) / (get(bgctx, h) + mu);
  }
  double persona(int k, const Seq& h, int w) const {
    const double base = h.empty() ? 1.0 / kV : background(Seq(h.begin() + 1, h.end()), w);
    Seq hw = h;
    hw.push_back(w);
    return (get(per[std::size_t(k)], hw) + mu * base) / (get(perctx[std::size_t(k)], h) + mu);
  }
  double score(int k, const std::string& doc) const {
    Seq s{kS};
    for (unsigned char c : doc) s.push_back(c);
    s.push_back(simulacra::kBoundary);
    double total = 0.0;
    for (std::size_t t = 1; t < s.size(); ++t) {
      const std::size_t m = std::min<std::size_t>(std::size_t(order) - 1, t);
      total += std::log(persona(k, Seq(s.begin() + std::ptrdiff_t(t - m), s.begin() + std::ptrdiff_t(t)), s[t]));
    }
    return total;
  }
  static double get(const std::map<Seq, double>& m, const Seq& k) {
    const auto it = m.find(k);
    return it == m.end() ? 0.0 : it->second;
  }
  int order;
  double mu;
  int K;
  std::map<Seq, double> bg, bgctx;
  std::vector<std::map<Seq, double>> per, perctx;  // C_k(hw), C_k(h.)
};

TEST(DiscoveryTest, OneMStepMatchesTheDirichletFormulasAtOrderThree) {
  std::mt19937_64 rng(1);
  std::vector<int> labels;
  const auto docs = synthetic(12, kSources, 4, rng, &labels);
  Eigen::MatrixXd R0(12, 3);
  std::uniform_real_distribution<double> u(0.05, 1.0);
  for (int d = 0; d < 12; ++d) {
    for (int k = 0; k < 3; ++k) R0(d, k) = u(rng);
    R0.row(d) /= R0.row(d).sum();
  }
  for (int order : {1, 2, 3, 4}) {
    DiscoveryConfig cfg;
    cfg.order = order;
    cfg.smoothing.mu = 1.7;
    cfg.heldout_fraction = 0.0;
    cfg.iterations = 1;
    cfg.initial_responsibilities = R0;
    const simulacra::Discovery found = simulacra::discover(docs, 3, cfg);
    const PersonaReference ref(docs, R0, order, 1.7);
    double L = 0.0;
    const Eigen::VectorXd pi = R0.colwise().mean().transpose();
    for (std::size_t d = 0; d < docs.size(); ++d) {
      std::vector<double> a;
      for (int k = 0; k < 3; ++k) {
        const double s = ref.score(k, docs[d]);
        EXPECT_NEAR(static_cast<const simulacra::NGramPersona&>(found.mixture.persona(k)).score_document(docs[d]), s,
                    1e-10)
            << "order " << order << " doc " << d << " persona " << k;
        a.push_back(std::log(pi[k]) + s);
      }
      L += lse(a);
      // A new text too: unseen contexts back off into the background.
      EXPECT_NEAR(static_cast<const simulacra::NGramPersona&>(found.mixture.persona(1)).score_document("arr thee lol"),
                  ref.score(1, "arr thee lol"), 1e-10);
    }
    EXPECT_NEAR(found.log_likelihoods[0], L, 1e-9 * std::abs(L));
  }
}

TEST(DiscoveryTest, DirichletObjectiveNeverDecreases) {
  std::mt19937_64 rng(123);
  int loglik_falls = 0, steps = 0;
  double largest_fall = 0.0;  // relative to |log-likelihood|
  for (int rep = 0; rep < 24; ++rep) {
    // Random corpora: documents of random letters from random per-source alphabets.
    const int sources = 2 + int(rng() % 3), n = 10 + int(rng() % 20);
    std::vector<std::string> docs;
    for (int i = 0; i < n; ++i) {
      std::string d;
      const int len = int(rng() % 40);
      const int src = i % sources;
      for (int j = 0; j < len; ++j) d.push_back(char('a' + (rng() % 2 ? src + int(rng() % 3) : int(rng() % 8))));
      docs.push_back(d);
    }
    DiscoveryConfig cfg;
    cfg.order = 1 + int(rng() % 4);
    cfg.smoothing.mu = std::vector<double>{0.3, 1.0, 4.0}[rng() % 3];
    cfg.iterations = 15;
    cfg.tolerance = 0.0;
    cfg.restarts = 1;
    cfg.seed = rng();
    cfg.heldout_fraction = rep % 2 ? 0.2 : 0.0;
    cfg.hard = rep % 3 == 2;
    // Annealed runs (the default) climb from the M-step after the first E-step at beta 1: iteration
    // iterations / 2 + 2, objective index iterations / 2 + 1.
    cfg.anneal = rep % 4 < 2 ? 1.0 : 0.1;
    const std::size_t first = cfg.anneal == 1.0 ? 1 : std::size_t(cfg.iterations / 2 + 1);
    EXPECT_EQ(simulacra::discovery_beta(cfg, int(first)), 1.0);
    const int k = 2 + int(rng() % 3);
    const simulacra::Discovery found = simulacra::discover(docs, k, cfg);
    for (std::size_t t = first; t < found.objective.size(); ++t) {
      EXPECT_GE(found.objective[t], found.objective[t - 1] - 1e-10 * std::abs(found.objective[t - 1]))
          << "rep " << rep << " iteration " << t << (cfg.hard ? " (hard)" : "");
      if (cfg.hard) continue;
      ++steps;
      const double fall = (found.log_likelihoods[t - 1] - found.log_likelihoods[t]) / std::abs(found.log_likelihoods[t]);
      loglik_falls += fall > 1e-10;
      largest_fall = std::max(largest_fall, fall);
    }
  }
  std::printf("[ discovery ] the log-likelihood alone fell in %d of %d soft EM steps, by up to %.2g of itself (the "
              "objective in none)\n",
              loglik_falls, steps, largest_fall);
}

TEST(DiscoveryTest, AnnealingRisesGeometricallyToBetaOverHalfTheIterations) {
  DiscoveryConfig cfg;
  cfg.iterations = 20;
  cfg.beta = 0.5;
  cfg.anneal = 0.01;
  for (int t = 1; t <= 10; ++t)
    EXPECT_NEAR(simulacra::discovery_beta(cfg, t), 0.5 * std::pow(0.01, 1.0 - (t - 1) / 10.0), 1e-15) << t;
  for (int t = 11; t <= 25; ++t) EXPECT_EQ(simulacra::discovery_beta(cfg, t), 0.5) << t;
  cfg.iterations = 3;  // H = 1: one annealed E-step
  EXPECT_NEAR(simulacra::discovery_beta(cfg, 1), 0.005, 1e-15);
  EXPECT_EQ(simulacra::discovery_beta(cfg, 2), 0.5);
  cfg.iterations = 1;  // H = 0
  EXPECT_EQ(simulacra::discovery_beta(cfg, 1), 0.5);
  cfg.iterations = 20, cfg.anneal = 1.0;
  for (int t = 1; t <= 20; ++t) EXPECT_EQ(simulacra::discovery_beta(cfg, t), 0.5) << t;
  EXPECT_THROW(simulacra::discovery_beta(cfg, 0), simulacra::InvalidArgument);
  cfg.anneal = 0.0;
  EXPECT_THROW(simulacra::discovery_beta(cfg, 1), simulacra::InvalidArgument);

  // The early stop waits for the annealing: with a tolerance every step meets, an annealed run of 20
  // iterations stops at iteration 13 (its objectives 12 and 13 are the first two after E-steps at beta),
  // a plain one at 2.
  std::vector<std::string> docs;
  for (int i = 0; i < 12; ++i) docs.push_back(i % 2 ? "arr matey ahoy arr" : "thou doth hath thee");
  DiscoveryConfig stop;
  stop.iterations = 20;
  stop.tolerance = 1e6;
  stop.restarts = 1;
  stop.heldout_fraction = 0.0;
  EXPECT_EQ(simulacra::discover(docs, 2, stop).objective.size(), 13u);
  stop.anneal = 1.0;
  EXPECT_EQ(simulacra::discover(docs, 2, stop).objective.size(), 2u);
}

TEST(DiscoveryTest, RecoversWellSeparatedPersonasAndIsDeterministic) {
  std::mt19937_64 rng(5);
  std::vector<int> labels;
  const auto docs = synthetic(60, kSources, 10, rng, &labels);
  for (auto smoothing : {simulacra::WeightedSmoothing::kDirichlet, simulacra::WeightedSmoothing::kExpectedKneserNey}) {
    SCOPED_TRACE(smoothing == simulacra::WeightedSmoothing::kDirichlet ? "dirichlet" : "expected Kneser-Ney");
    DiscoveryConfig cfg;
    cfg.order = 3;
    cfg.smoothing.smoothing = smoothing;
    cfg.seed = 7;
    cfg.heldout_fraction = 0.0;
    const simulacra::Discovery a = simulacra::discover(docs, 3, cfg), b = simulacra::discover(docs, 3, cfg);
    expect_recovered(a.assignments, labels);
    EXPECT_EQ(a.assignments, b.assignments);
    EXPECT_EQ(a.log_likelihoods, b.log_likelihoods);
    EXPECT_EQ(a.responsibilities, b.responsibilities);
    // The returned mixture reproduces the responsibilities.
    for (std::size_t d = 0; d < docs.size(); d += 7) {
      const Eigen::VectorXd post = a.mixture.attribute(docs[d]).array().exp();
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(post[k], a.responsibilities(Eigen::Index(d), k), 1e-9);
    }
    EXPECT_EQ(a.mixture.persona(0).kind(), "ngram");
  }
}

TEST(DiscoveryTest, HeldOutRestartsAndChoosingK) {
  std::mt19937_64 rng(8);
  std::vector<int> labels;
  const auto docs = synthetic(90, kSources, 10, rng, &labels);
  DiscoveryConfig cfg;
  cfg.order = 3;
  cfg.restarts = 3;
  cfg.heldout_fraction = 0.2;
  const simulacra::Discovery one = simulacra::discover(docs, 3, cfg);
  EXPECT_EQ(one.heldout.size(), 18u);
  ASSERT_EQ(one.restart_scores.size(), 3u);
  for (double s : one.restart_scores) EXPECT_LE(s, one.heldout_log_likelihood);
  EXPECT_EQ(one.restart_scores[std::size_t(one.restart)], one.heldout_log_likelihood);
  expect_recovered(one.assignments, labels);  // the held-out documents too

  const simulacra::Discovery chosen = simulacra::discover(docs, std::vector<int>{1, 2, 3, 4}, cfg);
  ASSERT_EQ(chosen.heldout_by_k.size(), 4u);
  const auto best = std::max_element(chosen.heldout_by_k.begin(), chosen.heldout_by_k.end());
  EXPECT_EQ(chosen.k, chosen.k_values[std::size_t(best - chosen.heldout_by_k.begin())]);
  EXPECT_GT(chosen.heldout_by_k[2], chosen.heldout_by_k[0] + 10.0);  // three sources beat one
  EXPECT_GE(chosen.k, 3);
  EXPECT_EQ(chosen.mixture.size(), chosen.k);
}

TEST(DiscoveryTest, AStartLeavesNoMaskEmpty) {
  // Documents shorter than the profiles' 3 bytes all have the zero profile: k-means puts them in one cluster,
  // and each empty mask takes a document of it.
  DiscoveryConfig cfg;
  cfg.hard = true;
  cfg.heldout_fraction = 0.0;
  cfg.order = 2;
  const simulacra::Discovery found = simulacra::discover({"a", "b", "c", "d"}, 4, cfg);
  std::set<int> used(found.assignments.begin(), found.assignments.end());
  EXPECT_EQ(used.size(), 4u);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(found.mixture.prior()[k], 0.25, 1e-12);
}

TEST(DiscoveryTest, BadArgumentsAreNamed) {
  const std::vector<std::string> docs = {"a", "b", "c"};
  auto expect_error = [&](int k, DiscoveryConfig cfg, const std::string& part) {
    try {
      simulacra::discover(docs, k, cfg);
      ADD_FAILURE() << "no error for " << part;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  DiscoveryConfig ok;
  ok.heldout_fraction = 0.0;
  expect_error(0, ok, "k must be");
  expect_error(4, ok, "k must be in 1..3");
  DiscoveryConfig c = ok;
  c.iterations = 0;
  expect_error(2, c, "iterations");
  c = ok, c.beta = 0.0;
  expect_error(2, c, "beta");
  for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
    c = ok, c.anneal = bad;
    expect_error(2, c, "anneal");
  }
  c = ok, c.smoothing.mu = -1.0;
  expect_error(2, c, "mu");
  c = ok, c.heldout_fraction = 1.0;
  expect_error(2, c, "heldout_fraction");
  c = ok, c.names = {"x"};
  expect_error(2, c, "1 names");
  c = ok, c.initial_responsibilities = Eigen::MatrixXd::Ones(3, 2);
  expect_error(2, c, "not a probability vector");
  c = ok, c.initial_responsibilities = Eigen::MatrixXd::Ones(2, 2);
  expect_error(2, c, "initial_responsibilities is (2, 2)");
  EXPECT_THROW(simulacra::discover({}, 1, ok), InvalidArgument);
  EXPECT_THROW(simulacra::discover(docs, std::vector<int>{1, 2}, ok), InvalidArgument);  // no held-out part
}

// An executor that keeps the shards here and runs them in reverse order (block counts handed back reversed):
// the result must be the local one bit for bit; the shards also travel through their bytes.
struct ReversedExecutor {
  std::vector<simulacra::DiscoveryShard> shards;
  simulacra::DiscoveryExecutor make(int n) {
    simulacra::DiscoveryExecutor e;
    e.shards = n;
    e.distribute = [this](std::vector<simulacra::DiscoveryShard> s) {
      shards.clear();
      for (const auto& x : s) shards.push_back(simulacra::DiscoveryShard::from_bytes(x.to_bytes()));
    };
    e.loglik = [this](const simulacra::DiscoveryMatrix& lt) {
      std::size_t n = 0;
      for (const auto& s : shards) n += s.size();
      simulacra::DiscoveryMatrix out(Eigen::Index(n), lt.cols());
      for (auto it = shards.rbegin(); it != shards.rend(); ++it)
        out.middleRows(Eigen::Index(it->begin()), Eigen::Index(it->size())) = it->loglik(lt);
      return out;
    };
    e.counts = [this](const simulacra::DiscoveryMatrix& r) {
      std::vector<simulacra::DiscoveryBlockCounts> all;
      for (auto it = shards.rbegin(); it != shards.rend(); ++it) {
        auto b = simulacra::block_counts_from_bytes(simulacra::block_counts_to_bytes(
            it->counts(r.middleRows(Eigen::Index(it->begin()), Eigen::Index(it->size())))));
        all.insert(all.end(), b.rbegin(), b.rend());
      }
      return all;
    };
    return e;
  }
};

TEST(DiscoveryTest, ShardedExecutorIsTheLocalRunBitForBit) {
  std::mt19937_64 rng(11);
  std::vector<int> labels;
  const auto docs = synthetic(150, kSources, 8, rng, &labels);
  for (auto smoothing : {simulacra::WeightedSmoothing::kDirichlet, simulacra::WeightedSmoothing::kExpectedKneserNey}) {
    DiscoveryConfig cfg;
    cfg.order = 3;
    cfg.smoothing.smoothing = smoothing;
    cfg.restarts = 2;
    cfg.iterations = 5;
    cfg.block_documents = 7;
    const simulacra::Discovery local = simulacra::discover(docs, std::vector<int>{2, 3}, cfg);
    for (int n : {1, 4, 100}) {
      ReversedExecutor ex;
      DiscoveryConfig sharded = cfg;
      sharded.executor = ex.make(n);
      const simulacra::Discovery d = simulacra::discover(docs, std::vector<int>{2, 3}, sharded);
      EXPECT_EQ(ex.shards.size(), std::size_t(std::min(n, 22)));
      EXPECT_EQ(d.responsibilities, local.responsibilities) << n;
      EXPECT_EQ(d.log_likelihoods, local.log_likelihoods);
      EXPECT_EQ(d.objective, local.objective);
      EXPECT_EQ(d.restart_scores, local.restart_scores);
      EXPECT_EQ(d.heldout_by_k, local.heldout_by_k);
      EXPECT_EQ(d.k, local.k);
      const std::vector<simulacra::Token> probe = {'a', 'r', 'r', ' ', 't', 'h', 'o', 'u', ' ', 'l', 'o', 'l'};
      for (int k = 0; k < d.k; ++k)
        EXPECT_EQ(d.mixture.persona(k).token_logprobs(probe), local.mixture.persona(k).token_logprobs(probe));
    }
  }
  // Blocks missing or doubled, and damaged shard bytes, are named.
  ReversedExecutor ex;
  DiscoveryConfig cfg;
  cfg.order = 2;
  cfg.block_documents = 10;
  cfg.executor = ex.make(3);
  auto counts = cfg.executor.counts;
  cfg.executor.counts = [counts](const simulacra::DiscoveryMatrix& r) {
    auto b = counts(r);
    b.pop_back();
    return b;
  };
  EXPECT_THROW(simulacra::discover(docs, 2, cfg), InvalidArgument);
  const std::string bytes = ex.shards.at(0).to_bytes();
  EXPECT_THROW(simulacra::DiscoveryShard::from_bytes(bytes.substr(0, bytes.size() - 1)), simulacra::FileError);
  EXPECT_THROW(simulacra::DiscoveryShard::from_bytes("nonsense"), simulacra::FileError);
  EXPECT_THROW(simulacra::block_counts_from_bytes("SIMDBLK1\x05"), simulacra::FileError);
}

}  // namespace
