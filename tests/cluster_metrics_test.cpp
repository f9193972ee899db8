// Tests of the scores of discovered personas (cluster_metrics.hpp).
//
// References computed here, independently of the library's code: NMI from
// probabilities counted in std::map; ARI by visiting all n (n - 1) / 2 pairs;
// purity from std::map counts; the assignment and the persona matching
// against every permutation (K <= 6); boundary F1 against hand cases and a
// maximum bipartite matching found by trying every subset of pairs.
#include "simulacra/cluster_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"

namespace {

using simulacra::InvalidArgument;

// n labels drawn from 0..k-1.
std::vector<int> random_labels(std::mt19937_64& rng, int n, int k) {
  std::uniform_int_distribution<int> d(0, k - 1);
  std::vector<int> v(std::size_t(n), 0);
  for (int& x : v) x = d(rng);
  return v;
}

// A noisy copy: each label kept with probability keep, else redrawn from 0..k-1.
std::vector<int> noisy(std::mt19937_64& rng, const std::vector<int>& labels, double keep, int k) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::uniform_int_distribution<int> d(0, k - 1);
  std::vector<int> v = labels;
  for (int& x : v)
    if (u(rng) >= keep) x = d(rng);
  return v;
}

// NMI = I(U; V) / ((H(U) + H(V)) / 2) from joint and marginal probabilities, sklearn's degenerate cases.
double reference_nmi(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<std::pair<int, int>, double> joint;
  std::map<int, double> pa, pb;
  const double n = double(a.size());
  for (std::size_t t = 0; t < a.size(); ++t) {
    joint[{a[t], b[t]}] += 1.0 / n;
    pa[a[t]] += 1.0 / n;
    pb[b[t]] += 1.0 / n;
  }
  if (pa.size() == 1 && pb.size() == 1) return 1.0;
  double mi = 0.0, ha = 0.0, hb = 0.0;
  for (const auto& [ij, p] : joint) mi += p * std::log(p / (pa[ij.first] * pb[ij.second]));
  for (const auto& [i, p] : pa) ha -= p * std::log(p);
  for (const auto& [j, p] : pb) hb -= p * std::log(p);
  if (mi <= 1e-15) return 0.0;
  return mi / ((ha + hb) / 2.0);
}

// ARI from all pairs: tp, fp, fn, tn counted one pair at a time.
double reference_ari(const std::vector<int>& a, const std::vector<int>& b) {
  double tp = 0, fp = 0, fn = 0, tn = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = i + 1; j < a.size(); ++j) {
      const bool sa = a[i] == a[j], sb = b[i] == b[j];
      (sa && sb ? tp : sa ? fp : sb ? fn : tn) += 1.0;
    }
  if (fp == 0 && fn == 0) return 1.0;
  return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
}

// Purity from per-cluster label counts.
double reference_purity(const std::vector<int>& a, const std::vector<int>& b) {
  std::map<int, std::map<int, int>> counts;
  for (std::size_t t = 0; t < a.size(); ++t) ++counts[a[t]][b[t]];
  int sum = 0;
  for (const auto& [i, row] : counts) {
    int best = 0;
    for (const auto& [j, c] : row) best = std::max(best, c);
    sum += best;
  }
  return double(sum) / double(a.size());
}

// The best total of a one-to-one assignment of min(R, C) pairs, over every permutation.
double brute_force_assignment(const Eigen::MatrixXd& w) {
  const bool t = w.rows() > w.cols();
  const Eigen::MatrixXd m = t ? Eigen::MatrixXd(w.transpose()) : w;  // rows <= cols
  std::vector<int> cols(std::size_t(m.cols()));
  std::iota(cols.begin(), cols.end(), 0);
  double best = -std::numeric_limits<double>::infinity();
  do {
    double s = 0.0;
    for (Eigen::Index r = 0; r < m.rows(); ++r) s += m(r, cols[std::size_t(r)]);
    best = std::max(best, s);
  } while (std::next_permutation(cols.begin(), cols.end()));
  return best;
}

// The total of an assignment, checking that it is one to one and complete.
double assignment_total(const Eigen::MatrixXd& w, const std::vector<int>& column) {
  EXPECT_EQ(column.size(), std::size_t(w.rows()));
  std::vector<bool> taken(std::size_t(w.cols()), false);
  int assigned = 0;
  double s = 0.0;
  for (std::size_t r = 0; r < column.size(); ++r) {
    if (column[r] < 0) continue;
    EXPECT_LT(column[r], w.cols());
    EXPECT_FALSE(taken[std::size_t(column[r])]) << "column " << column[r] << " assigned twice";
    taken[std::size_t(column[r])] = true;
    ++assigned;
    s += w(Eigen::Index(r), column[r]);
  }
  EXPECT_EQ(assigned, std::min(w.rows(), w.cols()));
  return s;
}

// The largest one-to-one pairing of boundaries within the tolerance: every
// choice for each predicted boundary (a free true one in reach, or none) tried.
std::int64_t brute_force_boundary_matches(const std::vector<std::int64_t>& p, const std::vector<std::int64_t>& t,
                                          std::int64_t tol, std::size_t i = 0, std::vector<bool> used = {}) {
  if (used.empty()) used.assign(t.size() + 1, false);  // one spare so that it is never empty
  if (i == p.size()) return 0;
  std::int64_t best = brute_force_boundary_matches(p, t, tol, i + 1, used);
  for (std::size_t j = 0; j < t.size(); ++j) {
    if (used[j] || std::llabs(p[i] - t[j]) > tol) continue;
    used[j] = true;
    best = std::max(best, 1 + brute_force_boundary_matches(p, t, tol, i + 1, used));
    used[j] = false;
  }
  return best;
}

// ------------------------------------------------------------------ contingency

TEST(ContingencyTableTest, CountsByLabelValue) {
  const simulacra::CountMatrix c = simulacra::contingency_table({0, 0, 2, 2, 2, 1}, {1, 1, 0, 1, 0, 0});
  ASSERT_EQ(c.rows(), 3);
  ASSERT_EQ(c.cols(), 2);
  simulacra::CountMatrix want(3, 2);
  want << 0, 2, 1, 0, 2, 1;
  EXPECT_EQ(c, want);
}

TEST(ContingencyTableTest, UnusedLabelIsAZeroRow) {
  const simulacra::CountMatrix c = simulacra::contingency_table({3, 3}, {0, 0});
  ASSERT_EQ(c.rows(), 4);
  EXPECT_EQ(c(3, 0), 2);
  EXPECT_EQ(c.sum(), 2);
}

TEST(ContingencyTableTest, HugeLabelsAreRefused) {
  EXPECT_THROW(simulacra::contingency_table({100000}, {100000}), InvalidArgument);
}

// ------------------------------------------------------------------ NMI, ARI, purity

TEST(ClusterScoreTest, AgreeWithReferencesOnRandomLabelings) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n = 1 + trial % 60, k = 1 + trial % 5, l = 1 + (trial / 5) % 6;
    const std::vector<int> truth = random_labels(rng, n, l);
    const std::vector<int> found = trial % 2 ? noisy(rng, truth, 0.7, k) : random_labels(rng, n, k);
    EXPECT_NEAR(simulacra::normalized_mutual_info(found, truth), reference_nmi(found, truth), 1e-12)
        << "trial " << trial;
    EXPECT_NEAR(simulacra::adjusted_rand_index(found, truth), reference_ari(found, truth), 1e-12)
        << "trial " << trial;
    EXPECT_NEAR(simulacra::purity(found, truth), reference_purity(found, truth), 1e-15) << "trial " << trial;
  }
}

TEST(ClusterScoreTest, SymmetricAndBlindToRenumbering) {
  std::mt19937_64 rng(11);
  const std::vector<int> truth = random_labels(rng, 300, 4);
  const std::vector<int> found = noisy(rng, truth, 0.6, 4);
  const int renumber[4] = {17, 2, 0, 9};
  std::vector<int> renamed = found;
  for (int& x : renamed) x = renumber[x];
  EXPECT_NEAR(simulacra::normalized_mutual_info(found, truth), simulacra::normalized_mutual_info(truth, found), 1e-14);
  EXPECT_NEAR(simulacra::adjusted_rand_index(found, truth), simulacra::adjusted_rand_index(truth, found), 1e-14);
  EXPECT_NEAR(simulacra::normalized_mutual_info(renamed, truth), simulacra::normalized_mutual_info(found, truth),
              1e-14);
  EXPECT_NEAR(simulacra::adjusted_rand_index(renamed, truth), simulacra::adjusted_rand_index(found, truth), 1e-14);
  EXPECT_EQ(simulacra::purity(renamed, truth), simulacra::purity(found, truth));
}

TEST(ClusterScoreTest, IdenticalPartitionsScoreOne) {
  const std::vector<int> a = {0, 0, 1, 1, 2, 2, 2}, b = {5, 5, 3, 3, 0, 0, 0};
  EXPECT_DOUBLE_EQ(simulacra::normalized_mutual_info(a, b), 1.0);
  EXPECT_DOUBLE_EQ(simulacra::adjusted_rand_index(a, b), 1.0);
  EXPECT_DOUBLE_EQ(simulacra::purity(a, b), 1.0);
}

TEST(ClusterScoreTest, DegenerateCasesFollowScikitLearn) {
  // One label in both: a perfect match.
  EXPECT_EQ(simulacra::normalized_mutual_info({0, 0, 0}, {4, 4, 4}), 1.0);
  EXPECT_EQ(simulacra::adjusted_rand_index({0, 0, 0}, {4, 4, 4}), 1.0);
  EXPECT_EQ(simulacra::normalized_mutual_info({2}, {0}), 1.0);
  EXPECT_EQ(simulacra::adjusted_rand_index({2}, {0}), 1.0);
  // One label in only one of them: no information shared.
  EXPECT_EQ(simulacra::normalized_mutual_info({0, 0, 0, 0}, {0, 1, 0, 1}), 0.0);
  EXPECT_EQ(simulacra::adjusted_rand_index({0, 0, 0, 0}, {0, 1, 0, 1}), 0.0);
  // All singletons in both: identical partitions.
  EXPECT_EQ(simulacra::adjusted_rand_index({0, 1, 2}, {2, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(simulacra::normalized_mutual_info({0, 1, 2}, {2, 1, 0}), 1.0);
  // Independent labelings: no mutual information.
  EXPECT_EQ(simulacra::normalized_mutual_info({0, 0, 1, 1}, {0, 1, 0, 1}), 0.0);
  // scikit-learn's documented example: worse than chance.
  EXPECT_DOUBLE_EQ(simulacra::adjusted_rand_index({0, 0, 1, 1}, {0, 1, 0, 1}), -0.5);
}

TEST(ClusterScoreTest, PurityOfAHandCase) {
  // Cluster 0 holds labels {1, 1, 0}, cluster 1 {0, 0}, cluster 2 {1}: (2 + 2 + 1) / 6.
  EXPECT_DOUBLE_EQ(simulacra::purity({0, 0, 0, 1, 1, 2}, {1, 1, 0, 0, 0, 1}), 5.0 / 6.0);
  // Every item its own cluster: purity 1 whatever the labels.
  EXPECT_DOUBLE_EQ(simulacra::purity({0, 1, 2, 3}, {0, 0, 0, 1}), 1.0);
}

TEST(ClusterScoreTest, LargeLabelValuesAreFine) {
  const std::vector<int> a = {1000000000, 1000000000, 7, 7}, b = {0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(simulacra::normalized_mutual_info(a, b), 1.0);
  EXPECT_DOUBLE_EQ(simulacra::adjusted_rand_index(a, b), 1.0);
}

TEST(ClusterScoreTest, BadInputIsNamed) {
  for (auto* f : {&simulacra::normalized_mutual_info, &simulacra::adjusted_rand_index, &simulacra::purity}) {
    EXPECT_THROW(f({0, 1}, {0}), InvalidArgument);
    EXPECT_THROW(f({}, {}), InvalidArgument);
    EXPECT_THROW(f({0, -1}, {0, 0}), InvalidArgument);
    EXPECT_THROW(f({0, 1}, {-3, 0}), InvalidArgument);
  }
  EXPECT_THROW(simulacra::contingency_table({}, {}), InvalidArgument);
  EXPECT_THROW(simulacra::match_personas({0}, {0, 1}), InvalidArgument);
  try {
    simulacra::adjusted_rand_index({0, 1, 2}, {0, 1, -2});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "adjusted_rand_index: label -2 at position 2 of truth is negative");
  }
  try {
    simulacra::normalized_mutual_info({0, 1, 2}, {0, 1});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "normalized_mutual_info: predicted has 3 labels and truth 2 (one each per item)");
  }
}

// ------------------------------------------------------------------ assignment

TEST(AssignmentTest, MatchesEveryPermutationOnRandomMatrices) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-5.0, 10.0);
  std::uniform_int_distribution<int> small(0, 3);  // many ties
  for (int rows = 1; rows <= 6; ++rows)
    for (int cols = 1; cols <= 6; ++cols)
      for (int trial = 0; trial < 12; ++trial) {
        Eigen::MatrixXd w(rows, cols);
        for (Eigen::Index i = 0; i < w.size(); ++i) w(i) = trial % 2 ? u(rng) : double(small(rng));
        const std::vector<int> a = simulacra::max_weight_assignment(w);
        EXPECT_NEAR(assignment_total(w, a), brute_force_assignment(w), 1e-9)
            << rows << " x " << cols << ", trial " << trial << "\n"
            << w;
      }
}

TEST(AssignmentTest, Deterministic) {
  const Eigen::MatrixXd w = Eigen::MatrixXd::Ones(4, 5);
  EXPECT_EQ(simulacra::max_weight_assignment(w), simulacra::max_weight_assignment(w));
}

TEST(AssignmentTest, BadInputIsNamed) {
  EXPECT_THROW(simulacra::max_weight_assignment(Eigen::MatrixXd(0, 3)), InvalidArgument);
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(2, 2);
  w(1, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(simulacra::max_weight_assignment(w), InvalidArgument);
  w(1, 0) = std::numeric_limits<double>::infinity();
  EXPECT_THROW(simulacra::max_weight_assignment(w), InvalidArgument);
}

// ------------------------------------------------------------------ persona matching

TEST(MatchPersonasTest, RecoversARenumbering) {
  const std::vector<int> truth = {0, 0, 1, 1, 1, 2, 2, 3};
  const int perm[4] = {2, 3, 0, 1};
  std::vector<int> found;
  for (int y : truth) found.push_back(perm[y]);
  const simulacra::PersonaMatch m = simulacra::match_personas(found, truth);
  EXPECT_EQ(m.mapping, (std::vector<int>{2, 3, 0, 1}));
  EXPECT_EQ(m.order, (std::vector<int>{2, 3, 0, 1}));
  EXPECT_EQ(m.matched, 8);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
  simulacra::CountMatrix diag = simulacra::CountMatrix::Zero(4, 4);
  diag.diagonal() << 2, 3, 2, 1;
  EXPECT_EQ(m.confusion, diag);
}

TEST(MatchPersonasTest, AccuracyIsTheBestOverEveryPermutation) {
  std::mt19937_64 rng(5);
  for (int K = 1; K <= 6; ++K)
    for (int L = 1; L <= 6; ++L)
      for (int trial = 0; trial < 4; ++trial) {
        const int n = 40;
        const std::vector<int> truth = random_labels(rng, n, L);
        std::vector<int> found = noisy(rng, truth, 0.5, K);
        for (int& x : found) x %= K;
        // Brute force: every one-to-one map of the N = max(K, L) personas onto N labels.
        const int N = std::max(K, L);
        std::vector<int> to(std::size_t(N), 0);
        std::iota(to.begin(), to.end(), 0);
        int best = 0;
        do {
          int right = 0;
          for (int t = 0; t < n; ++t) right += to[std::size_t(found[std::size_t(t)])] == truth[std::size_t(t)];
          best = std::max(best, right);
        } while (std::next_permutation(to.begin(), to.end()));
        const simulacra::PersonaMatch m = simulacra::match_personas(found, truth);
        const int Kt = *std::max_element(found.begin(), found.end()) + 1;
        const int Lt = *std::max_element(truth.begin(), truth.end()) + 1;
        const int Nt = std::max(Kt, Lt);
        EXPECT_EQ(m.matched, best) << "K " << K << " L " << L << " trial " << trial;
        EXPECT_DOUBLE_EQ(m.accuracy, double(best) / n);
        ASSERT_EQ(m.confusion.rows(), Nt);
        ASSERT_EQ(m.confusion.cols(), Nt);
        EXPECT_EQ(m.confusion.trace(), m.matched);
        EXPECT_EQ(m.confusion.sum(), n);
        // The matched pairs are what the mapping says, and the confusion counts them.
        std::int64_t on_mapping = 0;
        for (int t = 0; t < n; ++t) on_mapping += m.mapping[std::size_t(found[std::size_t(t)])] == truth[std::size_t(t)];
        EXPECT_EQ(on_mapping, m.matched);
        ASSERT_EQ(m.order.size(), std::size_t(Nt));
        for (int c = 0; c < Nt; ++c) {
          const int k = m.order[std::size_t(c)];
          if (c < Lt && k >= 0) {
            EXPECT_EQ(m.mapping[std::size_t(k)], c);
          }
          if (c >= Lt) {
            EXPECT_EQ(m.mapping[std::size_t(k)], -1);
          }
          for (int j = 0; j < Nt; ++j) {
            std::int64_t count = 0;
            for (int t = 0; t < n; ++t) count += found[std::size_t(t)] == k && truth[std::size_t(t)] == j;
            EXPECT_EQ(m.confusion(j, c), k < 0 ? 0 : count);
          }
        }
      }
}

TEST(MatchPersonasTest, MorePersonasThanLabels) {
  // Persona 0 and 2 both hold label 0; the larger (2) takes it, 0 is left unmatched.
  const simulacra::PersonaMatch m = simulacra::match_personas({0, 2, 2, 1, 1}, {0, 0, 0, 1, 1});
  EXPECT_EQ(m.mapping, (std::vector<int>{-1, 1, 0}));
  EXPECT_EQ(m.order, (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(m.matched, 4);
  simulacra::CountMatrix want(3, 3);
  want << 2, 0, 1, 0, 2, 0, 0, 0, 0;
  EXPECT_EQ(m.confusion, want);
}

TEST(MatchPersonasTest, FewerPersonasThanLabels) {
  const simulacra::PersonaMatch m = simulacra::match_personas({0, 0, 0, 1}, {2, 2, 0, 1});
  EXPECT_EQ(m.mapping, (std::vector<int>{2, 1}));
  EXPECT_EQ(m.order, (std::vector<int>{-1, 1, 0}));
  EXPECT_EQ(m.matched, 3);
  simulacra::CountMatrix want(3, 3);
  want << 0, 0, 1, 0, 1, 0, 0, 0, 2;
  EXPECT_EQ(m.confusion, want);
}

// ------------------------------------------------------------------ boundaries

TEST(BoundaryF1Test, HandCases) {
  // 10 within 2 of 11; 50 matches 50; 80 has nothing within 2 (77 is 3 away); 30 is a missed truth.
  const simulacra::BoundaryScore s = simulacra::boundary_f1({10, 50, 80}, {11, 30, 50, 77}, 2);
  EXPECT_EQ(s.matched, 2);
  EXPECT_EQ(s.predicted, 3);
  EXPECT_EQ(s.truth, 4);
  EXPECT_DOUBLE_EQ(s.precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.recall, 0.5);
  EXPECT_DOUBLE_EQ(s.f1, 2.0 * (2.0 / 3.0) * 0.5 / (2.0 / 3.0 + 0.5));
  // Tolerance 3 reaches 77 as well.
  EXPECT_EQ(simulacra::boundary_f1({10, 50, 80}, {11, 30, 50, 77}, 3).matched, 3);
  // Tolerance 0: exact positions only.
  EXPECT_EQ(simulacra::boundary_f1({10, 50, 80}, {11, 30, 50, 77}, 0).matched, 1);
}

TEST(BoundaryF1Test, OneToOne) {
  // Two predictions near one truth: one of them is a false positive.
  const simulacra::BoundaryScore s = simulacra::boundary_f1({9, 11}, {10}, 5);
  EXPECT_EQ(s.matched, 1);
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  // Nearest-first would pair 5 with 6 (1 away) and leave 8 alone (3 is 5 away); the maximum pairs 5-3 and 8-6.
  EXPECT_EQ(simulacra::boundary_f1({5, 8}, {6, 3}, 2).matched, 2);
}

TEST(BoundaryF1Test, OrderOfTheListsDoesNotMatter) {
  EXPECT_EQ(simulacra::boundary_f1({80, 10, 50}, {77, 50, 30, 11}, 2).matched, 2);
}

TEST(BoundaryF1Test, EmptyLists) {
  const simulacra::BoundaryScore both = simulacra::boundary_f1({}, {}, 3);
  EXPECT_EQ(both.precision, 1.0);
  EXPECT_EQ(both.recall, 1.0);
  EXPECT_EQ(both.f1, 1.0);
  const simulacra::BoundaryScore none = simulacra::boundary_f1({}, {5}, 3);
  EXPECT_EQ(none.precision, 1.0);
  EXPECT_EQ(none.recall, 0.0);
  EXPECT_EQ(none.f1, 0.0);
  const simulacra::BoundaryScore spurious = simulacra::boundary_f1({5}, {}, 3);
  EXPECT_EQ(spurious.precision, 0.0);
  EXPECT_EQ(spurious.recall, 1.0);
  EXPECT_EQ(spurious.f1, 0.0);
}

TEST(BoundaryF1Test, MaximumMatchingOnRandomCases) {
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 300; ++trial) {
    std::uniform_int_distribution<std::int64_t> pos(0, 30);
    std::vector<std::int64_t> p, t;
    const int np = int(rng() % 6), nt = int(rng() % 6);
    while (int(p.size()) < np) {
      const std::int64_t x = pos(rng);
      if (std::find(p.begin(), p.end(), x) == p.end()) p.push_back(x);
    }
    while (int(t.size()) < nt) {
      const std::int64_t x = pos(rng);
      if (std::find(t.begin(), t.end(), x) == t.end()) t.push_back(x);
    }
    const std::int64_t tol = std::int64_t(rng() % 5);
    EXPECT_EQ(simulacra::boundary_f1(p, t, tol).matched, brute_force_boundary_matches(p, t, tol))
        << "trial " << trial;
  }
}

TEST(BoundaryF1Test, BadInputIsNamed) {
  EXPECT_THROW(simulacra::boundary_f1({1}, {1}, -1), InvalidArgument);
  EXPECT_THROW(simulacra::boundary_f1({-1}, {1}, 1), InvalidArgument);
  EXPECT_THROW(simulacra::boundary_f1({1}, {3, -4}, 1), InvalidArgument);
  try {
    simulacra::boundary_f1({3, 1, 3}, {1}, 1);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "boundary_f1: boundary 3 is given twice in predicted");
  }
  try {
    simulacra::boundary_f1({3}, {1}, -2);
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "boundary_f1: tolerance -2 is negative");
  }
}

TEST(LabelBoundariesTest, ChangesOfLabel) {
  EXPECT_EQ(simulacra::label_boundaries({0, 0, 1, 1, 1, 0, 2}), (std::vector<std::int64_t>{2, 5, 6}));
  EXPECT_TRUE(simulacra::label_boundaries({4}).empty());
  EXPECT_TRUE(simulacra::label_boundaries({}).empty());
  EXPECT_TRUE(simulacra::label_boundaries({1, 1, 1}).empty());
}

}  // namespace
