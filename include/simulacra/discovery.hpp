// simulacra/discovery.hpp — discovering the masks: a K-persona n-gram
// mixture fitted by EM on unlabelled documents (one mask per document).
//
// The model: document d was written by persona z_d ~ pi, and p(d | z = k) is
// persona k's n-gram model. EM alternates
//
//   E-step  r_dk = pi_k p_k(d)^b_t / sum_j pi_j p_j(d)^b_t      (log-sum-exp; b_t = 1: the posterior)
//           hard EM: r_dk = 1 for the k maximising log pi_k + b_t log p_k(d) (ties: the lowest k)
//   M-step  pi_k = mean_d r_dk; every persona refitted on the documents weighted by r_.k
//
// Deterministic annealing (Ueda & Nakano 1998): the E-step after M-step t
// (1-based) tempers by
//
//   b_t = beta * anneal^(1 - (t - 1) / H)   for t <= H = iterations / 2,   b_t = beta after,
//
// rising geometrically from anneal * beta to beta over the first half of
// the iterations (anneal = 1: b_t = beta throughout; discovery_beta gives
// b_t). Documents' log-likelihood ratios are large (hundreds of nats between
// masks that differ little), so untempered responsibilities are one-hot from
// the first E-step and EM stays near its k-means start; tempered ones let
// documents move between masks first, and the last half of the iterations
// is ordinary EM at beta (docs/discovery.md measures it on real text). While
// the tempering is low, masks can also merge and lose a start that was
// right, so with anneal < 1 each start also runs EM plain (b_t = beta), and
// the start keeps the run with the better held-out score (Discovery::annealed
// says which won).
//
// starting from one-hot responsibilities given by k-means++ on the
// documents' TF-IDF byte n-gram profiles (kmeans.hpp; a mask that k-means
// leaves without documents, as identical or empty profiles do, takes one
// drawn from the largest cluster), `restarts` times; the run with
// the best held-out log-likelihood sum_{d held out} log sum_k pi_k p_k(d) is
// kept (without held-out documents: the best final objective).
//
// Personas (WeightedFitConfig::smoothing):
//   dirichlet: a shared background body B (the interpolated Dirichlet model of
//     all training documents, weight 1, ngram_weighted.hpp) is fitted once;
//     persona k's distribution at each predictive context h (the deepest
//     context of some token: order-1 tokens, or fewer back to the document
//     start) is the posterior mode of a Dirichlet prior centred on the
//     background's lower order,
//       theta_kh(w) = (C_k(hw) + mu B(w | h')) / (C_k(h.) + mu),   C_k(hw) = sum_d r_dk n_d(hw)
//     (order 1: B(w | h') is uniform), and the lower orders are B's own. Each
//     M-step is then the exact maximiser of the expected complete-data log
//     posterior, so EM never decreases the objective
//       F = sum_d log sum_k pi_k p_k(d) + sum_k sum_h log Dir(theta_kh; mu B(. | h') + 1)   (+ const)
//     at beta = 1 from the M-step after the first E-step at b_t = 1 on
//     (every step without annealing; hard EM: the classification objective
//       sum_d log pi_{z_d} p_{z_d}(d) + the same prior term). The marginal
//     log-likelihood alone is not guaranteed to rise (docs/concepts.md,
//     "Discovering the masks"). One counting pass per iteration over the
//     documents' predictive n-grams (DocumentNGrams) with K weights each.
//   expected_kneser_ney: each persona is refitted by DocumentNGrams::fit on its
//     responsibilities (own lower orders, no background); no monotonicity
//     guarantee.
//
// The returned Mixture holds ordinary "ngram" personas (prior pi, no
// switching, attribution beta = beta), so attribute(doc) reproduces the
// responsibilities; it saves and loads like a trained one. Held-out
// documents do not train the personas; they get responsibilities too.
//
// Choosing K: discover(documents, {2, 3, 4, ...}, config) runs each K on the
// same split and keeps the K with the highest held-out log-likelihood.
//
//   simulacra::DiscoveryConfig cfg;           // order 2, Dirichlet, annealed, 3 restarts
//   simulacra::Discovery found = simulacra::discover(texts, 8, cfg);
//   found.mixture.attribute(texts[0]);        // (K) log posterior of the masks
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "simulacra/kmeans.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram_weighted.hpp"

namespace simulacra {

// Where a discovery run is, for progress callbacks.
struct DiscoveryProgress {
  int k = 0;                    // the number of masks of this run
  int restart = 0;              // 0..restarts-1
  int iteration = 0;            // EM iterations done in this restart
  double log_likelihood = 0.0;  // training log-likelihood after them
};

using DiscoveryMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The fractional counts of one block of training documents (the M-step's
// counting): for every predictive n-gram j (discover numbers them 0..P-1)
// that the block's training documents contain, rows ascending, the K sums
// sum_d r_dk n_d(j) over those documents in order. The M-step adds the blocks
// to zero in block order, so its counts depend on the block size and on
// nothing else (not on how the blocks are spread over shards or machines).
struct DiscoveryBlockCounts {
  std::uint64_t block = 0;
  std::vector<std::uint32_t> rows;
  std::vector<double> values;  // rows.size() x K, row-major
};

// Serialised block counts (any number of blocks), and the inverse (FileError
// for damaged bytes).
std::string block_counts_to_bytes(const std::vector<DiscoveryBlockCounts>& blocks);
std::vector<DiscoveryBlockCounts> block_counts_from_bytes(std::string_view bytes);

// Documents [begin(), begin() + size()) of a discovery, a whole number of
// blocks: what the E-step and the M-step's counting read of them (each
// document's predictive n-grams in discover's numbering, with multiplicities,
// and whether it trains). discover itself computes through one shard of all
// the documents; DiscoveryExecutor hands shards elsewhere (simulacra.dask).
class DiscoveryShard {
 public:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  std::uint64_t begin() const { return begin_; }
  std::size_t size() const { return dbeg_.size() - 1; }
  std::uint32_t num_predictive() const { return num_predictive_; }
  int block_documents() const { return block_documents_; }

  // (size(), K) log p_k(d) of its documents: sum_j n_d(j) log_theta(j, k),
  // given (P, K) log_theta. InvalidArgument if log_theta has not P rows.
  DiscoveryMatrix loglik(const DiscoveryMatrix& log_theta) const;
  // The block counts of its training documents given their (size(), K)
  // responsibilities (rows of the held-out documents are not read): one per
  // block holding a training document. InvalidArgument for another shape.
  std::vector<DiscoveryBlockCounts> counts(const DiscoveryMatrix& responsibilities) const;

  std::string to_bytes() const;
  static DiscoveryShard from_bytes(std::string_view bytes);  // FileError for damaged bytes

 private:
  friend struct DiscoveryShardBuilder;
  DiscoveryShard() = default;

  std::uint64_t begin_ = 0;
  int block_documents_ = 1;
  std::uint32_t num_predictive_ = 0;
  std::vector<std::uint32_t> rows_;     // the predictive n-grams it holds (global j, ascending)
  std::vector<std::uint64_t> dbeg_;     // (size + 1) CSR of its documents over entries
  std::vector<std::uint32_t> dj_;       // entry -> index into rows_
  std::vector<std::uint32_t> dcnt_;     // entry -> multiplicity
  std::vector<std::uint8_t> train_;     // (size) 1 for a training document
};

// Where discover's E-step and M-step counting run. Empty (the default): in
// the calling thread, through one shard of all the documents. Otherwise
// discover cuts the documents into `shards` shards of whole blocks (as even
// as blocks allow), hands them to distribute() once, and then asks
//   loglik(log_theta)     -> (N, K) log p_k(d) of every document (the shards' loglik stacked in order),
//   counts(responsibilities (N, K)) -> the block counts of every shard (any order),
// which must be what the shards compute (discover sums the block counts in
// block order and checks that every block with training documents came
// once). The result is then bit for bit the local one.
struct DiscoveryExecutor {
  int shards = 1;
  std::function<void(std::vector<DiscoveryShard>)> distribute;
  std::function<DiscoveryMatrix(const DiscoveryMatrix& log_theta)> loglik;
  std::function<std::vector<DiscoveryBlockCounts>(const DiscoveryMatrix& responsibilities)> counts;
  bool active() const { return bool(distribute) || bool(loglik) || bool(counts); }
};

struct DiscoveryConfig {
  int order = 2;                     // n-gram order of every persona, 1..NGramPersona::kMaxOrder (2: see docs/discovery.md)
  WeightedFitConfig smoothing;       // the personas' estimator and Dirichlet concentration mu
  int iterations = 40;               // EM iterations (M-steps) per restart, >= 1 (half of them annealing)
  double tolerance = 1e-7;           // stop early when the objective moves by at most tolerance * |objective|, >= 0
  int restarts = 3;                  // k-means++ starts, >= 1
  bool hard = false;                 // classification (hard) EM
  double beta = 1.0;                 // E-step tempering in (0, MixtureConfig::kMaxBeta]
  double anneal = 0.1;               // the first E-step's tempering as a share of beta, in (0, 1] (1: no annealing)
  double heldout_fraction = 0.1;     // documents held out to choose the restart and K, in [0, 1)
  std::uint64_t seed = 0;            // seeds the split and the k-means++ starts
  ProfileConfig profiles;            // the k-means profiles (TF-IDF of byte 3..5-grams)
  int kmeans_restarts = 1;           // k-means++ seedings behind each start (the lowest k-means objective), >= 1
  int kmeans_iterations = 50;        // Lloyd iterations of each seeding, >= 1
  std::vector<std::string> names;    // K persona names (empty: "mask0", "mask1", ...)
  Eigen::MatrixXd initial_responsibilities;  // empty, or (N, K) rows >= 0 summing to 1: the start of
                                             // the only restart (k-means is skipped)
  int block_documents = 1024;        // the M-step sums the counts of each block of this many documents, then
                                     // the blocks in order (the rounding depends on it), >= 1
  DiscoveryExecutor executor;        // where the E-step and the counting run (default: here)
  // Called after every EM iteration; may throw to cancel (the exception propagates).
  std::function<void(const DiscoveryProgress&)> on_progress;
};

struct Discovery {
  explicit Discovery(Mixture m) : mixture(std::move(m)) {}

  Mixture mixture;                      // the discovered masks (K "ngram" personas, prior pi)
  Eigen::MatrixXd responsibilities;     // (N, K) r_dk of every document under the returned mixture
  std::vector<int> assignments;         // (N) argmax_k r_dk
  std::vector<double> log_likelihoods;  // per iteration of the kept run: sum_{d train} log sum_k pi_k p_k(d)
  std::vector<double> objective;        // per iteration: the objective EM climbs (see above; + const);
                                        // expected Kneser-Ney: the log-likelihood (hard EM: the classification one)
  double heldout_log_likelihood = 0.0;  // of the kept run (0 without held-out documents)
  std::vector<int> heldout;             // indices of the held-out documents, sorted
  std::vector<double> restart_scores;   // per restart: held-out log-likelihood (or final objective without held-out)
                                        // of its better run
  int restart = 0;                      // the kept restart
  bool annealed = false;                // whether its kept run is the annealed one (anneal < 1: each start
                                        // runs EM annealed and plain, the better score kept)
  int k = 0;                            // the number of masks (the chosen one for a range)
  std::vector<int> k_values;            // the K tried (one entry for a single K)
  std::vector<double> heldout_by_k;     // held-out log-likelihood of the best run at each (empty without held-out)
  double seconds = 0.0;                 // wall time
};

// b_t above: the tempering of the E-step after M-step `iteration` (1-based).
double discovery_beta(const DiscoveryConfig& config, int iteration);

// EM with K = k masks on `documents` (raw bytes, one document each).
// InvalidArgument for no documents, k < 1 or more than the training
// documents, a bad order, mu, iteration count, tolerance, restart count,
// beta, anneal, fraction, profile configuration, names that are not k unique
// non-empty strings, or initial responsibilities that are not (N, k) rows of
// probabilities.
Discovery discover(const std::vector<std::string>& documents, int k, const DiscoveryConfig& config = {});

// Choosing K: discover at every k of k_values (each >= 1, not empty) on the
// same held-out split; the result of the k with the highest held-out
// log-likelihood (ties: the smaller k), with heldout_by_k filled.
// InvalidArgument also when there are no held-out documents (heldout_fraction
// 0 or too few documents) and more than one k, or names are given.
Discovery discover(const std::vector<std::string>& documents, const std::vector<int>& k_values,
                   const DiscoveryConfig& config = {});

}  // namespace simulacra
