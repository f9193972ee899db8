// simulacra/smoothing.hpp — who was speaking at t, given the whole text:
// smoothed posteriors over masks by forward-backward.
//
// The mixture's segmentation HMM (Mixture::segmentation_config(): its
// switching rule, with the rate and tempering train() fitted for
// segmentation, or config() when none were set; as in attribution.hpp):
// z_t is the mask speaking token t,
//
//   z_1 ~ pi,   x_t | z_t = k  ~  p_k(x_t | x_<t)^beta   (beta: that config's tempering)
//   z_{t+1} | z_t = i  ~  A(i, .) if x_t is a switch point, else z_{t+1} = z_t
//
//   kNone        A = I: the smoothed posterior is the same at every t, the
//                whole-text posterior pi_k p_k(x)^beta / Z;
//   kFixedShare  A = (1 - alpha) I + alpha 1 pi^T;
//   kTransition  A = the config's transition (a persona with prior 0 is never
//                entered, as in the filter);
//   kForgetting  no HMM: smooth throws InvalidArgument.
//
// Switch points are MixtureConfig::switch_after (every token when empty; the
// document boundary always is one). beta = 1 makes the emissions the
// personas' probabilities; beta != 1 tempers them exactly as the filter
// does, so with no segmentation set the forward pass is the filter: the
// smoothed weights of the last token equal the filter's weights after its
// Bayes update. A token no
// persona can produce carries no evidence and no switch follows it (as in
// the filter). Steering plays no part.
//
// Weights are exact: the forward and backward passes run in natural-log
// space (a megabyte of text does not underflow), O(T K) time under fixed
// share and O(T K^2) under a transition matrix, O(T K) memory.
//
//   auto tokens = simulacra::encode_document(text);
//   simulacra::Smoothed s = simulacra::smooth(mix, tokens);
//   int speaker_at_100 = s.dominant[100];   // the same tokens as mix.trace(tokens)
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// The smoothed reading of one text.
struct Smoothed {
  Eigen::MatrixXd weights;   // (T, K) p(z_t = k | x_1..x_T), rows sum to 1
  std::vector<int> dominant; // (T) argmax_k of weights (ties: lowest index)
  double log_likelihood = 0; // log sum_z p(z, x) in nats (beta = 1: the trace's total_logprob)

  std::size_t size() const { return dominant.size(); }
};

// Smoothed posteriors of `tokens` read from a document start, as above.
// Empty tokens give an empty result. InvalidArgument for kForgetting,
// OutOfRange for a token outside 0..kVocab-1. Polls the interrupt check.
Smoothed smooth(const Mixture& mixture, const std::vector<Token>& tokens);

// The same from the (T, K) per-persona natural-log probabilities of tokens
// (Mixture::persona_logprobs, or Trace::persona_logprobs), without scoring
// again. InvalidArgument if the shape does not match.
Smoothed smooth(const Mixture& mixture, const std::vector<Token>& tokens, const Eigen::MatrixXd& persona_logprobs);

namespace detail {

// Expected counts of the hidden switching events, for Baum-Welch.
struct SwitchCounts {
  double resets = 0;            // fixed share: sum_t P(reset after t | x)
  Eigen::MatrixXd transitions;  // (K, K) transition: sum_t P(z_t = i, z_{t+1} = j | x)
  double switch_steps = 0;      // steps t < T-1 at which the rule acts
};

// Forward-backward over the persona HMM of `config` and `log_prior` (K)
// with emissions beta * lp (T, K). Fills weights (T, K) unless null and the
// counts (of config's rule) unless null; returns log p(x). config checked,
// tokens in range, lp's shape (tokens.size(), K).
double forward_backward(const MixtureConfig& config, const Eigen::VectorXd& log_prior, const std::vector<Token>& tokens,
                        const Eigen::MatrixXd& lp, Eigen::MatrixXd* weights, SwitchCounts* counts);

// log p(x) alone (the forward pass), O(T K) or O(T K^2).
double forward_log_likelihood(const MixtureConfig& config, const Eigen::VectorXd& log_prior,
                              const std::vector<Token>& tokens, const Eigen::MatrixXd& lp);

}  // namespace detail
}  // namespace simulacra
