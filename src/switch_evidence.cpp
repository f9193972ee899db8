// simulacra/switch_evidence.cpp — mask-swap evidence (switch_evidence.hpp).
#include "simulacra/switch_evidence.hpp"

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

namespace {

// First t with w[t] > level, or -1.
long first_above(const std::vector<double>& w, double level) {
  for (std::size_t t = 0; t < w.size(); ++t)
    if (w[t] > level) return long(t);
  return -1;
}

}  // namespace

SwitchEvidence switch_evidence(const Mixture& mixture, int a, int b, const std::string& text_a,
                               const std::string& text_b) {
  const int K = mixture.size();
  SIMULACRA_CHECK(a >= 0 && a < K, OutOfRange, "switch_evidence: persona a = {} is outside 0..{}", a, K - 1);
  SIMULACRA_CHECK(b >= 0 && b < K, OutOfRange, "switch_evidence: persona b = {} is outside 0..{}", b, K - 1);

  MixtureState state = mixture.begin();
  state.step(encode(text_a));
  SwitchEvidence e;
  e.weight_b.reserve(text_b.size());
  InterruptPoller poll;
  for (Token t : encode(text_b)) {
    poll.tick();
    e.weight_b.push_back(std::exp(state.log_weights()(b)));
    state.step(t);
  }
  e.tokens_to_half = first_above(e.weight_b, 0.5);
  e.tokens_to_90 = first_above(e.weight_b, 0.9);
  return e;
}

std::pair<SwitchEvidence, SwitchEvidence> switch_asymmetry(const Mixture& mixture, int a, int b,
                                                           const std::string& text_a, const std::string& text_b) {
  return {switch_evidence(mixture, a, b, text_a, text_b), switch_evidence(mixture, b, a, text_b, text_a)};
}

}  // namespace simulacra
