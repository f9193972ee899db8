// tests/kmeans_test.cpp — k-means++ on n-gram profiles (kmeans.hpp).
//
// References here: profiles against counts written out by hand (cosines of
// short documents); clusters of well-separated synthetic blobs against their
// true labels (a contingency table with one non-zero per row and column); the
// Lloyd objective recomputed in the test; the dense and sparse paths against
// each other.
#include "simulacra/kmeans.hpp"

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"

namespace {

using simulacra::InvalidArgument;
using simulacra::KMeansConfig;

// N points around K well-separated centres in D dimensions; labels out.
Eigen::MatrixXd blobs(int N, int K, int D, double spread, unsigned seed, std::vector<int>* labels) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  Eigen::MatrixXd centres(K, D);
  for (int k = 0; k < K; ++k)
    for (int d = 0; d < D; ++d) centres(k, d) = 10.0 * g(rng);
  Eigen::MatrixXd x(N, D);
  labels->clear();
  for (int i = 0; i < N; ++i) {
    const int k = i % K;
    labels->push_back(k);
    for (int d = 0; d < D; ++d) x(i, d) = centres(k, d) + spread * g(rng);
  }
  return x;
}

double objective(const Eigen::MatrixXd& x, const std::vector<int>& z, const Eigen::MatrixXd& c) {
  double J = 0.0;
  for (Eigen::Index i = 0; i < x.rows(); ++i) J += (x.row(i) - c.row(z[std::size_t(i)])).squaredNorm();
  return J;
}

TEST(KMeansTest, ProfilesAreUnitCountVectors) {
  const simulacra::SparseProfiles X =
      simulacra::ngram_profiles({"abab", "ab", "baba", "a", ""}, {2, 2, 1 << 18, false, false});  // raw counts
  ASSERT_EQ(X.rows(), 5);
  const Eigen::MatrixXd d = X.toDense();
  // "abab": ab x2, ba x1 -> (2, 1) / sqrt 5; "ab": (1, 0).
  EXPECT_NEAR(d.row(0).norm(), 1.0, 1e-12);
  EXPECT_NEAR(d.row(0).dot(d.row(1)), 2.0 / std::sqrt(5.0), 1e-12);
  // "baba": ab x1, ba x2 -> cos with "abab" = 4 / 5.
  EXPECT_NEAR(d.row(0).dot(d.row(2)), 4.0 / 5.0, 1e-12);
  EXPECT_EQ(d.row(3).norm(), 0.0);  // shorter than n
  EXPECT_EQ(d.row(4).norm(), 0.0);
  EXPECT_THROW(simulacra::ngram_profiles({"a"}, {0, 3}), InvalidArgument);
  EXPECT_THROW(simulacra::ngram_profiles({"a"}, {3, 2}), InvalidArgument);
  EXPECT_THROW(simulacra::ngram_profiles({"a"}, {3, 9}), InvalidArgument);
  EXPECT_THROW(simulacra::ngram_profiles({"a"}, {3, 3, 0}), InvalidArgument);
}

TEST(KMeansTest, ProfilesAreSublinearTfIdf) {
  // "abab": ab x2 (in both documents), ba x1 (in one): ((1 + log 2) * 1, 1 * (1 + log(3 / 2))); "ab": (1, 0).
  const Eigen::MatrixXd d = simulacra::ngram_profiles({"abab", "ab"}, {2, 2}).toDense();
  const double ab = 1.0 + std::log(2.0), ba = 1.0 + std::log(1.5);
  EXPECT_NEAR(d.row(0).dot(d.row(1)), ab / std::hypot(ab, ba), 1e-12);
  EXPECT_NEAR(d.row(1).norm(), 1.0, 1e-12);
  // Several lengths: "abc" at 1..3 holds a, b, c, ab, bc, abc: six distinct buckets of one count each.
  const simulacra::SparseProfiles X = simulacra::ngram_profiles({"abc", "xyz"}, {1, 3, 1 << 18, false, false});
  EXPECT_EQ(X.row(0).nonZeros(), 6);
  EXPECT_NEAR(X.row(0).dot(X.row(1)), 0.0, 1e-12);
}

TEST(KMeansTest, RecoversWellSeparatedClusters) {
  for (unsigned seed : {1u, 2u, 3u}) {
    std::vector<int> labels;
    const Eigen::MatrixXd x = blobs(300, 5, 8, 0.5, seed, &labels);
    KMeansConfig cfg;
    cfg.k = 5;
    cfg.seed = seed;
    const auto km = simulacra::kmeans(x, cfg);
    std::map<int, std::set<int>> found_of_label, label_of_found;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      found_of_label[labels[i]].insert(km.assignments[i]);
      label_of_found[km.assignments[i]].insert(labels[i]);
    }
    for (const auto& [l, f] : found_of_label) EXPECT_EQ(f.size(), 1u) << "label " << l << " seed " << seed;
    for (const auto& [f, l] : label_of_found) EXPECT_EQ(l.size(), 1u) << "cluster " << f << " seed " << seed;
    EXPECT_NEAR(km.objective, objective(x, km.assignments, km.centroids), 1e-8 * km.objective);
  }
}

TEST(KMeansTest, RecoversClustersOfProfiles) {
  // Three "languages" of documents: their trigram profiles separate.
  std::vector<std::string> docs;
  std::vector<int> labels;
  const std::vector<std::string> words[3] = {{"arr ", "matey ", "ahoy ", "ye "},
                                             {"thou ", "doth ", "hath ", "thee "},
                                             {"xyzzy ", "plugh ", "qux ", "zork "}};
  std::mt19937_64 rng(9);
  for (int i = 0; i < 60; ++i) {
    std::string d;
    for (int j = 0; j < 12; ++j) d += words[i % 3][rng() % 4];
    docs.push_back(d);
    labels.push_back(i % 3);
  }
  KMeansConfig cfg;
  cfg.k = 3;
  const auto km = simulacra::kmeans(simulacra::ngram_profiles(docs), cfg);
  std::map<int, std::set<int>> label_of_found;
  for (std::size_t i = 0; i < labels.size(); ++i) label_of_found[km.assignments[i]].insert(labels[i]);
  EXPECT_EQ(label_of_found.size(), 3u);
  for (const auto& [f, l] : label_of_found) EXPECT_EQ(l.size(), 1u);
}

TEST(KMeansTest, ObjectiveNeverIncreasesAcrossLloydSteps) {
  std::mt19937_64 rng(4);
  for (int rep = 0; rep < 20; ++rep) {
    std::vector<int> labels;
    const Eigen::MatrixXd x = blobs(200, 6, 5, 6.0, unsigned(rep), &labels);  // overlapping: many steps
    KMeansConfig cfg;
    cfg.k = 2 + rep % 7;
    cfg.restarts = 1;
    cfg.seed = rng();
    const auto km = simulacra::kmeans(x, cfg);
    ASSERT_FALSE(km.objective_history.empty());
    for (std::size_t t = 1; t < km.objective_history.size(); ++t)
      EXPECT_LE(km.objective_history[t], km.objective_history[t - 1] * (1 + 1e-12)) << "rep " << rep << " step " << t;
    EXPECT_LE(km.objective, km.objective_history.back() * (1 + 1e-12));
  }
}

TEST(KMeansTest, DeterministicForASeedAndDenseEqualsSparse) {
  std::vector<std::string> docs;
  std::mt19937_64 rng(2);
  for (int i = 0; i < 80; ++i) {
    std::string d;
    for (int j = 0; j < 40; ++j) d.push_back(char('a' + rng() % (3 + i % 4)));
    docs.push_back(d);
  }
  const auto X = simulacra::ngram_profiles(docs, {3, 3, 1 << 10});
  KMeansConfig cfg;
  cfg.k = 4;
  cfg.restarts = 3;
  cfg.seed = 42;
  const auto a = simulacra::kmeans(X, cfg), b = simulacra::kmeans(X, cfg);
  EXPECT_EQ(a.assignments, b.assignments);
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_EQ(a.restart_objectives, b.restart_objectives);
  const Eigen::MatrixXd dense = X.toDense();
  const auto c = simulacra::kmeans(dense, cfg);
  EXPECT_EQ(a.assignments, c.assignments);
  EXPECT_LT((a.centroids - c.centroids).cwiseAbs().maxCoeff(), 1e-12);
  // The kept restart has the lowest objective.
  for (double j : a.restart_objectives) EXPECT_LE(a.objective, j);
}

TEST(KMeansTest, BadArgumentsAreNamed) {
  const Eigen::MatrixXd x = Eigen::MatrixXd::Ones(3, 2);
  KMeansConfig cfg;
  cfg.k = 4;
  EXPECT_THROW(simulacra::kmeans(x, cfg), InvalidArgument);
  cfg.k = 0;
  EXPECT_THROW(simulacra::kmeans(x, cfg), InvalidArgument);
  cfg.k = 2;
  cfg.restarts = 0;
  EXPECT_THROW(simulacra::kmeans(x, cfg), InvalidArgument);
  cfg.restarts = 1;
  cfg.max_iterations = 0;
  EXPECT_THROW(simulacra::kmeans(x, cfg), InvalidArgument);
  cfg.max_iterations = 10;
  Eigen::MatrixXd bad = x;
  bad(1, 1) = NAN;
  EXPECT_THROW(simulacra::kmeans(bad, cfg), InvalidArgument);
  EXPECT_THROW(simulacra::kmeans(Eigen::MatrixXd(0, 2), cfg), InvalidArgument);
  // Identical points: every seeding draws uniformly; one cluster holds them all at J = 0.
  const auto km = simulacra::kmeans(x, cfg);
  EXPECT_EQ(km.objective, 0.0);
}

TEST(KMeansTest, EmptyClustersTakeAPointOfTheLargest) {
  std::vector<int> z = {0, 0, 0, 0, 1};  // clusters 2 and 3 empty; 0 is the largest
  std::uint64_t state = 7, again = 7;
  simulacra::fill_empty_clusters(z, 4, state);
  std::vector<std::size_t> size(4, 0);
  for (int c : z) ++size[std::size_t(c)];
  EXPECT_EQ(size, (std::vector<std::size_t>{2, 1, 1, 1}));
  EXPECT_EQ(z[4], 1);  // a point of a cluster that was not the largest stays
  std::vector<int> z2 = {0, 0, 0, 0, 1};
  simulacra::fill_empty_clusters(z2, 4, again);
  EXPECT_EQ(z2, z);  // deterministic for a state
  EXPECT_EQ(again, state);
  std::vector<int> full = {0, 1, 2};
  simulacra::fill_empty_clusters(full, 3, state);
  EXPECT_EQ(full, (std::vector<int>{0, 1, 2}));  // nothing to fill
  std::vector<int> few = {0, 0};
  EXPECT_THROW(simulacra::fill_empty_clusters(few, 3, state), InvalidArgument);
}

}  // namespace
