// simulacra/analysis.hpp — experiments on the pile of masks.
//
// Two measurements the essay argues from, computed on a Mixture:
//
//  * vote: the superposition answer to a multiple-choice question. Each
//    persona scores every option alone after the prompt; the mixture scores
//    them with its posterior filter having read the prompt. When the personas
//    split between different answers but share one, the mixture's mass piles
//    up on the shared answer ("a scientist, a doctor and a poet answering
//    (A or B), (A or C), (A or D) would, in superposition, answer A").
//    With beta = 1 and no switching, the mixture's option probability is the
//    Bayesian identity  p(o | q) = sum_k w_k(q) prod_t p_k(o_t | q, o_<t),
//    where w_k(q) is the posterior after the prompt q.
//
//  * switch_evidence: how fast the weight of persona b rises when text in
//    b's voice follows text in a's voice (a mask swap). Without switching the
//    posterior must first pay back all the evidence text_a gave for a, so the
//    swap gets slower the longer text_a was; fixed share caps that debt. The
//    asymmetry A->B vs B->A is the "Waluigi" question of whether one swap is
//    easier than its reverse.
//
// All probabilities are natural-log unless named "choice" or "weight".
//
//   simulacra::Vote v = simulacra::vote(mix, "Question: which is best? Answer: ", {"A", "B", "C", "D"});
//   Eigen::Index best; v.mixture_choice.maxCoeff(&best);
//   auto [ab, ba] = simulacra::switch_asymmetry(mix, 0, 1, pirate_text, poet_text);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"

namespace simulacra {

// ------------------------------------------------------------ superposition vote

// The answer of every persona, and of the mixture, to one multiple-choice
// question. K personas, M options.
struct Vote {
  Eigen::MatrixXd persona_logprobs;  // (K, M) log p_k(option_m | prompt): each persona alone, summed over the option's tokens
  Eigen::VectorXd mixture_logprobs;  // (M) log p(option_m | prompt) under the mixture (the filter reads the prompt, then the option)
  Eigen::MatrixXd persona_choice;    // (K, M) each row: persona k's option probabilities normalised over the M options
  Eigen::VectorXd mixture_choice;    // (M) the mixture's option probabilities normalised over the M options
  Eigen::VectorXd prompt_weights;    // (K) steered persona weights (probabilities) after reading the prompt
};

// Scores each option as a continuation of `prompt` (raw bytes, no boundary
// between prompt and option, and none after the option). The prompt is read
// once from a document start; each option is read by a copy of that state.
// The steering applies to the mixture's scores and prompt_weights only; the
// persona rows are each persona alone. InvalidArgument if `options` is
// empty or an option is the empty string; OutOfRange / InvalidArgument from
// Mixture::check for a bad steering.
Vote vote(const Mixture& mixture, const std::string& prompt, const std::vector<std::string>& options,
          const Steering& steering = {});

// ------------------------------------------------------------ mask swaps

// The weight of persona b while the mixture reads text_b after text_a.
struct SwitchEvidence {
  std::vector<double> weight_b;  // (T_b) weight (probability) of persona b before each token of text_b
  long tokens_to_half = -1;      // first t with weight_b[t] > 0.5, or -1 if never
  long tokens_to_90 = -1;        // first t with weight_b[t] > 0.9, or -1 if never
};

// Reads text_a then text_b from a document start as one stream (no boundary
// between them) with the mixture's own configuration and no steering, and
// records persona b's weight before each token of text_b. weight_b[0] is b's
// weight after all of text_a. Persona a is not used in the computation; it
// names the persona text_a is written in (a == b is allowed). OutOfRange if a
// or b is outside 0..K-1.
SwitchEvidence switch_evidence(const Mixture& mixture, int a, int b, const std::string& text_a,
                               const std::string& text_b);

// Both directions of a swap: first = switch_evidence(a, b, text_a, text_b)
// (A->B, weight of b), second = switch_evidence(b, a, text_b, text_a)
// (B->A, weight of a). OutOfRange as switch_evidence.
std::pair<SwitchEvidence, SwitchEvidence> switch_asymmetry(const Mixture& mixture, int a, int b,
                                                           const std::string& text_a, const std::string& text_b);

}  // namespace simulacra
