// Viterbi attribution of a text to masks (attribution.hpp).
#include "simulacra/attribution.hpp"

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {
namespace {

// The path as maximal runs.
std::vector<Span> runs(const std::vector<int>& path) {
  std::vector<Span> out;
  for (std::size_t t = 0; t < path.size(); ++t) {
    if (out.empty() || out.back().persona != path[t])
      out.push_back({t, t + 1, path[t]});
    else
      out.back().end = t + 1;
  }
  return out;
}

// (K, K) natural-log transition matrix of the switching rule: log A(i, j) = log P(j after i).
Eigen::MatrixXd log_transition(const Mixture& mixture, const MixtureConfig& cfg) {
  const int K = mixture.size();
  if (cfg.switching == Switching::kTransition) return cfg.transition.array().log();
  assert(cfg.switching == Switching::kFixedShare);
  Eigen::MatrixXd a = cfg.alpha * Eigen::VectorXd::Ones(K) * mixture.prior().transpose();
  a.diagonal().array() += 1.0 - cfg.alpha;
  return a.array().log();
}

// Viterbi over the (T, K) emissions lp, T >= 1; writes the path, returns its log joint.
// BackPointer is the narrowest signed integer holding K - 1.
// A step from t - 1 to t where tokens[t - 1] is no switch point keeps the mask.
template <typename BackPointer>
double viterbi(const Eigen::MatrixXd& lp, const Eigen::VectorXd& log_prior, const Eigen::MatrixXd& log_a,
               const std::vector<Token>& tokens, const std::vector<bool>& may_switch, std::vector<int>& path) {
  const Eigen::Index T = lp.rows();
  const int K = int(lp.cols());
  std::vector<BackPointer> back(std::size_t(T) * std::size_t(K));  // (T, K) row-major; row 0 unused
  Eigen::VectorXd delta = log_prior + lp.row(0).transpose();      // (K) best log joint ending in k at t
  Eigen::VectorXd next(K);
  InterruptPoller poll(1024);  // a token costs K^2
  for (Eigen::Index t = 1; t < T; ++t) {
    poll.tick();
    BackPointer* bp = back.data() + std::size_t(t) * std::size_t(K);
    if (!may_switch[std::size_t(tokens[std::size_t(t - 1)])]) {
      for (int j = 0; j < K; ++j) {
        next[j] = delta[j] + lp(t, j);
        bp[j] = static_cast<BackPointer>(j);
      }
      delta.swap(next);
      continue;
    }
    for (int j = 0; j < K; ++j) {
      double best = -std::numeric_limits<double>::infinity();
      int arg = 0;
      for (int i = 0; i < K; ++i) {
        const double v = delta[i] + log_a(i, j);
        if (v > best) {  // strict: ties go to the lowest index
          best = v;
          arg = i;
        }
      }
      next[j] = best + lp(t, j);
      bp[j] = static_cast<BackPointer>(arg);
    }
    delta.swap(next);
  }
  int k = 0;
  for (int i = 1; i < K; ++i)
    if (delta[i] > delta[k]) k = i;
  const double log_joint = delta[k];
  path.resize(std::size_t(T));
  for (Eigen::Index t = T - 1;; --t) {
    path[std::size_t(t)] = k;
    if (t == 0) break;
    k = back[std::size_t(t) * std::size_t(K) + std::size_t(k)];
  }
  return log_joint;
}

}  // namespace

Attribution attribute_spans(const Mixture& mixture, const std::vector<Token>& tokens) {
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "attribute_spans: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  SIMULACRA_CHECK(mixture.segmentation_config().switching != Switching::kForgetting, InvalidArgument,
                  "attribute_spans: switching 'forgetting' has no hidden Markov model over personas "
                  "(use none, fixed_share or transition)");
  if (tokens.empty()) return {};
  return attribute_spans(mixture, tokens, mixture.trace(tokens));
}

Attribution attribute_spans(const Mixture& mixture, const std::vector<Token>& tokens, const Trace& trace) {
  const MixtureConfig cfg = mixture.segmentation_config();
  SIMULACRA_CHECK(cfg.switching != Switching::kForgetting, InvalidArgument,
                  "attribute_spans: switching 'forgetting' has no hidden Markov model over personas "
                  "(use none, fixed_share or transition)");
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "attribute_spans: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  const int K = mixture.size();
  SIMULACRA_CHECK(trace.size() == tokens.size() && trace.persona_logprobs.rows() == Eigen::Index(tokens.size()) &&
                      trace.persona_logprobs.cols() == K && trace.dominant.size() == tokens.size(),
                  InvalidArgument, "attribute_spans: a trace of {} x {} log-probabilities for {} tokens and {} personas",
                  trace.persona_logprobs.rows(), trace.persona_logprobs.cols(), tokens.size(), K);
  Attribution out;
  if (tokens.empty()) return out;
  out.filtered = trace.dominant;
  Eigen::MatrixXd tempered;  // the segmentation HMM's emissions p^beta
  if (cfg.beta != 1.0) tempered = cfg.beta * trace.persona_logprobs;
  const Eigen::MatrixXd& lp = cfg.beta != 1.0 ? tempered : trace.persona_logprobs;
  const Eigen::VectorXd log_prior = mixture.prior().array().log();

  if (cfg.switching == Switching::kNone) {
    const Eigen::VectorXd total = log_prior + lp.colwise().sum().transpose();  // (K)
    int k = 0;
    for (int i = 1; i < K; ++i)
      if (total[i] > total[k]) k = i;
    out.path.assign(tokens.size(), k);
    out.log_joint = total[k];
  } else {
    Eigen::MatrixXd log_a = log_transition(mixture, cfg);
    // A persona of prior 0 is never entered (as in the filter and smoothing).
    for (int k = 0; k < K; ++k)
      if (log_prior[k] == -std::numeric_limits<double>::infinity()) log_a.col(k).setConstant(log_prior[k]);
    const std::vector<bool> may_switch = switch_points(cfg);
    if (K <= std::numeric_limits<std::int8_t>::max() + 1)
      out.log_joint = viterbi<std::int8_t>(lp, log_prior, log_a, tokens, may_switch, out.path);
    else if (K <= std::numeric_limits<std::int16_t>::max() + 1)
      out.log_joint = viterbi<std::int16_t>(lp, log_prior, log_a, tokens, may_switch, out.path);
    else
      out.log_joint = viterbi<std::int32_t>(lp, log_prior, log_a, tokens, may_switch, out.path);
  }
  out.spans = runs(out.path);
  return out;
}

}  // namespace simulacra
