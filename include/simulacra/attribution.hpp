// simulacra/attribution.hpp — who spoke when: Viterbi attribution of a text to masks.
//
// The mixture's segmentation HMM (Mixture::segmentation_config(): its
// switching rule, with the rate and tempering fitted for segmentation when
// train() set them) read over personas: the hidden state z_t is the mask
// speaking token t, and
//
//   z_1 ~ pi                                   (the mixture's prior)
//   x_t | z_t = k  ~  p_k(x_t | x_<t)^beta     (each persona reads the whole text)
//   z_{t+1} | z_t = i  ~  A(i, .)              (applied after each switch point:
//                                              every token, or MixtureConfig::switch_after
//                                              and the boundary; elsewhere z_{t+1} = z_t)
//
// with A per switching rule:
//
//   kNone        A = I: one mask speaks the whole text;
//   kFixedShare  A = (1 - alpha) I + alpha 1 pi^T;
//   kTransition  A = the config's transition (a persona of prior 0 is never entered);
//   kForgetting  no HMM: attribute_spans throws InvalidArgument.
//
// The Viterbi path maximises (natural log)
//
//   log pi_{z_1} + beta sum_t log p_{z_t}(x_t | x_<t) + sum_{t>1} log A(z_{t-1}, z_t),
//
// log p(z, x) itself when beta = 1.
//
// Steering plays no part: attribution asks what the pile itself believes.
// smoothing.hpp gives the per-token posteriors of the same HMM. `filtered`
// is the filter's own reading (config(), as trace gives it).
// Cost O(T K^2) time and O(T K) memory for the back-pointers (one byte each
// for K <= 127), plus one trace of the text for `filtered`.
//
//   simulacra::Mixture mix(personas, {"pirate", "poet"}, prior,
//                          {1.0, simulacra::Switching::kFixedShare, 1e-3});
//   auto a = simulacra::attribute_spans(mix, simulacra::encode(text));
//   for (const auto& s : a.spans) fmt::print("[{}, {}) {}\n", s.begin, s.end, mix.names()[s.persona]);
#pragma once

#include <cstddef>
#include <vector>

#include "simulacra/mixture.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// Tokens [begin, end) spoken by one mask.
struct Span {
  std::size_t begin = 0;
  std::size_t end = 0;
  int persona = 0;  // index into the mixture's personas
};

// The attribution of one text.
struct Attribution {
  std::vector<int> path;       // (T) most likely persona per token (Viterbi)
  std::vector<Span> spans;     // path as maximal runs, tiling [0, T) in order
  double log_joint = 0.0;      // log p(path, tokens) of the best path, natural log
  std::vector<int> filtered;   // (T) online dominant persona: argmax of the weights before each token (Trace::dominant)
};

// The most likely sequence of masks for `tokens` (read from a document start)
// under the mixture's prior and switching rule, as described above. Ties go
// to the lowest persona index. Empty tokens give an empty attribution with
// log_joint 0. Throws InvalidArgument for kForgetting (it has no HMM) and
// OutOfRange for a token outside 0..kVocab-1.
Attribution attribute_spans(const Mixture& mixture, const std::vector<Token>& tokens);

// The same from `trace`, that mixture's trace of `tokens` (Mixture::trace,
// any steering), without scoring again: the emissions are its
// persona_logprobs and `filtered` its dominant. InvalidArgument, besides
// the above, if the trace does not have one row per token and K columns.
Attribution attribute_spans(const Mixture& mixture, const std::vector<Token>& tokens, const Trace& trace);

}  // namespace simulacra
