// simulacra/switching_fit.hpp — switching fitted for the job it serves.
//
// The persona HMM of smoothing.hpp (prior pi, emissions p_k^beta, the rule
// acting after each switch point) has free switching parameters. Two jobs
// want different values:
//
// - compression: the rate maximising log p(x), the likelihood of the text
//   (what the filter's prediction is scored by). Found without labels by
//   Baum-Welch (EM over the hidden persona sequence) on an unlabelled stream:
//   fit_fixed_share_em for the fixed-share rate, fit_transition_em for a
//   whole transition matrix.
// - segmentation: the rate maximising log p(z | x), the likelihood of the
//   known persona sequence z given the text, on held-out streams made by
//   joining documents of different personas (fit_switching_segmentation).
//   Compression likes a large rate (a mask that predicts the next byte a
//   little better is taken at once); segmentation pays for every false
//   switch, so it wants the rate that keeps the posterior on the speaker.
//
// Baum-Welch for fixed share (Herbster & Warmuth's share step as a latent
// reset r_t ~ Bernoulli(alpha) after each switch point t, the next mask
// drawn from pi on a reset):
//
//   E: R = sum_t P(r_t = 1 | x),  N = number of switch points t < T
//   M: alpha <- R / N
//
// and for a transition matrix A (pi fixed as the first mask's law):
//
//   E: C(i, j) = sum_t P(z_t = i, z_{t+1} = j | x) over switch points t
//   M: A(i, .) <- C(i, .) / sum_j C(i, j)     (a row never visited is kept)
//
// Each iteration never lowers log p(x) (EM). All of it runs on the (T, K)
// persona log-probabilities scored once, O(T K) per fixed-share iteration,
// O(T K^2) per transition iteration. beta != 1 makes the "likelihood" the
// tempered one (emissions p^beta), as the filter reads it.
//
// The mixture gives the prior, beta and switch points; its own rule and rate
// are ignored (the fits are of fixed share, or of a transition matrix).
//
//   auto em = simulacra::fit_fixed_share_em(mix, simulacra::encode(stream));
//   auto seg = simulacra::fit_switching_segmentation(probe, heldout.documents());
//   cfg.alpha = seg.alpha_segmentation;   // for smoothing and Viterbi
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "simulacra/corpus.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// ------------------------------------------------------------------ Baum-Welch

struct EmOptions {
  int max_iterations = 200;    // iterations at most, >= 1
  double tolerance = 1e-10;    // stop when log p(x) rises by less than this many nats per token, >= 0
  double initial_alpha = 1e-3; // the starting rate (fixed share), or the starting matrix's (transition), in (0, 1)
};

// A fixed-share rate fitted by Baum-Welch.
struct FixedShareEm {
  double alpha = 0.0;                   // the fitted rate (the last one evaluated)
  std::vector<double> alphas;           // the rate at each iteration, alphas[0] = initial_alpha
  std::vector<double> log_likelihood;   // log p(x) in nats at each of alphas (non-decreasing)
};

// Baum-Welch for the fixed-share rate of `mixture` on the unlabelled
// `stream` (read from a document start). InvalidArgument for an empty
// stream, bad options, or a stream with no switch point before its end;
// OutOfRange for a token outside 0..kVocab-1. Polls the interrupt check.
FixedShareEm fit_fixed_share_em(const Mixture& mixture, const std::vector<Token>& stream, const EmOptions& options = {});

// A transition matrix fitted by Baum-Welch.
struct TransitionEm {
  Eigen::MatrixXd transition;           // (K, K) the fitted row-stochastic matrix (the last one evaluated)
  std::vector<double> log_likelihood;   // log p(x) in nats at each iteration's matrix (non-decreasing)
};

// Baum-Welch for a transition matrix on `stream`, from `initial` (K x K
// row-stochastic; empty: (1 - a) I + a 1 pi^T with a = options.initial_alpha).
// Entries that start at 0 stay 0. Throws as fit_fixed_share_em, and
// InvalidArgument for a bad initial matrix.
TransitionEm fit_transition_em(const Mixture& mixture, const std::vector<Token>& stream,
                               const Eigen::MatrixXd& initial = {}, const EmOptions& options = {});

// ------------------------------------------------------------------ supervised

// A stream with its known speakers.
struct LabelledStream {
  std::vector<Token> tokens;    // (T)
  std::vector<int> personas;    // (T) index of the persona speaking each token
};

struct SegmentationFitOptions {
  // Candidate rates, each in (0, 1]; empty: 10^(-7 + i/4) for i = 0..28 (1e-7 to 1).
  std::vector<double> grid;
  int refine_iterations = 40;   // golden-section steps in log alpha around the best candidate, >= 0
  // Tempering candidates for segmentation, each in (0, MixtureConfig::kMaxBeta]:
  // the rate is fitted at each and the pair with the largest log p(z | x)
  // kept (beta_segmentation). Empty: the mixture's beta only. The
  // compression rate is always fitted at the mixture's beta.
  std::vector<double> beta_grid;
  // Joining documents (fit_switching_segmentation): the documents of one
  // persona are taken in a seeded order and joined into parts of at least
  // part_bytes bytes (0: every document a part); parts are then laid end to
  // end so that consecutive parts come from different personas wherever the
  // counts allow.
  std::size_t part_bytes = 0;
  std::uint64_t seed = 0;
};

// Rates fitted for each job on the same labelled streams.
struct SegmentationFit {
  double alpha_segmentation = 0.0;      // argmax of sum log p(z | x) (at beta_segmentation)
  double beta_segmentation = 1.0;       // the tempering it was fitted at (the mixture's without a beta_grid)
  double alpha_compression = 0.0;       // argmax of sum log p(x) (the filter's held-out likelihood)
  double segmentation_nats = 0.0;       // sum log p(z | x) at alpha_segmentation
  double compression_nats = 0.0;        // sum log p(x) at alpha_compression
  std::vector<double> grid;             // the candidates
  std::vector<double> grid_segmentation;  // sum log p(z | x) at each candidate (at beta_segmentation)
  std::vector<double> grid_compression;   // sum log p(x) at each candidate
  std::size_t tokens = 0;               // tokens in all streams
  std::size_t switches = 0;             // changes of speaker in all streams
};

// The fixed-share rates maximising log p(z | x) and log p(x) over the
// streams (a grid, then golden-section refinement around the best point).
// InvalidArgument for no streams, an empty stream, labels of the wrong
// length or a persona of prior 0, a change of speaker after a token that is
// no switch point, a true speaker giving its own token probability 0, or
// bad options; OutOfRange for a label or token out of range.
SegmentationFit fit_fixed_share_supervised(const Mixture& mixture, const std::vector<LabelledStream>& streams,
                                           const SegmentationFitOptions& options = {});

// One stream made of `documents` (each encode_document'ed, boundary
// included, labelled with its persona), joined as options say.
// OutOfRange naming a persona the mixture does not know; InvalidArgument for
// no documents.
LabelledStream join_documents(const Mixture& mixture, const std::vector<Document>& documents,
                              const SegmentationFitOptions& options = {});

// join_documents then fit_fixed_share_supervised: what a trainer calls with
// a probe mixture (fitted on the train part) and the held-out documents.
SegmentationFit fit_switching_segmentation(const Mixture& mixture, const std::vector<Document>& documents,
                                           const SegmentationFitOptions& options = {});

}  // namespace simulacra
