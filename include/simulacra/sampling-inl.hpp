// simulacra/sampling-inl.hpp — the sampler chain and generation
// (sampling.hpp): compiled once by src/sampling.cpp, or inlined into every
// user under SIMULACRA_HEADER_ONLY (config.hpp).
#pragma once

#include "simulacra/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"

namespace simulacra {

SIMULACRA_INLINE void check(const SamplerConfig& c) {
  SIMULACRA_CHECK(std::isfinite(c.temperature) && c.temperature >= 0.0, InvalidArgument,
                  "temperature must be finite and >= 0, got {}", c.temperature);
  SIMULACRA_CHECK(c.top_k >= 0, InvalidArgument, "top_k must be >= 0, got {}", c.top_k);
  SIMULACRA_CHECK(std::isfinite(c.top_p) && c.top_p > 0.0 && c.top_p <= 1.0, InvalidArgument,
                  "top_p must be in (0, 1], got {}", c.top_p);
  SIMULACRA_CHECK(std::isfinite(c.min_p) && c.min_p >= 0.0 && c.min_p <= 1.0, InvalidArgument,
                  "min_p must be in [0, 1], got {}", c.min_p);
}

SIMULACRA_INLINE Sampler::Sampler(const SamplerConfig& config) : config_(config), state_(config.seed) { check(config); }

SIMULACRA_INLINE double Sampler::uniform() { return double(detail::splitmix64(state_) >> 11) * 0x1.0p-53; }

SIMULACRA_INLINE double Sampler::truncate(const Eigen::Ref<const Eigen::VectorXd>& logprobs) {
  const int n = int(logprobs.size());
  SIMULACRA_CHECK(n >= 1, InvalidArgument, "sample: empty distribution");
  order_.clear();
  double best = -INFINITY;
  for (int i = 0; i < n; ++i) {
    SIMULACRA_CHECK(!std::isnan(logprobs[i]), InvalidArgument, "sample: log-probability {} is NaN", i);
    if (logprobs[i] == -INFINITY) continue;
    order_.push_back(i);
    best = std::max(best, logprobs[i]);
  }
  SIMULACRA_CHECK(!order_.empty(), InvalidArgument, "sample: every token has probability zero");
  if (config_.temperature == 0.0) {
    const int argmax = *std::find_if(order_.begin(), order_.end(), [&](int i) { return logprobs[i] == best; });
    order_.assign(1, argmax);
    p_.assign(1, 1.0);
    return 1.0;
  }
  // Sort by probability, descending (ties by index) when a truncation needs the order.
  if (config_.top_k > 0 || config_.top_p < 1.0)
    std::stable_sort(order_.begin(), order_.end(), [&](int a, int b) { return logprobs[a] > logprobs[b]; });
  std::size_t keep = order_.size();
  if (config_.top_k > 0) keep = std::min(keep, std::size_t(config_.top_k));
  if (config_.top_p < 1.0) {
    double total = 0.0;
    for (std::size_t j = 0; j < keep; ++j) total += std::exp(logprobs[order_[j]] - best);
    double cum = 0.0;
    for (std::size_t j = 0; j < keep; ++j) {
      cum += std::exp(logprobs[order_[j]] - best);
      if (cum >= config_.top_p * total) {
        keep = j + 1;
        break;
      }
    }
  }
  order_.resize(keep);
  if (config_.min_p > 0.0) {
    const double floor = best + std::log(config_.min_p);
    order_.erase(std::remove_if(order_.begin(), order_.end(), [&](int i) { return logprobs[i] < floor; }),
                 order_.end());
  }
  p_.resize(order_.size());
  double total = 0.0;
  for (std::size_t j = 0; j < order_.size(); ++j) total += p_[j] = std::exp((logprobs[order_[j]] - best) / config_.temperature);
  return total;
}

SIMULACRA_INLINE int Sampler::sample(const Eigen::Ref<const Eigen::VectorXd>& logprobs) {
  const double total = truncate(logprobs);
  if (config_.temperature == 0.0) return order_[0];  // greedy: no draw
  const double u = uniform() * total;
  double cum = 0.0;
  for (std::size_t j = 0; j < order_.size(); ++j) {
    cum += p_[j];
    if (u < cum) return order_[j];
  }
  return order_.back();
}

SIMULACRA_INLINE Eigen::VectorXd Sampler::distribution(const Eigen::Ref<const Eigen::VectorXd>& logprobs) {
  const double total = truncate(logprobs);
  Eigen::VectorXd law = Eigen::VectorXd::Zero(logprobs.size());
  for (std::size_t j = 0; j < order_.size(); ++j) law[order_[j]] = p_[j] / total;
  return law;
}

SIMULACRA_INLINE std::string generate_mode_name(GenerateMode mode) {
  return mode == GenerateMode::kPersona ? "persona" : "mixture";
}

SIMULACRA_INLINE GenerateMode generate_mode_from_name(const std::string& name) {
  if (name == "mixture") return GenerateMode::kMixture;
  if (name == "persona") return GenerateMode::kPersona;
  throw InvalidArgument(fmt::format("generation mode '{}' is unknown (expected mixture or persona)", name));
}

SIMULACRA_INLINE Generation generate(const Mixture& mixture, const std::string& prompt, const GenerateConfig& config) {
  GenerationStream stream(mixture, prompt, config);
  while (stream.next()) {
  }
  return stream.generation();
}

namespace detail {
// The stream's configuration, checked before anything is read.
SIMULACRA_INLINE const GenerateConfig& checked(const GenerateConfig& config) {
  SIMULACRA_CHECK(config.max_tokens >= 0, InvalidArgument, "max_tokens must be >= 0, got {}", config.max_tokens);
  return config;
}
}  // namespace detail

SIMULACRA_INLINE GenerationStream::GenerationStream(const Mixture& mixture, const std::string& prompt,
                                                    const GenerateConfig& config)
    : mixture_(&mixture),
      config_(detail::checked(config)),
      sampler_(config.sampler),
      state_(mixture.begin(config.steering)) {
  for (unsigned char byte : prompt) state_.step(Token(byte));
  step_.index = -1;
}

SIMULACRA_INLINE bool GenerationStream::done() const {
  return stopped_ || int(out_.tokens.size()) >= config_.max_tokens;
}

SIMULACRA_INLINE bool GenerationStream::next() {
  if (done()) return false;
  poll_.tick();
  const int K = mixture_->size();
  Prediction pred = state_.predict();
  GenerationStep step;
  step.index = int(out_.tokens.size());
  step.log_weights = pred.log_weights;
  step.persona = -1;
  if (config_.mode == GenerateMode::kPersona) {
    double u = sampler_.uniform(), cum = 0.0;
    step.persona = K - 1;
    for (int k = 0; k < K; ++k) {
      cum += std::exp(pred.log_weights[k]);
      if (u < cum && pred.log_weights[k] > -INFINITY) {
        step.persona = k;
        break;
      }
    }
    while (pred.log_weights[step.persona] == -INFINITY) --step.persona;  // rounding at the top end
    step.logprobs = steered_distribution(config_.steering.product, pred.log_weights, pred.persona_logprobs,
                                         step.persona);
  } else {
    step.logprobs = pred.logprobs;
  }
  step.token = sampler_.sample(step.logprobs);
  weights_.insert(weights_.end(), pred.log_weights.data(), pred.log_weights.data() + K);
  out_.tokens.push_back(step.token);
  out_.personas.push_back(step.persona);
  if (step.token != kBoundary) out_.text.push_back(char(step.token));
  state_.step(step.token, pred);
  step_ = std::move(step);
  const bool go_on = config_.on_step ? config_.on_step(step_) : true;
  if (!go_on || (config_.stop_at_boundary && step_.token == kBoundary)) stopped_ = true;
  return true;
}

SIMULACRA_INLINE Generation GenerationStream::generation() const {
  Generation g = out_;
  g.log_weights = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      weights_.data(), Eigen::Index(out_.tokens.size()), mixture_->size());
  return g;
}

}  // namespace simulacra
