// simulacra/kmeans.hpp — k-means++ on character n-gram profiles: where
// document-level discovery (discovery.hpp) starts its EM.
//
// A document's profile (ngram_profiles) is a TF-IDF vector of its byte
// n-grams, n = min_n..max_n (3..5 by default; the document's own bytes, no
// boundaries), hashed into `dimension` buckets (splitmix64 of the n-gram's
// bytes and its length, modulo the dimension), then divided by its Euclidean
// norm (unit rows: the squared distance of two profiles is 2 - 2 cos, so
// k-means on them clusters by cosine similarity). With the defaults a bucket
// holds (1 + log tf) * idf, tf its count in the document and
// idf = 1 + log((1 + N) / (1 + df)) over the N documents given (df: how many
// hold it), as scikit-learn's TfidfVectorizer(sublinear_tf=True) computes
// it; ProfileConfig turns either factor off (raw counts). A document shorter
// than min_n has the zero profile.
//
// k-means minimises J = sum_i ||x_i - c_{z_i}||^2 over the assignments z and
// the centres c:
//   seeding (k-means++, Arthur & Vassilvitskii 2007): the first centre a
//     uniformly drawn point, each next one a point drawn with probability
//     proportional to its squared distance to the nearest centre so far;
//   Lloyd iterations: assign each point to its nearest centre (ties: the
//     lowest index), then move each centre to the mean of its points (a
//     centre left without points stays where it is). Neither step increases
//     J, so the objective recorded after each assignment never increases;
//     the iterations stop when no assignment changes or after max_iterations.
// Several restarts (each seeded by the continuing splitmix64 stream of
// `seed`) keep the lowest J: the same seed gives the same result.
//
//   auto X = simulacra::ngram_profiles(texts);              // (N, 2^18) sparse, unit rows
//   simulacra::KMeansConfig cfg;  cfg.k = 4;  cfg.seed = 1;
//   simulacra::KMeansResult km = simulacra::kmeans(X, cfg);  // km.assignments[i] in 0..3
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace simulacra {

// (N, D) rows of profiles, one per document.
using SparseProfiles = Eigen::SparseMatrix<double, Eigen::RowMajor>;

// How documents become profiles (see the header comment).
struct ProfileConfig {
  int min_n = 3;               // shortest byte n-gram, 1..8
  int max_n = 5;               // longest, min_n..8
  int dimension = 1 << 18;     // hash buckets, >= 1
  bool sublinear_tf = true;    // 1 + log(count) instead of the count
  bool idf = true;             // times 1 + log((1 + N) / (1 + document frequency))
};

// The unit-norm hashed byte n-gram profiles of `documents`, one row each.
// InvalidArgument unless 1 <= min_n <= max_n <= 8 and dimension >= 1.
SparseProfiles ngram_profiles(const std::vector<std::string>& documents, const ProfileConfig& config = {});

struct KMeansConfig {
  int k = 2;                  // clusters, 1..number of points
  int restarts = 4;           // k-means++ seedings each followed by Lloyd iterations, >= 1
  int max_iterations = 100;   // Lloyd iterations per restart, >= 1
  std::uint64_t seed = 0;     // splitmix64 seed of the seedings
};

struct KMeansResult {
  std::vector<int> assignments;          // (N) the cluster of each point, 0..k-1
  Eigen::MatrixXd centroids;             // (k, D) the centres
  double objective = 0.0;                // J of the assignments and centres returned
  std::vector<double> objective_history; // J after each assignment step of the kept restart (never increases)
  std::vector<double> restart_objectives;  // final J of every restart
  int restart = 0;                       // the kept restart (the lowest J; ties: the first)
  int iterations = 0;                    // Lloyd iterations of the kept restart
};

// k-means++ and Lloyd on the rows of `points`. InvalidArgument for no
// points, a k outside 1..N, restarts or max_iterations < 1, or a value that
// is not finite.
// Every cluster 0..k-1 gets a point: a cluster the assignments leave empty
// (identical or empty profiles can do that) takes a point drawn (splitmix64
// from `state`, advanced) from the largest cluster, in cluster order. For
// the starts of discovery; InvalidArgument if there are fewer points than k.
void fill_empty_clusters(std::vector<int>& assignments, int k, std::uint64_t& state);

KMeansResult kmeans(const SparseProfiles& points, const KMeansConfig& config);
KMeansResult kmeans(const Eigen::Ref<const Eigen::MatrixXd>& points, const KMeansConfig& config);

}  // namespace simulacra
