// A persona interpolated with a shared background model (background.hpp).
#include "simulacra/background.hpp"

#include <algorithm>
#include <cmath>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/mixture.hpp"

namespace simulacra {

namespace {

class InterpolatedState final : public PersonaState {
 public:
  InterpolatedState(const InterpolatedPersona& p, std::unique_ptr<PersonaState> own,
                    std::unique_ptr<PersonaState> bg)
      : p_(&p), own_(std::move(own)), bg_(std::move(bg)) {}

  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_logprobs: out has {} entries, expected {}",
                    out.size(), kVocab);
    Eigen::VectorXd b(kVocab);
    own_->next_logprobs(out);
    bg_->next_logprobs(b);
    for (Eigen::Index v = 0; v < kVocab; ++v) out[v] = p_->combine(out[v], b[v]);
  }

  // lambda p_own + (1 - lambda) p_bg from both sides' probabilities, one side
  // alone at lambda = 0 or 1 (as combine()).
  void next_probs(Eigen::Ref<Eigen::VectorXd> out) const override {
    SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_probs: out has {} entries, expected {}", out.size(),
                    kVocab);
    const double lam = p_->weight();
    if (lam == 0.0) return bg_->next_probs(out);
    own_->next_probs(out);
    if (lam == 1.0) return;
    Eigen::VectorXd b(kVocab);
    bg_->next_probs(b);
    out = lam * out + (1.0 - lam) * b;
  }

  double advance(Token token) override {
    const double a = own_->advance(token), b = bg_->advance(token);
    return p_->combine(a, b);
  }

  std::unique_ptr<PersonaState> clone() const override {
    return std::make_unique<InterpolatedState>(*p_, own_->clone(), bg_->clone());
  }

 private:
  const InterpolatedPersona* p_;
  std::unique_ptr<PersonaState> own_, bg_;
};

}  // namespace

InterpolatedPersona::InterpolatedPersona(std::shared_ptr<const Persona> own, std::shared_ptr<const Persona> background,
                                         double weight)
    : own_(std::move(own)), background_(std::move(background)), weight_(weight) {
  SIMULACRA_CHECK(own_ != nullptr, InvalidArgument, "InterpolatedPersona: the own model is null");
  SIMULACRA_CHECK(background_ != nullptr, InvalidArgument, "InterpolatedPersona: the background model is null");
  SIMULACRA_CHECK(std::isfinite(weight) && weight >= 0.0 && weight <= 1.0, InvalidArgument,
                  "InterpolatedPersona: weight must be in [0, 1], got {}", weight);
  log_weight_ = std::log(weight);
  log_rest_ = std::log1p(-weight);
}

double InterpolatedPersona::combine(double a, double b) const {
  if (log_rest_ == -INFINITY) return a;
  if (log_weight_ == -INFINITY) return b;
  return log_add(log_weight_ + a, log_rest_ + b);
}

std::unique_ptr<PersonaState> InterpolatedPersona::begin() const {
  return std::make_unique<InterpolatedState>(*this, own_->begin(), background_->begin());
}

void InterpolatedPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  std::vector<double> b(n);
  own_->token_logprobs(tokens, n, out);
  background_->token_logprobs(tokens, n, b.data());
  for (std::size_t t = 0; t < n; ++t) out[t] = combine(out[t], b[t]);
}

double fit_interpolation_weight(const std::vector<double>& own, const std::vector<double>& background) {
  SIMULACRA_CHECK(own.size() == background.size(), InvalidArgument,
                  "fit_interpolation_weight: {} own log-probabilities for {} background ones", own.size(),
                  background.size());
  // Per token, the two probabilities scaled by the larger one: (a_t, b_t) / max.
  std::vector<double> a(own.size()), b(own.size());
  for (std::size_t t = 0; t < own.size(); ++t) {
    const double x = own[t], y = background[t];
    SIMULACRA_CHECK(!std::isnan(x) && !std::isnan(y) && x != INFINITY && y != INFINITY, InvalidArgument,
                    "fit_interpolation_weight: log-probabilities at token {} are {} and {}", t, x, y);
    const double hi = std::max(x, y);
    SIMULACRA_CHECK(hi > -INFINITY, InvalidArgument,
                    "fit_interpolation_weight: token {} is impossible under both models", t);
    a[t] = std::exp(x - hi);
    b[t] = std::exp(y - hi);
  }
  if (own.empty()) return 0.5;
  // L'(lambda) = sum_t (a_t - b_t) / (lambda a_t + (1 - lambda) b_t), decreasing in lambda.
  InterruptPoller poll(16);
  const auto slope = [&](double lam) {
    poll.tick();
    double s = 0.0;
    for (std::size_t t = 0; t < a.size(); ++t) s += (a[t] - b[t]) / (lam * a[t] + (1.0 - lam) * b[t]);
    return s;
  };
  if (slope(1.0) >= 0.0) return 1.0;
  if (slope(0.0) <= 0.0) return 0.0;
  double lo = 0.0, hi = 1.0;
  while (hi - lo > 1e-12) {
    const double mid = 0.5 * (lo + hi);
    (slope(mid) > 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::vector<std::shared_ptr<const Persona>> attribution_reweighted(const Mixture& mixture, double own_weight) {
  SIMULACRA_CHECK(own_weight >= 0.0 && own_weight <= 1.0, InvalidArgument,
                  "attribution_reweighted: own_weight must be in [0, 1], got {}", own_weight);
  std::vector<std::shared_ptr<const Persona>> out;
  for (int k = 0; k < mixture.size(); ++k) {
    const std::shared_ptr<const Persona>& mask = mixture.persona_ptr(k);
    const auto* ip = dynamic_cast<const InterpolatedPersona*>(mask.get());
    out.push_back(ip ? std::make_shared<InterpolatedPersona>(ip->own(), ip->background(), own_weight) : mask);
  }
  return out;
}

}  // namespace simulacra
