// simulacra/switch_evidence.hpp — mask swaps, a measurement the essay argues from.
//
// How fast the weight of persona b rises when text in b's voice follows
// text in a's voice (a mask swap). Without switching the posterior must
// first pay back all the evidence text_a gave for a, so the swap gets slower
// the longer text_a was; fixed share caps that debt. The asymmetry A->B vs
// B->A is the "Waluigi" question of whether one swap is easier than its
// reverse. Weights are probabilities.
//   auto [ab, ba] = simulacra::switch_asymmetry(mix, 0, 1, pirate_text, poet_text);
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "simulacra/mixture.hpp"

namespace simulacra {

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
