// simulacra/background.hpp — a shared body under the masks: a persona
// interpolated with a background model (the n-gram analogue of the hydra).
//
// One background model is trained on the whole pile (every persona's text);
// each persona keeps its own model and is mixed with the background, token by
// token, with a weight of its own (linear interpolation, as SRILM's
// compute-best-mix; natural-log at the API):
//
//   p(x_t | x_<t) = lambda p_own(x_t | x_<t) + (1 - lambda) p_bg(x_t | x_<t)
//
// lambda = 1 is the stand-alone persona, lambda = 0 the pooled model, so the
// weight fitted on held-out text (fit_interpolation_weight, EM) is never worse
// there than either endpoint. Both models see the same text from the same
// document start; any Persona kind works for either side. The weight maximises
// the held-out log-likelihood, which is concave in lambda,
//
//   L(lambda)  = sum_t log(lambda a_t + (1 - lambda) b_t),   a_t = p_own, b_t = p_bg
//   L'(lambda) = sum_t (a_t - b_t) / (lambda a_t + (1 - lambda) b_t)   (decreasing)
//
// so the maximiser is the root of L' (or an endpoint): the fixed point of
// SRILM's EM update lambda <- (1/T) sum_t lambda a_t / (lambda a_t + (1 - lambda) b_t),
// found here by bisection on the sign of L' (exact to 1e-12, no slow EM tail).
// docs/concepts.md ("A shared body") says why this scheme.
//
//   auto bg  = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(all_texts, 3));
//   auto own = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(pirate_texts, 3));
//   double lam = simulacra::fit_interpolation_weight(own->token_logprobs(heldout), bg->token_logprobs(heldout));
//   simulacra::InterpolatedPersona pirate(own, bg, lam);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "simulacra/persona.hpp"

namespace simulacra {

class InterpolatedPersona final : public Persona {
 public:
  // own and background non-null; weight (lambda, the share of `own`) in
  // [0, 1]. InvalidArgument naming the bad argument otherwise.
  InterpolatedPersona(std::shared_ptr<const Persona> own, std::shared_ptr<const Persona> background, double weight);

  // "interpolated".
  std::string kind() const override { return "interpolated"; }
  std::unique_ptr<PersonaState> begin() const override;
  // Both models' fast paths, then the log-sum-exp of the weighted terms per token.
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;
  using Persona::token_logprobs;

  const std::shared_ptr<const Persona>& own() const { return own_; }
  const std::shared_ptr<const Persona>& background() const { return background_; }
  // lambda, the weight of the persona's own model.
  double weight() const { return weight_; }

  // log(lambda e^a + (1 - lambda) e^b) of the two models' log-probabilities
  // of one token, exact at lambda = 0 and 1 (the other side is ignored, even
  // when it is -inf).
  double combine(double a, double b) const;

 private:
  std::shared_ptr<const Persona> own_, background_;
  double weight_;
  double log_weight_, log_rest_;  // log lambda, log(1 - lambda)
};

// The lambda in [0, 1] maximising sum_t log(lambda e^own[t] + (1 - lambda) e^bg[t])
// (natural-log per-token probabilities of the same held-out tokens under the
// two models), to within 1e-12. An empty text gives 0.5. InvalidArgument if
// the sizes differ, a value is NaN or +inf, or a token is impossible under
// both models (no lambda gives it a probability).
double fit_interpolation_weight(const std::vector<double>& own, const std::vector<double>& background);

class Mixture;

// The masks of `mixture` reweighted for attribution: each InterpolatedPersona
// mask becomes InterpolatedPersona(own, background, own_weight) over the same
// two models (shared, not copied); any other mask is kept as it is. For
// Mixture::set_attribution_personas(..., own_weight). InvalidArgument for
// own_weight outside [0, 1].
std::vector<std::shared_ptr<const Persona>> attribution_reweighted(const Mixture& mixture, double own_weight);

}  // namespace simulacra
