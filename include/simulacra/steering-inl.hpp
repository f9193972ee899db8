// simulacra/steering-inl.hpp — the steering stage of a prediction and
// ablations (mixture.hpp): how a reader's steering turns the personas'
// distributions into its own, and the prior an ablated reader starts from.
// Compiled once by src/steering.cpp, or inlined into every user under
// SIMULACRA_HEADER_ONLY (config.hpp).
#pragma once

#include "simulacra/mixture.hpp"

#include <cassert>
#include <cmath>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra {

// ------------------------------------------------------- the steering stage

namespace detail {

// out(v) = log sum_k exp(log_w_k + persona_logprobs(k, v)): the mixture's
// next-token distribution (kVocab) from the weights (K) and the personas' (K, kVocab).
// In linear space, vectorised: each persona's row is shifted by its maximum
// M_k (>= -log kVocab) and the factor exp(log_w_k + M_k) folded into its
// weight, so the largest term of every sum is at least 1 / (K kVocab) times
// exp(lp - M) of the heaviest mask. A token whose sum comes out below 1e-290
// (an exp that underflowed, or an exact 0) is recomputed in log space.
SIMULACRA_INLINE void mix_distributions(const Eigen::VectorXd& log_w, const Eigen::MatrixXd& persona_logprobs,
                                        Eigen::Ref<Eigen::VectorXd> out) {
  const int K = int(log_w.size());
  const Eigen::VectorXd top = persona_logprobs.rowwise().maxCoeff();  // (K) M_k
  Eigen::RowVectorXd coef(K);
  for (int k = 0; k < K; ++k) coef[k] = log_w[k] == -INFINITY || top[k] == -INFINITY ? 0.0 : std::exp(log_w[k] + top[k]);
  Eigen::MatrixXd shifted = persona_logprobs.colwise() - top;  // (K, kVocab); a plain array so exp vectorises
  shifted = shifted.array().exp();
  const Eigen::RowVectorXd lin = coef * shifted;  // (kVocab)
  out = lin.transpose().array().log();
  std::vector<double> col(static_cast<std::size_t>(K));
  for (int v = 0; v < kVocab; ++v) {
    if (lin[v] >= 1e-290) continue;
    for (int k = 0; k < K; ++k) col[std::size_t(k)] = log_w[k] + persona_logprobs(k, v);
    out[v] = log_sum_exp(col.data(), K);
  }
}

// Product steering in place: logprobs(v) += lambda (log p_a(v) - log p_b(v)), renormalised.
SIMULACRA_INLINE void tilt(const ProductSteering& product, const Eigen::MatrixXd& persona_logprobs,
                           Eigen::Ref<Eigen::VectorXd> logprobs) {
  const int V = int(logprobs.size());
  for (int v = 0; v < V; ++v) {
    const double a = persona_logprobs(product.expert, v), b = persona_logprobs(product.anti_expert, v);
    double tilted = logprobs[v] + product.lambda * (a - b);
    // 0 * anything, inf - inf: the tilt is undefined, or the base says never.
    if (std::isnan(tilted) || logprobs[v] == -INFINITY) tilted = -INFINITY;
    logprobs[v] = tilted;
  }
  // log Z, vectorised: exp(-inf - m) is a denormal at worst, nothing beside a term >= 1.
  const double m = logprobs.maxCoeff();
  const double z = m == -INFINITY || m == INFINITY ? m : m + std::log((logprobs.array() - m).exp().sum());
  SIMULACRA_CHECK(std::isfinite(z), InvalidArgument,
                  "product steering: the tilted distribution cannot be normalised (log Z = {})", z);
  logprobs.array() -= z;
}

SIMULACRA_INLINE void log_of_probs(const Eigen::VectorXd& p, Eigen::VectorXd& out) {
  out = p.array().log();
  for (Eigen::Index v = 0; v < p.size(); ++v)
    if (!(p[v] >= kLinearFloor)) out[v] = std::log(p[v]);
}

// Three kVocab-long logs and one exp in place of the log path's K kVocab logs
// (next_logprobs) and K kVocab exps (mix_distributions); see mixture.hpp.
SIMULACRA_INLINE void steered_from_probs(const ProductSteering& product, const Eigen::VectorXd& log_w,
                                         const Eigen::VectorXd& w, const Eigen::MatrixXd& probs, Eigen::VectorXd& out,
                                         Eigen::VectorXd& m, Eigen::VectorXd& la, Eigen::VectorXd& lb) {
  const int K = int(w.size()), V = int(probs.rows());
  assert(probs.cols() == K && log_w.size() == K);
  m.noalias() = probs * w;
  out = m.array().log();
  double col[64];
  std::vector<double> wide;
  double* c = K <= 64 ? col : (wide.resize(std::size_t(K)), wide.data());
  for (int v = 0; v < V; ++v) {
    if (m[v] >= kLinearFloor) continue;
    for (int k = 0; k < K; ++k) c[k] = log_w[k] == -INFINITY ? -INFINITY : log_w[k] + std::log(probs(v, k));
    out[v] = log_sum_exp(c, K);
  }
  log_of_probs(probs.col(product.expert), la);
  log_of_probs(probs.col(product.anti_expert), lb);
  for (int v = 0; v < V; ++v) {
    double tilted = out[v] + product.lambda * (la[v] - lb[v]);
    // 0 * anything, inf - inf: the tilt is undefined, or the base says never.
    if (std::isnan(tilted) || out[v] == -INFINITY) tilted = -INFINITY;
    out[v] = tilted;
  }
  // log Z, vectorised: exp(-inf - m) is a denormal at worst, nothing beside a term >= 1.
  const double top = out.maxCoeff();
  const double z = top == -INFINITY || top == INFINITY ? top : top + std::log((out.array() - top).exp().sum());
  SIMULACRA_CHECK(std::isfinite(z), InvalidArgument,
                  "product steering: the tilted distribution cannot be normalised (log Z = {})", z);
  out.array() -= z;
}

}  // namespace detail

SIMULACRA_INLINE Eigen::VectorXd steered_distribution(const ProductSteering& product,
                                                      const Eigen::VectorXd& log_weights,
                                                      const Eigen::MatrixXd& persona_logprobs, int speaker) {
  assert(speaker >= -1 && speaker < persona_logprobs.rows());
  Eigen::VectorXd out(persona_logprobs.cols());
  if (speaker < 0)
    detail::mix_distributions(log_weights, persona_logprobs, out);
  else
    out = persona_logprobs.row(speaker).transpose();
  if (product.active()) detail::tilt(product, persona_logprobs, out);
  return out;
}

// ----------------------------------------------------------------- Ablation

SIMULACRA_INLINE Ablation combine(const Ablation& outer, const Ablation& inner) {
  Ablation both = outer;
  both.remove.insert(both.remove.end(), inner.remove.begin(), inner.remove.end());
  if (both.reweight.size() == 0)
    both.reweight = inner.reweight;
  else if (inner.reweight.size() > 0)
    both.reweight = inner.reweight.size() == both.reweight.size() ? Eigen::VectorXd(both.reweight.cwiseProduct(inner.reweight))
                                                                  : inner.reweight;  // a size mismatch, for check() to name
  return both;
}

SIMULACRA_INLINE Eigen::VectorXd Mixture::ablated_prior(const Ablation& ablation) const {
  const int K = size();
  const Eigen::VectorXd& factors = ablation.reweight;
  SIMULACRA_CHECK(factors.size() == 0 || factors.size() == K, InvalidArgument,
                  "ablation: {} reweighting factors for {} personas", factors.size(), K);
  Eigen::VectorXd prior = prior_;
  for (Eigen::Index k = 0; k < factors.size(); ++k) {
    SIMULACRA_CHECK(std::isfinite(factors[k]) && factors[k] >= 0.0, InvalidArgument,
                    "ablation: the factor of persona '{}' is {}, must be finite and >= 0", names_[std::size_t(k)],
                    factors[k]);
    prior[k] *= factors[k];
  }
  for (int k : ablation.remove) {
    SIMULACRA_CHECK(k >= 0 && k < K, OutOfRange, "ablation: persona index {} is outside 0..{}", k, K - 1);
    prior[k] = 0.0;
  }
  SIMULACRA_CHECK(prior.maxCoeff() > 0.0, InvalidArgument, "ablation: leaves no persona with a positive weight");
  SIMULACRA_CHECK(std::isfinite(prior.sum()), InvalidArgument, "ablation: the reweighted prior sums to {}",
                  prior.sum());
  return normalised(prior);
}

SIMULACRA_INLINE Mixture Mixture::ablated(const Ablation& ablation) const {
  Mixture out = *this;
  out.prior_ = ablated_prior(ablation);
  return out;
}

}  // namespace simulacra
