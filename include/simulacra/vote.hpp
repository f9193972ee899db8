// simulacra/vote.hpp — the superposition vote, a measurement the essay argues from.
//
// A multiple-choice question answered by each persona alone after
// the prompt and by the pile, in three readings (K personas, M options):
//
//   linear pool   p(o_m | q) normalised over the options: the mixture's own
//                 probability of the option, its filter having read the
//                 prompt. With beta = 1, no switching and no product
//                 steering it is exactly  sum_k w_k(q) p_k(o_m | q),
//                 w_k(q) the weights after the prompt, p_k(o | q) =
//                 prod_t p_k(o_t | q, o_<t); with switching the weights
//                 also move between the option's tokens. A product of
//                 byte probabilities: a longer option scores lower.
//   per byte      exp(log p(o_m | q) / n_m), n_m the option's bytes,
//                 normalised over the options: the geometric-mean byte
//                 probability, so that length does not count against an
//                 option.
//   plurality     sum_k w_k(q) [a_k = m], a_k = argmax_m p_k(o_m | q) each
//                 persona's own answer (ties: the lower m): the weight of
//                 the masks that answer m (the essay's "averaging their
//                 answers": a scientist, a doctor and a poet answering
//                 (A or B), (A or C), (A or D) would, in superposition,
//                 answer A).
//
// The pool is dominated by whichever mask gives an option the most
// probability, weighted by w: it piles up on a shared answer only when the
// masks' probabilities for it are comparable to those for their own ones.
//
// All probabilities are natural-log unless named "choice" or "weight".
//
//   simulacra::Vote v = simulacra::vote(mix, "Question: which is best? Answer: ", {"A", "B", "C", "D"});
//   Eigen::Index pool, per_byte, plurality;
//   v.mixture_choice.maxCoeff(&pool); v.per_byte_choice.maxCoeff(&per_byte); v.plurality.maxCoeff(&plurality);
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"

namespace simulacra {

// The answer of every persona, and of the mixture, to one multiple-choice
// question. K personas, M options. The three readings of the pile (see the
// top of this file): mixture_choice (linear pool), per_byte_choice,
// plurality; each sums to 1 over the options.
struct Vote {
  Eigen::MatrixXd persona_logprobs;  // (K, M) log p_k(option_m | prompt): each persona alone, summed over the option's tokens
  Eigen::VectorXd mixture_logprobs;  // (M) log p(option_m | prompt) under the mixture (the filter reads the prompt, then the option)
  Eigen::MatrixXd persona_choice;    // (K, M) each row: persona k's option probabilities normalised over the M options
  Eigen::VectorXd mixture_choice;    // (M) the linear pool: the mixture's option probabilities normalised over the M options
  Eigen::VectorXd prompt_weights;    // (K) steered persona weights (probabilities) after reading the prompt
  Eigen::VectorXd per_byte_logprobs; // (M) mixture_logprobs(m) / (bytes of option m): mean natural-log probability per byte
  Eigen::VectorXd per_byte_choice;   // (M) exp(per_byte_logprobs) normalised over the M options
  std::vector<int> persona_answers;  // (K) persona k's own answer: argmax_m persona_logprobs(k, m), ties to the lower m
  Eigen::VectorXd plurality;         // (M) sum of prompt_weights over the personas whose answer is m
};

// Scores each option as a continuation of `prompt` (raw bytes, no boundary
// between prompt and option, and none after the option). The prompt is read
// once from a document start; each option is read by a copy of that state.
// The steering applies to the mixture's scores and prompt_weights only (and
// so to the readings built on them); the persona rows and answers are each
// persona alone. An excluded persona (weight 0) adds nothing to the
// plurality. InvalidArgument if `options` is
// empty or an option is the empty string; OutOfRange / InvalidArgument from
// Mixture::check for a bad steering.
Vote vote(const Mixture& mixture, const std::string& prompt, const std::vector<std::string>& options,
          const Steering& steering = {});

}  // namespace simulacra
