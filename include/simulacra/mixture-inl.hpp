// simulacra/mixture-inl.hpp — the posterior filter, the mixture's reader
// state, and traces (mixture.hpp; the steering stage and ablations are in
// steering-inl.hpp): compiled once by src/mixture.cpp, or inlined into every
// user under SIMULACRA_HEADER_ONLY (config.hpp).
#pragma once

#include "simulacra/mixture.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "simulacra/detail/huge_pages.hpp"
#include "simulacra/error.hpp"

namespace simulacra {

SIMULACRA_INLINE std::string switching_name(Switching s) {
  switch (s) {
    case Switching::kNone: return "none";
    case Switching::kFixedShare: return "fixed_share";
    case Switching::kForgetting: return "forgetting";
    case Switching::kTransition: return "transition";
  }
  return "none";
}

SIMULACRA_INLINE Switching switching_from_name(const std::string& name) {
  for (Switching s : {Switching::kNone, Switching::kFixedShare, Switching::kForgetting, Switching::kTransition})
    if (switching_name(s) == name) return s;
  throw InvalidArgument(fmt::format(
      "switching: unknown rule '{}' (expected none, fixed_share, forgetting or transition)", name));
}

// ---------------------------------------------------------------- Posterior

SIMULACRA_INLINE Posterior::Posterior(const Mixture& mixture, const Steering& steering) : config_(mixture.config()) {
  mixture.check(steering);
  const int K = mixture.size();
  log_prior_ = steering.ablation.active() ? mixture.ablated_prior(steering.ablation) : mixture.prior();
  log_prior_ = log_prior_.array().log();
  if (steering.prior_bias.size() > 0) {
    log_prior_ += steering.prior_bias;
    log_prior_.array() -= log_sum_exp(log_prior_.data(), K);
  }
  prior_lin_.resize(K);
  for (int k = 0; k < K; ++k) prior_lin_[k] = std::exp(log_prior_[k]);
  log_w_ = log_prior_;
  lin_ = prior_lin_;
  acc_ = Eigen::VectorXd::Zero(K);
  scratch_.resize(K);
  if (config_.switching == Switching::kTransition) log_a_ = config_.transition.array().log();
  may_switch_ = switch_points(config_);
  allowed_.assign(std::size_t(K), true);
  if (steering.clamp >= 0) {
    allowed_.assign(std::size_t(K), false);
    allowed_[std::size_t(steering.clamp)] = true;
  }
  for (int k : steering.exclude) allowed_[std::size_t(k)] = false;
  // A persona with prior 0 (removed by an ablation) can never speak: the
  // exact log-space path keeps its weight at -inf under every rule.
  for (int k = 0; k < K; ++k)
    if (log_prior_[k] == -INFINITY) allowed_[std::size_t(k)] = false;
  masked_ = std::find(allowed_.begin(), allowed_.end(), false) != allowed_.end();
  SIMULACRA_CHECK(std::find(allowed_.begin(), allowed_.end(), true) != allowed_.end(), InvalidArgument,
                  "steering: clamp and exclude leave no persona");
  steer();
}

SIMULACRA_INLINE void Posterior::steer() {
  if (!masked_) return;  // the accessors read log_w_ and lin_ themselves
  steered_ = log_w_;
  const int K = int(log_w_.size());
  steered_lin_.resize(K);
  for (int k = 0; k < K; ++k)
    if (!allowed_[std::size_t(k)]) steered_[k] = -INFINITY;
  const double z = log_sum_exp(steered_.data(), K);
  if (z == -INFINITY) {  // all allowed personas had zero weight: spread evenly over them
    int n = 0;
    for (int k = 0; k < K; ++k) n += allowed_[std::size_t(k)];
    for (int k = 0; k < K; ++k) steered_[k] = allowed_[std::size_t(k)] ? -std::log(double(n)) : -INFINITY;
  } else {
    steered_.array() -= z;
  }
  // Scalar exp: Eigen's vectorised exp maps -inf to a denormal, not to 0.
  for (int k = 0; k < K; ++k) steered_lin_[k] = std::exp(steered_[k]);
}

SIMULACRA_INLINE double Posterior::update(const double* lp) { return update(lp, kBoundary); }

SIMULACRA_INLINE double Posterior::update(const double* lp, Token token) {
  const int K = int(log_w_.size());
  const MixtureConfig& cfg = config_;
  const bool may_switch = may_switch_[std::size_t(token)];
  // Mixture prediction with the steered weights: log sum_k exp(steered_k + lp_k).
  const Eigen::Map<const Eigen::VectorXd> lpv(lp, K);
  scratch_ = log_weights() + lpv;
  const double m = scratch_.maxCoeff();
  if (m == -INFINITY) return m;  // no persona can produce this token: the weights stay
  const bool plain = cfg.beta == 1.0 && !masked_ &&
                     (cfg.switching == Switching::kNone || cfg.switching == Switching::kFixedShare);
  if (plain) {
    // All terms finite here (no masking, normalised log weights), so the
    // vectorised exp and log are exact enough and never meet -inf.
    lin_ = (scratch_.array() - m).exp();
    const double s = lin_.sum();
    const double mix = m + std::log(s);
    // The Bayes posterior is the prediction's own terms: w_k = exp(lw_k + lp_k - mix).
    if (cfg.switching == Switching::kFixedShare && cfg.alpha > 0.0 && may_switch) {
      lin_ = ((1.0 - cfg.alpha) / s) * lin_ + cfg.alpha * prior_lin_;
      log_w_ = lin_.array().log();
    } else {
      lin_ /= s;
      log_w_ = scratch_.array() - mix;
    }
    return mix;  // unmasked: steer() has nothing to do
  }
  double s = 0.0;
  for (int k = 0; k < K; ++k) s += std::exp(scratch_[k] - m);
  const double mix = m + std::log(s);
  if (cfg.switching == Switching::kForgetting) {
    for (int k = 0; k < K; ++k) {
      acc_[k] = cfg.gamma * acc_[k] + lp[k];
      log_w_[k] = log_prior_[k] + cfg.beta * acc_[k];
    }
  } else {
    for (int k = 0; k < K; ++k) log_w_[k] += cfg.beta * lp[k];
  }
  log_w_.array() -= log_sum_exp(log_w_.data(), K);
  if (may_switch && cfg.switching == Switching::kFixedShare && cfg.alpha > 0.0) {
    const double keep = std::log1p(-cfg.alpha), share = std::log(cfg.alpha);
    for (int k = 0; k < K; ++k) {
      const double a = keep + log_w_[k], b = share + log_prior_[k];
      const double hi = std::max(a, b);
      log_w_[k] = hi == -INFINITY ? hi : hi + std::log(std::exp(a - hi) + std::exp(b - hi));
    }
  } else if (may_switch && cfg.switching == Switching::kTransition) {
    for (int j = 0; j < K; ++j) {
      for (int i = 0; i < K; ++i) scratch_[i] = log_w_[i] + log_a_(i, j);
      acc_[j] = log_sum_exp(scratch_.data(), K);
    }
    log_w_ = acc_;
    // A removed persona (prior 0) takes no mass from the chain: the filter is
    // conditioned on never being in that state.
    for (int k = 0; k < K; ++k)
      if (log_prior_[k] == -INFINITY) log_w_[k] = -INFINITY;
    log_w_.array() -= log_sum_exp(log_w_.data(), K);
  }
  for (int k = 0; k < K; ++k) lin_[k] = std::exp(log_w_[k]);
  steer();
  return mix;
}

// ------------------------------------------------------------- MixtureState

SIMULACRA_INLINE MixtureState::MixtureState(const Mixture& mixture, const Steering& steering)
    : mixture_(&mixture), posterior_(mixture, steering), product_(steering.product), lp_(std::size_t(mixture.size())) {
  for (int k = 0; k < mixture.size(); ++k) states_.push_back(mixture.persona(k).begin());
}

SIMULACRA_INLINE MixtureState::MixtureState(const MixtureState& other)
    : mixture_(other.mixture_), posterior_(other.posterior_), product_(other.product_), lp_(other.lp_) {
  for (const auto& s : other.states_) states_.push_back(s->clone());
}

SIMULACRA_INLINE double MixtureState::step(Token token) {
  SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "step: token {} is outside 0..{}", token, kVocab - 1);
  // Product steering changes the prediction, not the filter: the steered
  // log-probability needs the whole distribution for its normaliser, which
  // predict() would make too (the same computation: the same bits).
  double steered = 0.0;
  if (product_.active()) {
    steered_prediction(probs_, steered_out_, m_, la_, lb_);
    steered = steered_out_[token];
  }
  for (std::size_t k = 0; k < states_.size(); ++k) lp_[k] = states_[k]->advance(token);
  const double mix = posterior_.update(lp_.data(), token);
  return product_.active() ? steered : mix;
}

SIMULACRA_INLINE void MixtureState::steered_prediction(Eigen::MatrixXd& probs, Eigen::VectorXd& out,
                                                       Eigen::VectorXd& m, Eigen::VectorXd& la,
                                                       Eigen::VectorXd& lb) const {
  const Eigen::Index K = Eigen::Index(states_.size());
  probs.resize(kVocab, K);
  for (Eigen::Index k = 0; k < K; ++k) states_[std::size_t(k)]->next_probs(probs.col(k));
  detail::steered_from_probs(product_, posterior_.log_weights(), posterior_.weights(), probs, out, m, la, lb);
}

SIMULACRA_INLINE double MixtureState::step(Token token, const Prediction& prediction) {
  SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "step: token {} is outside 0..{}", token, kVocab - 1);
  SIMULACRA_CHECK(prediction.logprobs.size() == kVocab && prediction.log_weights.size() == mixture_->size() &&
                      (prediction.log_weights.array() == posterior_.log_weights().array()).all(),
                  InvalidArgument, "step: the prediction given is not this state's current one");
  for (std::size_t k = 0; k < states_.size(); ++k) lp_[k] = states_[k]->advance(token);
  const double mix = posterior_.update(lp_.data(), token);
  return product_.active() ? prediction.logprobs[token] : mix;
}

SIMULACRA_INLINE double MixtureState::step(const std::vector<Token>& tokens) {
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange, "step: token {} at position {} is outside 0..{}",
                    tokens[t], t, kVocab - 1);
  MixtureState next(*this);
  InterruptPoller poll(product_.active() ? 64 : 4096);  // a steered token costs K whole distributions
  double total = 0.0;
  for (Token t : tokens) {
    poll.tick();
    total += next.step(t);
  }
  *this = std::move(next);
  return total;
}

SIMULACRA_INLINE Prediction MixtureState::predict() const {
  const int K = mixture_->size();
  Prediction p;
  p.log_weights = posterior_.log_weights();
  p.persona_logprobs.resize(K, kVocab);
  Eigen::VectorXd row(kVocab);
  if (product_.active()) {
    Eigen::MatrixXd probs;
    Eigen::VectorXd m, la, lb;
    steered_prediction(probs, p.logprobs, m, la, lb);
    for (int k = 0; k < K; ++k) {
      detail::log_of_probs(probs.col(k), row);
      p.persona_logprobs.row(k) = row.transpose();
    }
    return p;
  }
  for (int k = 0; k < K; ++k) {
    states_[std::size_t(k)]->next_logprobs(row);
    p.persona_logprobs.row(k) = row.transpose();
  }
  p.logprobs = steered_distribution(product_, p.log_weights, p.persona_logprobs);
  return p;
}

// ------------------------------------------------------------------ Mixture

SIMULACRA_INLINE Mixture::Mixture(std::vector<std::shared_ptr<const Persona>> personas,
                                  std::vector<std::string> names, Eigen::VectorXd prior, MixtureConfig config)
    : personas_(std::move(personas)), names_(std::move(names)) {
  SIMULACRA_CHECK(!personas_.empty(), InvalidArgument, "Mixture: needs at least one persona");
  SIMULACRA_CHECK(names_.size() == personas_.size(), InvalidArgument, "Mixture: {} names for {} personas",
                  names_.size(), personas_.size());
  std::set<std::string> seen;
  for (std::size_t k = 0; k < personas_.size(); ++k) {
    SIMULACRA_CHECK(personas_[k] != nullptr, InvalidArgument, "Mixture: persona {} is null", k);
    SIMULACRA_CHECK(!names_[k].empty(), InvalidArgument, "Mixture: persona {} has an empty name", k);
    SIMULACRA_CHECK(seen.insert(names_[k]).second, InvalidArgument, "Mixture: persona name '{}' appears twice",
                    names_[k]);
  }
  set_prior(std::move(prior));
  set_config(std::move(config));
}

SIMULACRA_INLINE const Persona& Mixture::persona(int k) const { return *persona_ptr(k); }

SIMULACRA_INLINE std::shared_ptr<const Persona> Mixture::persona_ptr(int k) const {
  SIMULACRA_CHECK(k >= 0 && k < size(), OutOfRange, "persona index {} is outside 0..{}", k, size() - 1);
  return personas_[std::size_t(k)];
}

SIMULACRA_INLINE int Mixture::index_of(const std::string& name) const {
  for (int k = 0; k < size(); ++k)
    if (names_[std::size_t(k)] == name) return k;
  std::string known;
  for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
  throw OutOfRange(fmt::format("unknown persona '{}' (known: {})", name, known));
}

SIMULACRA_INLINE void Mixture::set_prior(Eigen::VectorXd prior) {
  SIMULACRA_CHECK(prior.size() == size(), InvalidArgument, "prior: has {} entries for {} personas", prior.size(),
                  size());
  for (int k = 0; k < size(); ++k)
    SIMULACRA_CHECK(std::isfinite(prior[k]) && prior[k] >= 0.0, InvalidArgument,
                    "prior: entry {} ('{}') is {}, must be finite and >= 0", k, names_[std::size_t(k)], prior[k]);
  SIMULACRA_CHECK(prior.maxCoeff() > 0.0, InvalidArgument, "prior: every entry is 0, at least one must be positive");
  SIMULACRA_CHECK(std::isfinite(prior.sum()), InvalidArgument, "prior: the entries sum to {}", prior.sum());
  prior_ = normalised(std::move(prior));
}

SIMULACRA_INLINE Eigen::VectorXd Mixture::normalised(Eigen::VectorXd prior) {
  // A prior that already sums to 1 up to rounding is kept bit for bit, so
  // that normalising is idempotent (a saved and loaded model is identical).
  const double sum = prior.sum();
  if (std::abs(sum - 1.0) <= 8.0 * double(prior.size()) * std::numeric_limits<double>::epsilon()) return prior;
  return prior / sum;
}

SIMULACRA_INLINE std::vector<bool> switch_points(const MixtureConfig& config) {
  if (config.switch_after.empty()) return std::vector<bool>(std::size_t(kVocab), true);
  std::vector<bool> out(std::size_t(kVocab), false);
  for (Token v : config.switch_after) out[std::size_t(v)] = true;
  out[std::size_t(kBoundary)] = true;
  return out;
}

SIMULACRA_INLINE void Mixture::check(const MixtureConfig& c, int K) {
  for (Token v : c.switch_after)
    SIMULACRA_CHECK(v >= 0 && v < kVocab, InvalidArgument, "switch_after: token {} is outside 0..{}", v, kVocab - 1);
  SIMULACRA_CHECK(c.beta > 0.0 && c.beta <= MixtureConfig::kMaxBeta, InvalidArgument,
                  "beta must be in (0, {}], got {}", MixtureConfig::kMaxBeta, c.beta);
  SIMULACRA_CHECK(std::isfinite(c.alpha) && c.alpha >= 0.0 && c.alpha <= 1.0, InvalidArgument,
                  "alpha must be in [0, 1], got {}", c.alpha);
  SIMULACRA_CHECK(std::isfinite(c.gamma) && c.gamma >= 0.0 && c.gamma <= 1.0, InvalidArgument,
                  "gamma must be in [0, 1], got {}", c.gamma);
  if (c.switching != Switching::kTransition) return;
  SIMULACRA_CHECK(c.transition.rows() == K && c.transition.cols() == K, InvalidArgument,
                  "transition matrix is {}x{}, expected {}x{}", c.transition.rows(), c.transition.cols(), K, K);
  for (int i = 0; i < K; ++i) {
    for (int j = 0; j < K; ++j)
      SIMULACRA_CHECK(std::isfinite(c.transition(i, j)) && c.transition(i, j) >= 0.0, InvalidArgument,
                      "transition matrix entry ({}, {}) is {}, must be a probability", i, j, c.transition(i, j));
    SIMULACRA_CHECK(std::abs(c.transition.row(i).sum() - 1.0) <= 1e-9, InvalidArgument,
                    "transition matrix row {} sums to {}, must sum to 1", i, c.transition.row(i).sum());
  }
}

SIMULACRA_INLINE void Mixture::set_config(MixtureConfig c) {
  check(c, size());
  if (c.switching != Switching::kTransition) c.transition.resize(0, 0);
  std::sort(c.switch_after.begin(), c.switch_after.end());
  c.switch_after.erase(std::unique(c.switch_after.begin(), c.switch_after.end()), c.switch_after.end());
  config_ = std::move(c);
}

SIMULACRA_INLINE void Mixture::check(const Steering& s) const {
  SIMULACRA_CHECK(s.clamp >= -1 && s.clamp < size(), OutOfRange, "steering: clamp index {} is outside 0..{}", s.clamp,
                  size() - 1);
  for (int k : s.exclude)
    SIMULACRA_CHECK(k >= 0 && k < size(), OutOfRange, "steering: exclude index {} is outside 0..{}", k, size() - 1);
  SIMULACRA_CHECK(s.prior_bias.size() == 0 || s.prior_bias.size() == size(), InvalidArgument,
                  "steering: prior_bias has {} entries for {} personas", s.prior_bias.size(), size());
  for (Eigen::Index k = 0; k < s.prior_bias.size(); ++k)
    SIMULACRA_CHECK(std::isfinite(s.prior_bias[k]), InvalidArgument, "steering: prior_bias[{}] is {}", k,
                    s.prior_bias[k]);
  if (s.ablation.active()) ablated_prior(s.ablation);
  const ProductSteering& p = s.product;
  SIMULACRA_CHECK(std::isfinite(p.lambda), InvalidArgument, "steering: product lambda is {}, must be finite",
                  p.lambda);
  if (!p.active()) return;
  SIMULACRA_CHECK(p.expert >= 0 && p.expert < size(), OutOfRange,
                  "steering: product expert index {} is outside 0..{}", p.expert, size() - 1);
  SIMULACRA_CHECK(p.anti_expert >= 0 && p.anti_expert < size(), OutOfRange,
                  "steering: product anti-expert index {} is outside 0..{}", p.anti_expert, size() - 1);
  SIMULACRA_CHECK(p.expert != p.anti_expert, InvalidArgument,
                  "steering: product expert and anti-expert are the same persona ({}), the tilt would be 0",
                  names_[std::size_t(p.expert)]);
}

SIMULACRA_INLINE Prediction Mixture::predict(const std::string& context, const Steering& steering) const {
  MixtureState state = begin(steering);
  state.step(encode(context));
  return state.predict();
}

SIMULACRA_INLINE Eigen::MatrixXd Mixture::persona_logprobs(const std::vector<Token>& tokens) const {
  const Eigen::Index T = Eigen::Index(tokens.size());
  Eigen::MatrixXd lp(T, size());  // column-major: column k is persona k's scores
  for (int k = 0; k < size(); ++k) personas_[std::size_t(k)]->token_logprobs(tokens.data(), tokens.size(), lp.col(k).data());
  return lp;
}

SIMULACRA_INLINE Trace Mixture::trace(const std::vector<Token>& tokens, const Steering& steering,
                                      const std::function<void(double)>& on_progress) const {
  const int K = size();
  const Eigen::Index T = Eigen::Index(tokens.size());
  Posterior post(*this, steering);  // checks the steering before any work
  Trace tr;
  // (T, K): column k from persona k's fast path; the filter counts as one more persona's worth.
  tr.persona_logprobs.resize(T, K);
  detail::advise_huge_pages(tr.persona_logprobs.data(), std::size_t(T) * std::size_t(K) * sizeof(double));
  for (int k = 0; k < K; ++k) {
    personas_[std::size_t(k)]->token_logprobs(tokens.data(), tokens.size(), tr.persona_logprobs.col(k).data());
    if (on_progress) on_progress(double(k + 1) / double(K + 1));
  }
  tr.log_weights.resize(T, K);
  detail::advise_huge_pages(tr.log_weights.data(), std::size_t(T) * std::size_t(K) * sizeof(double));
  tr.logprobs.resize(T);
  tr.entropy.resize(T);
  tr.dominant.resize(std::size_t(T));
  std::vector<double> lp(static_cast<std::size_t>(K));
  InterruptPoller poll;
  for (Eigen::Index t = 0; t < T; ++t) {
    poll.tick();
    const Eigen::VectorXd& lw = post.log_weights();
    const Eigen::VectorXd& w = post.weights();
    double h = 0.0;
    int best = 0;
    for (int k = 0; k < K; ++k) {
      tr.log_weights(t, k) = lw[k];
      lp[std::size_t(k)] = tr.persona_logprobs(t, k);
      if (w[k] > 0.0) h -= w[k] * lw[k];
      if (lw[k] > lw[best]) best = k;
    }
    tr.entropy[t] = h;
    tr.dominant[std::size_t(t)] = best;
    tr.logprobs[t] = post.update(lp.data(), tokens[std::size_t(t)]);
    if (on_progress && (t + 1) % 65536 == 0) on_progress((double(K) + double(t + 1) / double(T)) / double(K + 1));
  }
  if (steering.product.active()) {
    // The steered prediction needs every persona's full distribution at
    // every position (for its normaliser): read the text again with a
    // reader, whose step is its prediction's entry of the token bit for bit.
    MixtureState reader = begin(steering);
    InterruptPoller steered_poll(64);
    for (Eigen::Index t = 0; t < T; ++t) {
      steered_poll.tick();
      tr.logprobs[t] = reader.step(tokens[std::size_t(t)]);
      if (on_progress && (t + 1) % 4096 == 0) on_progress(double(t + 1) / double(T));
    }
  }
  if (on_progress) on_progress(1.0);
  return tr;
}

SIMULACRA_INLINE double Mixture::score(const std::string& text, const Steering& steering) const {
  return trace(encode_document(text), steering).total_logprob();
}

SIMULACRA_INLINE double Mixture::bits_per_byte(const std::string& text, const Steering& steering) const {
  SIMULACRA_CHECK(!text.empty(), InvalidArgument, "bits_per_byte: text is empty");
  return -score(text, steering) / (double(text.size()) * std::log(2.0));
}

SIMULACRA_INLINE Eigen::VectorXd Mixture::persona_bits_per_byte(const std::string& text) const {
  SIMULACRA_CHECK(!text.empty(), InvalidArgument, "persona_bits_per_byte: text is empty");
  const Eigen::MatrixXd lp = persona_logprobs(encode_document(text));
  return -lp.colwise().sum().transpose() / (double(text.size()) * std::log(2.0));
}

SIMULACRA_INLINE double Mixture::perplexity(const std::string& text, const Steering& steering) const {
  return std::exp(-score(text, steering) / double(text.size() + 1));
}

SIMULACRA_INLINE Eigen::VectorXd Mixture::persona_perplexity(const std::string& text) const {
  const Eigen::MatrixXd lp = persona_logprobs(encode_document(text));
  return (-lp.colwise().sum().transpose() / double(text.size() + 1)).array().exp();
}

SIMULACRA_INLINE void Mixture::set_attribution_beta(double beta, double exponent) {
  // With n <= 2^64 bytes and exponent <= 1, beta(n) stays within beta * [2^-56, 300]: finite and positive.
  SIMULACRA_CHECK(beta >= 1e-6 && beta <= 1e6, InvalidArgument, "attribution beta must be in [1e-6, 1e6], got {}",
                  beta);
  SIMULACRA_CHECK(exponent >= 0.0 && exponent <= 1.0, InvalidArgument,
                  "attribution exponent must be in [0, 1], got {}", exponent);
  attribution_beta_ = beta;
  attribution_exponent_ = exponent;
}

SIMULACRA_INLINE void Mixture::set_segmentation(double alpha, double beta) {
  SIMULACRA_CHECK(alpha >= 0.0 && alpha <= 1.0, InvalidArgument, "segmentation alpha must be in [0, 1], got {}", alpha);
  SIMULACRA_CHECK(beta > 0.0 && beta <= MixtureConfig::kMaxBeta, InvalidArgument,
                  "segmentation beta must be in (0, {}], got {}", MixtureConfig::kMaxBeta, beta);
  segmentation_alpha_ = alpha;
  segmentation_beta_ = beta;
}

SIMULACRA_INLINE MixtureConfig Mixture::segmentation_config() const {
  MixtureConfig c = config_;
  if (has_segmentation() && c.switching == Switching::kFixedShare) {
    c.alpha = segmentation_alpha_;
    c.beta = segmentation_beta_;
  }
  return c;
}

SIMULACRA_INLINE void Mixture::set_attribution_personas(std::vector<std::shared_ptr<const Persona>> personas,
                                                        double own_weight) {
  SIMULACRA_CHECK(personas.empty() || personas.size() == personas_.size(), InvalidArgument,
                  "set_attribution_personas: {} models for {} masks", personas.size(), personas_.size());
  for (std::size_t k = 0; k < personas.size(); ++k)
    SIMULACRA_CHECK(personas[k] != nullptr, InvalidArgument, "set_attribution_personas: model {} is null", k);
  SIMULACRA_CHECK(own_weight == -1.0 || (own_weight >= 0.0 && own_weight <= 1.0), InvalidArgument,
                  "set_attribution_personas: own_weight must be in [0, 1] or -1, got {}", own_weight);
  attribution_personas_ = std::move(personas);
  attribution_own_weight_ = attribution_personas_.empty() ? -1.0 : own_weight;
}

SIMULACRA_INLINE Eigen::VectorXd Mixture::attribute(const std::string& text, double beta) const {
  SIMULACRA_CHECK(beta > 0.0 && beta <= MixtureConfig::kMaxBeta, InvalidArgument,
                  "attribute: beta must be in (0, {}], got {}", MixtureConfig::kMaxBeta, beta);
  const std::vector<Token> tokens = encode_document(text);
  Eigen::VectorXd post(size());
  std::vector<double> lp(tokens.size());
  for (int k = 0; k < size(); ++k) {
    const Persona& model = attribution_personas_.empty() ? *personas_[std::size_t(k)]
                                                         : *attribution_personas_[std::size_t(k)];
    model.token_logprobs(tokens.data(), tokens.size(), lp.data());
    double l = 0.0;
    for (double v : lp) l += v;
    // A persona with prior 0 or that cannot produce the text stays at -inf (0 * -inf is not 0 here).
    post[k] = prior_[k] == 0.0 || l == -INFINITY ? -INFINITY : std::log(prior_[k]) + beta * l;
  }
  post.array() -= log_sum_exp(post.data(), size());
  return post;
}

SIMULACRA_INLINE TraceSummary summarize(const Trace& trace) {
  const Eigen::Index T = trace.logprobs.size(), K = trace.log_weights.cols();
  SIMULACRA_CHECK(trace.log_weights.rows() == T && trace.dominant.size() == std::size_t(T), InvalidArgument,
                  "summarize: a trace of {} tokens with {} weight rows and {} dominant entries", T,
                  trace.log_weights.rows(), trace.dominant.size());
  TraceSummary s;
  s.tokens = std::size_t(T);
  s.total_logprob = trace.total_logprob();
  s.bits_per_token = T > 0 ? -s.total_logprob / (double(T) * std::log(2.0)) : 0.0;
  s.lead_share = Eigen::VectorXd::Zero(K);
  s.mean_weight = Eigen::VectorXd::Zero(K);
  for (Eigen::Index t = 0; t < T; ++t) {
    const int d = trace.dominant[std::size_t(t)];
    SIMULACRA_CHECK(d >= 0 && d < K, InvalidArgument, "summarize: dominant persona {} at {} is outside 0..{}", d, t,
                    K - 1);
    s.lead_share[d] += 1.0;
    s.mean_weight += trace.log_weights.row(t).transpose().array().exp().matrix();
    if (t > 0 && d != trace.dominant[std::size_t(t) - 1]) ++s.leader_changes;
  }
  if (T > 0) {
    s.lead_share /= double(T);
    s.mean_weight /= double(T);
    s.final_weight = trace.log_weights.row(T - 1).transpose().array().exp();
  }
  return s;
}

}  // namespace simulacra
