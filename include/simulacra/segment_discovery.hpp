// simulacra/segment_discovery.hpp — discovering masks that switch inside one
// stream (speakers in a play read as one text, a prompt that swaps masks):
// the persona HMM fitted by EM on an unlabelled stream, its personas and its
// switching learned together.
//
// The model is the pile's own HMM (mixture.hpp): z_t is the mask writing
// token t, p(x_t | z_t = k, x_<t) is persona k's n-gram model, and z follows
// a learned K x K transition matrix A (or the fixed-share rate alpha), with
// switches allowed only after the `switch_after` bytes when given. EM
// alternates
//
//   E-step  gamma_t(k) = p(z_t = k | x_1..x_T) and the expected switching
//           events (transitions i -> j, or fixed-share resets) by one
//           forward-backward pass (smoothing.hpp);
//   M-step  A from the expected transitions, row by row (Baum-Welch; alpha
//           = expected resets per step that may switch, for fixed share);
//           every persona refitted on the stream's chunks weighted by their
//           mean responsibility, w_ck = mean_{t in chunk c} gamma_t(k)
//           (ngram_weighted.hpp: Dirichlet or expected Kneser-Ney on the
//           expected counts); the prior from the mean responsibilities.
//
// The stream is cut into chunks of about chunk_bytes (each extended to just
// after its next switch-point byte when switch points are given), so the
// M-step is one counting pass with K weights per chunk. Where switches can
// happen only at chunk ends (switch_after given and chunk_bytes 1), gamma is
// constant inside a chunk and the chunk weights are exact; otherwise they
// average gamma over the chunk, an approximation that makes EM's objective
// not strictly monotone: the log-likelihood after each iteration is
// reported and the iteration with the highest is kept. A chunk's n-grams do not cross into the next chunk, and each
// chunk is a document to the n-gram counts (its start context and end
// boundary), as in document-level discovery.
//
// The start: k-means++ (kmeans.hpp) on the chunks' TF-IDF byte n-gram
// profiles gives one-hot chunk weights. The result holds the final pile
// (personas "mask0".. or the caller's names, the prior, the learned
// switching), its smoothed weights and its Viterbi path (attribution.hpp).
//
//   simulacra::SegmentDiscoveryConfig cfg;   // order 4, 10 iterations, a learned transition matrix
//   simulacra::SegmentDiscovery found = simulacra::discover_segments(play_text, 8, cfg);
//   found.path;                               // the mask of each byte
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/kmeans.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram_weighted.hpp"

namespace simulacra {

struct SegmentDiscoveryConfig {
  int order = 4;                      // n-gram order of every persona, 1..NGramPersona::kMaxOrder
  WeightedFitConfig smoothing;        // the personas' estimator (Dirichlet, mu 2, by default)
  int iterations = 10;                // EM iterations, >= 1
  double tolerance = 1e-6;            // stop when log p(x) moves by at most tolerance * |log p(x)|, >= 0
  std::size_t chunk_bytes = 256;      // bytes per chunk of the M-step, >= 1
  bool learn_transition = true;       // a full K x K matrix by Baum-Welch; false: the fixed-share rate
  double initial_alpha = 1e-3;        // the switching's starting rate, in (0, 1)
  std::vector<Token> switch_after;    // switch points, as MixtureConfig::switch_after (empty: every byte)
  ProfileConfig profiles;             // the k-means start's profiles
  int kmeans_restarts = 4;            // k-means++ seedings of the start, >= 1
  std::uint64_t seed = 0;             // seed of the k-means start
  std::vector<std::string> names;     // the masks' names (empty: "mask0", "mask1", ...)
};

struct SegmentDiscovery {
  Mixture mixture;                       // the kept iteration's personas, prior and learned switching
  Eigen::MatrixXd weights;               // (T, K) p(z_t = k | stream) under it (T = the stream's bytes)
  std::vector<int> path;                 // (T) its Viterbi path
  std::vector<std::size_t> chunk_starts; // byte offset of each chunk of the M-step
  std::vector<double> log_likelihood;    // log p(stream) in nats after each iteration; the kept one is the largest
  int iterations = 0;                    // EM iterations run
};

// Fits k masks to `stream` as above. InvalidArgument for an empty stream,
// k outside 1..(number of chunks), a bad order, iterations < 1, a negative
// or NaN tolerance, chunk_bytes 0, initial_alpha outside (0, 1), a switch
// point outside 0..kVocab-1, names that are not k unique non-empty strings,
// or a bad smoothing or profile configuration. Polls the interrupt check.
SegmentDiscovery discover_segments(const std::string& stream, int k, const SegmentDiscoveryConfig& config = {});

}  // namespace simulacra
